package upstream_test

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/engine/upstream"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/server"
)

const key = "upstream-test-key"

// startStillmotion runs a real stillmotion server in this process, the
// upstream under test, and returns its URL.
func startStillmotion(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Serve(ctx, server.Config{Addr: closedAddr(t), DataDir: t.TempDir(), Workers: 2, APIKeys: []string{key},
			AllowPrivateFetch: true, ShutdownTimeout: time.Second}, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("starting the upstream: %v", err)
	}
	return ""
}

// proxy sits between the engine and the upstream: it counts submits and
// can fail every request.
type proxy struct {
	*httptest.Server
	submits atomic.Int32
	failing atomic.Bool
}

func newProxy(t *testing.T, target string) *proxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.failing.Load() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"overloaded"}`, http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost {
			p.submits.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func image(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "rocket.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b)
}

func newEngine(t *testing.T, url string, c upstream.Config) *upstream.Engine {
	t.Helper()
	c.URL, c.Key = url, key
	c.Model = generation.Model
	c.Poll = 100 * time.Millisecond
	c.Retries = 2
	e, err := upstream.New("b", c, upstream.Deps{Finisher: &engine.Finisher{}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("renders several videos upstream")
	}
	p := newProxy(t, startStillmotion(t))
	img := image(t)
	small := func() *generation.Request {
		return &generation.Request{Model: "chained", Prompt: "zoom in", ImageURL: img, Resolution: "360p", Duration: 5, Seed: 2}
	}
	down := newEngine(t, "http://"+closedAddr(t), upstream.Config{})
	enginetest.Run(t, enginetest.Harness{
		Engine:  newEngine(t, p.URL, upstream.Config{}),
		Request: small,
		Slow: func() *generation.Request {
			r := small()
			r.Resolution, r.Duration = "720p", 8
			return r
		},
		Submissions: func() int { return int(p.submits.Load()) },
		Failures: []enginetest.Failure{
			{Name: "upstream refuses the image", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request {
				r := small()
				r.ImageURL = "data:image/png;base64,aGVsbG8gd29ybGQ="
				return r
			}},
			{Name: "upstream overloaded", Kind: fault.Upstream, Setup: func(t *testing.T) *generation.Request {
				p.failing.Store(true)
				t.Cleanup(func() { p.failing.Store(false) })
				return small()
			}},
		},
	})
	t.Run("upstream down", func(t *testing.T) {
		_, err := down.Render(context.Background(), &generation.Task{ID: generation.NewID(), Request: small(), Out: filepath.Join(t.TempDir(), "o.mp4")})
		if fault.KindOf(err) != fault.Upstream || !strings.Contains(fault.MessageOf(err), "try again later") {
			t.Errorf("error %v", err)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("the key is in the error: %v", err)
		}
	})
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		c    upstream.Config
		want string
	}{
		{upstream.Config{}, "url must be"},
		{upstream.Config{URL: "ftp://x"}, "url must be"},
		{upstream.Config{URL: "https://u:p@x"}, "must not hold credentials"},
		{upstream.Config{URL: "https://x", Image: "bytes"}, "image must be url or data"},
		{upstream.Config{URL: "https://x"}, ""},
	} {
		_, err := upstream.New("b", tt.c, upstream.Deps{})
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("New(%+v) = %v, want %q", tt.c, err, tt.want)
		}
	}
}

// TestRetryAfter: an upstream answering 429 with Retry-After is asked
// again no sooner than it said, and the generation goes on.
func TestRetryAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a video upstream")
	}
	target := startStillmotion(t)
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var (
		mu    sync.Mutex
		times []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			http.Error(w, `{"message":"slow down"}`, http.StatusTooManyRequests)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	e := newEngine(t, srv.URL, upstream.Config{})
	task := &generation.Task{ID: generation.NewID(), Out: filepath.Join(t.TempDir(), "o.mp4"),
		Request: &generation.Request{Model: "m", Prompt: "zoom in", ImageURL: image(t), Resolution: "360p", Duration: 5, Seed: 1}}
	if _, err := e.Render(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gap := times[1].Sub(times[0]); gap < 2*time.Second {
		t.Errorf("asked again after %v; the upstream said Retry-After: 2", gap)
	}
}
