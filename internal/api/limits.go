package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"stillmotion/internal/bytesize"
	"stillmotion/internal/fault"
)

// A key's share of the server: how many requests it may make (a token
// bucket: RatePerSecond refilling, RateBurst deep) and how many request
// body bytes it may have on the wire at once (BodyBudget). The
// generations it may have queued or running are counted by the store
// (generation.Service.MaxInFlight), which refuses the one too many
// atomically.

// limits holds the per-key state of the limits.
type limits struct {
	mu     sync.Mutex
	rates  map[string]*rate.Limiter // by key ID
	bodies map[string]int64         // body bytes being read, by key ID
}

// rateLimit takes a request from the key's bucket. It sets the
// x-ratelimit-*-requests headers, and returns a fault.RateLimited error
// when the bucket is empty.
func (s *Server) rateLimit(w http.ResponseWriter, keyID string) error {
	if s.RatePerSecond <= 0 {
		return nil
	}
	burst := max(s.RateBurst, 1)
	s.limits.mu.Lock()
	if s.limits.rates == nil {
		s.limits.rates = map[string]*rate.Limiter{}
	}
	l, ok := s.limits.rates[keyID]
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.RatePerSecond), burst)
		s.limits.rates[keyID] = l
	}
	s.limits.mu.Unlock()

	now := s.now()
	allowed := l.AllowN(now, 1)
	tokens := l.TokensAt(now)
	h := w.Header()
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(burst))
	h.Set("x-ratelimit-remaining-requests", strconv.Itoa(max(0, int(tokens))))
	h.Set("x-ratelimit-reset-requests", seconds((float64(burst)-tokens)/s.RatePerSecond))
	if allowed {
		return nil
	}
	wait := time.Duration((1 - tokens) / s.RatePerSecond * float64(time.Second))
	return &fault.Error{Kind: fault.RateLimited, RetryAfter: wait,
		Message: fmt.Sprintf("Too many requests for this key: the limit is %s per second with bursts of %d; retry after the time in Retry-After",
			strconv.FormatFloat(s.RatePerSecond, 'f', -1, 64), burst)}
}

// seconds formats a wait in seconds as the x-ratelimit-reset headers do:
// "0s", "1.5s".
func seconds(s float64) string {
	return strconv.FormatFloat(math.Ceil(max(0, s)*1000)/1000, 'f', -1, 64) + "s"
}

// guardBody prepares the reading of a request body of at most limit
// bytes: it reserves the bytes from the key's BodyBudget and starts the
// BodyTimeout. Call done with the result of reading the body: it gives
// the bytes back and, when the body was read, lifts the deadline, which
// must not cut a long poll that follows. After a failed read the deadline
// stays: the server discards what is left of the body before it answers,
// and a stalled client must not hold that up.
func (s *Server) guardBody(w http.ResponseWriter, r *http.Request, keyID string, limit int64) (done func(readErr error), err error) {
	n := limit
	if r.ContentLength >= 0 {
		n = min(r.ContentLength, limit)
	}
	release := func() {}
	if s.BodyBudget > 0 && n > 0 {
		s.limits.mu.Lock()
		if s.limits.bodies == nil {
			s.limits.bodies = map[string]int64{}
		}
		used := s.limits.bodies[keyID]
		// One body at a time always fits, whatever its size: MaxBody
		// bounds that.
		if used > 0 && used+n > s.BodyBudget {
			s.limits.mu.Unlock()
			// Not read: the connection closes after the answer rather
			// than wait for the body.
			w.Header().Set("Connection", "close")
			http.NewResponseController(w).SetReadDeadline(time.Now())
			return nil, &fault.Error{Kind: fault.TooLarge, RetryAfter: 5 * time.Second, Message: fmt.Sprintf(
				"This key is already sending %s of request bodies; with this one's %s that is over its %s budget. Wait for its uploads to finish, or send large images as an http(s) URL",
				bytesize.Format(used), bytesize.Format(n), bytesize.Format(s.BodyBudget))}
		}
		s.limits.bodies[keyID] = used + n
		s.limits.mu.Unlock()
		release = func() {
			s.limits.mu.Lock()
			if left := s.limits.bodies[keyID] - n; left > 0 {
				s.limits.bodies[keyID] = left
			} else {
				delete(s.limits.bodies, keyID)
			}
			s.limits.mu.Unlock()
		}
	}
	rc := http.NewResponseController(w)
	timed := s.BodyTimeout > 0 && rc.SetReadDeadline(time.Now().Add(s.BodyTimeout)) == nil
	return func(readErr error) {
		release()
		if timed && readErr == nil {
			rc.SetReadDeadline(time.Time{})
		}
	}, nil
}

// bodyError says why reading a request body failed: over limit (413,
// with hint saying what to do instead), not sent within the BodyTimeout
// (408), or unreadable (400).
func (s *Server) bodyError(err error, limit int64, hint string) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fault.Errorf(fault.TooLarge, "Request body is larger than the %s limit; %s", bytesize.Format(limit), hint)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fault.Wrap(fault.RequestTimeout, fmt.Sprintf(
			"The request body was not received within %v; send it at a steadier rate, or %s", s.BodyTimeout, hint), err)
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Wrap(fault.Invalid, "Could not read the request body", err)
}
