// Package remote is stillmotion's reference remote worker: it takes render
// jobs from an API over HTTP(S) with a worker token (the protocol of
// package workerproto), renders them with engines of its own (the built-in
// one, a model server on its own localhost), and uploads the videos. It
// needs neither the database nor the video storage.
package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
	"stillmotion/internal/workerproto"
)

// Observer is told what a worker does, for metrics. Its methods must be
// quick and safe for concurrent use.
type Observer interface {
	// Started is called when a job is leased, Ended when it is done with
	// it, with the outcome (completed, failed, retried, cancelled, lost,
	// handed_back) and how long it held it.
	Started()
	Ended(outcome string, elapsed time.Duration)
	// Unreachable is called when a call to the API goes unanswered.
	Unreachable()
}

// Worker takes jobs from one API. Set its fields, then call Run.
type Worker struct {
	// API is the base URL of the API, and Token a worker token for it.
	API   string
	Token string
	// Engines are the engines by the names the server's engines file
	// gives them.
	Engines map[string]generation.Engine
	// Queues are the queues to take from; every one must be the token's.
	Queues []string
	// Jobs is how many jobs run at once. Defaults to 1.
	Jobs int
	// TempDir holds videos being rendered. Defaults to os.TempDir().
	TempDir string
	// Grace is how long running jobs may go on once Run's context ends;
	// then they are stopped and handed back. Defaults to a minute.
	Grace time.Duration
	// Wait is how long a lease request waits for work. Defaults to 20
	// seconds.
	Wait time.Duration
	// PartSize is the size of the parts videos are uploaded in. Defaults
	// to 16 MiB.
	PartSize int64
	// HTTP makes the calls. Defaults to a client without a timeout (each
	// call has its own).
	HTTP     *http.Client
	Observer Observer
	Logger   *slog.Logger

	c *client
}

// The ways a job's context ends besides the generation's cancel
// (generation.ErrCancelled).
var (
	errLeaseLost = errors.New("the lease was lost")
	errStopping  = errors.New("the worker is stopping")
)

func (w *Worker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Run takes and renders jobs until ctx ends, then lets running jobs
// finish for Grace and hands back those that do not. It returns an error
// only for what retrying cannot fix: a bad URL, a token refused.
func (w *Worker) Run(ctx context.Context) error {
	base, err := url.Parse(w.API)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("the API URL %q is not an http(s) URL", w.API)
	}
	hc := w.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	w.c = &client{base: base, token: w.Token, http: hc}
	jobs := max(w.Jobs, 1)
	jobCtx, stopJobs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopJobs(nil)
	fatal := make(chan error, jobs)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			if err := w.loop(ctx, jobCtx); err != nil {
				fatal <- err
			}
		})
	}
	var err1 error
	select {
	case <-ctx.Done():
	case err1 = <-fatal:
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	if err1 != nil {
		stopJobs(errStopping)
		<-done
		return err1
	}
	grace := w.Grace
	if grace <= 0 {
		grace = time.Minute
	}
	w.log().Info("stopping: letting running jobs finish", "grace", grace)
	select {
	case <-done:
	case <-time.After(grace):
		w.log().Warn("stopping: handing back the jobs still running")
		stopJobs(errStopping)
		<-done
	}
	return nil
}

// loop leases and runs jobs one at a time until ctx ends.
func (w *Worker) loop(ctx, jobCtx context.Context) error {
	wait := w.Wait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	var b backoff
	for ctx.Err() == nil {
		l, err := w.c.lease(ctx, w.Queues, wait)
		switch {
		case ctx.Err() != nil:
			return nil
		case transient(err):
			if w.Observer != nil {
				w.Observer.Unreachable()
			}
			d := b.next()
			w.log().Warn("the API is unreachable; trying again", "in", d.Round(time.Millisecond), "err", err)
			sleep(ctx, d)
			continue
		case err != nil:
			return fmt.Errorf("taking work: %w", err)
		}
		b.reset()
		if l != nil {
			w.run(jobCtx, l)
		}
	}
	return nil
}

