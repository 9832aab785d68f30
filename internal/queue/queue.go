// Package queue holds what stillmotion's River jobs share across database
// drivers: the job's arguments, the worker that runs it, and the client
// settings. The store builds a River client from these for its driver
// (riversqlite or riverpgxv5).
package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"stillmotion/internal/generation"
)

// RenderArgs are the arguments of a render job: just the generation it
// renders; everything else is read from the generation's row.
type RenderArgs struct {
	GenerationID string `json:"generation_id"`
}

// Kind is the River job kind.
func (RenderArgs) Kind() string { return "render" }

// DefaultEngine is the engine of generations that name none: the built-in
// renderer.
const DefaultEngine = generation.BuiltinEngine

// For returns the name of the queue that engine's render jobs go to, so
// that worker processes can specialise by engine: "render_builtin".
func For(engine string) string { return RenderPrefix + cmp.Or(engine, DefaultEngine) }

// RenderPrefix begins the name of every render queue.
const RenderPrefix = "render_"

// WebhookArgs are the arguments of a webhook job: one event of one
// generation, for one endpoint. The body is built when delivering, from
// the generation, so that its video URL is freshly signed.
type WebhookArgs struct {
	GenerationID string `json:"generation_id"`
	Event        string `json:"event"` // "generation.completed"...
	URL          string `json:"url"`
}

// Kind is the River job kind.
func (WebhookArgs) Kind() string { return "webhook" }

// WebhookQueue is the queue of webhook jobs, worked by every process with
// workers.
const WebhookQueue = "webhook"

// WebhookInsertOpts are the options a webhook job is inserted with.
func WebhookInsertOpts(maxAttempts int) *river.InsertOpts {
	return &river.InsertOpts{Queue: WebhookQueue, MaxAttempts: maxAttempts}
}

// DeliverFunc delivers a webhook event. An error wrapping ErrGiveUp ends
// the job for good; any other error is retried after the Config's
// WebhookBackoff.
type DeliverFunc func(ctx context.Context, args WebhookArgs) error

// ErrGiveUp says a delivery failed in a way retrying will not fix.
var ErrGiveUp = errors.New("giving up")

// Job is what a RunFunc is told about the job it runs.
type Job struct {
	GenerationID string
	Attempt      int // 1 on the first run
	MaxAttempts  int
}

// Last reports whether a failure of this attempt ends the generation.
func (j Job) Last() bool { return j.Attempt >= j.MaxAttempts }

// RunFunc runs a job. Returning ErrRequeue puts the job back in the queue
// without spending an attempt (the process is shutting down); ErrCancelled
// ends the job for good (its generation was cancelled); any other error is
// retried with backoff until the attempts run out.
type RunFunc func(ctx context.Context, job Job) error

var (
	// ErrRequeue asks for the job to be run again later, by any worker.
	ErrRequeue = errors.New("requeue")
	// ErrCancelled says the job's generation was cancelled: the job ends
	// as cancelled and never runs again.
	ErrCancelled = errors.New("generation cancelled")
)

