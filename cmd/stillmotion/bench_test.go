package main

// Figures for BENCHMARKS.md, run only with STILLMOTION_BENCH=1 (they take
// minutes and their numbers are read, not asserted):
//
//	STILLMOTION_BENCH=1 go test -run 'TestBench' -v -timeout 30m ./cmd/stillmotion/

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func benchOnly(t *testing.T) {
	if os.Getenv("STILLMOTION_BENCH") != "1" {
		t.Skip("a benchmark: set STILLMOTION_BENCH=1")
	}
}

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// TestBenchGatewayOverhead measures the time from the upstream (B) ending
// a generation to the gateway (A) ending it, over 50 generations, with the
// default poll settings and with a 200 ms first poll, and the polls sent
// upstream per generation. Both ends are read from the databases' update
// times (millisecond stamps of the same clock).
func TestBenchGatewayOverhead(t *testing.T) {
	benchOnly(t)
	img := imageServer(t)
	for _, poll := range []string{"1s", "200ms"} {
		t.Run("poll "+poll, func(t *testing.T) {
			b := startServer(t, serverOpts{allowPrivate: true, workers: 2})
			var mu sync.Mutex
			aToB := map[string]string{} // A's id -> B's id
			polls := map[string]int{}   // B's id -> polls
			u, _ := url.Parse(b.url)
			rp := httputil.NewSingleHostReverseProxy(u)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && r.URL.Path == "/v2/video/generations" {
					mu.Lock()
					polls[r.URL.Query().Get("generation_id")]++
					mu.Unlock()
					rp.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r)
				var g struct{ ID string }
				json.Unmarshal(rec.Body.Bytes(), &g)
				mu.Lock()
				aToB[strings.TrimPrefix(r.Header.Get("Idempotency-Key"), "stillmotion-")] = g.ID
				mu.Unlock()
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
			}))
			defer proxy.Close()
			engines := writeEngines(t, fmt.Sprintf(`engines:
  b:
    kind: upstream
    url: %s
    key: %s
    model: pixverse/v5/image-to-video
    poll: %s
    concurrency: 4
models:
  chained/v5: b
`, proxy.URL, testKey, poll))
			a := startServer(t, serverOpts{allowPrivate: true, workers: 2, extraArgs: []string{"--engines", engines}})
			const n = 50
			var ids []string
			for i := range n {
				ids = append(ids, a.submit(t, "/v2/video/generations", map[string]any{
					"model": "chained/v5", "prompt": "zoom in", "image_url": img.URL + "/rocket.jpg", "resolution": "360p", "seed": i,
				}))
				time.Sleep(60 * time.Millisecond) // under the per-key rate limit
			}
			for _, id := range ids {
				if m := a.wait(t, "/v2/video/generations", id, 10*time.Minute); m["status"] != "completed" {
					t.Fatalf("%s: %v", id, m)
				}
			}
			ended := func(p *proc, id string) time.Time {
				db, err := sql.Open("sqlite", filepath.Join(p.dataDir, "stillmotion.db")+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				var ms int64
				if err := db.QueryRow(`SELECT updated_at FROM generation WHERE id = ?`, id).Scan(&ms); err != nil {
					t.Fatal(err)
				}
				return time.UnixMilli(ms)
			}
			var over []time.Duration
			var total int
			for _, id := range ids {
				bid := aToB[id]
				over = append(over, ended(a, id).Sub(ended(b, bid)))
				total += polls[bid]
			}
			t.Logf("poll %s: overhead p50 %v, p99 %v, max %v; %.1f polls upstream per generation",
				poll, percentile(over, 50), percentile(over, 99), percentile(over, 100), float64(total)/n)
		})
	}
}

// noisePNG returns a PNG of random pixels of about n bytes: it does not
// compress.
func noisePNG(t *testing.T, n int) []byte {
	side := 16
	for side*side*3 < n {
		side += 16
	}
	m := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		if i%4 == 3 {
			m.Pix[i] = 255
		} else {
			m.Pix[i] = byte(r.Uint32())
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBenchPollsWithLargeInputs measures poll and list latency on an
// API-only server holding 20 generations submitted with 5 MB data-URI
// images. STILLMOTION_BENCH_BIN runs another build (an older one, for
// the before figure).
func TestBenchPollsWithLargeInputs(t *testing.T) {
	benchOnly(t)
	if bin := os.Getenv("STILLMOTION_BENCH_BIN"); bin != "" {
		old := binPath
		binPath = bin
		defer func() { binPath = old }()
	}
	p := startServer(t, serverOpts{apiOnly: true})
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(noisePNG(t, 5<<20))
	t.Logf("data URI: %.1f MB", float64(len(uri))/(1<<20))
	var ids []string
	for i := range 20 {
		ids = append(ids, p.submit(t, "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "zoom in", "image_url": uri, "resolution": "360p", "seed": i,
		}))
	}
	timed := func(path string) time.Duration {
		req, _ := http.NewRequest("GET", p.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		start := time.Now()
		res, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		return time.Since(start)
	}
	var polls, lists []time.Duration
	for i := range 200 {
		polls = append(polls, timed("/v2/video/generations?generation_id="+ids[i%len(ids)]))
		time.Sleep(55 * time.Millisecond) // under the per-key rate limit
	}
	for range 40 {
		lists = append(lists, timed("/v2/video/generations/list?limit=20"))
		time.Sleep(55 * time.Millisecond)
	}
	var size int64
	filepath.Walk(p.dataDir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(filepath.Base(path), "stillmotion.db") {
			size += fi.Size()
		}
		return nil
	})
	t.Logf("poll p50 %v p99 %v; list of 20 p50 %v p99 %v; database %.1f MB",
		percentile(polls, 50), percentile(polls, 99), percentile(lists, 50), percentile(lists, 99), float64(size)/(1<<20))
}

// TestBenchRemoteWorker measures what the remote worker protocol costs a
// render: ten 360p renders one after another, each from submit to
// completed (polled every 20 ms), on a server rendering them itself
// (--workers 1) and on an API-only server with one remote worker (--jobs
// 1) on the same machine.
func TestBenchRemoteWorker(t *testing.T) {
	benchOnly(t)
	img := imageServer(t)
	const n = 10
	for _, mode := range []string{"local worker", "remote worker"} {
		t.Run(mode, func(t *testing.T) {
			var p *proc
			// Polled every 20 ms: no rate limit.
			if mode == "local worker" {
				p = startServer(t, serverOpts{allowPrivate: true, workers: 1, extraArgs: []string{"--rate-limit", "0"}})
			} else {
				p = startServer(t, serverOpts{allowPrivate: true, apiOnly: true, extraArgs: []string{"--rate-limit", "0"}})
				token, stderr, code := run(t, nil, "keys", "create", "--data-dir", p.dataDir, "--name", "gpu", "--worker", "--queues", "render_builtin")
				if code != 0 {
					t.Fatal(stderr)
				}
				startRemote(t, p.url, strings.TrimSpace(token))
			}
			var took []time.Duration
			for i := range n {
				start := time.Now()
				id := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "zoom in",
					"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5, "seed": i})
				for {
					_, g, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
					if g["status"] == "completed" {
						break
					}
					if g["status"] == "error" {
						t.Fatalf("%s: %v", id, g)
					}
					time.Sleep(20 * time.Millisecond)
				}
				took = append(took, time.Since(start))
			}
			t.Logf("%s: submit to completed p50 %v, min %v, max %v", mode,
				percentile(took, 50).Round(time.Millisecond), percentile(took, 0).Round(time.Millisecond), percentile(took, 100).Round(time.Millisecond))
		})
	}
}
