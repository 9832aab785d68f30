package generation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
	calls int
}

func (e *scriptedEngine) Render(ctx context.Context, req *generation.Request, out string, progress func(float64)) (*generation.Output, error) {
	e.calls++
	progress(0.5)
	if e.err != nil {
		return nil, e.err
	}
	if err := os.WriteFile(out, []byte("mp4 bytes"), 0o644); err != nil {
		return nil, err
	}
	return &generation.Output{Width: 4, Height: 2, Duration: 5, FPS: 24, HasAudio: true, Plan: "zoom in"}, nil
}

func setup(t *testing.T, eng generation.Engine) (*generation.Service, *store.SQLite) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db"), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	files := &blob.Disk{Dir: t.TempDir(), BaseURL: "http://x", Secret: []byte("k")}
	return &generation.Service{Store: st, Blobs: files, Engine: eng, Prices: billing.Default(), TempDir: t.TempDir()}, st
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
			err := svc.Run(context.Background(), queue.Job{GenerationID: g.ID, Attempt: tt.attempt, MaxAttempts: 3})
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
				if err := svc.Run(context.Background(), queue.Job{GenerationID: g.ID, Attempt: 2, MaxAttempts: 3}); err != nil || eng.calls != 1 {
					t.Errorf("second run: %v, engine calls %d", err, eng.calls)
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
	err := svc.Run(ctx, queue.Job{GenerationID: g.ID, Attempt: 3, MaxAttempts: 3})
	if !errors.Is(err, queue.ErrRequeue) {
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
