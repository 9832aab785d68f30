// Package queue holds what stillmotion's River jobs share across database
// drivers: the job's arguments, the worker that runs it, and the client
// settings. The store packages build a River client from these for their
// own driver.
package queue

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// RenderArgs are the arguments of a render job: just the generation it
// renders; everything else is read from the generation's row.
type RenderArgs struct {
	GenerationID string `json:"generation_id"`
}

// Kind is the River job kind.
func (RenderArgs) Kind() string { return "render" }

// Queue is the name of the queue the built-in engine's jobs go to.
const Queue = "render"

// Job is what a Runner is told about the job it runs.
type Job struct {
	GenerationID string
	Attempt      int // 1 on the first run
	MaxAttempts  int
}

// Last reports whether a failure of this attempt ends the generation.
func (j Job) Last() bool { return j.Attempt >= j.MaxAttempts }

// RunFunc runs a job. Returning ErrRequeue puts the job back in the queue
// without spending an attempt (the process is shutting down); any other
// error is retried with backoff until the attempts run out.
type RunFunc func(ctx context.Context, job Job) error

// ErrRequeue asks for the job to be run again later, by any worker.
var ErrRequeue = errors.New("requeue")

// Config is the queue configuration shared by every driver.
type Config struct {
	// Workers is how many renders run at once in this process. 0 makes the
	// process insert-only (API only).
	Workers int
	// JobTimeout bounds one render attempt. Defaults to 10 minutes.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before the queue
	// assumes its worker died and runs it again elsewhere. It must exceed
	// JobTimeout. Defaults to JobTimeout + 1 minute.
	RescueAfter time.Duration
	// MaxAttempts is how often a render is tried. Defaults to 3.
	MaxAttempts int
	// Run runs a job.
	Run RunFunc
	// Logger receives the queue's logs. Defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) withDefaults() {
	if c.JobTimeout <= 0 {
		c.JobTimeout = 10 * time.Minute
	}
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// RiverConfig returns the River client configuration for c.
func RiverConfig(c Config) *river.Config {
	c.withDefaults()
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
		river.AddWorker(workers, &renderWorker{run: c.Run})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{Queue: {MaxWorkers: c.Workers}}
	}
	return rc
}

// InsertOpts are the options every render job is inserted with.
func InsertOpts() *river.InsertOpts { return &river.InsertOpts{Queue: Queue} }

type renderWorker struct {
	river.WorkerDefaults[RenderArgs]
	run RunFunc
}

func (w *renderWorker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	err := w.run(ctx, Job{GenerationID: job.Args.GenerationID, Attempt: job.Attempt, MaxAttempts: job.MaxAttempts})
	if errors.Is(err, ErrRequeue) {
		// A snooze does not spend an attempt.
		return river.JobSnooze(time.Second)
	}
	return err
}
