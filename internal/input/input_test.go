package input_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stillmotion/internal/blob"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
)

func TestKeep(t *testing.T) {
	ctx := context.Background()
	png, err := os.ReadFile(filepath.Join("..", "..", "cmd", "stillmotion", "testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	disk := &blob.Disk{Dir: t.TempDir(), Secret: []byte("k")}
	srv := httptest.NewServer(disk)
	defer srv.Close()
	disk.BaseURL = srv.URL
	m := &input.Files{Blobs: disk, TempDir: t.TempDir()}
	data := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)

	ref, err := m.Keep(ctx, "gen1", generation.FieldImage, data)
	if err != nil {
		t.Fatal(err)
	}
	if !input.Kept(ref) || len(ref) > 64 {
		t.Fatalf("Keep = %q, want a short reference", ref)
	}
	img := m.Input(&generation.Request{ImageURL: ref}, generation.FieldImage)
	got, err := img.Bytes(ctx)
	if err != nil || !bytes.Equal(got, png) {
		t.Fatalf("Bytes: %d bytes, %v; want the %d bytes sent", len(got), err, len(png))
	}
	u, err := img.URL(ctx)
	if err != nil || !strings.HasPrefix(u, srv.URL+"/files/gen1/input.png?") {
		t.Fatalf("URL = %q, %v", u, err)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(served, png) {
		t.Errorf("the signed URL serves %q, %d bytes", res.Header.Get("Content-Type"), len(served))
	}

	if err := m.Forget(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := img.Bytes(ctx); fault.KindOf(err) != fault.ImageFetch {
		t.Errorf("Bytes after Forget = %v, want an image_fetch_failed error", err)
	}

	for _, same := range []string{"https://example.com/a.png", "http://h/x.jpg"} {
		if ref, err := m.Keep(ctx, "gen2", generation.FieldImage, same); err != nil || ref != same {
			t.Errorf("Keep(%q) = %q, %v; want it unchanged", same, ref, err)
		}
		if u, _ := m.Input(&generation.Request{ImageURL: same}, generation.FieldImage).URL(ctx); u != same {
			t.Errorf("URL of %q = %q", same, u)
		}
	}
	if _, err := m.Keep(ctx, "gen3", generation.FieldImage, "data:image/png;base64,aGVsbG8="); err == nil {
		t.Error("Keep of a data URI that holds no image succeeded")
	}
	if u, _ := m.Input(&generation.Request{ImageURL: data}, generation.FieldImage).URL(ctx); u != "" {
		t.Errorf("URL of a data URI not kept = %q, want none", u)
	}
}

// TestKeepEveryKind: an inline lip-sync video or audio is kept and served
// as an image is, with its type.
func TestKeepEveryKind(t *testing.T) {
	ctx := context.Background()
	disk := &blob.Disk{Dir: t.TempDir(), Secret: []byte("k")}
	srv := httptest.NewServer(disk)
	defer srv.Close()
	disk.BaseURL = srv.URL
	m := &input.Files{Blobs: disk, TempDir: t.TempDir()}
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 32)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypisom"), make([]byte, 32)...)
	for _, tt := range []struct {
		field, mime string
		b           []byte
		ext, served string
	}{
		{generation.FieldAudio, "audio/wav", wav, ".wav", "audio/wav"},
		{generation.FieldAudio, "audio/mpeg", append([]byte("ID3\x04"), make([]byte, 32)...), ".mp3", "audio/mpeg"},
		{generation.FieldVideo, "video/mp4", mp4, ".mp4", "video/mp4"},
		{generation.FieldVideo, "video/quicktime", append([]byte("\x00\x00\x00\x14ftypqt  "), make([]byte, 32)...), ".mov", "video/quicktime"},
	} {
		data := "data:" + tt.mime + ";base64," + base64.StdEncoding.EncodeToString(tt.b)
		ref, err := m.Keep(ctx, "gen9", tt.field, data)
		if err != nil {
			t.Errorf("%s %s: %v", tt.field, tt.ext, err)
			continue
		}
		req := &generation.Request{}
		req.SetURL(tt.field, ref)
		u, err := m.Input(req, tt.field).URL(ctx)
		if err != nil || !strings.Contains(u, "/files/gen9/") || !strings.Contains(u, tt.ext+"?") {
			t.Errorf("%s %s: URL %q, %v", tt.field, tt.ext, u, err)
			continue
		}
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != tt.served {
			t.Errorf("%s %s: served %d as %q, want %s", tt.field, tt.ext, res.StatusCode, res.Header.Get("Content-Type"), tt.served)
		}
	}
}
