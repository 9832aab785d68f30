package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches /metrics and returns each sample by its series, as written:
// `name{label="value",...}`.
func scrape(t *testing.T, p *proc) map[string]float64 {
	t.Helper()
	res, err := p.client.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	m := map[string]float64{}
	s := bufio.NewScanner(res.Body)
	for s.Scan() {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// TestMetricsAndLogs runs a generation with speech from an inline image
// and cancels another, then checks the named series and that the JSON log
// carries ids but neither the key nor the image data.
func TestMetricsAndLogs(t *testing.T) {
	p := startServer(t, serverOpts{})
	png, err := os.ReadFile(filepath.Join("testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	dataURI := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	id := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in", "image_url": dataURI,
		"resolution": "360p", "seed": 3, "lip_sync_tts_content": "Hello there.",
	})
	if m := p.wait(t, "/v2/video/generations", id, 3*time.Minute); m["status"] != "completed" {
		t.Fatalf("generation ended %v", m)
	}
	// Queued behind nothing, but cancelled at once: counted as a failure.
	cancelled := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": dataURI, "resolution": "360p",
	})
	if code, m, _ := p.do(t, "DELETE", "/v2/video/generations?generation_id="+cancelled, nil); code != 200 && code != 409 {
		t.Fatalf("cancel: %d %v", code, m)
	}
	p.do(t, "GET", "/v2/video/generations?generation_id=nope", nil)

	m := scrape(t, p)
	for _, tt := range []struct {
		series   string
		min, max float64
	}{
		{`stillmotion_http_request_duration_seconds_count{route="POST /v2/video/generations",status="200"}`, 2, 2},
		{`stillmotion_http_request_duration_seconds_count{route="GET /v2/video/generations",status="404"}`, 1, 1},
		{`stillmotion_render_duration_seconds_count{resolution="360p"}`, 1, 1},
		{`stillmotion_render_duration_seconds_sum{resolution="360p"}`, 0.01, 180},
		{`stillmotion_speech_duration_seconds_count`, 1, 1},
		{`stillmotion_encode_duration_seconds_count`, 1, 1},
		{`stillmotion_encode_duration_seconds_sum`, 0.01, 180},
		{`stillmotion_queue_jobs{state="running"}`, 0, 2},
		{`stillmotion_queue_jobs{state="available"}`, 0, 2},
	} {
		v, ok := m[tt.series]
		if !ok {
			t.Errorf("no series %s", tt.series)
			continue
		}
		if v < tt.min || v > tt.max {
			t.Errorf("%s = %g, want %g..%g", tt.series, v, tt.min, tt.max)
		}
	}
	// The cancel may lose the race with a fast render.
	if v := m[`stillmotion_generation_failures_total{name="cancelled"}`]; v != 1 {
		code, g, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+cancelled, nil)
		if code != 200 || g["status"] != "completed" {
			t.Errorf("failures{cancelled} = %g, want 1 (generation %v)", v, g)
		}
	}

	// The log: one JSON object a line; request lines say request_id and
	// the generation; no key, no image bytes.
	p.kill()
	time.Sleep(100 * time.Millisecond)
	log := p.log.String()
	if strings.Contains(log, testKey) || strings.Contains(log, "base64,") || strings.Contains(log, dataURI[40:80]) {
		t.Error("the log holds the API key or image data")
	}
	sawRequest := false
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if rec["msg"] == "request" && rec["route"] == "POST /v2/video/generations" {
			sawRequest = true
			if rec["request_id"] == "" || rec["generation_id"] == nil || rec["status"] != 200.0 {
				t.Errorf("request log line %v lacks request_id, generation_id or status", rec)
			}
		}
	}
	if !sawRequest {
		t.Error("no request log line for the submit")
	}
}
