package generation_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/blob"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
	"stillmotion/internal/store"
)

// scriptedEngine is a test engine that writes a small file or fails as told.
type scriptedEngine struct {
	err   error
	calls atomic.Int32
}

func (e *scriptedEngine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	e.calls.Add(1)
	t.Report(0.5)
	out := t.Out
	if e.err != nil {
		return nil, e.err
	}
	if err := os.WriteFile(out, []byte("mp4 bytes"), 0o644); err != nil {
		return nil, err
	}
	return &generation.Output{Width: 4, Height: 2, Duration: 5, FPS: 24, HasAudio: true, Plan: "zoom in"}, nil
}

func setup(t *testing.T, eng generation.Engine) (*generation.Service, *store.DB) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db"), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	files := &blob.Disk{Dir: t.TempDir(), BaseURL: "http://x", Secret: []byte("k")}
	return &generation.Service{Store: st, Blobs: files, Engines: map[string]generation.Engine{generation.BuiltinEngine: eng}, Prices: billing.Default(), TempDir: t.TempDir(), Heartbeat: 100 * time.Millisecond}, st
}

func submit(t *testing.T, svc *generation.Service) *generation.Generation {
	t.Helper()
	g, err := svc.Submit(context.Background(), "k", true, &generation.Request{Model: generation.Model, Prompt: "p",
		ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		attempt    int
		wantErr    bool // the job is retried
		wantStatus generation.Status
		wantName   string
	}{
		{"success", nil, 1, false, generation.Completed, ""},
		{"permanent failure ends at once", fault.E(fault.ImageInvalid, "not an image"), 1, false, generation.Failed, "image_invalid"},
		{"transient failure is retried", fault.E(fault.Render, "ffmpeg died"), 1, true, generation.Generating, ""},
		{"transient failure on the last attempt ends", fault.E(fault.Render, "ffmpeg died"), 3, false, generation.Failed, "render_failed"},
		{"a bug shows no details", errors.New("nil map at engine.go:42"), 3, false, generation.Failed, "internal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &scriptedEngine{err: tt.err}
			svc, st := setup(t, eng)
			g := submit(t, svc)
			if g.Request.Seed < 0 || g.Request.Seed > generation.MaxSeed {
				t.Errorf("seed %d out of range", g.Request.Seed)
			}
			err := svc.Run(context.Background(), generation.Attempt{GenerationID: g.ID, Number: tt.attempt, Max: 3})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run = %v, want error %v", err, tt.wantErr)
			}
			got, _ := st.Get(context.Background(), g.ID)
			if got.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s", got.Status, tt.wantStatus)
			}
			if tt.wantName != "" && (got.Failure == nil || got.Failure.Name != tt.wantName) {
				t.Errorf("failure %+v, want %s", got.Failure, tt.wantName)
			}
			if got.Failure != nil && got.Failure.Name == "internal_error" && got.Failure.Message == "nil map at engine.go:42" {
				t.Error("internal details reached the client's message")
			}
			if got.Status == generation.Completed {
				if got.Video == nil || got.Video.Size != 9 || got.Plan != "zoom in" {
					t.Errorf("video %+v plan %q", got.Video, got.Plan)
				}
				// Running a completed generation again does nothing.
				if err := svc.Run(context.Background(), generation.Attempt{GenerationID: g.ID, Number: 2, Max: 3}); err != nil || eng.calls.Load() != 1 {
					t.Errorf("second run: %v, engine calls %d", err, eng.calls.Load())
				}
			}
		})
	}
}

func TestRunRequeuesWhenStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	svc, st := setup(t, &scriptedEngine{err: fault.Wrap(fault.Cancelled, "stopped", context.Canceled)})
	g := submit(t, svc)
	cancel()
	err := svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 3, Max: 3})
	if !errors.Is(err, generation.ErrRequeue) {
		t.Fatalf("Run = %v, want ErrRequeue", err)
	}
	if got, _ := st.Get(context.Background(), g.ID); got.Status.Terminal() {
		t.Errorf("status %s: a shutdown must not end the generation", got.Status)
	}
}

func TestGetHidesOtherKeys(t *testing.T) {
	svc, _ := setup(t, &scriptedEngine{})
	g := submit(t, svc)
	if _, err := svc.Get(context.Background(), "other", g.ID); fault.KindOf(err) != fault.NotFound {
		t.Errorf("other key: %v, want NotFound", err)
	}
	if _, err := svc.Get(context.Background(), "k", g.ID); err != nil {
		t.Errorf("owner: %v", err)
	}
}

