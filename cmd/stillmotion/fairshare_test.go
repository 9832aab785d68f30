package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keyed sends a request as key and returns its status, body and headers.
func (p *proc) keyed(t *testing.T, key, method, path string, body any) (int, map[string]any, http.Header, error) {
	res, err := p.client.Do(p.request(key, method, path, body))
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		return res.StatusCode, nil, res.Header, fmt.Errorf("%s %s: %d, body is not JSON: %q", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, m, res.Header, nil
}

// TestFairShare: one worker, a key with 12 generations queued, then
// another key's first: the second key's goes next, after the render
// already running, not after the first key's dozen. The first key's
// thirteenth is a 429 naming its limit, and the limits are in headers.
func TestFairShare(t *testing.T) {
	img := imageServer(t)
	const other = "e2e-other-key"
	p := startServer(t, serverOpts{allowPrivate: true, workers: 1,
		extraArgs: []string{"--max-in-flight", "12"},
		extraEnv:  []string{"STILLMOTION_API_KEYS=" + testKey + "," + other}})
	body := func(seed int) map[string]any {
		return map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in",
			"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5, "seed": seed}
	}
	var heavy []string
	for i := range 12 {
		code, m, h, err := p.keyed(t, testKey, "POST", "/v2/video/generations", body(i))
		if err != nil || code != 200 {
			t.Fatalf("submit %d: %d %v %v", i, code, m, err)
		}
		if got, want := h.Get("x-ratelimit-remaining-generations"), strconv.Itoa(11-i); got != want {
			t.Errorf("submit %d: x-ratelimit-remaining-generations %q, want %s", i, got, want)
		}
		heavy = append(heavy, m["id"].(string))
	}
	code, m, h, err := p.keyed(t, testKey, "POST", "/v2/video/generations", body(12))
	if err != nil || code != 429 || h.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(m["message"]), "12 generations queued or rendering") {
		t.Fatalf("a thirteenth submit: %d %v (Retry-After %q) %v; want 429 naming the limit", code, m, h.Get("Retry-After"), err)
	}
	if h.Get("x-ratelimit-limit-requests") != "40" || h.Get("x-ratelimit-remaining-requests") == "" {
		t.Errorf("request limit headers: %v", h)
	}

	ended := func() (n int) {
		for _, id := range heavy {
			_, m, _, err := p.keyed(t, testKey, "GET", "/v2/video/generations?generation_id="+id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m["status"] == "completed" {
				n++
			}
		}
		return n
	}
	before := ended()
	code, m, _, err = p.keyed(t, other, "POST", "/v2/video/generations", body(99))
	if err != nil || code != 200 {
		t.Fatalf("the other key's submit: %d %v %v", code, m, err)
	}
	light := m["id"].(string)
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, m, _, err := p.keyed(t, other, "GET", "/v2/video/generations?generation_id="+light, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m["status"] == "completed" {
			break
		}
		if m["status"] == "error" || time.Now().After(deadline) {
			t.Fatalf("the other key's generation: %v", m)
		}
	}
	// The render running when it was submitted, and at most one that the
	// worker was taking at that moment.
	after := ended()
	t.Logf("the first key's generations completed: %d when the second key submitted, %d when its generation completed", before, after)
	if after > before+2 {
		t.Errorf("the second key's first generation waited for %d of the first key's renders, want at most 2", after-before)
	}
}

// rssBytes returns the resident set size of process pid.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// stalledBody sends, as key, a submit declaring a body of declared bytes,
// sends sent of them and then nothing, and returns the status the server
// answers with (0 when it does not within a minute).
func stalledBody(addr, key string, declared, sent int) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v2/video/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", key, declared)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.Write(bytes.Repeat([]byte{' '}, sent)) // refused at once: the write may fail
	c.SetReadDeadline(time.Now().Add(time.Minute))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestBenchFairShareLoad runs 60 s of mixed load on one server with two
// workers: 50 keys starting one after another, each polling its
// generations once a second and submitting one for every 20 polls,
// and one abusive key sending 300 submits as fast as it can and, all
// along, 30 connections at a time that declare 31 MiB bodies, send 1 MiB
// and stall. It reports the server's peak RSS, the other keys' poll
// latency and their first generation's queue wait, and fails on any
// answer other than the abusive key's intended 429, 413 and 408. With
// STILLMOTION_BENCH_NO_ABUSER=1 the abusive key stays away, for comparison.
//
//	STILLMOTION_BENCH=1 go test -count=1 -run TestBenchFairShareLoad -v ./cmd/stillmotion
func TestBenchFairShareLoad(t *testing.T) {
	benchOnly(t)
	img := imageServer(t)
	const keys, abuser = 50, "load-abuser"
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("load-key-%02d", i)
	}
	p := startServer(t, serverOpts{allowPrivate: true, workers: 2,
		extraArgs: []string{"--body-timeout", "10s"},
		extraEnv:  []string{"STILLMOTION_API_KEYS=" + strings.Join(append(names, abuser, testKey), ",")}})
	p.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	body := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5}
	const length = 60 * time.Second
	start := time.Now()
	stop := start.Add(length)

	var (
		mu         sync.Mutex
		polls      []time.Duration
		firstWaits []time.Duration
		statuses   = map[string]int{} // "others 200", "abuser 429"…
		unexpected []string
	)
	record := func(who string, code int, err error, allowed ...int) {
		mu.Lock()
		defer mu.Unlock()
		statuses[fmt.Sprintf("%s %d", who, code)]++
		if err != nil || (code != 200 && !slices.Contains(allowed, code)) {
			if len(unexpected) < 20 {
				unexpected = append(unexpected, fmt.Sprintf("%s: %d %v", who, code, err))
			}
		}
	}

	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			peak.Store(max(peak.Load(), rssBytes(p.cmd.Process.Pid)))
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	for i, key := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Second)
			var ids []string
			var first string
			var firstAt time.Time
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for n := 0; time.Now().Before(stop); n++ {
				if n%21 == 0 {
					code, m, _, err := p.keyed(t, key, "POST", "/v2/video/generations", body)
					record("others", code, err)
					if code == 200 {
						ids = append(ids, m["id"].(string))
						if first == "" {
							first, firstAt = ids[0], time.Now()
						}
					}
				} else if len(ids) > 0 {
					id := ids[n%len(ids)]
					if firstAt != (time.Time{}) {
						id = first // until it leaves the queue
					}
					t0 := time.Now()
					code, m, _, err := p.keyed(t, key, "GET", "/v2/video/generations?generation_id="+id, nil)
					lat := time.Since(t0)
					record("others", code, err)
					mu.Lock()
					polls = append(polls, lat)
					if id == first && firstAt != (time.Time{}) && m["status"] != "queued" {
						firstWaits = append(firstWaits, time.Since(firstAt))
						firstAt = time.Time{}
					}
					mu.Unlock()
				}
				<-tick.C
			}
		}()
	}
	// The abusive key: 300 submits as fast as they go…
	abusive := os.Getenv("STILLMOTION_BENCH_NO_ABUSER") != "1"
	if !abusive {
		t.Log("without the abusive key")
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 300 * bool2int(abusive) {
			code, _, _, err := p.keyed(t, abuser, "POST", "/v2/video/generations", body)
			record("abuser", code, err, 429)
		}
	}()
	// …and stalled large bodies all along.
	for range 30 * bool2int(abusive) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				code := stalledBody(p.addr, abuser, 31<<20, 1<<20)
				record("abuser-stalled", code, nil, 408, 413, 429)
				if code != 408 {
					time.Sleep(100 * time.Millisecond) // refused at once: again
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	elapsed := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%v of load; server peak RSS %d MiB (now %d MiB)", elapsed.Round(time.Second), peak.Load()>>20, rssBytes(p.cmd.Process.Pid)>>20)
	t.Logf("answers: %v", statuses)
	t.Logf("other keys' polls: %d, p50 %v, p99 %v, max %v", len(polls),
		percentile(polls, 50).Round(time.Microsecond*100), percentile(polls, 99).Round(time.Microsecond*100), percentile(polls, 100).Round(time.Millisecond))
	if len(firstWaits) > 0 {
		t.Logf("other keys' first generation, submit to rendering (1 s polls): %d keys, p50 %v, p99 %v, max %v", len(firstWaits),
			percentile(firstWaits, 50).Round(10*time.Millisecond), percentile(firstWaits, 99).Round(10*time.Millisecond), percentile(firstWaits, 100).Round(10*time.Millisecond))
	}
	if len(unexpected) > 0 {
		t.Errorf("answers other than the intended ones: %v", unexpected)
	}
	const bound = 512 << 20
	if peak.Load() > bound {
		t.Errorf("peak RSS %d MiB, over the %d MiB bound", peak.Load()>>20, bound>>20)
	}
}

func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}
