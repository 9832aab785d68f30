// Package enginetest is the conformance suite every engine kind passes:
// the built-in renderer and the adapters for remote models alike. An
// engine's tests call Run with a Harness that says how to make it succeed,
// take its time and fail.
package enginetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
)

// Harness is what the suite needs of an engine.
type Harness struct {
	// Engine is the engine under test.
	Engine generation.Engine
	// Request returns a request the engine renders.
	Request func() *generation.Request
	// Inputs, if set, gives every task its Task.Inputs.
	Inputs func(req *generation.Request) map[string]generation.Input
	// Script, if set, gives every task its Task.Script (the scripted
	// engine's test script).
	Script func(req *generation.Request) string
	// Slow returns a request whose render takes long enough (3 s or more)
	// to be cancelled midway. Defaults to Request.
	Slow func() *generation.Request
	// Failures are ways to make the engine fail, each with the kind of
	// error it must return.
	Failures []Failure
	// Stateless says the engine saves no state (it renders here): the
	// resume test is skipped.
	Stateless bool
	// Submissions, if set, counts the jobs the engine's server has been
	// given: the suite checks that an attempt resumed from saved state
	// does not submit again.
	Submissions func() int
}

// Failure is one way to make an engine fail.
type Failure struct {
	Name string
	// Setup prepares the failure (scripting a stand-in server, say) and
	// returns the request that fails.
	Setup func(t *testing.T) *generation.Request
	// Kind is the kind the error must have.
	Kind fault.Kind
}

// CancelWithin is how soon an engine must return after its context is
// cancelled.
const CancelWithin = 2 * time.Second

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("Renders", func(t *testing.T) { renders(t, h) })
	t.Run("Cancel", func(t *testing.T) { cancels(t, h) })
	t.Run("TimesOut", func(t *testing.T) { timesOut(t, h) })
	for _, f := range h.Failures {
		t.Run("Fails/"+f.Name, func(t *testing.T) { fails(t, h, f) })
	}
	if !h.Stateless {
		t.Run("Resume", func(t *testing.T) { resumes(t, h) })
	}
}

// progress records the values an engine reports.
type progress struct {
	mu   sync.Mutex
	seen []float64
	some chan struct{} // closed at the first value above 0
}

func newProgress() *progress { return &progress{some: make(chan struct{})} }

func (p *progress) report(v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v > 0 && (len(p.seen) == 0 || p.seen[len(p.seen)-1] <= 0) {
		close(p.some)
	}
	p.seen = append(p.seen, v)
}

func (p *progress) values() []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]float64(nil), p.seen...)
}

func (h *Harness) task(t *testing.T, req *generation.Request, p *progress) *generation.Task {
	tk := &generation.Task{ID: generation.NewID(), Request: req, Out: filepath.Join(t.TempDir(), "out.mp4"), Progress: p.report}
	if h.Inputs != nil {
		tk.Inputs = h.Inputs(req)
	}
	if h.Script != nil {
		tk.Script = h.Script(req)
	}
	return tk
}

func renders(t *testing.T, h Harness) {
	p := newProgress()
	task := h.task(t, h.Request(), p)
	var state []string
	task.Save = func(_ context.Context, s string) error { state = append(state, s); return nil }
	o, err := h.Engine.Render(context.Background(), task)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	vals := p.values()
	if len(vals) == 0 {
		t.Error("no progress reported")
	}
	for i, v := range vals {
		if v < 0 || v > 1 {
			t.Errorf("progress %v is outside 0..1", v)
		}
		if i > 0 && v < vals[i-1] {
			t.Errorf("progress went back from %v to %v", vals[i-1], v)
		}
	}
	info, err := media.Probe(context.Background(), task.Out)
	if err != nil {
		t.Fatalf("probing the output: %v", err)
	}
	if info.VideoCodec != "h264" || info.PixFmt != "yuv420p" {
		t.Errorf("video %s/%s, want h264/yuv420p", info.VideoCodec, info.PixFmt)
	}
	if info.HasAudio && info.AudioCodec != "aac" {
		t.Errorf("audio %s, want aac", info.AudioCodec)
	}
	if o.Width != info.Width || o.Height != info.Height || o.HasAudio != info.HasAudio {
		t.Errorf("reported %dx%d audio %v; the file is %dx%d audio %v", o.Width, o.Height, o.HasAudio, info.Width, info.Height, info.HasAudio)
	}
	if d := o.Duration - info.Duration; d > 0.1 || d < -0.1 {
		t.Errorf("reported %.3f s; the file has %.3f s", o.Duration, info.Duration)
	}
	if o.FPS <= 0 {
		t.Errorf("reported %d fps", o.FPS)
	}
	b, err := os.ReadFile(task.Out)
	if err != nil || len(b) < 8 || string(b[4:8]) != "ftyp" {
		t.Errorf("the output is not an MP4 file (%v)", err)
	}
}

