package input

import (
	"strings"
	"testing"

	"stillmotion/internal/generation"
)

func TestExtension(t *testing.T) {
	ftyp := func(brand string) []byte { return []byte("\x00\x00\x00\x18ftyp" + brand + "\x00\x00\x02\x00") }
	for _, tt := range []struct {
		field string
		data  []byte
		want  string // "" for a refusal
	}{
		{generation.FieldVideo, ftyp("isom"), ".mp4"},
		{generation.FieldVideo, ftyp("qt  "), ".mov"},
		{generation.FieldVideo, []byte{0x1a, 0x45, 0xdf, 0xa3, 1}, ".webm"},
		{generation.FieldVideo, ftyp("M4A "), ""},
		{generation.FieldVideo, []byte("RIFF\x00\x00\x00\x00AVI LIST"), ""},
		{generation.FieldAudio, []byte("RIFF\x24\x00\x00\x00WAVEfmt "), ".wav"},
		{generation.FieldAudio, []byte("ID3\x04\x00"), ".mp3"},
		{generation.FieldAudio, []byte{0xff, 0xfb, 0x90, 0x00}, ".mp3"},
		{generation.FieldAudio, []byte{0xff, 0xf1, 0x50, 0x80}, ".aac"},
		{generation.FieldAudio, ftyp("M4A "), ".m4a"},
		{generation.FieldAudio, []byte("OggS\x00\x02"), ".ogg"},
		{generation.FieldAudio, []byte("fLaC\x00"), ".flac"},
		{generation.FieldAudio, []byte{0x1a, 0x45, 0xdf, 0xa3}, ".webm"},
		{generation.FieldAudio, []byte("<html>"), ""},
		{generation.FieldImage, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ".png"},
		{generation.FieldTailImage, []byte("GIF89a"), ".gif"},
		{generation.FieldTailImage, ftyp("isom"), ""},
	} {
		ext, err := Extension(tt.field, tt.data)
		if ext != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("Extension(%s, %q) = %q, %v; want %q", tt.field, tt.data, ext, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "image_invalid: "+tt.field+" holds no ") {
			t.Errorf("error %q does not name %s", err, tt.field)
		}
	}
}

func FuzzExtension(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x18ftypisom"), 2)
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVE"), 3)
	f.Add([]byte{0xff, 0xf1}, 3)
	f.Fuzz(func(t *testing.T, b []byte, field int) {
		name := generation.URLFields[(field%4+4)%4]
		ext, err := Extension(name, b)
		if (ext == "") == (err == nil) {
			t.Fatalf("Extension(%s, %q) = %q, %v: want an extension or an error", name, b, ext, err)
		}
	})
}
