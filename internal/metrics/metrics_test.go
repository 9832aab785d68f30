package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/generation"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestSeries(t *testing.T) {
	m := New(func(context.Context) (map[string]int, error) {
		return map[string]int{"available": 3, "running": 1}, nil
	})
	m.ObserveRequest("GET /v1/videos/{id}", 404, 3*time.Millisecond)
	req := &generation.Request{Resolution: "720p"}
	m.Rendered(req, &generation.Output{Timings: generation.Timings{Speech: time.Second, Encode: 4 * time.Second}}, 6*time.Second)
	m.Rendered(req, &generation.Output{}, 2*time.Second) // no timings: no speech or encode sample
	m.Failed("image_fetch_failed")
	m.Failed("image_fetch_failed")
	out := scrape(t, m)
	for _, want := range []string{
		`stillmotion_http_request_duration_seconds_count{route="GET /v1/videos/{id}",status="404"} 1`,
		`stillmotion_queue_jobs{state="available"} 3`,
		`stillmotion_queue_jobs{state="running"} 1`,
		`stillmotion_queue_jobs{state="retryable"} 0`,
		`stillmotion_render_duration_seconds_count{resolution="720p"} 2`,
		`stillmotion_render_duration_seconds_sum{resolution="720p"} 8`,
		`stillmotion_speech_duration_seconds_count 1`,
		`stillmotion_encode_duration_seconds_sum 4`,
		`stillmotion_generation_failures_total{name="image_fetch_failed"} 2`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %s", want)
		}
	}
}

func TestQueueError(t *testing.T) {
	m := New(func(context.Context) (map[string]int, error) { return nil, errors.New("database down") })
	m.Failed("render_failed")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body.String()
	if w.Code != 200 || strings.Contains(out, "stillmotion_queue_jobs{") || !strings.Contains(out, `stillmotion_generation_failures_total{name="render_failed"} 1`) {
		t.Errorf("scrape with the database down: %d\n%s\nwant 200 with all but the queue depth", w.Code, out)
	}
}