// blockingEngine renders until its context is cancelled, writing a partial
// file as a real encoder would.
type blockingEngine struct {
	started chan string // the output path
	err     chan error  // why it stopped
}

func (e *blockingEngine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	out := t.Out
	os.WriteFile(out, []byte("partial"), 0o644)
	e.started <- out
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			os.Remove(out)
			e.err <- ctx.Err()
			return nil, fault.Wrap(fault.Cancelled, "stopped", ctx.Err())
		case <-time.After(10 * time.Millisecond):
			t.Report(float64(i%100) / 100)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	t.Run("queued: never starts", func(t *testing.T) {
		eng := &scriptedEngine{}
		svc, st := setup(t, eng)
		g := submit(t, svc)
		got, err := svc.Cancel(ctx, "k", g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != generation.Failed || got.Failure == nil || got.Failure.Name != "cancelled" {
			t.Fatalf("after cancel: %+v", got)
		}
		if err := svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}); err != nil || eng.calls.Load() != 0 {
			t.Errorf("running a cancelled generation: %v, engine calls %d", err, eng.calls.Load())
		}
		if got, _ := st.Get(ctx, g.ID); got.Status != generation.Failed {
			t.Errorf("status %s", got.Status)
		}
	})
	t.Run("other keys and ended generations", func(t *testing.T) {
		svc, _ := setup(t, &scriptedEngine{})
		g := submit(t, svc)
		if _, err := svc.Cancel(ctx, "other", g.ID); fault.KindOf(err) != fault.NotFound {
			t.Errorf("another key: %v, want NotFound", err)
		}
		if err := svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Cancel(ctx, "k", g.ID)
		if fault.KindOf(err) != fault.Conflict || fault.MessageOf(err) != "Generation "+g.ID+" has already completed; only queued or generating generations can be cancelled" {
			t.Errorf("completed: %v", err)
		}
	})
	t.Run("running: stops within the heartbeat", func(t *testing.T) {
		eng := &blockingEngine{started: make(chan string, 1), err: make(chan error, 1)}
		svc, st := setup(t, eng)
		g := submit(t, svc)
		done := make(chan error, 1)
		go func() { done <- svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}) }()
		out := <-eng.started
		t0 := time.Now()
		if _, err := svc.Cancel(ctx, "k", g.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, generation.ErrCancelled) {
				t.Errorf("Run = %v, want ErrCancelled", err)
			}
			t.Logf("render stopped %v after the cancel", time.Since(t0).Round(time.Millisecond))
		case <-time.After(2 * time.Second):
			t.Fatal("the render did not stop within 2 s of the cancel")
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("partial file left: %v", err)
		}
		if got, _ := st.Get(ctx, g.ID); got.Status != generation.Failed || got.Failure.Name != "cancelled" {
			t.Errorf("after cancel: %+v", got)
		}
	})
	t.Run("at the last moment: the file is removed", func(t *testing.T) {
		var svc *generation.Service
		var id string
		eng := &hookEngine{after: func() {
			if _, err := svc.Cancel(ctx, "k", id); err != nil {
				t.Error(err)
			}
		}}
		svc, _ = setup(t, eng)
		id = submit(t, svc).ID
		if err := svc.Run(ctx, generation.Attempt{GenerationID: id, Number: 1, Max: 3}); !errors.Is(err, generation.ErrCancelled) {
			t.Errorf("Run = %v, want ErrCancelled", err)
		}
		files := svc.Blobs.(*blob.Disk)
		if _, err := os.Stat(filepath.Join(files.Dir, id, "output.mp4")); !os.IsNotExist(err) {
			t.Errorf("a cancelled generation's file was kept: %v", err)
		}
	})
}

// hookEngine renders a small file and calls after before returning.
type hookEngine struct {
	scriptedEngine
	after func()
}

func (e *hookEngine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	o, err := e.scriptedEngine.Render(ctx, t)
	e.after()
	return o, err
}

// TestRunTwiceAtOnce runs one generation on two workers at the same time,
// as when the queue rescues a job whose worker was only slow: both render,
// exactly one completes it, and its file is kept.
func TestRunTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	var both sync.WaitGroup
	both.Add(2)
	eng := &hookEngine{after: func() { both.Done(); both.Wait() }}
	svc, st := setup(t, eng)
	g := submit(t, svc)
	errs := make(chan error, 2)
	for attempt := range 2 {
		go func() { errs <- svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: attempt + 1, Max: 3}) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	got, _ := st.Get(ctx, g.ID)
	if got.Status != generation.Completed || got.Video == nil {
		t.Fatalf("after two runs: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(svc.Blobs.(*blob.Disk).Dir, got.Video.Key)); err != nil {
		t.Errorf("the completed generation's file: %v", err)
	}
}

