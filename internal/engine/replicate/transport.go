package replicate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/redact"
)

// retryPolicy says how a request that fails for a passing reason (the
// server unreachable, a 5xx, a 429) is tried again.
type retryPolicy struct {
	attempts      int           // tries in all
	base, max     time.Duration // the first backoff, and the longest
	maxRetryAfter time.Duration // the longest Retry-After honoured
	timeout       time.Duration // bound of one request that does not wait on a render
}

var defaultRetry = retryPolicy{attempts: 5, base: 500 * time.Millisecond, max: 8 * time.Second,
	maxRetryAfter: time.Minute, timeout: 30 * time.Second}

// backoff is the wait before try n+1 (n ≥ 1): exponential, with jitter so
// that workers that failed together do not retry together.
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.base << min(n-1, 16)
	if d > p.max || d <= 0 {
		d = p.max
	}
	return d/2 + rand.N(d/2+1)
}

// call is one API request.
type call struct {
	method string
	path   string // below the API root
	body   []byte
	// wait says the answer waits on the render (Cog's synchronous PUT): no
	// bound but ctx.
	wait bool
	// grace says the answer matters even if ctx ends while it is on its
	// way (a new prediction's id, to save or to cancel): the request gets
	// graceFor more.
	grace bool
	// busy says 409 means "busy, ask again" (Cog: all prediction slots in
	// use) rather than a conflict.
	busy bool
}

// reply is an API response, its body read whole (bounded).
type reply struct {
	status int
	header http.Header
	body   []byte
}

// transient reports whether a status is worth asking again.
func (c call) transient(status int) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return true
	case status == http.StatusConflict:
		return c.busy
	}
	return false
}

// do sends c, trying again with backoff when it fails for a passing
// reason, and returns the first answer that is not such a failure. When
// the tries run out it returns a fault.Upstream saying what kept failing;
// when ctx ends, an error wrapping ctx's.
func (e *Engine) do(ctx context.Context, c call) (*reply, error) {
	for try := 1; ; try++ {
		if err := ctx.Err(); err != nil {
			return nil, err // nothing new is started for a render that has stopped
		}
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if c.grace {
			rctx, cancel = graceful(ctx, graceFor)
		}
		rep, err := e.once(rctx, c)
		cancel()
		if err == nil && !c.transient(rep.status) {
			// Kept even when ctx has just ended: a new prediction's id
			// is needed to cancel or resume it.
			return rep, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var fe *fault.Error
		if errors.As(err, &fe) {
			return nil, err
		}
		if try >= e.retry.attempts {
			if err != nil {
				return nil, e.unreachable(err)
			}
			return nil, e.failing(rep, try)
		}
		wait := e.retry.backoff(try)
		if err == nil {
			if ra, ok := retryAfter(rep.header); ok {
				// The server said when: a shorter wait would only be
				// refused again, a longer one is wasted.
				wait = min(ra, e.retry.maxRetryAfter) + rand.N(e.retry.base/4+1)
			}
			e.log.Warn("retrying a failed request", "path", c.path, "status", rep.status, "try", try, "wait", wait)
		} else {
			e.log.Warn("retrying a failed request", "path", c.path, "err", err, "try", try, "wait", wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// graceFor is how long a request made with grace may outlive its context.
const graceFor = 500 * time.Millisecond

// graceful returns a context that ends grace after ctx does.
func graceful(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-gctx.Done():
		case <-t.C:
			cancel()
		}
	})
	return gctx, func() { stop(); cancel() }
}

// maxBody bounds an API answer: Cog's carries the video as a data URI.
const maxBody = maxOutput*4/3 + 1<<20

// once sends c one time.
func (e *Engine) once(ctx context.Context, c call) (*reply, error) {
	target := e.base.String() + c.path
	if !c.wait {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.retry.timeout)
		defer cancel()
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, target, body)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "building a request to the model's server", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stillmotion")
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	e.authorize(req)
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, redact.Error(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, redact.Error(err)
	}
	if int64(len(b)) > maxBody {
		return nil, fault.Errorf(fault.Render, "the model's server answered more than %d MiB: its output is too large", maxBody>>20)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// authorize adds the key to requests for the API's own origin only: an
// output URL on another host (a CDN, a bucket) must never see it.
func (e *Engine) authorize(req *http.Request) {
	if e.cfg.Key == "" || req.URL.Scheme != e.base.Scheme || !strings.EqualFold(req.URL.Host, e.base.Host) {
		return
	}
	req.Header.Set("Authorization", "Bearer "+e.cfg.Key)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unreachable is the fault of a server that could not be reached.
func (e *Engine) unreachable(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server (engine %s) could not be reached; try again later", e.name), err)
}

// failing is the fault of a server that kept answering rep.
func (e *Engine) failing(rep *reply, tries int) error {
	cause := fmt.Errorf("HTTP %d after %d tries: %s", rep.status, tries, truncate(e.scrub(detail(rep.body)), 300))
	switch {
	case rep.status == http.StatusTooManyRequests:
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server (engine %s) kept refusing requests as too many; try again later", e.name), cause)
	case rep.status == http.StatusConflict:
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the Cog container (engine %s) stayed busy with other predictions; try again later (its operator can match the engine's concurrency to the container's)", e.name), cause)
	}
	return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server (engine %s) kept failing (HTTP %d); try again later", e.name, rep.status), cause)
}

// refused is the fault of an answer that is neither a success nor worth
// asking again, while doing what.
func (e *Engine) refused(rep *reply, what string) error {
	d := truncate(e.scrub(detail(rep.body)), 300)
	cause := fmt.Errorf("%s: HTTP %d: %s", what, rep.status, d)
	switch rep.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server refused this server's credentials (engine %s): its operator must check the engine's key", e.name), cause)
	case http.StatusPaymentRequired:
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's account is out of credit (engine %s): its operator must add credit", e.name), cause)
	case http.StatusNotFound:
		if e.hosted {
			return fault.Wrap(fault.Upstream, fmt.Sprintf("%s was not found on Replicate, or the key cannot see it (engine %s): its operator must check model or version", e.what(), e.name), cause)
		}
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the server at the engine's url is not a Cog container (engine %s): its operator must check url", e.name), cause)
	}
	msg := fmt.Sprintf("the model's server answered HTTP %d (engine %s)", rep.status, e.name)
	if d != "" {
		msg += ": " + d
	}
	return fault.Wrap(fault.Upstream, msg, cause)
}

// urlInText finds the URLs in a server's words.
var urlInText = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>]+`)

// scrub removes secrets from text the server sent: the key, should it echo
// it, and the query of every URL (a model that could not fetch the image
// names the signed URL it was given).
func (e *Engine) scrub(s string) string {
	if e.cfg.Key != "" {
		s = strings.ReplaceAll(s, e.cfg.Key, "[key]")
	}
	return urlInText.ReplaceAllStringFunc(s, redact.URL)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}
