package queue

import (
	"context"
	"strings"
	"testing"
	"time"
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
		{"unknown queue", Config{Queues: []string{"render_upstream"}}, `unknown queue "render_upstream": this build renders the queues render_builtin`},
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
