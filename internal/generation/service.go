package generation

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"stillmotion/internal/billing"
	"stillmotion/internal/fault"
	"stillmotion/internal/queue"
)

// Store persists generations and their render jobs.
type Store interface {
	// Insert stores g (Queued) and enqueues its render job in one
	// transaction. Unless unlimited, it debits g.Credits from the key
	// g.KeyID in the same transaction, and returns a fault.Forbidden error
	// (creating nothing) when the key's balance is short.
	Insert(ctx context.Context, g *Generation, unlimited bool) error
	// Get returns the generation, or a fault.NotFound error.
	Get(ctx context.Context, id string) (*Generation, error)
	// Progress marks a non-terminal generation Generating with progress p
	// and, if plan is not empty, its shot plan. A terminal one is left
	// alone and a fault.Conflict error returned.
	Progress(ctx context.Context, id string, p float64, plan string) error
	// Finish ends a generation: Completed with v, or Failed with f, in
	// which case its credits go back to its key. A generation that has
	// already ended is left alone and a fault.Conflict error returned.
	Finish(ctx context.Context, id string, v *Video, f *Failure) error
}

// Blobs stores finished files.
type Blobs interface {
	// Put moves the file at path into storage under key and returns its size.
	Put(ctx context.Context, key, path string) (int64, error)
	// URL returns a download URL for key, valid for the store's configured
	// lifetime, served with the given file name.
	URL(ctx context.Context, key, fileName string) (string, error)
}

// Service accepts, reads and runs generations.
type Service struct {
	Store  Store
	Blobs  Blobs
	Engine Engine
	Prices billing.Prices
	// TempDir holds files being rendered. Defaults to os.TempDir().
	TempDir string
	Logger  *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// NewID makes generation ids. Defaults to NewID.
	NewID func() string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return NewID()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Submit accepts req for the key keyID: it fixes the seed, prices the
// request and stores it with its job. The returned generation is Queued.
func (s *Service) Submit(ctx context.Context, keyID string, unlimited bool, req *Request) (*Generation, error) {
	r := *req
	if !r.SeedGiven {
		var b [8]byte
		rand.Read(b[:])
		r.Seed = int64(binary.LittleEndian.Uint64(b[:]) % (MaxSeed + 1))
	}
	now := s.now().UTC()
	g := &Generation{
		ID:      s.newID(),
		KeyID:   keyID,
		Status:  Queued,
		Request: r,
		Credits: s.Prices.Cost(r.Resolution, r.Duration, r.Speech),
		Created: now,
		Updated: now,
	}
	if err := s.Store.Insert(ctx, g, unlimited); err != nil {
		return nil, err
	}
	s.log().Info("generation queued", "id", g.ID, "key", keyID, "credits", g.Credits)
	return g, nil
}

// Get returns the generation id if the key keyID created it. Any other
// key gets a fault.NotFound error, exactly as for an id that does not exist.
func (s *Service) Get(ctx context.Context, keyID, id string) (*Generation, error) {
	g, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.KeyID != keyID {
		return nil, fault.Errorf(fault.NotFound, "Generation %q not found", id)
	}
	return g, nil
}

// VideoURL returns a fresh signed download URL for a completed generation.
func (s *Service) VideoURL(ctx context.Context, g *Generation) (string, error) {
	if g.Video == nil {
		return "", fault.E(fault.Internal, "generation has no video")
	}
	return s.Blobs.URL(ctx, g.Video.Key, g.Video.FileName)
}

// permanent reports whether a failure of kind k would fail again on retry.
func permanent(k fault.Kind) bool {
	switch k {
	case fault.Internal, fault.Render, fault.Timeout, fault.Unavailable:
		return false
	}
	return true
}

// Run renders generation job.GenerationID. It is the queue's RunFunc: it
// returns nil when the generation has ended (either way), queue.ErrRequeue
// when ctx was cancelled under it (the process is stopping), and an error to
// have the job retried.
func (s *Service) Run(ctx context.Context, job queue.Job) error {
	err := s.run(ctx, job)
	if err != nil && stopped(ctx) {
		s.log().Info("render interrupted; requeued", "id", job.GenerationID, "err", err)
		return queue.ErrRequeue
	}
	return err
}

// stopped reports whether ctx was cancelled by the process stopping, as
// opposed to timing out.
func stopped(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

func (s *Service) run(ctx context.Context, job queue.Job) error {
	id := job.GenerationID
	g, err := s.Store.Get(ctx, id)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			s.log().Error("render job for a missing generation", "id", id)
			return nil
		}
		return err
	}
	if g.Status.Terminal() {
		// Already rendered (or failed) by an earlier attempt: never twice.
		return nil
	}
	log := s.log().With("id", id, "attempt", job.Attempt)
	if err := s.Store.Progress(ctx, id, 0, ""); err != nil {
		return s.ended(err)
	}
	dir := s.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	out := filepath.Join(dir, id+".mp4")
	defer os.Remove(out)

	start := time.Now()
	var last time.Time
	progress := func(p float64) {
		// Throttled: a row update per frame would be wasted I/O.
		if time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		if err := s.Store.Progress(ctx, id, p, ""); err != nil && fault.KindOf(err) != fault.Conflict {
			log.Warn("recording progress", "err", err)
		}
	}
	o, err := s.Engine.Render(ctx, &g.Request, out, progress)
	if err != nil {
		kind := fault.KindOf(err)
		if stopped(ctx) {
			return err
		}
		if !permanent(kind) && !job.Last() {
			log.Warn("render failed; will retry", "err", err)
			return err
		}
		log.Info("generation failed", "name", kind.String(), "err", err)
		f := &Failure{Name: kind.String(), Message: fault.MessageOf(err)}
		return s.ended(s.Store.Finish(context.WithoutCancel(ctx), id, nil, f))
	}
	key := id + "/output.mp4"
	size, err := s.Blobs.Put(ctx, key, out)
	if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	if o.Plan != "" {
		_ = s.Store.Progress(ctx, id, 1, o.Plan)
	}
	v := &Video{
		Key: key, FileName: "output.mp4", Size: size,
		Width: o.Width, Height: o.Height, Duration: o.Duration, FPS: o.FPS,
		HasAudio: o.HasAudio, Warnings: o.Warnings,
	}
	log.Info("generation completed", "elapsed", time.Since(start).Round(time.Millisecond), "bytes", size)
	return s.ended(s.Store.Finish(context.WithoutCancel(ctx), id, v, nil))
}

// ended treats a Conflict (the generation ended meanwhile, e.g. cancelled)
// as done.
func (s *Service) ended(err error) error {
	if fault.KindOf(err) == fault.Conflict {
		return nil
	}
	return err
}
