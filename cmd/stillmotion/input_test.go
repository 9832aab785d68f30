package main

import (
	"database/sql"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestInlineImageKept sends the image as a data URI: it is kept in the
// blob store at submit, the database row holds a short reference, and the
// video is rendered from the kept image.
func TestInlineImageKept(t *testing.T) {
	png, err := os.ReadFile(filepath.Join("testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	p := startServer(t, serverOpts{})
	id := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "zoom in", "resolution": "360p",
		"image_url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
	})
	db, err := sql.Open("sqlite", filepath.Join(p.dataDir, "stillmotion.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var req string
	if err := db.QueryRow(`SELECT request FROM generation WHERE id = ?`, id).Scan(&req); err != nil {
		t.Fatal(err)
	}
	if len(req) > 1024 || strings.Contains(req, "base64") || !strings.Contains(req, `"image_url":"stored:`+id+`/input.png"`) {
		t.Errorf("the row's request holds %d bytes: %.200s", len(req), req)
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "videos", id, "input.png")); err != nil {
		t.Errorf("the image is not kept: %v", err)
	}
	m := p.wait(t, "/v2/video/generations", id, 2*time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("%v", m)
	}
	checkVideo(t, download(t, p.client, m["video"].(map[string]any)["url"].(string)), 360, 360, 5)
}
