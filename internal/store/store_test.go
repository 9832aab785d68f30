package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// subject is what the conformance suite needs of a store.
type subject interface {
	generation.Store
	auth.Store
	QueueDepth(ctx context.Context) (int, error)
}

// runSuite checks the behaviour every store must share. It runs against
// each implementation.
func runSuite(t *testing.T, open func(t *testing.T) subject) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	newGen := func(id, key string, credits int64) *generation.Generation {
		return &generation.Generation{ID: id, KeyID: key, Status: generation.Queued, Credits: credits, Created: now, Updated: now,
			Request: generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5, Seed: 9, SeedGiven: true}}
	}
	addKey := func(t *testing.T, s subject, id string, credits int64) {
		t.Helper()
		if err := s.CreateKey(ctx, &auth.Key{ID: id, Name: id, Hash: auth.Hash(id), Credits: credits, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("insert and get round trip", func(t *testing.T) {
		s := open(t)
		g := newGen("g1", "env_x", 420000)
		if err := s.Insert(ctx, g, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "g1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Request != g.Request || got.Status != generation.Queued || got.Credits != 420000 || !got.Created.Equal(now) {
			t.Errorf("got %+v", got)
		}
		if n, _ := s.QueueDepth(ctx); n != 1 {
			t.Errorf("queue depth %d, want 1 job with the row", n)
		}
		if _, err := s.Get(ctx, "nope"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("Get(nope) = %v", err)
		}
	})
	t.Run("debit, shortfall and refund", func(t *testing.T) {
		s := open(t)
		addKey(t, s, "k", 500_000)
		if err := s.Insert(ctx, newGen("a", "k", 420_000), false); err != nil {
			t.Fatal(err)
		}
		err := s.Insert(ctx, newGen("b", "k", 420_000), false)
		if fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("second insert = %v, want Forbidden", err)
		}
		if _, err := s.Get(ctx, "b"); fault.KindOf(err) != fault.NotFound {
			t.Error("refused generation was stored")
		}
		if n, _ := s.QueueDepth(ctx); n != 1 {
			t.Errorf("queue depth %d, want 1", n)
		}
		if err := s.Finish(ctx, "a", nil, &generation.Failure{Name: "render_failed", Message: "m"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "a", nil, &generation.Failure{Name: "render_failed", Message: "m"}); fault.KindOf(err) != fault.Conflict {
			t.Errorf("second Finish = %v, want Conflict", err)
		}
		k, _ := s.KeyByHash(ctx, auth.Hash("k"))
		if k.Credits != 500_000 {
			t.Errorf("balance %d after refund, want 500000 (refunded exactly once)", k.Credits)
		}
	})
	t.Run("progress and completion", func(t *testing.T) {
		s := open(t)
		s.Insert(ctx, newGen("g", "k", 1), true)
		if err := s.Progress(ctx, "g", 0.5, "zoom in"); err != nil {
			t.Fatal(err)
		}
		g, _ := s.Get(ctx, "g")
		if g.Status != generation.Generating || g.Progress != 0.5 || g.Plan != "zoom in" {
			t.Errorf("got %+v", g)
		}
		v := &generation.Video{Key: "g/output.mp4", FileName: "output.mp4", Size: 10, Width: 2, Height: 2, Duration: 5, FPS: 24, HasAudio: true}
		if err := s.Finish(ctx, "g", v, nil); err != nil {
			t.Fatal(err)
		}
		g, _ = s.Get(ctx, "g")
		if g.Status != generation.Completed || g.Video == nil || g.Video.Size != 10 || g.Plan != "zoom in" {
			t.Errorf("got %+v", g)
		}
		if err := s.Progress(ctx, "g", 0.1, ""); fault.KindOf(err) != fault.Conflict {
			t.Errorf("Progress after completion = %v, want Conflict", err)
		}
	})
	t.Run("keys", func(t *testing.T) {
		s := open(t)
		addKey(t, s, "one", 5)
		if err := s.CreateKey(ctx, &auth.Key{ID: "two", Name: "one", Hash: "h2", Created: now}); fault.KindOf(err) != fault.Conflict {
			t.Errorf("duplicate name = %v, want Conflict", err)
		}
		if err := s.CreateKey(ctx, &auth.Key{ID: "u", Name: "u", Hash: "hu", Unlimited: true, Created: now}); err != nil {
			t.Fatal(err)
		}
		keys, _ := s.Keys(ctx)
		if len(keys) != 2 || keys[0].Credits != 5 || !keys[1].Unlimited {
			t.Errorf("keys %+v %+v", keys[0], keys[1])
		}
		if err := s.RevokeKey(ctx, "one"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KeyByHash(ctx, auth.Hash("one")); fault.KindOf(err) != fault.NotFound {
			t.Errorf("revoked key still found: %v", err)
		}
		if err := s.RevokeKey(ctx, "one"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("revoking twice = %v", err)
		}
		// The name is free again.
		if err := s.CreateKey(ctx, &auth.Key{ID: "one-b", Name: "one", Hash: "h3", Created: now}); err != nil {
			t.Errorf("reusing a revoked key's name: %v", err)
		}
	})
}

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) subject {
		s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), queue.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSQLiteRequeuesInterruptedJobs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSQLite(ctx, path, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	g := &generation.Generation{ID: "g", KeyID: "k", Status: generation.Queued, Created: time.Now(), Updated: time.Now()}
	if err := s.Insert(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	// What a process killed mid-render leaves behind.
	s.Progress(ctx, "g", 0.3, "")
	if _, err := s.db.Exec(`UPDATE river_job SET state = 'running'`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ran := make(chan string, 1)
	s, err = OpenSQLite(ctx, path, queue.Config{Workers: 1, Run: func(ctx context.Context, j queue.Job) error {
		ran <- j.GenerationID
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A second process with workers is refused: it could steal running jobs.
	if _, err := OpenSQLite(ctx, path, queue.Config{Workers: 1, Run: func(context.Context, queue.Job) error { return nil }}); fault.KindOf(err) != fault.Unavailable {
		t.Errorf("second worker process = %v, want Unavailable", err)
	}
	if g, _ := s.Get(ctx, "g"); g.Status != generation.Queued {
		t.Errorf("status after recovery %s, want queued", g.Status)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	select {
	case id := <-ran:
		if id != "g" {
			t.Errorf("ran %s", id)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the interrupted job never ran again")
	}
}
