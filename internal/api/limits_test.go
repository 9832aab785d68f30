package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRateLimitHeaders(t *testing.T) {
	b := setup(t)
	b.api.RatePerSecond, b.api.RateBurst = 0.5, 3
	b.handler = b.api.Handler()
	poll := call{"GET", "/v2/video/generations?generation_id=x", bootstrapKey, "", ""}
	for i, want := range []struct {
		code                   int
		remaining, reset, wait string
	}{
		{404, "2", "2s", ""},
		{404, "1", "4s", ""},
		{404, "0", "6s", ""},
		{429, "0", "6s", "2"},
	} {
		w := b.do(t, poll)
		h := w.Header()
		if w.Code != want.code || h.Get("x-ratelimit-limit-requests") != "3" || h.Get("x-ratelimit-remaining-requests") != want.remaining ||
			h.Get("x-ratelimit-reset-requests") != want.reset || h.Get("Retry-After") != want.wait {
			t.Errorf("request %d: %d, limit %q remaining %q reset %q Retry-After %q; want %d, 3, %s, %s, %q", i+1, w.Code,
				h.Get("x-ratelimit-limit-requests"), h.Get("x-ratelimit-remaining-requests"), h.Get("x-ratelimit-reset-requests"), h.Get("Retry-After"),
				want.code, want.remaining, want.reset, want.wait)
		}
	}

	// Off: no headers, no limit.
	b.api.RatePerSecond = 0
	for range 10 {
		if w := b.do(t, poll); w.Code != 404 || w.Header().Get("x-ratelimit-limit-requests") != "" {
			t.Fatalf("without a rate limit: %d, headers %v", w.Code, w.Header())
		}
	}
}

// TestInFlightLimit: a key may have MaxInFlight generations queued or
// rendering; the next submit is a 429 saying so, other keys go on, and
// one that ends makes room.
func TestInFlightLimit(t *testing.T) {
	b := setup(t)
	b.api.Service.MaxInFlight = 2
	submit := call{"POST", "/v2/video/generations", bootstrapKey, "", validBody}
	var ids []string
	for i, remaining := range []string{"1", "0"} {
		w := b.do(t, submit)
		if w.Code != 200 || w.Header().Get("x-ratelimit-limit-generations") != "2" || w.Header().Get("x-ratelimit-remaining-generations") != remaining {
			t.Fatalf("submit %d: %d, generation headers %q %q", i+1, w.Code,
				w.Header().Get("x-ratelimit-limit-generations"), w.Header().Get("x-ratelimit-remaining-generations"))
		}
		ids = append(ids, w.Header().Get("X-Inference-Id"))
	}
	golden(t, "error_in_flight", dump(b.do(t, submit)))
	// /v1 counts the same generations.
	if w := b.do(t, call{"POST", "/v1/videos", bootstrapKey, "", `{"prompt":"a","input_reference":{"image_url":"https://example.com/1.jpeg"}}`}); w.Code != 429 {
		t.Errorf("/v1 submit over the limit: %d, want 429", w.Code)
	}
	if w := b.do(t, call{"POST", "/v2/video/generations", otherKey, "", validBody}); w.Code != 200 {
		t.Errorf("another key: %d, want 200", w.Code)
	}
	if _, err := b.api.Service.Cancel(context.Background(), b.bootstID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if w := b.do(t, submit); w.Code != 200 {
		t.Errorf("after a cancel: %d, want 200", w.Code)
	}
}

// TestInFlightLimitConcurrent: submits racing each other do not get past
// the limit together.
func TestInFlightLimitConcurrent(t *testing.T) {
	b := setup(t)
	b.api.Service.MaxInFlight = 5
	srv := httptest.NewServer(b.handler)
	defer srv.Close()
	codes := make(chan int)
	for range 12 {
		go func() {
			req, _ := http.NewRequest("POST", srv.URL+"/v2/video/generations", strings.NewReader(validBody))
			req.Header.Set("Authorization", "Bearer "+bootstrapKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	n := map[int]int{}
	for range 12 {
		n[<-codes]++
	}
	if n[200] != 5 || n[429] != 7 {
		t.Errorf("12 concurrent submits with a limit of 5: %v, want 5 × 200 and 7 × 429", n)
	}
}

// rawRequest opens a connection to srv and sends a POST of the universal
// route declaring a body of size bytes, and the first sent of them.
func rawRequest(t *testing.T, srv *httptest.Server, size int, sent string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v2/video/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		bootstrapKey, size, sent)
	return c
}

// TestBodyBudget: a key's bodies on the wire at once are bounded; a body
// over the budget gets 413 at once, before it is read.
func TestBodyBudget(t *testing.T) {
	b := setup(t)
	b.api.BodyBudget = 100 << 10
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close) // after the stalled connection closes
	// 60 KiB declared, 1 KiB sent, then nothing: it holds 60 KiB of the
	// key's budget.
	rawRequest(t, srv, 60<<10, strings.Repeat(" ", 1<<10))
	// Wait until it holds them: a body sent meanwhile could take the
	// budget first and have the stalled one refused instead.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.api.limits.mu.Lock()
		held := b.api.limits.bodies[b.bootstID]
		b.api.limits.mu.Unlock()
		if held == 60<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalled body holds %d bytes of the budget, want %d", held, 60<<10)
		}
	}
	var resp *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("POST", srv.URL+"/v2/video/generations", strings.NewReader(validBody+strings.Repeat(" ", 50<<10)))
		req.Header.Set("Authorization", "Bearer "+bootstrapKey)
		var err error
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 413 {
			if !strings.Contains(string(body), "budget") || resp.Header.Get("Retry-After") == "" {
				t.Errorf("413 %s, Retry-After %q: want it to name the budget", body, resp.Header.Get("Retry-After"))
			}
			break
		}
		// The stalled request was not reading yet: go on until it is.
		if time.Now().After(deadline) {
			t.Fatalf("a second body over the key's budget: %d %s, want 413", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Another key has its own budget.
	req, _ := http.NewRequest("POST", srv.URL+"/v2/video/generations", strings.NewReader(validBody+strings.Repeat(" ", 50<<10)))
	req.Header.Set("Authorization", "Bearer "+otherKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("another key's body: %d, want 200", resp.StatusCode)
	}
}

// TestBodyTimeout: a body not sent within BodyTimeout gets 408 in the
// JSON error shape; a long poll after a body read in time is not cut by
// that deadline.
func TestBodyTimeout(t *testing.T) {
	b := setup(t)
	b.api.BodyTimeout = 300 * time.Millisecond
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	c := rawRequest(t, srv, 1000, `{"model":`)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || !strings.Contains(string(body), `"statusCode":408`) || !strings.Contains(string(body), "not received within 300ms") {
		t.Errorf("stalled body: %d %s, want 408 in the error shape", resp.StatusCode, body)
	}

	// Prefer: wait holds the request open for longer than the body
	// deadline after the body was read.
	req, _ := http.NewRequest("POST", srv.URL+"/v2/video/generations", strings.NewReader(validBody))
	req.Header.Set("Authorization", "Bearer "+bootstrapKey)
	req.Header.Set("Prefer", "wait=1")
	start := time.Now()
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("Prefer: wait=1 after a timely body: %d after %v, want 200 after the whole second", r2.StatusCode, time.Since(start))
	}
}
