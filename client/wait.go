package client

import (
	"context"
	"errors"
	"time"
)

// WaitOption configures Wait.
type WaitOption func(*waitConfig)

type waitConfig struct {
	lo, hi   time.Duration
	progress func(*Generation)
}

// OnProgress makes Wait call f with the generation after every poll,
// including the last one. f runs on Wait's goroutine; it should return
// quickly.
func OnProgress(f func(*Generation)) WaitOption {
	return func(w *waitConfig) { w.progress = f }
}

// PollInterval sets the bounds of the delay between polls. The delay
// starts at lo, doubles after each poll that finds nothing new up to hi,
// and comes back to lo when the status changes. It defaults to 250 ms and
// 5 s.
func PollInterval(lo, hi time.Duration) WaitOption {
	return func(w *waitConfig) {
		w.lo, w.hi = max(lo, time.Millisecond), max(hi, lo, time.Millisecond)
	}
}

// Wait polls the generation id until it ends and returns it. A completed
// generation comes with a nil error and its Video; a failed one comes with
// its *GenerationError as the error (errors.Is(err, ErrCancelled) tells a
// cancel). A 429 or 503 while polling is waited out as its Retry-After
// says, a 500, 502 or 504 retried after a backoff, and up to five network errors in a row are retried; any other
// error ends Wait. If ctx ends first, Wait returns the last
// generation it saw (or nil) and ctx's error; the generation goes on.
func (c *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Generation, error) {
	cfg := waitConfig{lo: minPoll, hi: maxPoll}
	for _, o := range opts {
		o(&cfg)
	}
	var last *Generation
	attempt, failures := 0, 0
	for {
		var delay time.Duration
		// Wait retries temporary errors itself, without limit: the caller
		// bounds the whole wait with ctx.
		g, err := c.get(ctx, id, 0)
		switch {
		case err != nil:
			var ae *APIError
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			switch {
			case errors.As(err, &ae) && (ae.Temporary() || ae.gateway()):
				delay = ae.RetryAfter
			case ae == nil && failures < maxNetworkFailures:
				// A poll changes nothing, so it is safe to repeat after a
				// network error, such as a server restarting; a few in a
				// row mean it is not coming back soon.
				failures++
			default:
				return last, err
			}
			delay = max(delay, backoff(attempt, cfg.lo, cfg.hi))
			attempt++
		default:
			failures = 0
			if cfg.progress != nil {
				cfg.progress(g)
			}
			if g.Status.Done() {
				return g, finalError(g)
			}
			if last == nil || g.Status != last.Status {
				attempt = 0
			}
			last = g
			delay = backoff(attempt, cfg.lo, cfg.hi)
			attempt++
		}
		if err := sleep(ctx, delay); err != nil {
			return last, err
		}
	}
}

// maxNetworkFailures is how many polls in a row may fail to reach the
// server before Wait gives up.
const maxNetworkFailures = 5

// finalError is the error of an ended generation: nil if it completed.
func finalError(g *Generation) error {
	if g.Status != Failed {
		return nil
	}
	if g.Error == nil {
		return &GenerationError{Name: "unknown", Message: "the server gave no reason"}
	}
	return g.Error
}
