package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
	"stillmotion/internal/store/storetest"
	"stillmotion/internal/testmode"
)

// opener opens a fresh, empty database with the given queue settings; the
// database is closed when the test ends.
type opener func(t *testing.T, qc queue.Config) *DB

// runSuite checks the behaviour every store must share. It runs against
// each implementation.
func runSuite(t *testing.T, openQ opener) {
	ctx := context.Background()
	open := func(t *testing.T) *DB { return openQ(t, queue.Config{}) }
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	newGen := func(id, key string, credits int64) *generation.Generation {
		return &generation.Generation{ID: id, KeyID: key, Status: generation.Queued, Credits: credits, Created: now, Updated: now,
			Request: generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "https://x/y.png", Resolution: "720p", Duration: 5, Seed: 9, SeedGiven: true}}
	}
	addKey := func(t *testing.T, s *DB, id string, credits int64) {
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
		if !reflect.DeepEqual(got.Request, g.Request) || got.Status != generation.Queued || got.Credits != 420000 || !got.Created.Equal(now) {
			t.Errorf("got %+v", got)
		}
		if n, _ := s.QueueDepth(ctx); n != 1 {
			t.Errorf("queue depth %d, want 1 job with the row", n)
		}
		if n, err := s.QueueStates(ctx); err != nil || len(n) != 1 || n["available"] != 1 {
			t.Errorf("queue states %v (%v), want 1 available", n, err)
		}
		if _, err := s.Get(ctx, "nope"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("Get(nope) = %v", err)
		}
		// A poll's read is the same but for the request, left zero.
		polled, err := s.GetForPoll(ctx, "g1")
		if err != nil {
			t.Fatal(err)
		}
		want := *got
		want.Request = generation.Request{}
		if !reflect.DeepEqual(polled, &want) {
			t.Errorf("GetForPoll = %+v, want %+v", polled, &want)
		}
		if _, err := s.GetForPoll(ctx, "nope"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("GetForPoll(nope) = %v", err)
		}
		listed, err := s.List(ctx, "env_x", generation.ListQuery{Limit: 10, WithoutRequest: true})
		if err != nil || len(listed) != 1 || !reflect.DeepEqual(listed[0], &want) {
			t.Errorf("List without requests = %+v, %v; want %+v", listed, err, &want)
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
	t.Run("status changes enqueue their webhooks in the same transaction", func(t *testing.T) {
		s := openQ(t, queue.Config{Webhooks: []string{"https://a.example/hook", "https://b.example/hook"}})
		hooks := func(t *testing.T, id string) []string {
			t.Helper()
			args := "json(args)" // riversqlite stores JSONB
			if _, pg := s.b.(*pgBackend); pg {
				args = "args::text"
			}
			rs, err := s.b.query(ctx, `SELECT `+args+` FROM river_job WHERE kind = 'webhook' AND queue = ? ORDER BY id`, queue.WebhookQueue)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var got []string
			for rs.Next() {
				var raw []byte
				if err := rs.Scan(&raw); err != nil {
					t.Fatal(err)
				}
				var a queue.WebhookArgs
				if err := json.Unmarshal(raw, &a); err != nil {
					t.Fatal(err)
				}
				if a.GenerationID == id {
					got = append(got, a.Event+" "+a.URL)
				}
			}
			return got
		}
		same := func(t *testing.T, got []string, want ...string) {
			t.Helper()
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("webhook jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		g := newGen("w1", "k", 1)
		g.Request.CallbackURL = "https://cb.example/x"
		if err := s.Insert(ctx, g, true); err != nil {
			t.Fatal(err)
		}
		same(t, hooks(t, "w1"))
		if err := s.Progress(ctx, "w1", 0, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.Progress(ctx, "w1", 0.5, "plan"); err != nil {
			t.Fatal(err)
		}
		started := []string{"generation.started https://a.example/hook", "generation.started https://b.example/hook", "generation.started https://cb.example/x"}
		same(t, hooks(t, "w1"), started...)
		if err := s.Finish(ctx, "w1", &generation.Video{Key: "w1/output.mp4"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "w1", nil, &generation.Failure{Name: "render", Message: "late"}); fault.KindOf(err) != fault.Conflict {
			t.Fatalf("second Finish = %v", err)
		}
		if err := s.Progress(ctx, "w1", 1, ""); fault.KindOf(err) != fault.Conflict {
			t.Fatalf("Progress after Finish = %v", err)
		}
		same(t, hooks(t, "w1"), append(started, "generation.completed https://a.example/hook",
			"generation.completed https://b.example/hook", "generation.completed https://cb.example/x")...)

		// A cancelled generation fails; one without a callback_url goes to the server's endpoints only.
		if err := s.Insert(ctx, newGen("w2", "k", 1), true); err != nil {
			t.Fatal(err)
		}
		if err := s.Cancel(ctx, "w2", &generation.Failure{Name: "cancelled", Message: "bye"}); err != nil {
			t.Fatal(err)
		}
		same(t, hooks(t, "w2"), "generation.failed https://a.example/hook", "generation.failed https://b.example/hook")
		if n, _ := s.QueueDepth(ctx); n != 1 {
			t.Errorf("queue depth %d, want 1 (webhook jobs are not renders)", n)
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
	t.Run("cancel refunds and ends the job", func(t *testing.T) {
		s := open(t)
		addKey(t, s, "k", 500_000)
		if err := s.Insert(ctx, newGen("c", "k", 420_000), false); err != nil {
			t.Fatal(err)
		}
		f := &generation.Failure{Name: "cancelled", Message: "m"}
		if err := s.Cancel(ctx, "c", f); err != nil {
			t.Fatal(err)
		}
		g, _ := s.Get(ctx, "c")
		if g.Status != generation.Failed || g.Failure == nil || g.Failure.Name != "cancelled" {
			t.Errorf("after cancel: %+v", g)
		}
		if n, _ := s.QueueDepth(ctx); n != 0 {
			t.Errorf("queue depth %d after cancelling the only job, want 0", n)
		}
		if k, _ := s.KeyByHash(ctx, auth.Hash("k")); k.Credits != 500_000 {
			t.Errorf("balance %d after cancel, want 500000", k.Credits)
		}
		if err := s.Cancel(ctx, "c", f); fault.KindOf(err) != fault.Conflict {
			t.Errorf("second cancel = %v, want Conflict", err)
		}
		if err := s.Finish(ctx, "c", &generation.Video{Key: "c/output.mp4"}, nil); fault.KindOf(err) != fault.Conflict {
			t.Errorf("Finish after cancel = %v, want Conflict", err)
		}
		if err := s.Cancel(ctx, "nope", f); fault.KindOf(err) != fault.Conflict {
			t.Errorf("cancelling a missing generation = %v, want Conflict", err)
		}
		if k, _ := s.KeyByHash(ctx, auth.Hash("k")); k.Credits != 500_000 {
			t.Errorf("balance %d, want 500000: refunded exactly once", k.Credits)
		}
	})
	t.Run("engine and its queue", func(t *testing.T) {
		s := open(t)
		g := newGen("e", "k", 1)
		s.Insert(ctx, g, true)
		got, _ := s.Get(ctx, "e")
		if got.Engine != queue.DefaultEngine {
			t.Errorf("engine %q, want %q", got.Engine, queue.DefaultEngine)
		}
		var q string
		if err := s.b.queryRow(ctx, `SELECT queue FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = ?)`, "e").Scan(&q); err != nil || q != "render_builtin" {
			t.Errorf("job queue %q (%v), want render_builtin", q, err)
		}
		// A remote engine on a shared queue.
		g = newGen("r", "k", 1)
		g.Engine, g.Queue = "wan", "gpu"
		s.Insert(ctx, g, true)
		if got, _ := s.Get(ctx, "r"); got.Engine != "wan" {
			t.Errorf("engine %q, want wan", got.Engine)
		}
		if err := s.b.queryRow(ctx, `SELECT queue FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = ?)`, "r").Scan(&q); err != nil || q != "render_gpu" {
			t.Errorf("job queue %q (%v), want render_gpu", q, err)
		}
	})
	t.Run("engine state", func(t *testing.T) {
		s := open(t)
		s.Insert(ctx, newGen("s", "k", 1), true)
		if got, _ := s.Get(ctx, "s"); got.EngineState != "" {
			t.Errorf("a new generation has state %q", got.EngineState)
		}
		if err := s.SaveState(ctx, "s", `{"id":"up1"}`); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "s"); got.EngineState != `{"id":"up1"}` {
			t.Errorf("state %q after SaveState", got.EngineState)
		}
		s.Finish(ctx, "s", nil, &generation.Failure{Name: "render_failed", Message: "x"})
		if err := s.SaveState(ctx, "s", "late"); fault.KindOf(err) != fault.Conflict {
			t.Errorf("SaveState on an ended generation = %v, want Conflict", err)
		}
		if got, _ := s.Get(ctx, "s"); got.EngineState != `{"id":"up1"}` {
			t.Errorf("state %q after the generation ended", got.EngineState)
		}
	})
	t.Run("test generations: their keys, scripts, polls and start", func(t *testing.T) {
		s := open(t)
		if err := s.CreateKey(ctx, &auth.Key{ID: "t", Name: "t", Hash: "ht", Unlimited: true, Test: true, Created: now}); err != nil {
			t.Fatal(err)
		}
		if k, err := s.KeyByHash(ctx, "ht"); err != nil || !k.Test {
			t.Errorf("test key read back as %+v, %v", k, err)
		}
		if err := s.CreateKey(ctx, &auth.Key{ID: "w", Name: "w", Hash: "hw", Unlimited: true, Worker: true, Queues: []string{"render_a", "render_b"}, Created: now}); err != nil {
			t.Fatal(err)
		}
		if k, err := s.KeyByHash(ctx, "hw"); err != nil || !k.Worker || !reflect.DeepEqual(k.Queues, []string{"render_a", "render_b"}) || k.Test {
			t.Errorf("worker token read back as %+v, %v", k, err)
		}
		g := newGen("tg", "t", 0)
		g.Test, g.Script, g.StartAt = true, "queue=1h;then=succeeded", now.Add(time.Hour)
		if err := s.Insert(ctx, g, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetForPoll(ctx, "tg")
		if err != nil || !got.Test || got.Script != g.Script || got.Polls != 0 {
			t.Fatalf("read back %+v, %v", got, err)
		}
		for want := 1; want <= 3; want++ {
			if n, err := s.CountPoll(ctx, "tg"); n != want || err != nil {
				t.Errorf("CountPoll = %d, %v; want %d", n, err, want)
			}
		}
		if _, err := s.CountPoll(ctx, "nope"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("CountPoll(nope) = %v", err)
		}
		// Its job waits for its start.
		if n, err := s.QueueStates(ctx); err != nil || n["scheduled"] != 1 {
			t.Errorf("queue states %v (%v), want 1 scheduled", n, err)
		}
		// A test generation of a key with a balance is priced but never
		// charged, so its failure refunds nothing.
		addKey(t, s, "lt", 100)
		lg := newGen("ltg", "lt", 420_000)
		lg.Test = true
		if err := s.Insert(ctx, lg, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "ltg", nil, &generation.Failure{Name: "render_failed", Message: "x"}); err != nil {
			t.Fatal(err)
		}
		if k, _ := s.KeyByHash(ctx, auth.Hash("lt")); k.Credits != 100 {
			t.Errorf("balance %d after a test generation failed, want 100", k.Credits)
		}
	})
	t.Run("test requests are recorded, listed newest first and reset", func(t *testing.T) {
		s := open(t)
		for i, m := range []string{"POST", "GET", "DELETE"} {
			rec := &testmode.Recorded{ID: fmt.Sprintf("r%d", i), At: now.Add(time.Duration(i) * time.Second), Method: m, Path: "/p",
				Query: "a=1", Headers: map[string]string{"Prefer": "wait=5"}, Body: "{}", Status: 200 + i}
			if err := s.Record(ctx, "tk", rec); err != nil {
				t.Fatal(err)
			}
		}
		s.Record(ctx, "other", &testmode.Recorded{ID: "o", At: now, Method: "GET", Path: "/p", Status: 200})
		got, err := s.Recorded(ctx, "tk", 2)
		if err != nil || len(got) != 2 || got[0].Method != "DELETE" || got[1].Method != "GET" || got[0].Headers["Prefer"] != "wait=5" ||
			got[0].Status != 202 || !got[0].At.Equal(now.Add(2*time.Second)) || got[0].Query != "a=1" {
			t.Fatalf("Recorded = %+v, %v", got, err)
		}
		ended, running, real := newGen("e", "tk", 1), newGen("r", "tk", 1), newGen("real", "tk", 1)
		ended.Test, running.Test = true, true
		for _, g := range []*generation.Generation{ended, running, real} {
			if err := s.Insert(ctx, g, true); err != nil {
				t.Fatal(err)
			}
		}
		s.Finish(ctx, "e", nil, &generation.Failure{Name: "timeout", Message: "x"})
		s.Finish(ctx, "real", nil, &generation.Failure{Name: "timeout", Message: "x"})
		reqs, gens, err := s.ResetTests(ctx, "tk")
		if reqs != 3 || gens != 1 || err != nil {
			t.Errorf("ResetTests = %d, %d, %v; want 3 requests and the ended test generation", reqs, gens, err)
		}
		for id, deleted := range map[string]bool{"e": true, "r": false, "real": false} {
			if g, _ := s.Get(ctx, id); g.Deleted != deleted {
				t.Errorf("%s deleted %v, want %v", id, g.Deleted, deleted)
			}
		}
		if left, _ := s.Recorded(ctx, "other", 10); len(left) != 1 {
			t.Errorf("another key's requests: %d left", len(left))
		}
	})
	t.Run("orphaned generations", func(t *testing.T) {
		s := open(t)
		s.Insert(ctx, newGen("o", "k", 1), true)
		s.Progress(ctx, "o", 0.5, "")
		if g, _ := s.Get(ctx, "o"); g.Orphaned {
			t.Error("a generation with a live job reported orphaned")
		}
		// What River's rescuer leaves when the last attempt's worker died.
		if _, err := s.b.exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = created_at`); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.Get(ctx, "o"); !g.Orphaned {
			t.Error("a generation whose job was discarded is not reported orphaned")
		}
		s.Finish(ctx, "o", nil, &generation.Failure{Name: "render_failed"})
		if g, _ := s.Get(ctx, "o"); g.Orphaned {
			t.Error("an ended generation reported orphaned")
		}
	})
	t.Run("list pages and delete hides", func(t *testing.T) {
		s := open(t)
		// Two share a creation time: the id breaks the tie.
		for i, id := range []string{"l1", "l2", "l3", "l4"} {
			g := newGen(id, "k", 1)
			g.Created = now.Add(time.Duration(min(i, 2)) * time.Second)
			s.Insert(ctx, g, true)
		}
		s.Insert(ctx, newGen("other", "k2", 1), true)
		ids := func(q generation.ListQuery) string {
			t.Helper()
			gs, err := s.List(ctx, "k", q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, g := range gs {
				out = append(out, g.ID)
			}
			return strings.Join(out, ",")
		}
		for _, tt := range []struct {
			q    generation.ListQuery
			want string
		}{
			{generation.ListQuery{Limit: 10}, "l1,l2,l3,l4"},
			{generation.ListQuery{Limit: 2}, "l1,l2"},
			{generation.ListQuery{Limit: 2, After: "l2"}, "l3,l4"},
			{generation.ListQuery{Limit: 10, After: "l3"}, "l4"},
			{generation.ListQuery{Limit: 10, Desc: true}, "l4,l3,l2,l1"},
			{generation.ListQuery{Limit: 2, Desc: true, After: "l3"}, "l2,l1"},
		} {
			if got := ids(tt.q); got != tt.want {
				t.Errorf("List(%+v) = %s, want %s", tt.q, got, tt.want)
			}
		}
		if _, err := s.List(ctx, "k", generation.ListQuery{Limit: 1, After: "other"}); fault.KindOf(err) != fault.NotFound {
			t.Errorf("List after another key's id = %v, want not found", err)
		}
		if err := s.Delete(ctx, "l2"); fault.KindOf(err) != fault.Conflict {
			t.Errorf("deleting a queued generation = %v, want a conflict", err)
		}
		s.Finish(ctx, "l2", nil, &generation.Failure{Name: "cancelled"})
		if err := s.Delete(ctx, "l2"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "l2"); fault.KindOf(err) != fault.Conflict {
			t.Errorf("deleting twice = %v, want a conflict", err)
		}
		if got := ids(generation.ListQuery{Limit: 10}); got != "l1,l3,l4" {
			t.Errorf("after delete: %s", got)
		}
		for id, want := range map[string]int{"l1": 1, "l2": 0, "other": 2, "l3": 3, "l4": 4} { // one queue for all keys
			if n, err := s.QueuePosition(ctx, id); err != nil || n != want {
				t.Errorf("QueuePosition(%s) = %d, %v; want %d", id, n, err, want)
			}
		}
		if g, err := s.Get(ctx, "l2"); err != nil || !g.Deleted {
			t.Errorf("Get(deleted) = %+v, %v; want it marked deleted", g, err)
		}
	})
	t.Run("idempotency keys", func(t *testing.T) {
		s := open(t)
		addKey(t, s, "k", 1_000_000)
		withKey := func(id, key, hash string, created time.Time) *generation.Generation {
			g := newGen(id, "k", 1000)
			g.IdempotencyKey, g.RequestHash, g.Created = key, hash, created
			return g
		}
		if err := s.Insert(ctx, withKey("i1", "same", "h1", now), false); err != nil {
			t.Fatal(err)
		}
		var reused *generation.KeyReusedError
		for _, tt := range []struct {
			name    string
			g       *generation.Generation
			wantErr bool // a *KeyReusedError naming i1 with hash h1
		}{
			{"same key, same key id", withKey("i2", "same", "h1", now.Add(time.Hour)), true},
			{"same key, other hash", withKey("i3", "same", "h2", now.Add(time.Hour)), true},
			{"other key", withKey("i4", "other", "h1", now), false},
			{"same key, another API key", func() *generation.Generation {
				g := withKey("i5", "same", "h1", now)
				g.KeyID = "k2"
				return g
			}(), false},
		} {
			err := s.Insert(ctx, tt.g, true)
			if !tt.wantErr {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
				continue
			}
			if !errors.As(err, &reused) || reused.ID != "i1" || reused.RequestHash != "h1" {
				t.Errorf("%s: %v, want the key reused by i1", tt.name, err)
			}
			if _, err := s.Get(ctx, tt.g.ID); fault.KindOf(err) != fault.NotFound {
				t.Errorf("%s: the generation was stored", tt.name)
			}
		}
		if err := s.Insert(ctx, withKey("i6", "same", "h2", now.Add(generation.IdempotencyWindow)), false); err != nil {
			t.Errorf("reusing an expired key: %v", err)
		}
		if err := s.Insert(ctx, withKey("i7", "same", "h2", now.Add(generation.IdempotencyWindow)), true); !errors.As(err, &reused) || reused.ID != "i6" {
			t.Errorf("after expiry the key names %v, want i6", err)
		}
		var bal int64
		if err := s.b.queryRow(ctx, `SELECT credits FROM api_key WHERE id = 'k'`).Scan(&bal); err != nil || bal != 1_000_000-2000 {
			t.Errorf("balance %d (%v), want two debits only", bal, err)
		}
		// A submit with any key sweeps the expired keys of every API key:
		// "other" (k) and "same" (k2), made at now, are gone a window
		// later; i6's "same" (k), made then, stays.
		if err := s.Insert(ctx, withKey("i8", "later", "h3", now.Add(generation.IdempotencyWindow+time.Minute)), true); err != nil {
			t.Fatal(err)
		}
		rows := map[string]bool{}
		for _, key := range []string{"k/other", "k2/same", "k/same", "k/later"} {
			var n int
			id, idem, _ := strings.Cut(key, "/")
			if err := s.b.queryRow(ctx, `SELECT count(*) FROM idempotency_key WHERE key_id = ? AND idem_key = ?`, id, idem).Scan(&n); err != nil {
				t.Fatal(err)
			}
			rows[key] = n == 1
		}
		if want := map[string]bool{"k/other": false, "k2/same": false, "k/same": true, "k/later": true}; !maps.Equal(rows, want) {
			t.Errorf("idempotency rows kept %v, want %v", rows, want)
		}
	})
	t.Run("idempotency key race", func(t *testing.T) {
		s := open(t)
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				g := newGen(fmt.Sprintf("r%d", i), "k", 1)
				g.IdempotencyKey, g.RequestHash = "race", "h"
				errs <- s.Insert(ctx, g, true)
			}()
		}
		created, reused := 0, 0
		for range n {
			var kr *generation.KeyReusedError
			switch err := <-errs; {
			case err == nil:
				created++
			case errors.As(err, &kr):
				reused++
			default:
				t.Errorf("insert: %v", err)
			}
		}
		if created != 1 || reused != n-1 {
			t.Errorf("%d created and %d reused, want 1 and %d", created, reused, n-1)
		}
		if n, _ := s.QueueDepth(ctx); n != 1 {
			t.Errorf("queue depth %d, want 1", n)
		}
	})
	t.Run("generations in flight: a limit per key, and the light keys first", func(t *testing.T) {
		s := open(t)
		insert := func(id, key string, max int) (*generation.Generation, error) {
			g := newGen(id, key, 1)
			g.MaxInFlight = max
			return g, s.Insert(ctx, g, true)
		}
		for i, want := range []int{1, 2, 3} {
			g, err := insert(fmt.Sprintf("a%d", i+1), "a", 3)
			if err != nil || g.InFlight != want {
				t.Fatalf("insert a%d: %v, in flight %d; want %d", i+1, err, g.InFlight, want)
			}
		}
		_, err := insert("a4", "a", 3)
		if fe := (*fault.Error)(nil); !errors.As(err, &fe) || fe.Kind != fault.RateLimited || fe.RetryAfter <= 0 || !strings.Contains(fe.Message, "3 generations") {
			t.Fatalf("a fourth insert over the limit: %v, want rate_limited naming the count, with a Retry-After", err)
		}
		if _, err := s.Get(ctx, "a4"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("the refused generation exists: %v", err)
		}
		// Another key's first goes ahead of the first key's waiting ones.
		if _, err := insert("b1", "b", 3); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{"a1": 1, "b1": 2, "a2": 3, "a3": 4} {
			if n, err := s.QueuePosition(ctx, id); err != nil || n != want {
				t.Errorf("QueuePosition(%s) = %d, %v; want %d", id, n, err, want)
			}
		}
		// One that ends makes room.
		if err := s.Finish(ctx, "a1", nil, &generation.Failure{Name: "cancelled"}); err != nil {
			t.Fatal(err)
		}
		if _, err := insert("a4", "a", 3); err != nil {
			t.Errorf("after one ended: %v", err)
		}
		// Racing inserts of one key do not get past the limit together.
		const n = 10
		errs := make(chan error, n)
		for i := range n {
			go func() { _, err := insert(fmt.Sprintf("c%d", i), "c", 4); errs <- err }()
		}
		created := 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				created++
			case fault.KindOf(err) != fault.RateLimited:
				t.Errorf("racing insert: %v", err)
			}
		}
		if created != 4 {
			t.Errorf("%d racing inserts with a limit of 4 created %d", n, created)
		}
	})
	t.Run("migrating again is a no-op", func(t *testing.T) {
		s := open(t)
		s.Insert(ctx, newGen("m", "k", 1), true)
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := s.b.queryRow(ctx, `SELECT max(version) FROM stillmotion_migration`).Scan(&v); err != nil || v != SchemaVersion {
			t.Errorf("schema version %d (%v), want %d", v, err, SchemaVersion)
		}
		if _, err := s.Get(ctx, "m"); err != nil {
			t.Error(err)
		}
	})
	t.Run("workers run jobs and a cancel reaches a running one", func(t *testing.T) {
		started := make(chan string, 4)
		stoppedAt := make(chan time.Time, 4)
		s := openQ(t, queue.Config{Workers: 2, Run: func(ctx context.Context, j queue.Job) error {
			if j.GenerationID == "done" {
				return nil
			}
			started <- j.GenerationID
			<-ctx.Done()
			stoppedAt <- time.Now()
			return queue.ErrCancelled
		}})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			s.Stop(sctx)
		})
		s.Insert(ctx, newGen("run", "k", 1), true)
		select {
		case <-started:
		case <-time.After(15 * time.Second):
			t.Fatal("the job never started")
		}
		s.Progress(ctx, "run", 0.1, "")
		t0 := time.Now()
		if err := s.Cancel(ctx, "run", &generation.Failure{Name: "cancelled"}); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-stoppedAt:
			t.Logf("the running job's context was cancelled %v after Cancel", at.Sub(t0).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Fatal("a cancel did not reach the running job within 10 s")
		}
		waitDepth(t, s, 0)
	})
	t.Run("expiry", func(t *testing.T) { expirySuite(t, open) })
	t.Run("leases", func(t *testing.T) { leaseSuite(t, openQ) })
}

func waitDepth(t *testing.T, s *DB, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.QueueDepth(context.Background())
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue depth %d (%v), want %d", n, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openAt opens the database that url names for each test.
func openAt(url func(testing.TB) string) opener {
	return func(t *testing.T, qc queue.Config) *DB {
		s, err := Open(context.Background(), url(t), qc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	runSuite(t, openAt(func(t testing.TB) string { return filepath.Join(t.TempDir(), "s.db") }))
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	runSuite(t, openAt(storetest.Postgres))
}

// TestConcurrentMigrations starts several processes' worth of stores on
// one empty database at once: each must come up migrated.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		concurrentMigrations(t, filepath.Join(t.TempDir(), "s.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		concurrentMigrations(t, storetest.Postgres(t))
	})
}

func concurrentMigrations(t *testing.T, url string) {
	errs := make(chan error, 6)
	for range cap(errs) {
		go func() {
			s, err := Open(context.Background(), url, queue.Config{})
			if err == nil {
				err = s.Insert(context.Background(), &generation.Generation{ID: generation.NewID(), KeyID: "k", Status: generation.Queued,
					Created: time.Now(), Updated: time.Now()}, true)
				s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestOpenRejectsBadQueues(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), queue.Config{Queues: []string{"render_upstream"}})
	if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "render_builtin") {
		t.Errorf("unknown queue: %v, want Invalid naming the known ones", err)
	}
	_, err = Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), queue.Config{JobTimeout: time.Minute, RescueAfter: time.Second})
	if fault.KindOf(err) != fault.Invalid {
		t.Errorf("rescue before the timeout: %v, want Invalid", err)
	}
}

func TestRewrites(t *testing.T) {
	tests := []struct {
		f        func(string) string
		in, want string
	}{
		{rebind, "SELECT 1", "SELECT 1"},
		{rebind, "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{Redact, "postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{Redact, "postgres://u@h/db", "postgres://u@h/db"},
		{Redact, "/var/lib/stillmotion.db", "/var/lib/stillmotion.db"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
		}
	}
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
	if _, err := s.b.exec(ctx, `UPDATE river_job SET state = 'running'`); err != nil {
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

// TestPostgresRescuesJobsOfDeadWorkers leaves a job running as a worker
// killed mid-render would, and expects another process's River rescuer to
// run it again.
func TestPostgresRescuesJobsOfDeadWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.Postgres(t)
	api, err := OpenPostgres(ctx, url, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	g := &generation.Generation{ID: "orphan", KeyID: "k", Status: generation.Queued, Created: time.Now(), Updated: time.Now()}
	if err := api.Insert(ctx, g, true); err != nil {
		t.Fatal(err)
	}
	if _, err := api.b.exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour',
		attempted_by = ARRAY['dead-worker']`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan queue.Job, 1)
	w, err := OpenPostgres(ctx, url, queue.Config{Workers: 1, JobTimeout: time.Second, RescueAfter: 2 * time.Second,
		Run: func(ctx context.Context, j queue.Job) error { ran <- j; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t0 := time.Now()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop(ctx)
	select {
	case j := <-ran:
		if j.GenerationID != "orphan" || j.Attempt != 2 {
			t.Errorf("ran %+v, want orphan's second attempt", j)
		}
		t.Logf("rescued and run again %v after the worker started", time.Since(t0).Round(time.Millisecond))
	case <-time.After(60 * time.Second):
		t.Fatal("the orphaned job was not rescued within 60 s")
	}
}

// TestSQLiteUpgradesOldDatabases opens a database written by the first
// release (no migration table, no engine or job columns, jobs in the
// queue "render") and expects its queued work to run.
func TestSQLiteUpgradesOldDatabases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE api_key (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, credits INTEGER,
		created_at INTEGER NOT NULL, revoked_at INTEGER);
	CREATE UNIQUE INDEX api_key_live_name ON api_key (name) WHERE revoked_at IS NULL;
	CREATE TABLE generation (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
		credits INTEGER NOT NULL, progress REAL NOT NULL DEFAULT 0, plan TEXT NOT NULL DEFAULT '', video TEXT,
		error_name TEXT, error_message TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	INSERT INTO generation (id, key_id, status, request, credits, created_at, updated_at) VALUES ('old', 'k', 'queued', '{}', 1, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Insert(ctx, queue.RenderArgs{GenerationID: "old"}, &river.InsertOpts{Queue: "render"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ran := make(chan string, 1)
	s, err := OpenSQLite(ctx, path, queue.Config{Workers: 1, Run: func(ctx context.Context, j queue.Job) error { ran <- j.GenerationID; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := s.Get(ctx, "old")
	if err != nil || g.Engine != queue.DefaultEngine {
		t.Fatalf("old generation after the upgrade: %+v, %v", g, err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	select {
	case id := <-ran:
		if id != "old" {
			t.Errorf("ran %s", id)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the old queued job never ran")
	}
	// It can be cancelled, although its job was not recorded.
	if err := s.Cancel(ctx, "old", &generation.Failure{Name: "cancelled"}); err != nil {
		t.Error(err)
	}
}

// TestSQLitePositionsSeeOtherProcesses: the generations and queue
// positions SQLite's backend keeps for polls are read again after a commit
// by another process (here, another connection pool on the same file).
func TestSQLitePositionsSeeOtherProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSQLite(ctx, path, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for _, id := range []string{"p1", "p2"} {
		g := &generation.Generation{ID: id, KeyID: "k", Status: generation.Queued, Created: now, Updated: now,
			Request: generation.Request{Model: generation.Model, Prompt: "p"}}
		if err := s.Insert(ctx, g, true); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.QueuePosition(ctx, "p2"); err != nil || n != 2 {
		t.Fatalf("QueuePosition(p2) = %d, %v; want 2", n, err)
	}
	if g, err := s.GetForPoll(ctx, "p1"); err != nil || g.Status != generation.Queued {
		t.Fatalf("GetForPoll(p1) = %+v, %v; want it queued", g, err)
	}
	// listStatus returns p1's status as a list of k's generations shows it.
	lq := generation.ListQuery{Limit: 20, WithoutRequest: true}
	listStatus := func() generation.Status {
		t.Helper()
		gs, err := s.List(ctx, "k", lq)
		if err != nil || len(gs) != 2 {
			t.Fatalf("List = %v, %v; want 2 generations", gs, err)
		}
		for _, g := range gs {
			if g.ID == "p1" {
				return g.Status
			}
		}
		t.Fatal("p1 is not listed")
		return ""
	}
	if st := listStatus(); st != generation.Queued {
		t.Fatalf("List shows p1 %s; want it queued", st)
	}
	v1, ok, err := s.Version(ctx)
	if err != nil || !ok {
		t.Fatalf("Version = %d, %v, %v; want one", v1, ok, err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`UPDATE generation SET status = 'generating' WHERE id = 'p1'`); err != nil {
		t.Fatal(err)
	}
	if v2, _, err := s.Version(ctx); err != nil || v2 == v1 {
		t.Errorf("Version after another process's commit = %d, %v; want other than %d", v2, err, v1)
	}
	if n, err := s.QueuePosition(ctx, "p2"); err != nil || n != 1 {
		t.Errorf("after another process started p1, QueuePosition(p2) = %d, %v; want 1", n, err)
	}
	if n, err := s.QueuePosition(ctx, "p1"); err != nil || n != 0 {
		t.Errorf("QueuePosition(p1) = %d, %v; want 0 once it is generating", n, err)
	}
	if g, err := s.GetForPoll(ctx, "p1"); err != nil || g.Status != generation.Generating {
		t.Errorf("GetForPoll(p1) = %+v, %v; want it generating", g, err)
	}
	if st := listStatus(); st != generation.Generating {
		t.Errorf("after another process started p1, List shows it %s; want it generating", st)
	}
	// And this process's own commits, through the writer's connection.
	if err := s.Progress(ctx, "p1", 0.5, ""); err != nil {
		t.Fatal(err)
	}
	if g, err := s.GetForPoll(ctx, "p1"); err != nil || g.Progress != 0.5 {
		t.Errorf("GetForPoll(p1) = %+v, %v; want progress 0.5", g, err)
	}
	if err := s.Finish(ctx, "p1", &generation.Video{Key: "videos/p1.mp4"}, nil); err != nil {
		t.Fatal(err)
	}
	if st := listStatus(); st != generation.Completed {
		t.Errorf("after p1 finished, List shows it %s; want it completed", st)
	}
	// A caller's changes to what List returned do not reach the cache.
	gs, _ := s.List(ctx, "k", lq)
	for _, g := range gs {
		g.Status = generation.Failed
	}
	if st := listStatus(); st != generation.Completed {
		t.Errorf("after a caller changed its copy, List shows p1 %s; want it completed", st)
	}
}
