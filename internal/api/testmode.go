package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/testmode"
)

// getTestKey says how to get a test key, for the errors of a real key that
// asked for test mode.
const getTestKey = "create one with 'stillmotion keys create --test', set STILLMOTION_TEST_KEYS, or run the server with --test-mode"

// ScriptHeader carries a test key's script for one submit (see package
// testmode).
const ScriptHeader = "X-Stillmotion-Script"

// testScript returns the script of k's submit of req: the header's, else
// one in req's fields (testmode.Magic), else none (nil). A test key's
// generation runs one even so, the empty script: rendered fast, at once. A
// real key may not send a script.
func testScript(r *http.Request, k *auth.Key, req *generation.Request) (*testmode.Script, error) {
	raw, sent := r.Header.Get(ScriptHeader), len(r.Header.Values(ScriptHeader)) > 0
	if !k.Test {
		if sent {
			return nil, fault.E(fault.Forbidden, ScriptHeader+" is for test keys: "+getTestKey)
		}
		return nil, nil
	}
	field := ScriptHeader
	if !sent {
		raw, _ = testmode.Magic(req.Seed, req.SeedGiven, req.Prompt)
		field = "prompt or seed (a test script)"
	}
	sc, err := testmode.Parse(raw)
	if err != nil {
		msg := err.Error()
		if te, ok := err.(*testmode.Error); ok {
			msg = te.Msg
		}
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Test script validation error!", Fields: []fault.FieldError{{Field: field, Message: msg}}}
	}
	return sc, nil
}

// submitter is who submits for k, and how a test key's script runs.
func submitter(k *auth.Key, sc *testmode.Script) generation.Submitter {
	who := generation.Submitter{KeyID: k.ID, Unlimited: k.Unlimited, Test: k.Test}
	if sc == nil {
		return who
	}
	who.Script, who.Delay = sc.String(), sc.Queue
	if sc.Render != testmode.Real {
		who.Engine = generation.ScriptedEngine
	}
	return who
}

// submitCounts counts the submits of each script by each test key, in
// this process, for scripts that put faults on the Nth submit.
type submitCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// maxCounted bounds the counts kept: past it they start again.
const maxCounted = 10_000

// countSubmit counts a submit of script by keyID and returns which it is,
// 1 for the first.
func (c *submitCounts) countSubmit(keyID, script string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil || len(c.n) >= maxCounted {
		c.n = map[string]int{}
	}
	k := keyID + "\x00" + script
	c.n[k]++
	return c.n[k]
}

// reset forgets keyID's counts.
func (c *submitCounts) reset(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.n {
		if strings.HasPrefix(k, keyID+"\x00") {
			delete(c.n, k)
		}
	}
}

// scriptOf returns the script a test generation runs, or nil.
func scriptOf(g *generation.Generation) *testmode.Script {
	if !g.Test || g.Script == "" {
		return nil
	}
	sc, err := testmode.Parse(g.Script)
	if err != nil {
		return nil // stored canonical, so it parses
	}
	return sc
}

// pollFault counts a poll of a test generation whose script puts faults
// on polls, and returns the fault of this poll ("" for none).
func (s *Server) pollFault(r *http.Request, g *generation.Generation) (testmode.Fault, *testmode.Script, error) {
	sc := scriptOf(g)
	if sc == nil || len(sc.Polls) == 0 {
		return "", sc, nil
	}
	n, err := s.Service.CountPoll(r.Context(), g)
	if err != nil {
		return "", sc, err
	}
	return sc.Polls[n], sc, nil
}

// pollFaulted counts a poll of g and answers with its scripted fault, if
// any: ok is false when it has answered. Otherwise it returns the writer
// to answer through (slow, if the script says so).
func (s *Server) pollFaulted(w http.ResponseWriter, r *http.Request, g *generation.Generation) (_ http.ResponseWriter, ok bool) {
	f, sc, err := s.pollFault(r, g)
	if err != nil {
		s.fail(w, r, err)
		return w, false
	}
	if f != "" && s.writeFault(w, r, f, sc.RetryAfter) {
		return w, false
	}
	if f == testmode.Slow {
		w = slowly(w)
	}
	return w, true
}

// writeFault answers as the fault f says, for a script whose 429 and 503
// say retry after retryAfter seconds (0: 1). It reports whether it
// answered: a slow fault only slows the answer to come (see slowly).
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f testmode.Fault, retryAfter int) bool {
	ra := time.Duration(max(1, retryAfter)) * time.Second
	var (
		status int
		fe     *fault.Error
	)
	switch f {
	case "", testmode.Slow:
		return false
	case testmode.Reset:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, not an orderly close
			}
			conn.Close()
			return true
		}
		// HTTP/2 cannot be hijacked: abort the stream instead.
		panic(http.ErrAbortHandler)
	case testmode.TooMany:
		status, fe = http.StatusTooManyRequests, &fault.Error{Kind: fault.RateLimited, RetryAfter: ra,
			Message: "Too many requests (test script): retry after the time in Retry-After"}
	case testmode.Internal:
		status, fe = http.StatusInternalServerError, fault.E(fault.Internal, "Internal server error (test script)")
	case testmode.BadGateway:
		status, fe = http.StatusBadGateway, fault.E(fault.Upstream, "Bad gateway (test script)")
	case testmode.Unavailable:
		status, fe = http.StatusServiceUnavailable, &fault.Error{Kind: fault.Unavailable, RetryAfter: ra,
			Message: "Service unavailable (test script): retry after the time in Retry-After"}
	case testmode.Timeout:
		status, fe = http.StatusGatewayTimeout, fault.E(fault.Timeout, "Generation timeout")
	}
	if fe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strings.TrimSuffix(ra.String(), "s"))
	}
	s.writeError(w, r, status, fe, fe.Message)
	return true
}

