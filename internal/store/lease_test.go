package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// leaseSuite checks the leases of remote workers, on every store.
func leaseSuite(t *testing.T, openQ opener) {
	ctx := context.Background()
	open := func(t *testing.T) *DB { return openQ(t, queue.Config{}) }
	insert := func(t *testing.T, s *DB, id string) {
		t.Helper()
		now := time.Now()
		g := &generation.Generation{ID: id, KeyID: "k", Status: generation.Queued, Credits: 100, Created: now, Updated: now,
			Request: generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5}}
		if err := s.Insert(ctx, g, false); err != nil {
			t.Fatal(err)
		}
	}
	take := func(t *testing.T, s *DB, q string) (*generation.Lease, *generation.Generation) {
		t.Helper()
		now := time.Now()
		l := &generation.Lease{ID: generation.NewID(), Worker: "gpu1", Until: now.Add(time.Minute), Deadline: now.Add(10 * time.Minute)}
		g, err := s.TakeLease(ctx, q, l)
		if err != nil {
			t.Fatal(err)
		}
		return l, g
	}
	jobOf := func(t *testing.T, s *DB, id string) (state string, attempt int) {
		t.Helper()
		if err := s.b.queryRow(ctx, `SELECT state, attempt FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = ?)`, id).Scan(&state, &attempt); err != nil {
			t.Fatal(err)
		}
		return state, attempt
	}
	keyed := func(t *testing.T, s *DB) {
		t.Helper()
		if err := s.CreateKey(ctx, &auth.Key{ID: "k", Name: "k", Hash: auth.Hash("k"), Credits: 100_000, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	const q = "render_builtin"

	t.Run("jobs are taken in order, once, and only from their queue", func(t *testing.T) {
		s := open(t)
		keyed(t, s)
		insert(t, s, "a")
		insert(t, s, "b")
		if l, g := take(t, s, "render_other"); g != nil {
			t.Fatalf("leased %s from another queue (%+v)", g.ID, l)
		}
		l, g := take(t, s, q)
		if g == nil || g.ID != "a" || g.Status != generation.Generating || g.Request.Prompt != "p" {
			t.Fatalf("first lease: %+v", g)
		}
		if l.GenerationID != "a" || l.Attempt != 1 || l.MaxAttempts != 3 || l.Queue != q {
			t.Errorf("lease %+v, want generation a, attempt 1 of 3", l)
		}
		if state, attempt := jobOf(t, s, "a"); state != "running" || attempt != 1 {
			t.Errorf("job %s, attempt %d; want running, 1", state, attempt)
		}
		if _, g := take(t, s, q); g == nil || g.ID != "b" {
			t.Fatalf("second lease: %+v", g)
		}
		if _, g := take(t, s, q); g != nil {
			t.Fatalf("a third lease of two jobs: %s", g.ID)
		}
		got, err := s.Lease(ctx, l.ID)
		if err != nil || got.GenerationID != "a" || got.Worker != "gpu1" || !got.Until.Equal(l.Until.Truncate(time.Millisecond)) {
			t.Errorf("Lease = %+v, %v", got, err)
		}
		if _, err := s.Lease(ctx, "nope"); fault.KindOf(err) != fault.Gone {
			t.Errorf("Lease(nope) = %v, want Gone", err)
		}
	})

	t.Run("renewing records progress and state, and finds a cancel", func(t *testing.T) {
		s := open(t)
		keyed(t, s)
		insert(t, s, "a")
		l, _ := take(t, s, q)
		until := time.Now().Add(2 * time.Minute).Truncate(time.Millisecond)
		got, err := s.RenewLease(ctx, l.ID, until, 0.4, `{"job":"x"}`)
		if err != nil || !got.Until.Equal(until) {
			t.Fatalf("RenewLease = %+v, %v", got, err)
		}
		g, _ := s.Get(ctx, "a")
		if g.Progress != 0.4 || g.EngineState != `{"job":"x"}` {
			t.Errorf("after renewal: progress %v, state %q", g.Progress, g.EngineState)
		}
		if err := s.NotePart(ctx, l.ID, 3); err != nil {
			t.Fatal(err)
		}
		s.NotePart(ctx, l.ID, 2)
		if got, _ := s.Lease(ctx, l.ID); got.Parts != 3 {
			t.Errorf("parts %d, want the highest, 3", got.Parts)
		}
		if err := s.Cancel(ctx, "a", &generation.Failure{Name: "cancelled", Message: "m"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RenewLease(ctx, l.ID, until, 0.5, ""); fault.KindOf(err) != fault.Conflict {
			t.Errorf("renewing a cancelled generation's lease = %v, want Conflict", err)
		}
		if _, err := s.Lease(ctx, l.ID); fault.KindOf(err) != fault.Gone {
			t.Errorf("the lease of a cancelled generation lives on: %v", err)
		}
		if state, _ := jobOf(t, s, "a"); state != "cancelled" {
			t.Errorf("job %s, want cancelled", state)
		}
		if _, err := s.RenewLease(ctx, l.ID, until, 0.5, ""); fault.KindOf(err) != fault.Gone {
			t.Errorf("renewing an ended lease = %v, want Gone", err)
		}
		if err := s.NotePart(ctx, l.ID, 1); fault.KindOf(err) != fault.Gone {
			t.Errorf("a part for an ended lease = %v, want Gone", err)
		}
	})

	t.Run("ends: completed, failed, retried, handed back; each once", func(t *testing.T) {
		s := open(t)
		keyed(t, s)
		for _, id := range []string{"done", "bad", "again", "back"} {
			insert(t, s, id)
		}
		leases := map[string]*generation.Lease{}
		for range 4 {
			l, g := take(t, s, q)
			leases[g.ID] = l
		}
		v := &generation.Video{Key: "done/output-x.mp4", FileName: "output.mp4", Size: 7}
		if _, err := s.EndLease(ctx, leases["done"].ID, generation.LeaseEnd{Video: v}); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.Get(ctx, "done"); g.Status != generation.Completed || g.Video.Key != v.Key {
			t.Errorf("completed: %+v", g)
		}
		if state, _ := jobOf(t, s, "done"); state != "completed" {
			t.Errorf("job %s, want completed", state)
		}
		if _, err := s.EndLease(ctx, leases["done"].ID, generation.LeaseEnd{Video: v}); fault.KindOf(err) != fault.Gone {
			t.Errorf("completing twice = %v, want Gone", err)
		}

		if _, err := s.EndLease(ctx, leases["bad"].ID, generation.LeaseEnd{Failure: &generation.Failure{Name: "input_rejected", Message: "no"}}); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.Get(ctx, "bad"); g.Status != generation.Failed || g.Failure.Name != "input_rejected" {
			t.Errorf("failed: %+v", g)
		}
		if state, _ := jobOf(t, s, "bad"); state != "discarded" {
			t.Errorf("job %s, want discarded", state)
		}
		if k, _ := s.KeyByHash(ctx, auth.Hash("k")); k.Credits != 100_000-300 {
			t.Errorf("balance %d, want 99700: the failed one refunded", k.Credits)
		}

		// A retry waits until its time, then is attempt 2.
		if _, err := s.EndLease(ctx, leases["again"].ID, generation.LeaseEnd{RetryAt: time.Now().Add(time.Hour), Reason: "render_failed: x"}); err != nil {
			t.Fatal(err)
		}
		if state, attempt := jobOf(t, s, "again"); state != "available" || attempt != 1 {
			t.Errorf("retried job %s, attempt %d; want available, 1", state, attempt)
		}
		// Handed back: at once, and not counted.
		if _, err := s.EndLease(ctx, leases["back"].ID, generation.LeaseEnd{RetryAt: time.Now(), HandedBack: true}); err != nil {
			t.Fatal(err)
		}
		l, g := take(t, s, q)
		if g == nil || g.ID != "back" || l.Attempt != 1 {
			t.Fatalf("after a hand-back and a retry due in an hour: leased %+v, want back at attempt 1", l)
		}
		if _, g := take(t, s, q); g != nil {
			t.Errorf("leased %s before its retry time", g.ID)
		}
		s.b.exec(ctx, `UPDATE river_job SET scheduled_at = attempted_at WHERE id = (SELECT job_id FROM generation WHERE id = 'again')`)
		if l, g := take(t, s, q); g == nil || g.ID != "again" || l.Attempt != 2 {
			t.Errorf("the retry: %+v, want again at attempt 2", l)
		}
	})

	t.Run("overdue leases, and a renewal saves one", func(t *testing.T) {
		s := open(t)
		keyed(t, s)
		insert(t, s, "a")
		insert(t, s, "b")
		la, _ := take(t, s, q)
		lb, _ := take(t, s, q)
		past := time.Now().Add(-time.Second)
		s.b.exec(ctx, `UPDATE lease SET until_at = ?`, ms(past))
		later := time.Now().Add(time.Minute)
		over, err := s.Overdue(ctx, time.Now(), 10)
		if err != nil || len(over) != 2 {
			t.Fatalf("Overdue = %d leases, %v; want 2", len(over), err)
		}
		// b's worker renews before the sweep gets to it.
		if _, err := s.RenewLease(ctx, lb.ID, later, 0.2, ""); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := s.EndLease(ctx, la.ID, generation.LeaseEnd{RetryAt: now, Reason: "stopped answering", Overdue: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndLease(ctx, lb.ID, generation.LeaseEnd{RetryAt: now, Reason: "stopped answering", Overdue: now}); fault.KindOf(err) != fault.Gone {
			t.Errorf("expiring a renewed lease = %v, want Gone", err)
		}
		if _, err := s.Lease(ctx, lb.ID); err != nil {
			t.Errorf("the renewed lease ended: %v", err)
		}
		if state, _ := jobOf(t, s, "a"); state != "available" {
			t.Errorf("expired lease's job %s, want available", state)
		}
	})

	t.Run("local workers and remote leases share a queue without running a job twice", func(t *testing.T) {
		var mu sync.Mutex
		ran := map[string]int{}
		s := openQ(t, queue.Config{Workers: 2, Run: func(ctx context.Context, j queue.Job) error {
			mu.Lock()
			ran[j.GenerationID]++
			mu.Unlock()
			return nil
		}})
		keyed(t, s)
		const n = 30
		for i := range n {
			insert(t, s, fmt.Sprint("g", i))
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			s.Stop(sctx)
		})
		for {
			_, g := take(t, s, q)
			if g == nil {
				break
			}
			mu.Lock()
			ran[g.ID]++
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // leave the workers some
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			all := len(ran) == n
			mu.Unlock()
			if all || time.Now().After(deadline) {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		var leased int
		leases, _ := s.Overdue(ctx, time.Now().Add(time.Hour), n)
		leased = len(leases)
		for i := range n {
			if c := ran[fmt.Sprint("g", i)]; c != 1 {
				t.Errorf("g%d ran %d times, want once", i, c)
			}
		}
		t.Logf("%d of %d jobs leased, the rest run by the local workers", leased, n)
	})
}
