package generation_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// awayStore is a store whose database is away for its first calls: Get and
// Finish fail with the store's fault.Unavailable error that many times.
type awayStore struct {
	generation.Store
	gets, finishes atomic.Int32
}

var errAway = fault.E(fault.Unavailable, "The database is unavailable; retry after the time in Retry-After")

func (s *awayStore) Get(ctx context.Context, id string) (*generation.Generation, error) {
	if s.gets.Add(-1) >= 0 {
		return nil, errAway
	}
	return s.Store.Get(ctx, id)
}

func (s *awayStore) Finish(ctx context.Context, id string, v *generation.Video, f *generation.Failure) error {
	if s.finishes.Add(-1) >= 0 {
		return errAway
	}
	return s.Store.Finish(ctx, id, v, f)
}

// TestRunDatabaseAway: an attempt whose database is away neither loses
// what it rendered nor fails its generation, even on the last attempt.
func TestRunDatabaseAway(t *testing.T) {
	tests := []struct {
		name             string
		engineErr        error
		gets, finishes   int32
		wantErr          error
		wantStatus       generation.Status
		wantEngineCalls  int32
		wantFailureNamed string
	}{
		{"a render that ends is recorded when the database is back", nil, 0, 3, nil, generation.Completed, 1, ""},
		{"a failure is recorded when the database is back", fault.E(fault.ImageInvalid, "not an image"), 0, 2, nil, generation.Failed, 1, "image_invalid"},
		{"an attempt that cannot read its generation is put back, not spent", nil, 1, 0, generation.ErrRequeue, generation.Queued, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &scriptedEngine{err: tt.engineErr}
			svc, st := setup(t, eng)
			g := submit(t, svc)
			away := &awayStore{Store: st}
			away.gets.Store(tt.gets)
			away.finishes.Store(tt.finishes)
			svc.Store = away
			err := svc.Run(context.Background(), generation.Attempt{GenerationID: g.ID, Number: 3, Max: 3})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run = %v, want %v", err, tt.wantErr)
			}
			got, err := st.Get(context.Background(), g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("status %s (%+v), want %s", got.Status, got.Failure, tt.wantStatus)
			}
			if tt.wantFailureNamed != "" && (got.Failure == nil || got.Failure.Name != tt.wantFailureNamed) {
				t.Errorf("failure %+v, want %s", got.Failure, tt.wantFailureNamed)
			}
			if n := eng.calls.Load(); n != tt.wantEngineCalls {
				t.Errorf("the engine rendered %d times, want %d", n, tt.wantEngineCalls)
			}
			if left := away.finishes.Load(); left > 0 {
				t.Errorf("Finish was tried %d times fewer than the outage lasted", left)
			}
		})
	}
}
