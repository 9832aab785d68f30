package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/webhook"
)

// received is one webhook delivery, as the receiver saw it.
type received struct {
	path, id string
	event    map[string]any
}

// hookReceiver records signed deliveries; the first delivery to /cb fails
// with 500, so that its event arrives on a retry.
type hookReceiver struct {
	t      *testing.T
	secret webhook.Secret
	mu     sync.Mutex
	got    []received
	failed bool
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
	id := r.Header.Get("webhook-id")
	if err != nil || !webhook.Verify(h.secret, id, ts, body, r.Header.Get("webhook-signature")) {
		h.t.Errorf("%s: bad signature: %v", r.URL.Path, r.Header)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if d := time.Since(time.Unix(ts, 0)); d > time.Minute || d < -time.Minute {
		h.t.Errorf("webhook-timestamp %d is %v off", ts, d)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.URL.Path == "/cb" && !h.failed {
		h.failed = true
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		h.t.Errorf("body is not JSON: %q", body)
	}
	h.got = append(h.got, received{path: r.URL.Path, id: id, event: ev})
	w.WriteHeader(http.StatusNoContent)
}

// find returns the delivery of event type typ for generation gen to path.
func (h *hookReceiver) find(path, gen, typ string) (received, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.got {
		data, _ := r.event["data"].(map[string]any)
		if r.path == path && r.event["type"] == typ && data["id"] == gen {
			return r, true
		}
	}
	return received{}, false
}

func TestWebhooks(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	s, _ := webhook.ParseSecret(secret)
	h := &hookReceiver{t: t, secret: s}
	recv := httptest.NewServer(h)
	defer recv.Close()
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true, extraArgs: []string{
		"--webhook-url", recv.URL + "/all", "--webhook-secret", secret, "--webhook-backoff", "50ms"}})

	good := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "a rocket",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "callback_url": recv.URL + "/cb"})
	bad := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "nothing",
		"image_url": img.URL + "/missing.png", "resolution": "360p"})
	if m := p.wait(t, "/v2/video/generations", good, 2*time.Minute); m["status"] != "completed" {
		t.Fatalf("generation: %v", m)
	}
	if m := p.wait(t, "/v2/video/generations", bad, time.Minute); m["status"] != "error" {
		t.Fatalf("bad generation: %v", m)
	}

	want := []struct{ path, gen, typ string }{
		{"/cb", good, "generation.started"}, {"/cb", good, "generation.completed"},
		{"/all", good, "generation.started"}, {"/all", good, "generation.completed"},
		{"/all", bad, "generation.failed"},
	}
	deadline := time.Now().Add(45 * time.Second)
	for _, w := range want {
		var r received
		for ok := false; !ok; {
			if r, ok = h.find(w.path, w.gen, w.typ); !ok && time.Now().After(deadline) {
				t.Fatalf("no %s for %s at %s; got %v", w.typ, w.gen, w.path, h.got)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if r.id != webhook.MessageID(w.gen, w.typ) {
			t.Errorf("webhook-id %q, want %q", r.id, webhook.MessageID(w.gen, w.typ))
		}
		data := r.event["data"].(map[string]any)
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(r.event["timestamp"])); err != nil {
			t.Errorf("timestamp: %v", err)
		}
		switch w.typ {
		case "generation.completed":
			v, _ := data["video"].(map[string]any)
			u, _ := v["url"].(string)
			if data["status"] != "completed" || !strings.HasPrefix(u, p.url) {
				t.Errorf("completed event data %v", data)
			}
			if res, err := http.Get(u); err != nil || res.StatusCode != 200 {
				t.Errorf("the event's video URL: %v %v", res, err)
			} else {
				res.Body.Close()
			}
		case "generation.failed":
			e, _ := data["error"].(map[string]any)
			if data["status"] != "error" || e["name"] == nil {
				t.Errorf("failed event data %v", data)
			}
		}
	}
	if _, ok := h.find("/cb", bad, "generation.failed"); ok {
		t.Error("the callback_url of one generation got another's event")
	}
	h.mu.Lock()
	if !h.failed {
		t.Error("the first delivery to /cb was never attempted")
	}
	h.mu.Unlock()
}

func TestWebhookCallbackRefused(t *testing.T) {
	p := startServer(t, serverOpts{apiOnly: true})
	for _, u := range []string{"http://10.0.0.1/hook", "http://127.0.0.1:9/hook", "ftp://example.com/"} {
		code, m, _ := p.do(t, "POST", "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p",
			"image_url": "https://example.com/a.jpg", "callback_url": u})
		if code != 400 || !strings.Contains(fmt.Sprint(m), "callback_url") {
			t.Errorf("callback_url %s: %d %v, want 400 naming callback_url", u, code, m)
		}
	}
	code, m, _ := p.do(t, "POST", "/v1/videos", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p",
		"input_reference": map[string]any{"image_url": "https://example.com/a.jpg"}, "callback_url": "http://10.0.0.1/hook"})
	if code != 400 || !strings.Contains(fmt.Sprint(m), "callback_url") {
		t.Errorf("/v1/videos callback_url 10.0.0.1: %d %v, want 400", code, m)
	}
}

// An event whose endpoint is down when the server is killed is delivered
// by the restarted server: deliveries are jobs in the database.
func TestWebhookSurvivesRestart(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	s, _ := webhook.ParseSecret(secret)
	var (
		mu       sync.Mutex
		up       bool
		attempts int
		got      []string
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		if !webhook.Verify(s, r.Header.Get("webhook-id"), ts, body, r.Header.Get("webhook-signature")) {
			t.Errorf("bad signature: %v", r.Header)
		}
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got = append(got, r.Header.Get("webhook-id"))
	}))
	defer recv.Close()
	img := imageServer(t)
	dir := t.TempDir()
	opts := serverOpts{dataDir: dir, allowPrivate: true, extraArgs: []string{
		"--webhook-url", recv.URL + "/all", "--webhook-secret", secret, "--webhook-backoff", "200ms"}}
	p := startServer(t, opts)
	id := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "nothing",
		"image_url": img.URL + "/missing.png", "resolution": "360p"})
	if m := p.wait(t, "/v2/video/generations", id, time.Minute); m["status"] != "error" {
		t.Fatalf("generation: %v", m)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := attempts
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d delivery attempts while the endpoint was down", n)
		}
	}
	p.kill()
	mu.Lock()
	up = true
	mu.Unlock()
	startServer(t, opts)
	want := webhook.MessageID(id, "generation.failed")
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		ok := slices.Contains(got, want)
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not delivered after the restart; got %v", want, got)
		}
	}
}
