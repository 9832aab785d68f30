package generation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"stillmotion/internal/fault"
)

// A Lease lends one render attempt to a worker outside the server's
// processes (a remote worker, which reaches only the API): the worker
// renders the generation and reports back, renewing the lease as it goes,
// and the lease ends with the attempt. Leases live in the store, so that
// any API process can serve any worker.
type Lease struct {
	ID           string
	GenerationID string
	Queue        string
	Worker       string // the name of the worker's token
	Attempt      int    // 1 on the first try
	MaxAttempts  int
	// Until is when the lease expires unless it is renewed; Deadline is
	// the attempt's time limit, past which no renewal goes.
	Until, Deadline time.Time
	// Parts is the highest part of the output uploaded so far.
	Parts int
	// Leased is when the lease was taken.
	Leased time.Time
}

// Last reports whether a failure of the lease's attempt ends the generation.
func (l *Lease) Last() bool { return l.Attempt >= l.MaxAttempts }

// LeaseStore keeps leases beside the render queue, in the same
// transactions: a job is leased, and its lease ended, atomically with the
// queue's own record of it, so that a job leased to a remote worker is
// never also run by a local one, and each job ends at most once.
type LeaseStore interface {
	// TakeLease takes the first job waiting in queue, in the order the
	// queue's own workers take them, marks it running and its generation
	// Generating, and records l on it: the caller sets l's ID, Worker,
	// Until and Deadline; TakeLease fills in the rest, Leased with the
	// store's clock. It returns the
	// generation, or nil when no job waits.
	TakeLease(ctx context.Context, queue string, l *Lease) (*Generation, error)
	// Lease returns lease id, or a fault.Gone error once it has ended.
	Lease(ctx context.Context, id string) (*Lease, error)
	// RenewLease records progress p of the lease's generation (and the
	// engine's state, unless state is "") and extends the lease to until.
	// It returns a fault.Gone error once the lease has ended, and a
	// fault.Conflict error when the generation has ended (it was
	// cancelled), ending the lease.
	RenewLease(ctx context.Context, id string, until time.Time, p float64, state string) (*Lease, error)
	// NotePart records that part n of the lease's output was stored, or
	// returns a fault.Gone error once the lease has ended.
	NotePart(ctx context.Context, id string, n int) error
	// EndLease ends lease id and its attempt as end says, and returns
	// the lease as it was. It returns a fault.Gone error when the lease
	// has already ended (or, with end.Overdue set, is not overdue), and a
	// fault.Conflict error when end completes or fails a generation that
	// has ended meanwhile; the job is then cancelled.
	EndLease(ctx context.Context, id string, end LeaseEnd) (*Lease, error)
	// Overdue returns up to limit leases whose Until or Deadline is
	// before now.
	Overdue(ctx context.Context, now time.Time, limit int) ([]*Lease, error)
}

// LeaseEnd is how a lease's attempt ended. With Video, the generation
// completes and its job with it; with Failure, the generation fails
// (refunded) and its job is discarded; with neither, the job waits again
// from RetryAt, the attempt counted unless HandedBack, and Reason recorded
// as its error. A generation that has ended meanwhile has its job
// cancelled instead.
type LeaseEnd struct {
	Video      *Video
	Failure    *Failure
	RetryAt    time.Time
	HandedBack bool
	Reason     string
	// Overdue, if set, ends the lease only if its Until or Deadline is
	// before it (expiry), so that a lease renewed meanwhile lives on.
	Overdue time.Time
}

// Leasing is what a Service needs to lend jobs to remote workers.
type Leasing struct {
	Store LeaseStore
	// Time is how long a lease lasts unless renewed. Defaults to 30
	// seconds.
	Time time.Duration
	// AttemptTime returns the time limit of an attempt on queue: a
	// lease's deadline. Defaults to 10 minutes.
	AttemptTime func(queue string) time.Duration
}

// MaxOutputParts bounds the parts a remote worker may upload its output in.
const MaxOutputParts = 1000

func (s *Service) leaseTime() time.Duration {
	if s.Leasing != nil && s.Leasing.Time > 0 {
		return s.Leasing.Time
	}
	return 30 * time.Second
}

// HeartbeatInterval is how often a remote worker should renew its lease:
// a tenth of the lease time, so that a few lost renewals do not cost it,
// and a cancel reaches it quickly.
func (s *Service) HeartbeatInterval() time.Duration {
	return max(s.leaseTime()/10, 100*time.Millisecond)
}

func (s *Service) leases() (LeaseStore, error) {
	if s.Leasing == nil || s.Leasing.Store == nil {
		return nil, fault.E(fault.NotFound, "This server lends no work to remote workers")
	}
	return s.Leasing.Store, nil
}

