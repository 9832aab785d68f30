package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"stillmotion/internal/generation"
)

// endedStatus selects the generations that have ended. The statuses are
// written out, not bound, so that both databases' planners match the
// condition to the partial index generation_ended_created (migration 8).
const endedStatus = `status IN ('completed', 'error')`

// expiredQuery selects a batch of expired generations: it takes the
// cutoff (unix ms) and the batch's size.
const expiredQuery = `SELECT ` + generationColumns + ` FROM generation
	WHERE ` + endedStatus + ` AND created_at < ? ORDER BY created_at, id LIMIT ?`

// Expired implements generation.Store.
func (d *DB) Expired(ctx context.Context, before time.Time, limit int) ([]*generation.Generation, error) {
	return d.generations(ctx, d.b, expiredQuery, ms(before), limit)
}

// Purge implements generation.Store. On PostgreSQL, where several
// processes may purge at once, it first locks the rows it will delete,
// skipping those another transaction holds: that one is deleting them.
func (d *DB) Purge(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := d.inTx(ctx, func(t tx) error {
		rs, err := t.query(ctx, `SELECT id, job_id, created_at FROM generation WHERE id IN (`+marks(len(ids))+`) AND `+endedStatus+
			` ORDER BY id`+d.skipLocked(), anys(ids)...)
		if err != nil {
			return err
		}
		var (
			gens, jobs []any
			newest     int64
		)
		for rs.Next() {
			var (
				id      string
				job     sql.NullInt64
				created int64
			)
			if err := rs.Scan(&id, &job, &created); err != nil {
				rs.Close()
				return err
			}
			gens = append(gens, id)
			if job.Valid {
				jobs = append(jobs, job.Int64)
			}
			newest = max(newest, created)
		}
		rs.Close()
		if err := rs.Err(); err != nil || len(gens) == 0 {
			return err
		}
		// Only finished jobs: one still running belongs to a worker, and
		// finds its generation gone when it ends.
		if len(jobs) > 0 {
			if _, err := t.exec(ctx, `DELETE FROM river_job WHERE id IN (`+marks(len(jobs))+`) AND finalized_at IS NOT NULL`, jobs...); err != nil {
				return err
			}
		}
		// A key's created_at is its generation's: the bound keeps this on
		// the index of created_at.
		if _, err := t.exec(ctx, `DELETE FROM idempotency_key WHERE created_at <= ? AND generation_id IN (`+marks(len(gens))+`)`,
			append([]any{newest}, gens...)...); err != nil {
			return err
		}
		n, err = t.exec(ctx, `DELETE FROM generation WHERE id IN (`+marks(len(gens))+`)`, gens...)
		return err
	})
	return int(n), err
}

// skipLocked is the clause that makes a SELECT lock its rows, skipping
// those other transactions hold: PostgreSQL's. SQLite needs none: it runs
// one write transaction at a time, and ours begin as writers.
func (d *DB) skipLocked() string {
	if _, ok := d.b.(*pgBackend); ok {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ""
}

// marks returns n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}
