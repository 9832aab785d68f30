package main

// Chained instances: A serves models through the upstream engine, B (a
// second, unmodified stillmotion) renders them. No stand-ins: both are the
// real binary.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// upstreamProxy forwards to B, counting polls per upstream generation and
// failing every request while failing is set.
type upstreamProxy struct {
	*httptest.Server
	failing atomic.Bool
	mu      sync.Mutex
	polls   map[string]int
	submits atomic.Int32
}

func newUpstreamProxy(t *testing.T, target string) *upstreamProxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &upstreamProxy{polls: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.failing.Load() {
			http.Error(w, `{"message":"upstream is having a bad day"}`, http.StatusInternalServerError)
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v2/video/generations":
			p.mu.Lock()
			p.polls[r.URL.Query().Get("generation_id")]++
			p.mu.Unlock()
		case r.Method == http.MethodPost:
			p.submits.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// writeEngines writes an engines file and returns its path.
func writeEngines(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "engines.yaml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// gatewayTo starts A with an engines file routing chained/v5 to the
// upstream at url (and the default model to the built-in engine).
func gatewayTo(t *testing.T, url string, extra string, opts serverOpts) *proc {
	t.Helper()
	engines := writeEngines(t, fmt.Sprintf(`engines:
  b:
    kind: upstream
    url: %s
    key: ${B_KEY}
    model: pixverse/v5/image-to-video
    poll: 200ms
    retries: 2
%s
models:
  pixverse/v5/image-to-video: builtin
  chained/v5: b
`, url, extra))
	opts.allowPrivate = true
	opts.extraArgs = append(opts.extraArgs, "--engines", engines)
	opts.extraEnv = append(opts.extraEnv, "B_KEY="+testKey)
	return startServer(t, opts)
}

// listAll returns p's generations.
func listAll(t *testing.T, p *proc) []map[string]any {
	t.Helper()
	code, m, _ := p.do(t, "GET", "/v2/video/generations/list?limit=100", nil)
	if code != 200 {
		t.Fatalf("list: %d %v", code, m)
	}
	var out []map[string]any
	for _, g := range m["data"].([]any) {
		out = append(out, g.(map[string]any))
	}
	return out
}

func fileBytes(t *testing.T, client *http.Client, u string) []byte {
	t.Helper()
	b, err := os.ReadFile(download(t, client, u))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChainedUpstream(t *testing.T) {
	img := imageServer(t)
	b := startServer(t, serverOpts{allowPrivate: true})
	proxy := newUpstreamProxy(t, b.url)
	a := gatewayTo(t, proxy.URL, "", serverOpts{})

	t.Run("models", func(t *testing.T) {
		code, m, _ := a.do(t, "GET", "/v2/models", nil)
		if code != 200 {
			t.Fatalf("GET /v2/models: %d %v", code, m)
		}
		got := map[string]string{}
		for _, d := range m["data"].([]any) {
			d := d.(map[string]any)
			got[d["id"].(string)] = d["engine"].(string)
		}
		if len(got) != 2 || got["pixverse/v5/image-to-video"] != "builtin" || got["chained/v5"] != "upstream" {
			t.Errorf("models %v", got)
		}
		code, m, _ = a.do(t, "GET", "/v1/models", nil)
		if code != 200 || m["object"] != "list" || len(m["data"].([]any)) != 2 {
			t.Errorf("GET /v1/models: %d %v", code, m)
		}
		code, m, _ = a.do(t, "POST", "/v2/video/generations", map[string]any{"model": "kling", "prompt": "p", "image_url": img.URL + "/rocket.jpg"})
		if code != 400 || !strings.Contains(fmt.Sprint(m["errors"]), "'pixverse/v5/image-to-video' | 'chained/v5'") {
			t.Errorf("unknown model: %d %v", code, m)
		}
	})

	t.Run("rendered by B, served by A", func(t *testing.T) {
		id := a.submit(t, "/v2/video/generations", map[string]any{
			"model": "chained/v5", "prompt": "slow zoom in", "image_url": img.URL + "/rocket.jpg",
			"resolution": "360p", "seed": 7, "lip_sync_tts_content": "Hello from B.",
		})
		m := a.wait(t, "/v2/video/generations", id, 2*time.Minute)
		if m["status"] != "completed" {
			t.Fatalf("A: %v", m)
		}
		aURL := m["video"].(map[string]any)["url"].(string)
		if !strings.HasPrefix(aURL, a.url+"/files/") {
			t.Errorf("A serves the video from %s, not its own storage", aURL)
		}
		var bGen map[string]any
		for _, g := range listAll(t, b) {
			if g["status"] == "completed" {
				bGen = g
			}
		}
		if bGen == nil {
			t.Fatal("B has no completed generation")
		}
		code, body := rawGet(t, a, "/v2/video/generations?generation_id="+id)
		for _, secret := range []string{bGen["id"].(string), b.addr, proxy.Listener.Addr().String()} {
			if strings.Contains(body, secret) {
				t.Errorf("A's poll (%d) shows the upstream's %q: %s", code, secret, body)
			}
		}
		aBytes := fileBytes(t, a.client, aURL)
		bBytes := fileBytes(t, b.client, bGen["video"].(map[string]any)["url"].(string))
		if !bytes.Equal(aBytes, bBytes) {
			t.Errorf("A's file (%d bytes) differs from B's (%d bytes)", len(aBytes), len(bBytes))
		}
		checkVideo(t, download(t, a.client, aURL), 540, 360, 5)
		proxy.mu.Lock()
		polls := proxy.polls[bGen["id"].(string)]
		proxy.mu.Unlock()
		t.Logf("%d polls sent upstream", polls)
		if polls < 1 || polls > 30 {
			t.Errorf("%d polls upstream for one generation", polls)
		}
	})

	t.Run("the built-in model beside it", func(t *testing.T) {
		before := len(listAll(t, b))
		id := a.submit(t, "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "zoom in", "image_url": img.URL + "/rocket.jpg", "resolution": "360p",
		})
		m := a.wait(t, "/v2/video/generations", id, time.Minute)
		if m["status"] != "completed" || !strings.Contains(fmt.Sprint(m["plan"]), "zoom in") {
			t.Errorf("A: %v", m)
		}
		if n := len(listAll(t, b)); n != before {
			t.Errorf("B got %d generations for a model A renders itself", n-before)
		}
	})

	t.Run("B fails the generation", func(t *testing.T) {
		id := a.submit(t, "/v2/video/generations", map[string]any{
			"model": "chained/v5", "prompt": "p", "image_url": img.URL + "/missing.png", "resolution": "360p",
		})
		m := a.wait(t, "/v2/video/generations", id, time.Minute)
		e, _ := m["error"].(map[string]any)
		if m["status"] != "error" || e["name"] != "input_rejected" || !strings.Contains(e["message"].(string), "404") {
			t.Errorf("A: %v", m)
		}
	})

	t.Run("a client's cancel reaches B", func(t *testing.T) {
		id := a.submit(t, "/v2/video/generations", map[string]any{
			"model": "chained/v5", "prompt": "zoom in", "image_url": img.URL + "/rocket.jpg", "resolution": "720p", "duration": 8,
		})
		var bID string
		deadline := time.Now().Add(time.Minute)
		for bID == "" {
			for _, g := range listAll(t, b) {
				if g["status"] == "queued" || g["status"] == "generating" {
					bID = g["id"].(string)
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("B never got the generation")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code, m, _ := a.do(t, "DELETE", "/v2/video/generations?generation_id="+id, nil); code != 200 {
			t.Fatalf("cancel on A: %d %v", code, m)
		}
		m := b.wait(t, "/v2/video/generations", bID, time.Minute)
		if e, _ := m["error"].(map[string]any); m["status"] != "error" || e["name"] != "cancelled" {
			t.Errorf("B's generation after A's cancel: %v", m)
		}
	})

	t.Run("B answers 500s", func(t *testing.T) {
		proxy.failing.Store(true)
		defer proxy.failing.Store(false)
		id := a.submit(t, "/v2/video/generations", map[string]any{
			"model": "chained/v5", "prompt": "p", "image_url": img.URL + "/rocket.jpg", "resolution": "360p",
		})
		m := a.wait(t, "/v2/video/generations", id, time.Minute)
		e, _ := m["error"].(map[string]any)
		if m["status"] != "error" || e["name"] != "upstream_unavailable" {
			t.Errorf("A: %v", m)
		}
		if c := m["meta"].(map[string]any)["usage"].(map[string]any)["credits_used"]; c != 0.0 {
			t.Errorf("a failed generation charged %v credits", c)
		}
	})
}

func rawGet(t *testing.T, p *proc, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestChainedUpstreamDown(t *testing.T) {
	img := imageServer(t)
	a := gatewayTo(t, "http://"+freeAddr(t), "", serverOpts{})
	id := a.submit(t, "/v2/video/generations", map[string]any{
		"model": "chained/v5", "prompt": "p", "image_url": img.URL + "/rocket.jpg", "resolution": "360p",
	})
	m := a.wait(t, "/v2/video/generations", id, time.Minute)
	e, _ := m["error"].(map[string]any)
	if m["status"] != "error" || e["name"] != "upstream_unavailable" || !strings.Contains(e["message"].(string), "try again later") {
		t.Errorf("A: %v", m)
	}
}

// TestChainedResume kills A's worker while it polls B: the restarted A
// resumes polling the same upstream generation, and B renders once.
func TestChainedResume(t *testing.T) {
	img := imageServer(t)
	b := startServer(t, serverOpts{allowPrivate: true, workers: 1})
	proxy := newUpstreamProxy(t, b.url)
	dir, addr := t.TempDir(), freeAddr(t)
	a := gatewayTo(t, proxy.URL, "", serverOpts{dataDir: dir, addr: addr, workers: 1})
	id := a.submit(t, "/v2/video/generations", map[string]any{
		"model": "chained/v5", "prompt": "zoom in", "image_url": img.URL + "/rocket.jpg",
		"resolution": "720p", "duration": 8, "seed": 3,
	})
	// Kill A once B is rendering it and A has polled.
	deadline := time.Now().Add(time.Minute)
	for {
		gs := listAll(t, b)
		proxy.mu.Lock()
		polled := len(proxy.polls) > 0
		proxy.mu.Unlock()
		if len(gs) == 1 && gs[0]["status"] == "generating" && polled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B never started rendering: %v", gs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	a = gatewayTo(t, proxy.URL, "", serverOpts{dataDir: dir, addr: addr, workers: 1})
	m := a.wait(t, "/v2/video/generations", id, 3*time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("after the restart: %v", m)
	}
	if n := proxy.submits.Load(); n != 1 {
		t.Errorf("A submitted %d times to B, want once", n)
	}
	if gs := listAll(t, b); len(gs) != 1 {
		t.Errorf("B has %d generations, want 1", len(gs))
	}
	checkVideo(t, download(t, a.client, m["video"].(map[string]any)["url"].(string)), 1080, 720, 8)
}
