package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetention runs the binary with a short --retention: a completed
// generation says when it expires on both surfaces, then its record, its
// video and its kept input vanish, and its download URL answers 410.
func TestRetention(t *testing.T) {
	t.Parallel() // it waits out the retention, the machine idle
	const retention = 15 * time.Second
	p := startServer(t, serverOpts{extraArgs: []string{"--retention", retention.String()}})
	png, err := os.ReadFile(filepath.Join("testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	id := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "The astronaut waves", "resolution": "360p",
		"image_url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
	})
	after := time.Now()
	m := p.wait(t, "/v2/video/generations", id, time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("generation ended %v", m)
	}
	expires, err := time.Parse(time.RFC3339, m["expires_at"].(string))
	if err != nil {
		t.Fatalf("expires_at %v: %v", m["expires_at"], err)
	}
	// RFC 3339 here has whole seconds.
	if expires.Before(before.Add(retention).Truncate(time.Second)) || expires.After(after.Add(retention)) {
		t.Errorf("expires_at %v is not the submit time (%v) + %v", expires, before, retention)
	}
	_, v, _ := p.do(t, "GET", "/v1/videos/"+id, nil)
	if created, exp := v["created_at"].(float64), v["expires_at"].(float64); exp != created+retention.Seconds() {
		t.Errorf("/v1 expires_at %v, want created_at %v + %v", exp, created, retention.Seconds())
	}
	url := m["video"].(map[string]any)["url"].(string)
	download(t, p.client, url)
	dir := filepath.Join(p.dataDir, "videos", id)
	for _, name := range []string{"output.mp4", "input.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
	}

	// The sweep runs every quarter of the retention here.
	deadline := expires.Add(retention/2 + 10*time.Second)
	for {
		code, _, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
		if code == 404 {
			break
		}
		if code != 200 || time.Now().After(deadline) {
			t.Fatalf("poll: %d; the generation was not deleted by %v (expires_at %v)", code, deadline, expires)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if time.Now().Before(expires) {
		t.Errorf("deleted before its expires_at %v", expires)
	}
	if code, _, _ := p.do(t, "GET", "/v1/videos/"+id, nil); code != 404 {
		t.Errorf("/v1 retrieve after expiry: %d, want 404", code)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the generation's files are left: %v", err)
	}
	res, err := p.client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var e struct {
		Message    string
		StatusCode int
	}
	if res.StatusCode != 410 || json.Unmarshal(raw, &e) != nil || e.StatusCode != 410 || !strings.Contains(e.Message, "retention period") {
		t.Errorf("the download URL after expiry: %d %s, want 410 saying why", res.StatusCode, raw)
	}
	if !strings.Contains(p.logs(), "expired generations deleted") {
		t.Error("the sweep did not log what it deleted")
	}
}