// run renders one leased job and reports how it went.
func (w *Worker) run(ctx context.Context, l *workerproto.Lease) {
	start := time.Now()
	log := w.log().With("id", l.GenerationID, "attempt", l.Attempt, "engine", l.Engine)
	if w.Observer != nil {
		w.Observer.Started()
	}
	log.Info("job leased", "expires_at", l.ExpiresAt)
	outcome := w.render(ctx, l, log)
	elapsed := time.Since(start)
	if w.Observer != nil {
		w.Observer.Ended(outcome, elapsed)
	}
	log.Info("job done", "outcome", outcome, "elapsed", elapsed.Round(time.Millisecond))
}

func (w *Worker) render(ctx context.Context, l *workerproto.Lease, log *slog.Logger) (outcome string) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var req generation.Request
	if err := json.Unmarshal(l.Request, &req); err != nil {
		return w.report(ctx, l, log, fault.Wrap(fault.Internal, "the leased request could not be read", err))
	}
	eng, ok := w.Engines[l.Engine]
	if !ok {
		return w.report(ctx, l, log, fault.Errorf(fault.Render, "engine %q is not configured on this remote worker; give it the server's engines file", l.Engine))
	}
	dir := w.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	out := filepath.Join(dir, l.GenerationID+"-"+generation.NewID()[:8]+".mp4")
	defer os.Remove(out)

	var progress atomic.Uint64
	hb := &heartbeats{w: w, l: l, cancel: cancel, progress: &progress, log: log}
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		hb.run(rctx)
	}()
	defer func() {
		cancel(nil)
		<-beating
	}()
	task := &generation.Task{
		ID: l.GenerationID, Request: &req, Out: out, State: l.State, Script: l.Script,
		Progress: func(p float64) { progress.Store(math.Float64bits(p)) },
		Save:     func(ctx context.Context, state string) error { return hb.beat(ctx, state) },
		Inputs:   map[string]generation.Input{},
	}
	for field, ref := range l.Inputs {
		task.Inputs[field] = &apiInput{c: w.c, ref: ref, limit: limitOf(field)}
		// An engine that reads the request's URL reads the API's, whole.
		if u, err := w.c.resolve(ref); err == nil {
			req.SetURL(field, u)
		}
	}
	o, err := eng.Render(rctx, task)
	switch cause := context.Cause(rctx); {
	case errors.Is(cause, generation.ErrCancelled):
		log.Info("the generation was cancelled; render stopped")
		return "cancelled"
	case errors.Is(cause, errLeaseLost):
		log.Warn("the lease was lost (the API did not hear from this worker in time); the job is dropped")
		return "lost"
	case errors.Is(cause, errStopping):
		if err := w.retry(context.WithoutCancel(ctx), func() error { return w.c.release(context.WithoutCancel(ctx), l.ID) }); err != nil {
			log.Warn("handing the job back failed; it returns to the queue when its lease expires", "err", err)
		}
		return "handed_back"
	case err != nil:
		return w.report(ctx, l, log, err)
	}
	done, err := w.c.upload(rctx, l.ID, out, w.partSize(), w.retry)
	if err == nil {
		done.Output = workerproto.Output{Width: o.Width, Height: o.Height, Duration: o.Duration, FPS: o.FPS, HasAudio: o.HasAudio, Plan: o.Plan, Warnings: o.Warnings}
		err = w.retry(rctx, func() error { return w.c.complete(rctx, l.ID, done) })
	}
	switch {
	case err == nil:
		return "completed"
	case status(err) == http.StatusConflict || errors.Is(context.Cause(rctx), generation.ErrCancelled):
		log.Info("the generation was cancelled before its video was in")
		return "cancelled"
	case status(err) == http.StatusGone || errors.Is(context.Cause(rctx), errLeaseLost):
		log.Warn("the lease ended before the video was in; the job is dropped", "err", err)
		return "lost"
	}
	log.Warn("uploading the video failed; the job returns to the queue when its lease expires", "err", err)
	return "lost"
}

