package api

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"stillmotion/internal/blob"
	"stillmotion/internal/generation"
)

// TestGoldenExpiry: a completed generation past its retention is deleted
// by the sweep; its poll is then a 404 like any unknown id, and its
// download URL, still validly signed, a 410 saying the file was deleted.
// A URL whose own expiry has passed is a 410 saying to poll for a fresh one.
func TestGoldenExpiry(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	files := b.api.Files.(*blob.Disk)
	w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
	var sub struct {
		ID        string `json:"id"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &sub); err != nil || sub.ExpiresAt != "2026-12-01T10:00:00Z" {
		t.Fatalf("submit: %s", dump(w))
	}
	src := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(src, []byte("mp4"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := sub.ID + "/output.mp4"
	if _, err := files.Put(ctx, key, src); err != nil {
		t.Fatal(err)
	}
	if err := b.store.Finish(ctx, sub.ID, &generation.Video{Key: key, FileName: "output.mp4", Size: 3}, nil); err != nil {
		t.Fatal(err)
	}
	w = b.do(t, call{"GET", "/v1/videos/" + sub.ID, b.richKey, "", ""})
	var v struct {
		CreatedAt int64  `json:"created_at"`
		ExpiresAt *int64 `json:"expires_at"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.ExpiresAt == nil || *v.ExpiresAt != v.CreatedAt+7*24*3600 {
		t.Fatalf("the video object's expires_at is not created_at + 7 days: %s", w.Body)
	}
	w = b.do(t, call{"GET", "/v2/video/generations?generation_id=" + sub.ID, b.richKey, "", ""})
	var poll struct{ Video struct{ URL string } }
	json.Unmarshal(w.Body.Bytes(), &poll)
	u, err := url.Parse(poll.Video.URL)
	if err != nil || u.Path != "/files/"+key {
		t.Fatalf("video.url %q", poll.Video.URL)
	}
	if w := b.do(t, call{"GET", u.RequestURI(), "", "", ""}); w.Code != 200 || w.Body.String() != "mp4" {
		t.Fatalf("download before expiry: %d %s", w.Code, w.Body)
	}

	// A day after the retention, the sweep deletes it.
	svc := b.api.Service
	svc.Now = func() time.Time { return epoch.Add(8 * 24 * time.Hour) }
	if n, err := svc.Expire(ctx); n != 1 || err != nil {
		t.Fatalf("Expire = %d, %v; want 1", n, err)
	}
	if w := b.do(t, call{"GET", "/v2/video/generations?generation_id=" + sub.ID, b.richKey, "", ""}); w.Code != 404 {
		t.Errorf("poll of an expired generation: %d, want 404", w.Code)
	}
	if w := b.do(t, call{"GET", "/v1/videos/" + sub.ID, b.richKey, "", ""}); w.Code != 404 {
		t.Errorf("retrieve of an expired video: %d, want 404", w.Code)
	}
	golden(t, "file_error_deleted", dump(b.do(t, call{"GET", u.RequestURI(), "", "", ""})))

	// A URL signed eight days ago expired yesterday.
	past := *files
	past.Now = func() time.Time { return epoch.Add(-8 * 24 * time.Hour) }
	os.WriteFile(src, []byte("mp4"), 0o644) // Put moved the first
	if _, err := files.Put(ctx, "other/output.mp4", src); err != nil {
		t.Fatal(err)
	}
	old, err := past.URL(ctx, "other/output.mp4", "output.mp4")
	if err != nil {
		t.Fatal(err)
	}
	ou, _ := url.Parse(old)
	golden(t, "file_error_expired_url", dump(b.do(t, call{"GET", ou.RequestURI(), "", "", ""})))
}

// TestNoRetention: a server that keeps everything says no expiry on
// either surface.
func TestNoRetention(t *testing.T) {
	b := setup(t)
	b.api.Service.Retention = 0
	w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
	var body map[string]any
	json.Unmarshal(w.Body.Bytes(), &body)
	if _, ok := body["expires_at"]; ok || w.Code != 200 {
		t.Errorf("v2 with retention off: %d %s, want no expires_at", w.Code, w.Body)
	}
	w = b.do(t, call{"GET", "/v1/videos/" + body["id"].(string), b.richKey, "", ""})
	var v map[string]any
	json.Unmarshal(w.Body.Bytes(), &v)
	if e, ok := v["expires_at"]; !ok || e != nil {
		t.Errorf("v1 with retention off: %s, want expires_at null", w.Body)
	}
}
