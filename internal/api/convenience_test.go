package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/generation"
)

// doWith is do with extra request headers.
func (b *bundle) doWith(t *testing.T, c call, h map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.key != "" {
		r.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	return w
}

func idOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", dump(w))
	}
	return v.ID
}

// TestGoldenIdempotency pins Idempotency-Key on submit: a replay answers
// with the first generation, as a poll does; another body is a conflict.
func TestGoldenIdempotency(t *testing.T) {
	b := setup(t)
	// validBody spelled differently: same canonical request.
	respelled := `{ "duration": "5", "image_url": "https://example.com/1.jpeg", "prompt": "Mona Lisa puts on glasses with her hands.", "model": "pixverse/v5/image-to-video", "resolution": "720p" }`
	other := strings.Replace(validBody, "glasses", "a hat", 1)
	tests := []struct {
		name   string // golden file; "" to check the status only
		call   call
		key    string
		status int
	}{
		{"idem_first", call{"POST", universalPath, b.richKey, "", validBody}, "order-1", 200},
		{"idem_replayed", call{"POST", universalPath, b.richKey, "", respelled}, "order-1", 200},
		{"idem_replayed_legacy", call{"POST", legacyPath, b.richKey, "", validBody}, "order-1", 200},
		{"idem_error_other_body", call{"POST", universalPath, b.richKey, "", other}, "order-1", 409},
		{"idem_error_bad_key", call{"POST", universalPath, b.richKey, "", validBody}, "clé", 400},
		{"", call{"POST", universalPath, b.richKey, "", validBody}, strings.Repeat("k", 256), 400},
		{"", call{"POST", universalPath, b.richKey, "", validBody}, strings.Repeat("k", 255), 200},
		{"", call{"POST", universalPath, bootstrapKey, "", validBody}, "order-1", 200}, // keys are per API key
		{"v1_idem_first", call{"POST", videosPath, b.richKey, "", `{"prompt":"p","input_reference":{"image_url":"https://example.com/a.png"}}`}, "v1-order", 200},
		{"v1_idem_replayed", call{"POST", videosPath, b.richKey, "", `{"prompt":"p","input_reference":{"image_url":"https://example.com/a.png"}}`}, "v1-order", 200},
		{"v1_idem_error_other_body", call{"POST", videosPath, b.richKey, "", `{"prompt":"q","input_reference":{"image_url":"https://example.com/a.png"}}`}, "v1-order", 409},
	}
	for _, tt := range tests {
		w := b.doWith(t, tt.call, map[string]string{"Idempotency-Key": tt.key})
		if w.Code != tt.status {
			t.Errorf("%s %q: %s, want %d", tt.call.path, tt.key, dump(w), tt.status)
		}
		if tt.name != "" {
			t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, dump(w)) })
		}
	}
	// Three generations were made for the rich key: order-1, the long key
	// and v1-order; each was debited once.
	gs, err := b.api.Service.List(context.Background(), b.richID, generation.ListQuery{})
	if err != nil || len(gs) != 3 {
		t.Fatalf("rich key has %d generations (%v), want 3", len(gs), err)
	}
	var spent int64
	for _, g := range gs {
		spent += g.Credits
	}
	if bal := balance(t, b, "rich"); bal != 10_000_000-spent {
		t.Errorf("balance %d, want %d: replays must not be charged", bal, 10_000_000-spent)
	}
}

func TestPreferredWait(t *testing.T) {
	for _, tt := range []struct {
		prefer string
		want   int
	}{
		{"", 0},
		{"wait=5", 5},
		{"respond-async, wait=10", 10},
		{"WAIT = 7 ; x=y", 7},
		{`wait="3"`, 3},
		{"wait=600", maxWait},
		{"wait=0", 0},
		{"wait=-1", 0},
		{"wait=soon", 0},
		{"return=minimal", 0},
	} {
		h := http.Header{}
		if tt.prefer != "" {
			h.Set("Prefer", tt.prefer)
		}
		if got := preferredWait(h); got != tt.want {
			t.Errorf("preferredWait(%q) = %d, want %d", tt.prefer, got, tt.want)
		}
	}
}

// TestGoldenPreferWait holds submits with Prefer: wait=N: one answers as
// soon as its generation ends, one when N seconds pass.
func TestGoldenPreferWait(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a second")
	}
	ctx := context.Background()
	b := setup(t)
	const first = "gen000000000000000001" // setup's ids are sequential
	done := make(chan error, 1)
	go func() {
		for {
			g, err := b.store.Get(ctx, first)
			if err == nil {
				time.Sleep(300 * time.Millisecond)
				v := &generation.Video{Key: g.ID + "/output.mp4", FileName: "output.mp4", Size: 1000, Width: 1280, Height: 720, Duration: 5, FPS: 24}
				done <- b.store.Finish(ctx, g.ID, v, nil)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	w := b.doWith(t, call{"POST", universalPath, b.richKey, "", validBody}, map[string]string{"Prefer": "wait=5"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("held %v after the generation ended", el)
	}
	golden(t, "submit_wait_completed", dump(w))

	start = time.Now()
	w = b.doWith(t, call{"POST", universalPath, b.richKey, "", validBody}, map[string]string{"Prefer": "wait=1"})
	if el := time.Since(start); el < time.Second || el > 3*time.Second {
		t.Errorf("held %v, want about 1s", el)
	}
	golden(t, "submit_wait_timeout", dump(w))
}

// TestGoldenList pins GET /v2/video/generations/list: a key's generations,
// newest first, as polls show them, a page at a time.
func TestGoldenList(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	var ids []string
	for range 3 {
		ids = append(ids, idOf(t, b.do(t, call{"POST", universalPath, b.richKey, "", validBody})))
	}
	v := &generation.Video{Key: ids[2] + "/output.mp4", FileName: "output.mp4", Size: 1000, Width: 1280, Height: 720, Duration: 5, FPS: 24}
	if err := b.store.Finish(ctx, ids[2], v, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call call
	}{
		{"list_first_page", call{"GET", listPath + "?limit=2", b.richKey, "", ""}},
		{"list_last_page", call{"GET", listPath + "?limit=2&after=" + ids[1], b.richKey, "", ""}},
		{"list_empty", call{"GET", listPath, otherKey, "", ""}},
		{"list_error_limit", call{"GET", listPath + "?limit=101", b.richKey, "", ""}},
		{"list_error_unknown_after", call{"GET", listPath + "?after=nope", b.richKey, "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, dump(b.do(t, tt.call))) })
	}
}
