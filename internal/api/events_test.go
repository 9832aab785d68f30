package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/generation"
)

// TestEvents follows one generation's event stream from queued to completed.
func TestEvents(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	b.api.EventInterval = 10 * time.Millisecond
	srv := httptest.NewServer(b.api.Handler())
	defer srv.Close()
	submit := func() string {
		t.Helper()
		w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
		var sub struct{ ID string }
		json.Unmarshal(w.Body.Bytes(), &sub)
		return sub.ID
	}
	first, id := submit(), submit()

	tests := []struct {
		name, query, key string
		code             int
	}{
		{"missing id", "", b.richKey, 400},
		{"unknown id", "?generation_id=nope", b.richKey, 404},
		{"another key's id", "?generation_id=" + id, otherKey, 404},
		{"no key", "?generation_id=" + id, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/v2/video/generations/events"+tt.query, nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.code || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%d %s, want %d JSON", res.StatusCode, res.Header.Get("Content-Type"), tt.code)
			}
		})
	}

	req, _ := http.NewRequest("GET", srv.URL+"/v2/video/generations/events?generation_id="+id, nil)
	req.Header.Set("Authorization", "Bearer "+b.richKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("%d %s", res.StatusCode, ct)
	}
	events := make(chan generationBody)
	go func() {
		defer close(events)
		s := bufio.NewScanner(res.Body)
		event := ""
		for s.Scan() {
			line := s.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var g generationBody
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &g); err != nil || event != "generation" {
					t.Errorf("event %q data %q: %v", event, line, err)
				}
				events <- g
			}
		}
	}()
	next := func() generationBody {
		t.Helper()
		select {
		case g := <-events:
			return g
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return generationBody{}
	}
	if g := next(); g.Status != "queued" || g.QueuePosition != 2 {
		t.Errorf("first event %+v, want queued second in line", g)
	}
	b.store.Finish(ctx, first, nil, &generation.Failure{Name: "cancelled"})
	if g := next(); g.Status != "queued" || g.QueuePosition != 1 {
		t.Errorf("event %+v, want queued first in line", g)
	}
	b.store.Progress(ctx, id, 0.5, "")
	if g := next(); g.Status != "generating" || g.Progress == nil || *g.Progress != 50 {
		t.Errorf("event %+v, want generating at 50%%", g)
	}
	v := &generation.Video{Key: id + "/output.mp4", FileName: "output.mp4", Size: 10, Width: 1280, Height: 720, Duration: 5, FPS: 24, HasAudio: true}
	b.store.Finish(ctx, id, v, nil)
	if g := next(); g.Status != "completed" || g.Video == nil || g.Video.URL == "" {
		t.Errorf("event %+v, want completed with the video", g)
	}
	if g, ok := <-events; ok {
		t.Errorf("event after the end: %+v", g)
	}
}
