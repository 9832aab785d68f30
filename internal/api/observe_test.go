package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestObserved checks that every request is reported by route pattern (not
// raw path) and logged with its ids, never with the key or the body.
func TestObserved(t *testing.T) {
	b := setup(t)
	type obs struct {
		route  string
		status int
	}
	var got []obs
	b.api.ObserveRequest = func(route string, status int, _ time.Duration) { got = append(got, obs{route, status}) }
	var logs bytes.Buffer
	b.api.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	b.handler = b.api.Handler()

	body := `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"data:image/png;base64,` + tinyPNG + `"}`
	b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", body})
	b.do(t, call{"GET", "/v1/videos/abc", b.richKey, "", ""})
	b.do(t, call{"GET", "/v2/nothing/here", b.richKey, "", ""})
	want := []obs{{"POST /v2/video/generations", 200}, {"GET /v1/videos/{id}", 404}, {"unmatched", 404}}
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d observed as %v, want %v", i, got[i], want[i])
		}
	}

	if s := logs.String(); strings.Contains(s, b.richKey) || strings.Contains(s, tinyPNG[:20]) {
		t.Errorf("the log holds the key or the image:\n%s", s)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"msg": "request", "request_id": "req001", "key_id": b.richID, "generation_id": "gen000000000000000001", "status": 200.0} {
		if first[k] != v {
			t.Errorf("log %s = %v, want %v (line %s)", k, first[k], v, lines[0])
		}
	}
}