// report tells the API that the render failed with err.
func (w *Worker) report(ctx context.Context, l *workerproto.Lease, log *slog.Logger, err error) string {
	e := workerproto.Error{Name: fault.KindOf(err).String(), Message: fault.MessageOf(err)}
	if !slices.Contains(fault.Ending(), fault.KindOf(err)) {
		e.Name = fault.Render.String()
	}
	log.Warn("render failed", "name", e.Name, "err", err)
	var reply *workerproto.FailureReply
	rerr := w.retry(ctx, func() error {
		var err error
		reply, err = w.c.fail(ctx, l.ID, e)
		return err
	})
	if rerr != nil {
		log.Warn("reporting the failure failed; the job returns to the queue when its lease expires", "err", rerr)
		return "lost"
	}
	if reply.Retried {
		return "retried"
	}
	return "failed"
}

func (w *Worker) partSize() int64 {
	if w.PartSize > 0 {
		return min(w.PartSize, workerproto.MaxPartBytes)
	}
	return 16 << 20
}

// retry calls f until it succeeds, fails for good, or ctx ends, backing
// off while the API is away (at most a few minutes).
func (w *Worker) retry(ctx context.Context, f func() error) error {
	var b backoff
	start := time.Now()
	for {
		err := f()
		if err == nil || !transient(err) || ctx.Err() != nil || time.Since(start) > 3*time.Minute {
			return err
		}
		if w.Observer != nil {
			w.Observer.Unreachable()
		}
		sleep(ctx, b.next())
	}
}

// heartbeats renew a job's lease with its progress, and stop the render
// when the generation is cancelled or the lease is lost.
type heartbeats struct {
	w        *Worker
	l        *workerproto.Lease
	progress *atomic.Uint64
	cancel   context.CancelCauseFunc
	log      *slog.Logger

	mu sync.Mutex
}

func (h *heartbeats) run(ctx context.Context) {
	every := time.Duration(h.l.HeartbeatMillis) * time.Millisecond
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.beat(ctx, ""); err != nil && ctx.Err() == nil {
			h.log.Debug("heartbeat failed", "err", err)
		}
	}
}

// beat renews the lease once, saving state if it is not "".
func (h *heartbeats) beat(ctx context.Context, state string) error {
	r, err := h.w.c.heartbeat(ctx, h.l.ID, workerproto.Heartbeat{Progress: math.Float64frombits(h.progress.Load()), State: state})
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil && r.Cancelled:
		h.log.Info("the generation was cancelled; stopping the render")
		h.cancel(generation.ErrCancelled)
	case status(err) == http.StatusGone || status(err) == http.StatusNotFound || status(err) == http.StatusUnauthorized:
		// Ended, or the token was revoked: the job is not this worker's.
		h.cancel(errLeaseLost)
	case transient(err):
		// The render goes on: the API's answer, once it is back, says
		// whether the lease lasted (this machine's clock may disagree
		// with the API's about when it ends).
		if h.w.Observer != nil {
			h.w.Observer.Unreachable()
		}
	}
	return err
}

// apiInput is an input file of a leased job, fetched from the API.
type apiInput struct {
	c     *client
	ref   string
	limit int64
}

func (i *apiInput) Bytes(ctx context.Context) ([]byte, error) {
	b, err := i.c.input(ctx, i.ref, i.limit)
	if err != nil {
		if st := status(err); st == http.StatusGone || st == http.StatusNotFound {
			return nil, fault.Wrap(fault.ImageFetch, "the input is no longer served (the lease ended)", err)
		}
		return nil, fault.Wrap(fault.Upstream, "fetching the input from the API failed", err)
	}
	return b, nil
}

func (i *apiInput) URL(context.Context) (string, error) { return i.c.resolve(i.ref) }

// limitOf is the byte limit of a URL field's file.
func limitOf(field string) int64 {
	switch field {
	case generation.FieldVideo:
		return input.MaxVideoBytes
	case generation.FieldAudio:
		return input.MaxAudioBytes
	}
	return 50 << 20
}

// backoff is an exponential wait with jitter, from half a second to 30.
type backoff struct{ n int }

func (b *backoff) next() time.Duration {
	d := min(500*time.Millisecond<<min(b.n, 6), 30*time.Second)
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