// slowly wraps w so that the body trickles out, a few bytes at a time:
// the answer is right, but slow to arrive.
func slowly(w http.ResponseWriter) http.ResponseWriter { return &slowWriter{ResponseWriter: w} }

type slowWriter struct{ http.ResponseWriter }

// slowChunk and slowPause make a poll body of about 300 bytes take about
// two seconds.
const (
	slowChunk = 16
	slowPause = 100 * time.Millisecond
)

func (sw *slowWriter) Write(p []byte) (int, error) {
	rc := http.NewResponseController(sw.ResponseWriter)
	n := 0
	for len(p) > 0 {
		c := min(slowChunk, len(p))
		m, err := sw.ResponseWriter.Write(p[:c])
		n += m
		if err != nil {
			return n, err
		}
		rc.Flush()
		p = p[c:]
		if len(p) > 0 {
			time.Sleep(slowPause)
		}
	}
	return n, nil
}

// presented applies a test generation's script to body: its preset, and
// the status word then=succeeded asks for.
func presented(body *generationBody, g *generation.Generation, sc *testmode.Script) {
	p, _ := testmode.PresetNamed(sc.Preset)
	switch {
	case (p.Succeeded || sc.Then.Status == "succeeded") && body.Status == string(generation.Completed):
		body.Status = "succeeded"
	case p.LegacyStatuses && body.Status == string(generation.Queued):
		body.Status = "waiting"
	case p.LegacyStatuses && body.Status == string(generation.Generating):
		body.Status = "active"
	}
	if p.Tokens {
		body.Meta.Usage = usage{TokensUsed: body.Meta.Usage.CreditsUsed}
	}
	if p.ModelIDs && g.Request.Model != "" {
		body.ID += ":" + g.Request.Model
	}
}

// withoutModel returns a generation id without the ":MODEL" suffix that the
// hosted API's ids carry (and the model-ids preset adds).
func withoutModel(id string) string {
	if i := strings.IndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

const testRequestsPath = "/v2/test/requests"

// recordedHeaders are the request headers a recording keeps.
var recordedHeaders = []string{"Content-Type", "Idempotency-Key", "Prefer", ScriptHeader, "User-Agent"}

// recording wraps a test key's request and its answer so that, when done
// is called, the request is recorded: its body (data: URIs elided), the
// headers that shape an answer, and the status.
func (s *Server) recording(w http.ResponseWriter, r *http.Request, k *auth.Key) (http.ResponseWriter, *http.Request, func()) {
	var body bytes.Buffer
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &body), r.Body}
	}
	sw := &statusWriter{ResponseWriter: w}
	return sw, r, func() {
		rec := &testmode.Recorded{ID: requestID(r), At: s.now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Body: testmode.Elide(body.String()), Status: sw.status}
		for _, h := range recordedHeaders {
			if v := r.Header.Get(h); v != "" {
				if rec.Headers == nil {
					rec.Headers = map[string]string{}
				}
				rec.Headers[h] = v
			}
		}
		if err := s.Tests.Record(context.WithoutCancel(r.Context()), k.ID, rec); err != nil {
			s.log().Warn("recording a test request", "request_id", requestID(r), "err", err)
		}
	}
}

// testRequests serves GET /v2/test/requests: what the test key sent,
// newest first (?limit=N, 1..1000, default 100).
func (s *Server) testRequests(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	if err := s.testOnly(k); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > testmode.MaxRecorded {
			s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!",
				Fields: []fault.FieldError{{Field: "limit", Message: fmt.Sprintf("Expected an integer from 1 to %d", testmode.MaxRecorded)}}})
			return
		}
		limit = n
	}
	recs, err := s.Tests.Recorded(r.Context(), k.ID, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[*testmode.Recorded]{Object: "list", Data: append([]*testmode.Recorded{}, recs...)})
}

// resetTests serves DELETE /v2/test/requests: the test key's recorded
// requests are forgotten and its ended test generations deleted.
func (s *Server) resetTests(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	if err := s.testOnly(k); err != nil {
		s.fail(w, r, err)
		return
	}
	reqs, gens, err := s.Tests.ResetTests(r.Context(), k.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.tests.reset(k.ID)
	writeJSON(w, http.StatusOK, map[string]int{"deleted_requests": reqs, "deleted_generations": gens})
}

// testOnly refuses a real key on the test routes.
func (s *Server) testOnly(k *auth.Key) error {
	if s.Tests == nil {
		return fault.E(fault.NotFound, "This server does not record test requests")
	}
	if !k.Test {
		return fault.E(fault.Forbidden, "The test routes are for test keys: "+getTestKey)
	}
	return nil
}
