package generation_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
)

// TestExpire runs the sweep over a real store and disk: an ended
// generation older than the retention loses its video, its kept input and
// its record; one still queued, and one too recent, are left alone.
func TestExpire(t *testing.T) {
	ctx := context.Background()
	svc, _ := setup(t, &scriptedEngine{})
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return clock }
	svc.Retention = 7 * 24 * time.Hour
	svc.Inputs = &input.Files{Blobs: svc.Blobs, TempDir: t.TempDir()}
	png, err := os.ReadFile(filepath.Join("..", "..", "cmd", "stillmotion", "testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	submitRun := func(run bool) *generation.Generation {
		t.Helper()
		req, err := generation.ParseRequest(fmt.Appendf(nil, `{"model":%q,"prompt":"p","image_url":"data:image/png;base64,%s"}`, generation.Model, base64.StdEncoding.EncodeToString(png)))
		if err != nil {
			t.Fatal(err)
		}
		g, err := svc.Submit(ctx, "k", true, req)
		if err != nil {
			t.Fatal(err)
		}
		if run {
			if err := svc.Run(ctx, generation.Attempt{GenerationID: g.ID, Number: 1, Max: 3}); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	old, queued := submitRun(true), submitRun(false)
	if got, want := svc.ExpiresAt(old), clock.Add(7*24*time.Hour); !got.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", got, want)
	}
	clock = clock.Add(3 * 24 * time.Hour)
	recent := submitRun(true)
	done, err := svc.Get(ctx, "k", old.ID)
	if err != nil || done.Video == nil {
		t.Fatalf("the generation did not complete: %+v, %v", done, err)
	}
	files := func(g *generation.Generation) []string {
		return []string{g.ID + "/output.mp4", g.ID + "/input.png"}
	}
	exists := func(key string) bool {
		r, err := svc.Blobs.Open(ctx, key)
		if err == nil {
			r.Close()
		}
		return err == nil
	}
	for _, key := range append(files(old), files(recent)...) {
		if !exists(key) {
			t.Fatalf("%s was not stored", key)
		}
	}

	// Just before its expiry nothing goes.
	clock = old.Created.Add(svc.Retention - time.Second)
	if n, err := svc.Expire(ctx); n != 0 || err != nil {
		t.Fatalf("Expire before the time = %d, %v", n, err)
	}
	clock = old.Created.Add(svc.Retention + time.Second)
	if n, err := svc.Expire(ctx); n != 1 || err != nil {
		t.Fatalf("Expire = %d, %v; want 1", n, err)
	}
	if _, err := svc.Get(ctx, "k", old.ID); fault.KindOf(err) != fault.NotFound {
		t.Errorf("Get of the expired generation = %v, want NotFound", err)
	}
	for _, key := range files(old) {
		if exists(key) {
			t.Errorf("%s was left", key)
		}
	}
	for _, key := range files(recent) {
		if !exists(key) {
			t.Errorf("%s of the recent generation was removed", key)
		}
	}
	if _, err := svc.Get(ctx, "k", queued.ID); err != nil {
		t.Errorf("the queued generation was deleted: %v", err)
	}
	if !exists(queued.ID + "/input.png") {
		t.Error("the queued generation's input was removed")
	}

	// With retention off, nothing expires and nothing says it will.
	svc.Retention = 0
	clock = clock.Add(100 * 24 * time.Hour)
	if n, err := svc.Expire(ctx); n != 0 || err != nil {
		t.Errorf("Expire with retention off = %d, %v", n, err)
	}
	if !svc.ExpiresAt(recent).IsZero() {
		t.Errorf("ExpiresAt with retention off = %v, want zero", svc.ExpiresAt(recent))
	}
	if _, err := svc.Get(ctx, "k", recent.ID); err != nil {
		t.Errorf("retention off deleted a generation: %v", err)
	}
}

// memStore is a Store of ended generations in memory, for the sweep's
// batches. Only Expired and Purge are implemented.
type memStore struct {
	generation.Store
	mu      sync.Mutex
	gens    []*generation.Generation // oldest first
	batches []int                    // the ids purged per call
}

func (m *memStore) Expired(_ context.Context, before time.Time, limit int) ([]*generation.Generation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*generation.Generation
	for _, g := range m.gens {
		if len(out) < limit && g.Created.Before(before) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (m *memStore) Purge(_ context.Context, ids []string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.gens)
	m.gens = slices.DeleteFunc(m.gens, func(g *generation.Generation) bool { return slices.Contains(ids, g.ID) })
	m.batches = append(m.batches, len(ids))
	return n - len(m.gens), nil
}

// flakyBlobs removes every file but those in stuck.
type flakyBlobs struct {
	generation.Blobs
	mu      sync.Mutex
	stuck   map[string]bool
	removed []string
}

func (b *flakyBlobs) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stuck[key] {
		return errors.New("the object store is down")
	}
	b.removed = append(b.removed, key)
	return nil
}

// TestExpireBatches: the sweep deletes in batches until none is left, and
// keeps the generations whose files it could not remove for the next one.
func TestExpireBatches(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	st := &memStore{}
	const total = 2*generation.ExpireBatch + 3
	for i := range total {
		st.gens = append(st.gens, &generation.Generation{ID: fmt.Sprintf("g%04d", i), Status: generation.Completed,
			Created: now.Add(-30 * 24 * time.Hour), Video: &generation.Video{Key: fmt.Sprintf("g%04d/output.mp4", i)}})
	}
	blobs := &flakyBlobs{stuck: map[string]bool{"g0007/output.mp4": true}}
	svc := &generation.Service{Store: st, Blobs: blobs, Retention: 7 * 24 * time.Hour, Now: func() time.Time { return now }}
	n, err := svc.Expire(context.Background())
	if err != nil || n != total-1 {
		t.Fatalf("Expire = %d, %v; want %d", n, err, total-1)
	}
	// The stuck one comes back first in every batch.
	if want := []int{generation.ExpireBatch - 1, generation.ExpireBatch - 1, 4}; !slices.Equal(st.batches, want) {
		t.Errorf("purged batches of %v, want %v", st.batches, want)
	}
	if len(st.gens) != 1 || st.gens[0].ID != "g0007" || len(blobs.removed) != total-1 {
		t.Errorf("left %d generations, removed %d files; want g0007 alone kept", len(st.gens), len(blobs.removed))
	}
	// Once its file can go, so does it; a sweep with nothing stuck and
	// nothing left ends at once.
	delete(blobs.stuck, "g0007/output.mp4")
	if n, err := svc.Expire(context.Background()); n != 1 || err != nil || len(st.gens) != 0 {
		t.Errorf("second Expire = %d, %v; %d left", n, err, len(st.gens))
	}
}

func TestExpireInterval(t *testing.T) {
	for _, tt := range []struct{ retention, want time.Duration }{
		{7 * 24 * time.Hour, 5 * time.Minute},
		{10 * time.Minute, 150 * time.Second},
		{2 * time.Second, time.Second},
	} {
		if got := generation.ExpireInterval(tt.retention); got != tt.want {
			t.Errorf("ExpireInterval(%v) = %v, want %v", tt.retention, got, tt.want)
		}
	}
}
