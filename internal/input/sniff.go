package input

import (
	"bytes"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/media"
)

// Extension returns the file extension of b, a file sent in the URL field
// (".png", ".mp4", ".wav"…), sniffed from its bytes; a file that is not of
// the field's kind is a fault.Error saying what the field takes.
func Extension(field string, b []byte) (string, error) {
	switch field {
	case generation.FieldVideo:
		if ext := videoExtension(b); ext != "" {
			return ext, nil
		}
		return "", fault.E(fault.ImageInvalid, "video_url holds no MP4, MOV or WebM video")
	case generation.FieldAudio:
		if ext := audioExtension(b); ext != "" {
			return ext, nil
		}
		return "", fault.E(fault.ImageInvalid, "audio_url holds no "+media.AudioFormats)
	}
	if ext := intake.Extension(b); ext != "" {
		return ext, nil
	}
	return "", fault.Errorf(fault.ImageInvalid, "%s holds no JPEG, PNG, WebP or GIF image", field)
}

// ftyp returns the major brand of an ISO base media file (MP4, MOV, M4A),
// or "".
func ftyp(b []byte) string {
	if len(b) < 12 || string(b[4:8]) != "ftyp" {
		return ""
	}
	return string(b[8:12])
}

// videoExtension sniffs the containers a lip-sync takes.
func videoExtension(b []byte) string {
	switch brand := ftyp(b); {
	case brand == "qt  ":
		return ".mov"
	case brand != "" && brand != "M4A " && brand != "M4B ":
		return ".mp4"
	case bytes.HasPrefix(b, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return ".webm" // Matroska's EBML header; ffprobe tells WebM from MKV later
	}
	return ""
}

// audioExtension sniffs the audio formats ffmpeg decodes for a lip-sync.
func audioExtension(b []byte) string {
	switch brand := ftyp(b); {
	case brand != "":
		return ".m4a"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return ".wav"
	case bytes.HasPrefix(b, []byte("ID3")):
		return ".mp3"
	case bytes.HasPrefix(b, []byte("OggS")):
		return ".ogg"
	case bytes.HasPrefix(b, []byte("fLaC")):
		return ".flac"
	case bytes.HasPrefix(b, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return ".webm" // Matroska's EBML header: WebM audio (Opus)
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xf6 == 0xf0:
		return ".aac" // an ADTS frame header
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xe0 == 0xe0:
		return ".mp3" // an MPEG audio frame header
	}
	return ""
}
