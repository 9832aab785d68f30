// Package scripted is the engine of test generations rendered fast: it
// behaves as the generation's test script says (see package testmode),
// taking the script's generate time with steady progress and then either
// writing a tiny valid MP4 or ending in the error the script names. It
// renders nothing; a script with render=real goes to the model's own
// engine instead.
package scripted

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/testmode"
)

// tiny is a valid 1 s MP4 (128x72, 24 fps, H.264 and silent AAC).
//
//go:embed tiny.mp4
var tiny []byte

// The tiny MP4's properties, as its Output reports them.
const (
	tinyWidth, tinyHeight = 128, 72
	tinyFPS               = 24
	tinyDuration          = 1.0
)

// Engine renders test generations as their scripts say.
type Engine struct {
	// Step is how often progress is reported while generating. Defaults
	// to 250 milliseconds.
	Step time.Duration
}

// Render implements generation.Engine.
func (e *Engine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	sc, err := testmode.Parse(t.Script)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "the generation's test script cannot be read", err)
	}
	if err := e.generate(ctx, t, sc.Generate); err != nil {
		return nil, err
	}
	if sc.Then.Status == "error" {
		k, _ := fault.Named(sc.Then.Name) // Parse checked it
		msg := sc.Then.Message
		if msg == "" {
			msg = fmt.Sprintf("The test script ended this generation in %s", sc.Then.Name)
		}
		return nil, fault.E(k, msg)
	}
	if err := os.WriteFile(t.Out, tiny, 0o644); err != nil {
		return nil, fault.Wrap(fault.Internal, "writing the video failed", err)
	}
	t.Report(1)
	return &generation.Output{Width: tinyWidth, Height: tinyHeight, Duration: tinyDuration, FPS: tinyFPS, HasAudio: true,
		Plan: "test script: " + sc.String()}, nil
}

// generate waits d, reporting progress every Step, or until ctx is done.
func (e *Engine) generate(ctx context.Context, t *generation.Task, d time.Duration) error {
	step := e.Step
	if step <= 0 {
		step = 250 * time.Millisecond
	}
	start := time.Now()
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fault.Wrap(fault.Timeout, "the generation ran out of time", ctx.Err())
			}
			return fault.Wrap(fault.Cancelled, "the generation was cancelled", context.Cause(ctx))
		case <-end.C:
			return nil
		case <-tick.C:
			t.Report(min(0.99, float64(time.Since(start))/float64(d)))
		}
	}
}
