package generation

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ExpireBatch is how many generations Expire deletes per transaction.
const ExpireBatch = 500

// expireParallel is how many generations' files Expire removes at once:
// on an object store each removal is a request.
const expireParallel = 8

// ExpiresAt returns when g expires: its creation time plus Retention, or
// the zero time when Retention is 0 (kept forever). A generation that
// has not ended by then is deleted once it ends.
func (s *Service) ExpiresAt(g *Generation) time.Time {
	if s.Retention <= 0 {
		return time.Time{}
	}
	return g.Created.Add(s.Retention)
}

// Expire deletes the generations that have ended and expired (see
// ExpiresAt): first their files (the video and the inputs kept from the
// submit), then their records, idempotency keys and finished jobs. It
// works in batches of ExpireBatch until none is left, and returns how many
// generations it deleted. A generation whose files could not be removed is
// kept, for the next call to try again. Several processes may expire at
// once: each removal and deletion is harmless to repeat. With Retention 0
// it does nothing.
func (s *Service) Expire(ctx context.Context) (int, error) {
	if s.Retention <= 0 {
		return 0, nil
	}
	before := s.now().Add(-s.Retention)
	total := 0
	for {
		gs, err := s.Store.Expired(ctx, before, ExpireBatch)
		if err != nil {
			return total, err
		}
		ids := s.removeFiles(ctx, gs)
		n, err := s.Store.Purge(ctx, ids)
		total += n
		if err != nil {
			return total, err
		}
		// A short batch was the last; a batch of nothing but files that
		// could not be removed would come back unchanged.
		if len(gs) < ExpireBatch || len(ids) == 0 {
			return total, nil
		}
	}
}

// ExpireInterval is how often a process sweeps expired generations under
// retention r: every 5 minutes, or a quarter of r when that is shorter
// (at least a second), so that a generation outlives its expiry by no more
// than a fraction of it.
func ExpireInterval(r time.Duration) time.Duration {
	return min(5*time.Minute, max(time.Second, r/4))
}

// ExpireEvery calls Expire at once and then every interval, until ctx
// ends, logging what it deleted. It returns at once when Retention is 0.
func (s *Service) ExpireEvery(ctx context.Context, interval time.Duration) {
	if s.Retention <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := s.Expire(ctx)
		if n > 0 {
			s.log().Info("expired generations deleted", "count", n, "retention", s.Retention.String(), "elapsed", time.Since(start).Round(time.Millisecond))
		}
		if err != nil && ctx.Err() == nil {
			s.log().Warn("deleting expired generations; retrying at the next sweep", "err", err, "interval", interval.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// removeFiles removes the files of gs and returns the ids of those whose
// files are all gone.
func (s *Service) removeFiles(ctx context.Context, gs []*Generation) []string {
	removed := make([]bool, len(gs))
	sem := make(chan struct{}, expireParallel)
	var wg sync.WaitGroup
	for i, g := range gs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.removeFilesOf(ctx, g); err != nil {
				if ctx.Err() == nil {
					s.log().Warn("removing an expired generation's files; it is kept until the next sweep", "id", g.ID, "err", err)
				}
				return
			}
			removed[i] = true
		})
	}
	wg.Wait()
	var ids []string
	for i, g := range gs {
		if removed[i] {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

// removeFilesOf removes g's video and the inputs kept for it; removing
// what is already gone is not an error.
func (s *Service) removeFilesOf(ctx context.Context, g *Generation) error {
	var errs []error
	if g.Video != nil && s.Blobs != nil {
		errs = append(errs, s.Blobs.Delete(ctx, g.Video.Key))
	}
	if s.Inputs != nil {
		for _, field := range URLFields {
			if u := g.Request.URL(field); u != "" {
				errs = append(errs, s.Inputs.Forget(ctx, u))
			}
		}
	}
	return errors.Join(errs...)
}
