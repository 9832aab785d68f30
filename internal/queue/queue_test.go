package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

func TestConfig(t *testing.T) {
	run := func(context.Context, Job) error { return nil }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{}, ""},
		{"workers", Config{Workers: 2, Run: run}, ""},
		{"workers without a run function", Config{Workers: 2}, "Run function"},
		{"rescue before the timeout", Config{JobTimeout: time.Minute, RescueAfter: 30 * time.Second}, "must exceed"},
		{"unknown queue", Config{Queues: []string{"render_upstream"}}, `unknown queue "render_upstream": the queues are render_builtin (one per engine)`},
		{"the built-in queue", Config{Queues: []string{For(DefaultEngine)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.Defaults()
			err := c.Validate()
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
	var c Config
	c.Defaults()
	if c.JobTimeout != 10*time.Minute || c.RescueAfter != 11*time.Minute || c.MaxAttempts != 3 || len(c.Queues) != 1 || c.Queues[0] != "render_builtin" {
		t.Errorf("defaults %+v", c)
	}
	rc := RiverConfig(Config{Workers: 3, Run: run})
	if rc.Queues["render_builtin"].MaxWorkers != 3 || rc.RescueStuckJobsAfter <= rc.JobTimeout {
		t.Errorf("river config %+v", rc)
	}
	if rc := RiverConfig(Config{}); rc.Queues != nil || rc.Workers != nil {
		t.Error("an insert-only config has queues or workers")
	}
}

func TestWebhookWorker(t *testing.T) {
	run := func(context.Context, Job) error { return nil }
	deliver := func(_ context.Context, a WebhookArgs) error {
		if a.URL == "https://gone.example/" {
			return fmt.Errorf("%w: 410", ErrGiveUp)
		}
		return errors.New("503")
	}
	rc := RiverConfig(Config{Workers: 1, Run: run, Deliver: deliver})
	if _, ok := rc.Queues[WebhookQueue]; !ok {
		t.Fatalf("no %s queue in %+v", WebhookQueue, rc.Queues)
	}
	if rc := RiverConfig(Config{Workers: 1, Run: run}); len(rc.Queues) != 1 {
		t.Errorf("a process without Deliver works the webhook queue: %+v", rc.Queues)
	}
	w := &webhookWorker{deliver: deliver, backoff: func(n int) time.Duration { return time.Duration(n) * time.Hour }}
	var cancel *river.JobCancelError
	if err := w.Work(context.Background(), &river.Job[WebhookArgs]{JobRow: &rivertype.JobRow{}, Args: WebhookArgs{URL: "https://gone.example/"}}); !errors.As(err, &cancel) {
		t.Errorf("give up = %v, want a JobCancel", err)
	}
	if err := w.Work(context.Background(), &river.Job[WebhookArgs]{JobRow: &rivertype.JobRow{}, Args: WebhookArgs{URL: "https://down.example/"}}); err == nil || errors.As(err, &cancel) {
		t.Errorf("retryable = %v", err)
	}
	next := w.NextRetry(&river.Job[WebhookArgs]{JobRow: &rivertype.JobRow{Attempt: 3}})
	if d := time.Until(next); d < 2*time.Hour || d > 3*time.Hour {
		t.Errorf("NextRetry after attempt 3 in %v, want the backoff's 3h", d)
	}
	if got := WebhookInsertOpts(15); got.Queue != WebhookQueue || got.MaxAttempts != 15 {
		t.Errorf("insert opts %+v", got)
	}
}