// TestGetEndsOrphans: a generation whose job ran out of attempts without a
// worker recording the outcome is ended in error, refunded, when read.
func TestGetEndsOrphans(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st, err := store.OpenSQLite(ctx, path, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := &generation.Service{Store: st, Prices: billing.Default()}
	if err := st.CreateKey(ctx, &auth.Key{ID: "k", Name: "k", Hash: "h", Credits: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	g, err := svc.Submit(ctx, "k", false, &generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5})
	if err != nil {
		t.Fatal(err)
	}
	st.Progress(ctx, g.ID, 0.5, "")
	// What River's rescuer leaves when the last attempt's worker died.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE river_job SET state = 'discarded', finalized_at = created_at`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got, err := svc.Get(ctx, "k", g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != generation.Failed || got.Failure == nil || got.Failure.Name != "render_failed" {
		t.Fatalf("orphan after a read: %+v", got)
	}
	keys, _ := st.Keys(ctx)
	if keys[0].Credits != 1_000_000 {
		t.Errorf("balance %d, want the orphan refunded", keys[0].Credits)
	}
}

func TestSubmitOnce(t *testing.T) {
	ctx := context.Background()
	svc, _ := setup(t, &scriptedEngine{})
	req := func(prompt string) *generation.Request {
		return &generation.Request{Model: generation.Model, Prompt: prompt, ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5}
	}
	first, replayed, err := svc.SubmitOnce(ctx, "k", true, req("p"), "key-1")
	if err != nil || replayed {
		t.Fatalf("first submit: %v, replayed %v", err, replayed)
	}
	tests := []struct {
		name         string
		keyID, key   string
		req          *generation.Request
		wantKind     fault.Kind // fault.Internal: no error
		wantReplayed bool
	}{
		{"same key and request", "k", "key-1", req("p"), fault.Internal, true},
		{"same key, other request", "k", "key-1", req("q"), fault.Conflict, false},
		{"same key, other API key", "k2", "key-1", req("p"), fault.Internal, false},
		{"no key", "k", "", req("p"), fault.Internal, false},
		{"key too long", "k", strings.Repeat("x", generation.MaxIdempotencyKey+1), req("p"), fault.Invalid, false},
		{"key not printable ASCII", "k", "a\tb", req("p"), fault.Invalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, replayed, err := svc.SubmitOnce(ctx, tt.keyID, true, tt.req, tt.key)
			if tt.wantKind != fault.Internal {
				if fault.KindOf(err) != tt.wantKind {
					t.Fatalf("err = %v, want kind %v", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if replayed != tt.wantReplayed || (g.ID == first.ID) != tt.wantReplayed {
				t.Errorf("got %s (replayed %v), first was %s; want replayed %v", g.ID, replayed, first.ID, tt.wantReplayed)
			}
		})
	}
}

// TestRunPreflight: a process whose disk is too full does not start the
// render: the generation ends as storage_full, refunded, and the engine
// is never called.
func TestRunPreflight(t *testing.T) {
	eng := &scriptedEngine{}
	svc, st := setup(t, eng)
	svc.Preflight = func() error {
		return fault.E(fault.StorageFull, "Storage is nearly full: 10 MiB free on /data, below the 256 MiB floor; retry later")
	}
	g := submit(t, svc)
	if err := svc.Run(context.Background(), generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}); err != nil {
		t.Fatalf("Run = %v", err)
	}
	got, _ := st.Get(context.Background(), g.ID)
	if got.Status != generation.Failed || got.Failure == nil || got.Failure.Name != "storage_full" ||
		!strings.Contains(got.Failure.Message, "10 MiB free on /data") || eng.calls.Load() != 0 {
		t.Errorf("generation %+v (failure %+v), engine calls %d", got.Status, got.Failure, eng.calls.Load())
	}
}

// waitingEngine renders until its context ends and reports that the way
// the encoder does: from ctx.Err(), which says Canceled for a context
// cancelled with a cause.
type waitingEngine struct{}

func (waitingEngine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fault.Wrap(fault.Timeout, "the generation ran out of time", ctx.Err())
	}
	return nil, fault.Wrap(fault.Cancelled, "the generation was cancelled", ctx.Err())
}

// TestRunOutOfTime: an attempt that runs past the queue's job timeout is a
// timeout, retried while attempts remain, never a client's cancel.
func TestRunOutOfTime(t *testing.T) {
	for _, tt := range []struct {
		attempt    int
		wantStatus generation.Status
	}{{1, generation.Generating}, {3, generation.Failed}} {
		svc, st := setup(t, waitingEngine{})
		g := submit(t, svc)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: tt.attempt, Max: 3})
		cancel()
		got, _ := st.Get(context.Background(), g.ID)
		if got.Status != tt.wantStatus {
			t.Fatalf("attempt %d: status %s (Run = %v), want %s", tt.attempt, got.Status, err, tt.wantStatus)
		}
		if tt.wantStatus == generation.Generating && err == nil {
			t.Errorf("attempt %d: Run = nil, want an error so that the queue retries", tt.attempt)
		}
		if tt.wantStatus == generation.Failed && (got.Failure == nil || got.Failure.Name != "timeout") {
			t.Errorf("attempt %d: failure %+v, want timeout", tt.attempt, got.Failure)
		}
	}
}

