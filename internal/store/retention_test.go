package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// expirySuite checks Expired and Purge; runSuite runs it on each database.
func expirySuite(t *testing.T, open func(t *testing.T) *DB) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	cutoff := now.Add(-7 * 24 * time.Hour)
	// seed stores, created days ago each: a completed (with an
	// idempotency key), b cancelled (its job finished), f completed then
	// deleted by its owner, q still queued, r rendering, and n completed
	// but too recent.
	seed := func(t *testing.T, s *DB) {
		t.Helper()
		for _, g := range []struct {
			id   string
			days int
		}{{"a", 10}, {"b", 9}, {"f", 8}, {"q", 11}, {"r", 11}, {"n", 6}} {
			created := now.Add(-time.Duration(g.days) * 24 * time.Hour)
			gen := &generation.Generation{ID: g.id, KeyID: "k", Status: generation.Queued, Credits: 1, Created: created, Updated: created,
				Request: generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "stored:" + g.id + "/input.png", Resolution: "720p", Duration: 5}}
			if g.id == "a" {
				gen.IdempotencyKey, gen.RequestHash = "idem-a", "h"
			}
			if err := s.Insert(ctx, gen, true); err != nil {
				t.Fatal(err)
			}
		}
		video := func(id string) *generation.Video {
			return &generation.Video{Key: id + "/output.mp4", FileName: "output.mp4", Size: 1}
		}
		for _, err := range []error{
			s.Finish(ctx, "a", video("a"), nil),
			s.Cancel(ctx, "b", &generation.Failure{Name: "cancelled", Message: "m"}),
			s.Finish(ctx, "f", video("f"), nil),
			s.Delete(ctx, "f"),
			s.Progress(ctx, "r", 0.5, ""),
			s.Finish(ctx, "n", video("n"), nil),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(gs []*generation.Generation) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.ID)
		}
		return out
	}
	count := func(t *testing.T, s *DB, q string, args ...any) int {
		t.Helper()
		var n int
		if err := s.b.queryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jobOf := func(t *testing.T, s *DB, id string) int64 {
		t.Helper()
		var job sql.NullInt64
		if err := s.b.queryRow(ctx, `SELECT job_id FROM generation WHERE id = ?`, id).Scan(&job); err != nil || !job.Valid {
			t.Fatalf("job of %s: %v, %v", id, job, err)
		}
		return job.Int64
	}

	t.Run("only ended generations older than the cutoff, oldest first", func(t *testing.T) {
		s := open(t)
		seed(t, s)
		gs, err := s.Expired(ctx, cutoff, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(gs), []string{"a", "b", "f"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Expired = %v, want %v", got, want)
		}
		if gs[0].Video == nil || gs[0].Video.Key != "a/output.mp4" || gs[0].Request.ImageURL != "stored:a/input.png" || !gs[2].Deleted {
			t.Errorf("Expired does not say which files to remove: %+v", gs)
		}
		if gs, _ := s.Expired(ctx, cutoff, 2); !reflect.DeepEqual(ids(gs), []string{"a", "b"}) {
			t.Errorf("Expired with limit 2 = %v", ids(gs))
		}
	})
	t.Run("purge deletes the records, their keys and finished jobs", func(t *testing.T) {
		s := open(t)
		seed(t, s)
		jobA, jobB := jobOf(t, s, "a"), jobOf(t, s, "b")
		n, err := s.Purge(ctx, []string{"a", "b", "f", "q", "r", "nope"})
		if err != nil || n != 3 {
			t.Fatalf("Purge = %d, %v; want 3 (q and r have not ended, nope does not exist)", n, err)
		}
		for _, id := range []string{"a", "b", "f"} {
			if _, err := s.Get(ctx, id); fault.KindOf(err) != fault.NotFound {
				t.Errorf("Get(%s) after Purge = %v, want NotFound", id, err)
			}
		}
		for _, id := range []string{"q", "r", "n"} {
			if _, err := s.Get(ctx, id); err != nil {
				t.Errorf("Get(%s) = %v: purged what it must not", id, err)
			}
		}
		if c := count(t, s, `SELECT count(*) FROM idempotency_key WHERE generation_id = 'a'`); c != 0 {
			t.Errorf("%d idempotency keys of a left", c)
		}
		if c := count(t, s, `SELECT count(*) FROM river_job WHERE id = ?`, jobB); c != 0 {
			t.Error("b's cancelled job was left")
		}
		// a's job never ran here (no workers): a job not finished belongs
		// to a worker and is left to end.
		if c := count(t, s, `SELECT count(*) FROM river_job WHERE id = ?`, jobA); c != 1 {
			t.Error("a job that has not finished was deleted")
		}
		if n, err := s.Purge(ctx, []string{"a", "b", "f"}); err != nil || n != 0 {
			t.Errorf("purging again = %d, %v; want 0, nil", n, err)
		}
		if gs, err := s.Expired(ctx, cutoff, 100); err != nil || len(gs) != 0 {
			t.Errorf("Expired after Purge = %v, %v", ids(gs), err)
		}
		if n, err := s.Purge(ctx, nil); err != nil || n != 0 {
			t.Errorf("Purge(nil) = %d, %v", n, err)
		}
	})
	t.Run("processes purging the same generations at once", func(t *testing.T) {
		s := open(t)
		var batch []string
		for i := range 40 {
			id := "c" + string(rune('A'+i))
			created := now.Add(-30 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
			g := &generation.Generation{ID: id, KeyID: "k", Status: generation.Queued, Created: created, Updated: created}
			if err := s.Insert(ctx, g, true); err != nil {
				t.Fatal(err)
			}
			if err := s.Finish(ctx, id, nil, &generation.Failure{Name: "render_failed", Message: "m"}); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, id)
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for range 4 {
			wg.Go(func() {
				n, err := s.Purge(ctx, batch)
				if err != nil {
					t.Errorf("Purge: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != len(batch) {
			t.Errorf("the purges deleted %d generations in all, want each of the %d once", total, len(batch))
		}
		if c := count(t, s, `SELECT count(*) FROM generation`); c != 0 {
			t.Errorf("%d generations left", c)
		}
	})
}

// queryPlan opens a fresh SQLite store and returns its plan for q with
// args, one step per "; ".
func queryPlan(t *testing.T, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := s.b.query(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var plan []string
	for rs.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

// TestExpiredUsesItsIndex: the sweep's query reads the partial index of
// migration 8, not the whole table.
func TestExpiredUsesItsIndex(t *testing.T) {
	if p := queryPlan(t, expiredQuery, 0, 500); !strings.Contains(p, "generation_ended_created") {
		t.Errorf("plan %q does not use generation_ended_created", p)
	}
}

// TestQueuePositionUsesIndexes: a poll's queue position walks River's
// fetching index and finds generations by job in the partial index of
// migration 9, reading neither table whole.
func TestQueuePositionUsesIndexes(t *testing.T) {
	p := queryPlan(t, queuePositionQuery, "g")
	for _, want := range []string{"river_job_prioritized_fetching_index", "generation_queued_job"} {
		if !strings.Contains(p, want) {
			t.Errorf("plan %q does not use %s", p, want)
		}
	}
	if strings.Contains(p, "SCAN") {
		t.Errorf("plan %q scans a table or an index whole", p)
	}
}
