package api

import (
	"net/http"
	"strings"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/testmode"
)

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
			return nil, fault.E(fault.Forbidden, ScriptHeader+" is for test keys: create one with 'stillmotion keys create --test', "+
				"set STILLMOTION_TEST_KEYS, or run the server with --test-mode")
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
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
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

// presented applies a test generation's preset to body.
func presented(body *generationBody, g *generation.Generation, sc *testmode.Script) {
	if sc == nil || sc.Preset == "" {
		return
	}
	p, _ := testmode.PresetNamed(sc.Preset)
	switch {
	case p.Succeeded && body.Status == string(generation.Completed):
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