// stoppableEngine renders until its context ends, writing as it goes, and
// says whether the engine was told that the generation ends with it
// (generation.Cancelled), as a remote engine asks before cancelling its
// upstream job.
type stoppableEngine struct {
	started chan struct{}
	ended   chan bool // generation.Cancelled of the ended context
	calls   atomic.Int32
}

func (e *stoppableEngine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	e.calls.Add(1)
	os.WriteFile(t.Out, []byte("partial"), 0o644)
	close(e.started)
	<-ctx.Done()
	e.ended <- generation.Cancelled(ctx)
	return nil, fault.Wrap(fault.Cancelled, "the generation was cancelled", ctx.Err())
}

// TestRunStorageFull: a disk below the free-space floor ends the
// generation as storage_full, refunded, whether it is found before the
// render starts (the engine is never called) or while it runs (the
// heartbeat stops it): never a render_failed, a client's cancel or a
// retry.
func TestRunStorageFull(t *testing.T) {
	const msg = "Storage is nearly full: 10 MiB free on /data, below the 256 MiB floor; retry later"
	for _, tt := range []struct {
		name      string
		fullFirst bool // full before the render starts
	}{
		{"before the render", true},
		{"while rendering", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			eng := &stoppableEngine{started: make(chan struct{}), ended: make(chan bool, 1)}
			svc, st := setup(t, eng)
			var full atomic.Bool
			full.Store(tt.fullFirst)
			svc.Preflight = func() error {
				if full.Load() {
					return fault.E(fault.StorageFull, msg)
				}
				return nil
			}
			const balance = 1_000_000
			if err := st.CreateKey(ctx, &auth.Key{ID: "k", Name: "k", Hash: "h", Credits: balance}); err != nil {
				t.Fatal(err)
			}
			g, err := svc.Submit(ctx, "k", false, &generation.Request{Model: generation.Model, Prompt: "p",
				ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5})
			if err != nil {
				t.Fatal(err)
			}
			if keys, _ := st.Keys(ctx); keys[0].Credits != balance-g.Credits || g.Credits == 0 {
				t.Fatalf("balance %d after a submit of %d credits", keys[0].Credits, g.Credits)
			}
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}) }()
			if !tt.fullFirst {
				// The disk fills once the render has passed the check
				// before it.
				<-eng.started
				full.Store(true)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v, want nil (the generation ended)", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the render did not stop once the disk was full")
			}
			got, _ := st.Get(ctx, g.ID)
			if got.Status != generation.Failed || got.Failure == nil || got.Failure.Name != "storage_full" ||
				got.Failure.Message != msg+"; the generation was not charged" {
				t.Fatalf("generation %s, failure %+v; want storage_full with the floor's message", got.Status, got.Failure)
			}
			if keys, _ := st.Keys(ctx); keys[0].Credits != balance {
				t.Errorf("balance %d, want %d: the generation refunded", keys[0].Credits, balance)
			}
			if tt.fullFirst {
				if n := eng.calls.Load(); n != 0 {
					t.Errorf("engine called %d times with a full disk", n)
				}
				return
			}
			if !<-eng.ended {
				t.Error("generation.Cancelled = false: a remote engine would leave its upstream job running")
			}
		})
	}
}