// Config is the queue configuration shared by every driver.
type Config struct {
	// Workers is how many renders run at once in each queue this process
	// works. 0 makes the process insert-only (API only).
	Workers int
	// Queues are the queues this process works (see For). Defaults to the
	// built-in engine's queue, For(DefaultEngine).
	Queues []string
	// Known are the queues there are (one per configured engine); Validate
	// refuses to work any other. Defaults to For(DefaultEngine).
	Known []string
	// Concurrency, when it has a queue, is how many of its jobs run at
	// once in this process instead of Workers.
	Concurrency map[string]int
	// JobTimeout bounds one render attempt: its context is cancelled then
	// and the attempt fails (and is retried). Defaults to 10 minutes.
	JobTimeout time.Duration
	// Timeouts, when it has a queue, bound its attempts instead of
	// JobTimeout. RescueAfter must exceed every one.
	Timeouts map[string]time.Duration
	// RescueAfter is how long a job may stay running before the queue
	// assumes its worker died and runs it again elsewhere. It must exceed
	// JobTimeout. Defaults to JobTimeout + 1 minute.
	RescueAfter time.Duration
	// MaxAttempts is how often a render is tried. Defaults to 3.
	MaxAttempts int
	// Run runs a job.
	Run RunFunc
	// Webhooks are the server-wide endpoints that every generation's
	// events go to (besides its own callback_url). Defaults to none.
	Webhooks []string
	// Deliver delivers webhook jobs; without it, a process with workers
	// does not work the webhook queue.
	Deliver DeliverFunc
	// WebhookAttempts is how often a webhook delivery is tried. Defaults
	// to 15.
	WebhookAttempts int
	// WebhookBackoff returns the wait after failed attempt n (from 1).
	// Defaults to a constant minute.
	WebhookBackoff func(attempt int) time.Duration
	// Logger receives the queue's logs. Defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults fills in the zero fields.
func (c *Config) Defaults() {
	if c.JobTimeout <= 0 {
		c.JobTimeout = 10 * time.Minute
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.longestTimeout() + time.Minute
	}
	if len(c.Known) == 0 {
		c.Known = []string{For(DefaultEngine)}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if len(c.Queues) == 0 {
		c.Queues = []string{For(DefaultEngine)}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 15
	}
	if c.WebhookBackoff == nil {
		c.WebhookBackoff = func(int) time.Duration { return time.Minute }
	}
}

// longestTimeout is the longest any attempt may run.
func (c *Config) longestTimeout() time.Duration {
	longest := c.JobTimeout
	for _, t := range c.Timeouts {
		longest = max(longest, t)
	}
	return longest
}

// Validate checks the settings that cannot be defaulted. Call it after
// Defaults.
func (c *Config) Validate() error {
	if t := c.longestTimeout(); c.RescueAfter <= t {
		return fmt.Errorf("the rescue delay (%v) must exceed the job timeout (%v): a job still running would be rendered twice", c.RescueAfter, t)
	}
	for _, q := range c.Queues {
		if !slices.Contains(c.Known, q) {
			return fmt.Errorf("unknown queue %q: the queues are %s (one per engine)", q, strings.Join(c.Known, ", "))
		}
	}
	if c.Workers > 0 && c.Run == nil {
		return errors.New("a queue with workers needs a Run function")
	}
	return nil
}

// RiverConfig returns the River client configuration for c, which must
// have passed Validate.
func RiverConfig(c Config) *river.Config {
	c.Defaults()
	rc := &river.Config{
		JobTimeout:           c.JobTimeout,
		RescueStuckJobsAfter: c.RescueAfter,
		MaxAttempts:          c.MaxAttempts,
		Logger:               c.Logger,
		// Completed jobs are only bookkeeping: the generation row is the record.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		FetchPollInterval:           500 * time.Millisecond,
		FetchCooldown:               50 * time.Millisecond,
	}
	if c.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, &renderWorker{run: c.Run, timeouts: c.Timeouts})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{}
		for _, q := range c.Queues {
			n, ok := c.Concurrency[q]
			if !ok || n <= 0 {
				n = c.Workers
			}
			rc.Queues[q] = river.QueueConfig{MaxWorkers: n}
		}
		if c.Deliver != nil {
			river.AddWorker(workers, &webhookWorker{deliver: c.Deliver, backoff: c.WebhookBackoff})
			rc.Queues[WebhookQueue] = river.QueueConfig{MaxWorkers: max(c.Workers, 4)}
		}
	}
	return rc
}

// InsertOpts are the options a render job for engine is inserted with,
// at River priority (1, the first served, to 4; see Priority).
func InsertOpts(engine string, priority int) *river.InsertOpts {
	return &river.InsertOpts{Queue: For(engine), Priority: priority}
}

// Priority is the River priority of a render job whose key had inFlight
// other generations queued or rendering when it was submitted. River
// serves a queue by priority first, then in order: a key's first
// generation goes ahead of every waiting job of a key that already has
// one in flight, so that a key with hundreds queued delays another key's
// first by at most the renders already running; and the more a key has
// in flight, the further back its newest wait (1, then 3, then 12 at each
// step), as weighted fair queueing would place them.
func Priority(inFlight int) int {
	switch {
	case inFlight <= 0:
		return 1
	case inFlight < 4:
		return 2
	case inFlight < 16:
		return 3
	}
	return 4
}

type renderWorker struct {
	river.WorkerDefaults[RenderArgs]
	run      RunFunc
	timeouts map[string]time.Duration
}

// Timeout is the job's queue's own timeout, or the client's JobTimeout.
func (w *renderWorker) Timeout(job *river.Job[RenderArgs]) time.Duration {
	return w.timeouts[job.Queue]
}

func (w *renderWorker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	err := w.run(ctx, Job{GenerationID: job.Args.GenerationID, Attempt: job.Attempt, MaxAttempts: job.MaxAttempts})
	switch {
	case errors.Is(err, ErrCancelled):
		return river.JobCancel(err)
	case errors.Is(err, ErrRequeue):
		// A snooze does not spend an attempt.
		return river.JobSnooze(time.Second)
	}
	return err
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	deliver DeliverFunc
	backoff func(int) time.Duration
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	err := w.deliver(ctx, job.Args)
	if errors.Is(err, ErrGiveUp) {
		return river.JobCancel(err)
	}
	return err
}

// NextRetry is the webhook's retry policy: the configured backoff.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return time.Now().Add(w.backoff(job.Attempt))
}

// Timeout bounds a delivery: the sender's own 10 s plus slack.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return 30 * time.Second }