func cancels(t *testing.T, h Harness) {
	slow := h.Slow
	if slow == nil {
		slow = h.Request
	}
	p := newProgress()
	task := h.task(t, slow(), p)
	// The client cancels the generation: the cause says so.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() {
		_, err := h.Engine.Render(ctx, task)
		done <- err
	}()
	select {
	case <-p.some:
	case err := <-done:
		t.Fatalf("the render ended (%v) before it could be cancelled: make Slow slower", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("no progress in 2 minutes")
	}
	cancel(generation.ErrCancelled)
	start := time.Now()
	select {
	case err := <-done:
		if took := time.Since(start); took > CancelWithin {
			t.Errorf("Render returned %v after its context was cancelled, want within %v", took, CancelWithin)
		}
		if fault.KindOf(err) != fault.Cancelled {
			t.Errorf("error %v (kind %v), want kind %v", err, fault.KindOf(err), fault.Cancelled)
		}
	case <-time.After(time.Minute):
		t.Fatal("Render did not return within a minute of its context being cancelled")
	}
	leftovers(t, task.Out)
}

// timesOut renders with a deadline that passes midway (Slow takes 3 s or
// more): the error is a Timeout, and nothing is left.
func timesOut(t *testing.T, h Harness) {
	slow := h.Slow
	if slow == nil {
		slow = h.Request
	}
	task := h.task(t, slow(), newProgress())
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := h.Engine.Render(ctx, task)
	if k := fault.KindOf(err); k != fault.Timeout {
		t.Errorf("error %v (kind %v), want kind %v", err, k, fault.Timeout)
	}
	leftovers(t, task.Out)
}

// leftovers fails when out exists, or a partial file beside it.
func leftovers(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file at %s after a failed render (%v)", out, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(out)) || strings.HasPrefix(e.Name(), filepath.Base(out)) {
			t.Errorf("a partial file %s beside the output", e.Name())
		}
	}
}

func fails(t *testing.T, h Harness, f Failure) {
	req := f.Setup(t)
	task := h.task(t, req, newProgress())
	_, err := h.Engine.Render(context.Background(), task)
	if err == nil {
		t.Fatal("Render succeeded, want an error")
	}
	if k := fault.KindOf(err); k != f.Kind {
		t.Errorf("error %v has kind %v, want %v", err, k, f.Kind)
	}
	msg := fault.MessageOf(err)
	if msg == fault.MessageOf(errors.New("")) || len(msg) < 10 {
		t.Errorf("message %q does not tell the user what went wrong", msg)
	}
	leftovers(t, task.Out)
}

// resumes stops a render once it has saved its state, as a worker that
// is stopping does (its context ends without generation.ErrCancelled), then
// renders again from that state, as the next attempt does: the engine's
// server must not be given the job twice, and the job must not have been
// cancelled there.
func resumes(t *testing.T, h Harness) {
	slow := h.Slow
	if slow == nil {
		slow = h.Request
	}
	req := slow()
	p := newProgress()
	task := h.task(t, req, p)
	var (
		mu    sync.Mutex
		state string
	)
	saved := make(chan struct{})
	task.Save = func(_ context.Context, s string) error {
		mu.Lock()
		defer mu.Unlock()
		if state == "" && s != "" {
			close(saved)
		}
		state = s
		return nil
	}
	before := 0
	if h.Submissions != nil {
		before = h.Submissions()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Engine.Render(ctx, task)
		done <- err
	}()
	select {
	case <-saved:
	case err := <-done:
		cancel()
		if err != nil {
			t.Fatalf("first attempt: %v", err)
		}
		t.Skip("the engine keeps no state: nothing to resume")
	}
	<-p.some
	cancel()
	if err := <-done; err == nil {
		t.Log("the first attempt finished before it was stopped")
	}
	mu.Lock()
	resumed := h.task(t, req, newProgress())
	resumed.ID, resumed.State = task.ID, state
	mu.Unlock()
	o, err := h.Engine.Render(context.Background(), resumed)
	if err != nil {
		t.Fatalf("resumed attempt: %v", err)
	}
	if o.Width == 0 {
		t.Error("resumed attempt reported no video")
	}
	if h.Submissions != nil {
		if n := h.Submissions() - before; n != 1 {
			t.Errorf("the engine's server was given the job %d times, want once", n)
		}
	}
}