// TakeLease lends the first job waiting in one of queues to worker, or
// returns nil, nil when none waits. The queues are tried in a random
// order, so that none starves the others.
func (s *Service) TakeLease(ctx context.Context, worker string, queues []string) (*Lease, *Generation, error) {
	ls, err := s.leases()
	if err != nil {
		return nil, nil, err
	}
	order := slices.Clone(queues)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, q := range order {
		now := s.now()
		limit := 10 * time.Minute
		if s.Leasing.AttemptTime != nil {
			limit = s.Leasing.AttemptTime(q)
		}
		l := &Lease{ID: s.newID(), Worker: worker, Deadline: now.Add(limit)}
		l.Until = earlier(now.Add(s.leaseTime()), l.Deadline)
		g, err := ls.TakeLease(ctx, q, l)
		if err != nil {
			return nil, nil, err
		}
		if g != nil {
			s.log().Info("job leased to a remote worker", "id", g.ID, "worker", worker, "attempt", l.Attempt, "queue", q)
			return l, g, nil
		}
	}
	return nil, nil, nil
}

// Lease returns the lease id while it lasts, or a fault.Gone error.
func (s *Service) Lease(ctx context.Context, id string) (*Lease, error) {
	ls, err := s.leases()
	if err != nil {
		return nil, err
	}
	l, err := ls.Lease(ctx, id)
	if err == nil && s.now().After(l.Until) {
		return nil, LeaseEnded(id)
	}
	return l, err
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// LeaseEnded is the error of a call on lease id once it has ended (a
// fault.Gone error): the store's and the Service's alike.
func LeaseEnded(id string) error {
	return fault.Errorf(fault.Gone, "Lease %s has ended (it expired, or its job was handed back or finished) and its job may be with another worker: drop the job", fault.Echo(id))
}

// RenewLease records the progress p of lease id's render (and the engine's
// state, unless ""), and extends the lease. It returns ErrCancelled when the
// generation was cancelled (the lease then ends: stop rendering), and a
// fault.Gone error when the lease has ended.
func (s *Service) RenewLease(ctx context.Context, id string, p float64, state string) (*Lease, error) {
	ls, err := s.leases()
	if err != nil {
		return nil, err
	}
	l, err := s.Lease(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !now.Before(l.Deadline) {
		return nil, fault.Errorf(fault.Gone, "Lease %s ran out of time: the attempt's limit passed; drop the job", id)
	}
	l, err = ls.RenewLease(ctx, id, earlier(now.Add(s.leaseTime()), l.Deadline), min(max(p, 0), 1), state)
	if fault.KindOf(err) == fault.Conflict {
		return nil, ErrCancelled
	}
	return l, err
}

// PutPart stores part n (from 1) of lease id's output, from the file at
// path, which it moves.
func (s *Service) PutPart(ctx context.Context, id string, n int, path string) error {
	ls, err := s.leases()
	if err != nil {
		return err
	}
	if n < 1 || n > MaxOutputParts {
		return fault.Errorf(fault.Invalid, "Part %d is out of range: parts are numbered 1 to %d", n, MaxOutputParts)
	}
	l, err := s.Lease(ctx, id)
	if err != nil {
		return err
	}
	if err := ls.NotePart(ctx, id, n); err != nil {
		return err
	}
	if _, err := s.Blobs.Put(ctx, partKey(l, n), path); err != nil {
		return fmt.Errorf("storing part %d: %w", n, err)
	}
	return nil
}

func partKey(l *Lease, n int) string {
	return l.GenerationID + "/part-" + l.ID + "-" + strconv.Itoa(n) + ".mp4"
}

// removeParts deletes the parts of l's output.
func (s *Service) removeParts(ctx context.Context, l *Lease) {
	for n := 1; n <= l.Parts; n++ {
		if err := s.Blobs.Delete(ctx, partKey(l, n)); err != nil {
			s.log().Warn("removing an uploaded part", "id", l.GenerationID, "part", n, "err", err)
		}
	}
}

// Upload describes the whole of a remote worker's output: its parts, and
// the size and hex SHA-256 of the file they make.
type Upload struct {
	Parts  int
	Size   int64
	SHA256 string
}

// CompleteLease ends lease id with the generation completed: it joins the
// uploaded parts, checks them against u, stores the video, and ends the
// lease and its job. A late upload (the lease ended) is a fault.Gone error;
// parts that do not add up to u, a fault.Invalid error that says which, the
// lease kept so that the worker can upload again.
func (s *Service) CompleteLease(ctx context.Context, id string, u Upload, o *Output) error {
	ls, err := s.leases()
	if err != nil {
		return err
	}
	l, err := s.Lease(ctx, id)
	if err != nil {
		return err
	}
	g, err := s.Store.Get(ctx, l.GenerationID)
	if err != nil {
		return err
	}
	path, err := s.joinParts(ctx, l, u)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	// A key of its own: a worker whose lease expired cannot overwrite the
	// video of the worker that finished instead.
	key := g.ID + "/output-" + l.ID[:8] + ".mp4"
	size, err := s.Blobs.Put(ctx, key, path)
	if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	v := &Video{
		Key: key, FileName: "output.mp4", Size: size,
		Width: o.Width, Height: o.Height, Duration: o.Duration, FPS: o.FPS,
		HasAudio: o.HasAudio, Warnings: append(slices.Clip(g.Request.Warnings), o.Warnings...),
	}
	if o.Plan != "" {
		_ = s.Store.Progress(ctx, g.ID, 1, o.Plan)
	}
	if _, err := ls.EndLease(ctx, id, LeaseEnd{Video: v}); err != nil {
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log().Warn("removing the video of an ended lease", "key", key, "err", derr)
		}
		if fault.KindOf(err) == fault.Conflict {
			return ErrCancelled
		}
		return err
	}
	s.removeParts(context.WithoutCancel(ctx), l)
	if s.Observer != nil {
		s.Observer.Rendered(&g.Request, o, time.Since(l.Leased)) // Leased is on the store's clock
	}
	s.log().Info("generation completed by a remote worker", "id", g.ID, "worker", l.Worker, "attempt", l.Attempt, "bytes", size)
	return nil
}

// joinParts writes the parts of l's output, in order, to a temporary file
// and checks them against u.
func (s *Service) joinParts(ctx context.Context, l *Lease, u Upload) (string, error) {
	if u.Parts < 1 || u.Parts > MaxOutputParts {
		return "", fault.Errorf(fault.Invalid, "parts must be 1 to %d, the number of parts uploaded", MaxOutputParts)
	}
	f, err := os.CreateTemp(s.tempDir(), "upload-*.mp4")
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	size, err := s.copyParts(ctx, l, u.Parts, io.MultiWriter(f, sum))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		got := hex.EncodeToString(sum.Sum(nil))
		switch {
		case size != u.Size:
			err = fault.Errorf(fault.Invalid, "The %d parts uploaded make %d bytes, not %d: upload the missing or wrong parts again", u.Parts, size, u.Size)
		case got != u.SHA256:
			err = fault.Errorf(fault.Invalid, "The %d parts uploaded have SHA-256 %s, not %s: upload the wrong parts again", u.Parts, got, fault.Echo(u.SHA256))
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (s *Service) copyParts(ctx context.Context, l *Lease, parts int, w io.Writer) (int64, error) {
	var size int64
	for n := 1; n <= parts; n++ {
		r, err := s.Blobs.Open(ctx, partKey(l, n))
		if fault.KindOf(err) == fault.NotFound {
			return 0, fault.Errorf(fault.Invalid, "Part %d of %d was not uploaded: upload it, then complete again", n, parts)
		}
		if err != nil {
			return 0, err
		}
		m, err := io.Copy(w, r)
		r.Close()
		if err != nil {
			return 0, err
		}
		size += m
	}
	return size, nil
}

func (s *Service) tempDir() string {
	if s.TempDir != "" {
		return s.TempDir
	}
	return os.TempDir()
}

// FailLease ends lease id's attempt as failed with f (error.name and
// message, as a generation reports them), under the same rules as a local
// attempt: a failure that would fail again, or the last attempt's, fails
// the generation; any other is tried again, by any worker, and retried
// says so.
func (s *Service) FailLease(ctx context.Context, id string, f Failure) (retried bool, _ error) {
	ls, err := s.leases()
	if err != nil {
		return false, err
	}
	kind, ok := fault.Named(f.Name)
	if !ok || !slices.Contains(fault.Ending(), kind) {
		return false, fault.Errorf(fault.Invalid, "%q is not an error name a generation can end with", fault.Echo(f.Name))
	}
	l, err := s.Lease(ctx, id)
	if err != nil {
		return false, err
	}
	if f.Message == "" {
		f.Message = "The render failed"
	}
	end := LeaseEnd{Failure: &f}
	g, err := s.Store.Get(ctx, l.GenerationID)
	if err != nil {
		return false, err
	}
	if !permanent(kind) && !l.Last() && g.Engine != ScriptedEngine {
		end = LeaseEnd{RetryAt: s.now().Add(retryWait(l.Attempt)), Reason: f.Name + ": " + f.Message}
	}
	l, err = ls.EndLease(ctx, id, end)
	if err != nil {
		if fault.KindOf(err) == fault.Conflict {
			return false, nil // cancelled meanwhile: nothing left to fail
		}
		return false, err
	}
	s.removeParts(context.WithoutCancel(ctx), l)
	if end.Failure != nil {
		s.failed(f.Name)
		s.log().Info("generation failed on a remote worker", "id", l.GenerationID, "worker", l.Worker, "name", f.Name, "message", f.Message)
	} else {
		s.log().Warn("render failed on a remote worker; will retry", "id", l.GenerationID, "worker", l.Worker, "attempt", l.Attempt, "name", f.Name)
	}
	return end.Failure == nil, nil
}

// retryWait is the wait before attempt n+1 after a failed attempt n: the
// queue's own retry policy (n⁴ seconds).
func retryWait(n int) time.Duration { return time.Duration(n*n*n*n) * time.Second }

// ReturnLease hands lease id's job back, not counted as an attempt, for
// any worker to take (a remote worker that is stopping).
func (s *Service) ReturnLease(ctx context.Context, id string) error {
	ls, err := s.leases()
	if err != nil {
		return err
	}
	l, err := ls.EndLease(ctx, id, LeaseEnd{RetryAt: s.now(), HandedBack: true, Reason: "handed back"})
	if err != nil {
		return err
	}
	s.removeParts(context.WithoutCancel(ctx), l)
	s.log().Info("job handed back by a remote worker", "id", l.GenerationID, "worker", l.Worker)
	return nil
}

// LeaseInput returns the bytes of the input field (see URLFields) of
// lease id's generation, fetched under the server's rules.
func (s *Service) LeaseInput(ctx context.Context, id, field string) ([]byte, error) {
	l, err := s.Lease(ctx, id)
	if err != nil {
		return nil, err
	}
	g, err := s.Store.Get(ctx, l.GenerationID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(URLFields, field) || g.Request.URL(field) == "" || s.Inputs == nil {
		return nil, fault.Errorf(fault.NotFound, "Generation %s has no %s", g.ID, fault.Echo(field))
	}
	return s.Inputs.Input(&g.Request, field).Bytes(ctx)
}

// ExpireLeases ends the leases whose worker stopped renewing them, or
// whose attempt ran out of time: each attempt counts as failed, so that
// its job is tried again by any worker, or, on its last attempt, its
// generation fails. It returns how many it ended.
func (s *Service) ExpireLeases(ctx context.Context) (int, error) {
	ls, err := s.leases()
	if err != nil {
		return 0, err
	}
	now := s.now()
	overdue, err := ls.Overdue(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range overdue {
		why := fmt.Sprintf("the remote worker %s stopped answering", l.Worker)
		kind := fault.Unavailable
		if !now.Before(l.Deadline) {
			why, kind = fmt.Sprintf("the remote worker %s did not finish within the attempt's time limit", l.Worker), fault.Timeout
		}
		end := LeaseEnd{RetryAt: now, Reason: why, Overdue: now}
		if l.Last() {
			end = LeaseEnd{Failure: &Failure{Name: kind.String(), Message: "The render was given up: " + why + " on every attempt; the generation was not charged"}, Overdue: now}
		}
		ended, err := ls.EndLease(ctx, l.ID, end)
		switch fault.KindOf(err) {
		case fault.Gone, fault.Conflict:
			// Renewed, or ended by another process, meanwhile; or its
			// generation was cancelled (its job is cancelled now).
			continue
		}
		if err != nil {
			return n, err
		}
		n++
		s.removeParts(context.WithoutCancel(ctx), ended)
		if end.Failure != nil {
			s.failed(end.Failure.Name)
		}
		s.log().Warn("lease expired", "id", l.GenerationID, "worker", l.Worker, "attempt", l.Attempt, "why", why, "retry", end.Failure == nil)
	}
	return n, nil
}

// ExpireLeasesEvery runs ExpireLeases every interval until ctx ends. Every
// API process may run it: ending a lease is conditional, so that two
// processes never end one twice.
func (s *Service) ExpireLeasesEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.ExpireLeases(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			s.log().Warn("expiring leases", "err", err)
		}
	}
}

// LeaseSweepInterval is how often ExpireLeasesEvery should run: a job
// whose worker vanished waits at most the lease time and this.
func (s *Service) LeaseSweepInterval() time.Duration {
	return max(s.leaseTime()/4, 100*time.Millisecond)
}
