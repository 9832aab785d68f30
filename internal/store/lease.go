package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

var _ generation.LeaseStore = (*DB)(nil)

// takeJob and setJobState are the queue's own statements, run in a
// transaction of ours: a job leased to a remote worker is taken exactly as
// the queue's workers take theirs (so that no job goes to both), and
// ended as they end theirs.
func (t queueTx[TTx]) takeJob(ctx context.Context, queueName, worker string) (*rivertype.JobRow, error) {
	exec := t.q.river.Driver().UnwrapExecutor(t.tx)
	res, err := exec.JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
		ClientID: worker, Kind: []string{queue.RenderArgs{}.Kind()}, MaxAttemptedBy: 100, MaxToLock: 1, Queue: queueName,
	})
	if err != nil || len(res.Jobs) == 0 {
		return nil, err
	}
	return res.Jobs[0], nil
}

func (t queueTx[TTx]) setJobState(ctx context.Context, p *riverdriver.JobSetStateIfRunningParams) error {
	exec := t.q.river.Driver().UnwrapExecutor(t.tx)
	_, err := exec.JobSetStateIfRunningMany(ctx, &riverdriver.JobSetStateIfRunningManyParams{
		ID:              []int64{p.ID},
		Attempt:         []*int{p.Attempt},
		ErrData:         [][]byte{p.ErrData},
		FinalizedAt:     []*time.Time{p.FinalizedAt},
		MetadataDoMerge: []bool{p.MetadataDoMerge},
		MetadataUpdates: [][]byte{p.MetadataUpdates},
		ScheduledAt:     []*time.Time{p.ScheduledAt},
		State:           []rivertype.JobState{p.State},
	})
	return err
}

const leaseColumns = `id, generation_id, queue, worker, attempt, max_attempts, until_at, deadline, parts, created_at`

// scanLease reads a lease's leaseColumns, then any more columns into more.
func scanLease(r row, more ...any) (*generation.Lease, error) {
	var (
		l                       generation.Lease
		until, deadline, leased int64
	)
	if err := r.Scan(append([]any{&l.ID, &l.GenerationID, &l.Queue, &l.Worker, &l.Attempt, &l.MaxAttempts, &until, &deadline, &l.Parts, &leased}, more...)...); err != nil {
		return nil, err
	}
	l.Until, l.Deadline, l.Leased = time.UnixMilli(until).UTC(), time.UnixMilli(deadline).UTC(), time.UnixMilli(leased).UTC()
	return &l, nil
}

// maxSkipped bounds the finished jobs one TakeLease clears on its way to
// a live one.
const maxSkipped = 10

// TakeLease implements generation.LeaseStore.
func (d *DB) TakeLease(ctx context.Context, queueName string, l *generation.Lease) (*generation.Generation, error) {
	// A read first: workers waiting on an empty queue ask several times a
	// second, and taking a job is a write (on SQLite, the one writer).
	var waiting int
	if err := d.b.reader().queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM river_job WHERE queue = ? AND state = 'available' LIMIT 1) w`,
		queueName).Scan(&waiting); err != nil || waiting == 0 {
		return nil, err
	}
	var g *generation.Generation
	err := d.inTx(ctx, func(t tx) error {
		for range maxSkipped {
			job, err := t.takeJob(ctx, queueName, "remote:"+l.Worker)
			if err != nil || job == nil {
				return err
			}
			var args queue.RenderArgs
			if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
				return fmt.Errorf("job %d: %w", job.ID, err)
			}
			var status string
			err = t.queryRow(ctx, `SELECT status FROM generation WHERE id = ?`, args.GenerationID).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) || err == nil && generation.Status(status).Terminal() {
				// Ended already (cancelled, or by an attempt that was
				// rescued): never rendered twice.
				if err := t.setJobState(ctx, riverdriver.JobSetStateCompleted(job.ID, time.Now(), nil)); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if err := d.progress(ctx, t, args.GenerationID, 0, ""); err != nil {
				return err
			}
			l.GenerationID, l.Queue, l.Attempt, l.MaxAttempts, l.Parts = args.GenerationID, queueName, job.Attempt, job.MaxAttempts, 0
			l.Leased = time.Now()
			if _, err := t.exec(ctx, `INSERT INTO lease (`+leaseColumns+`, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				l.ID, l.GenerationID, l.Queue, l.Worker, l.Attempt, l.MaxAttempts, ms(l.Until), ms(l.Deadline), 0, ms(l.Leased), job.ID); err != nil {
				return err
			}
			g, err = scanGeneration(t.queryRow(ctx, `SELECT `+generationColumns+` FROM generation WHERE id = ?`, l.GenerationID))
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Lease implements generation.LeaseStore.
func (d *DB) Lease(ctx context.Context, id string) (*generation.Lease, error) {
	l, err := scanLease(d.b.queryRow(ctx, `SELECT `+leaseColumns+` FROM lease WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, generation.LeaseEnded(id)
	}
	return l, err
}

// RenewLease implements generation.LeaseStore.
func (d *DB) RenewLease(ctx context.Context, id string, until time.Time, p float64, state string) (*generation.Lease, error) {
	var l *generation.Lease
	err := d.inTx(ctx, func(t tx) error {
		n, err := t.exec(ctx, `UPDATE lease SET until_at = ? WHERE id = ?`, ms(until), id)
		if err != nil {
			return err
		}
		if n == 0 {
			return generation.LeaseEnded(id)
		}
		if l, err = scanLease(t.queryRow(ctx, `SELECT `+leaseColumns+` FROM lease WHERE id = ?`, id)); err != nil {
			return err
		}
		err = d.progress(ctx, t, l.GenerationID, p, "")
		if err == nil && state != "" {
			_, err = t.exec(ctx, `UPDATE generation SET engine_state = ? WHERE id = ?`, state, l.GenerationID)
		}
		return err
	})
	if fault.KindOf(err) == fault.Conflict {
		// Cancelled: the lease ends, and the job with it.
		if _, eerr := d.EndLease(ctx, id, generation.LeaseEnd{Reason: "cancelled"}); eerr != nil && fault.KindOf(eerr) != fault.Gone {
			return nil, eerr
		}
		return nil, err
	}
	return l, err
}

// NotePart implements generation.LeaseStore.
func (d *DB) NotePart(ctx context.Context, id string, part int) error {
	n, err := d.b.exec(ctx, `UPDATE lease SET parts = CASE WHEN parts < ? THEN ? ELSE parts END WHERE id = ?`, part, part, id)
	if err == nil && n == 0 {
		return generation.LeaseEnded(id)
	}
	return err
}

// EndLease implements generation.LeaseStore.
func (d *DB) EndLease(ctx context.Context, id string, end generation.LeaseEnd) (*generation.Lease, error) {
	var l *generation.Lease
	endedMeanwhile := false
	err := d.inTx(ctx, func(t tx) error {
		endedMeanwhile = false
		q, args := `DELETE FROM lease WHERE id = ?`, []any{id}
		if !end.Overdue.IsZero() {
			q, args = q+` AND until_at < ?`, append(args, ms(end.Overdue))
		}
		var job int64
		var err error
		l, err = scanLease(t.queryRow(ctx, q+` RETURNING `+leaseColumns+`, job_id`, args...), &job)
		if errors.Is(err, sql.ErrNoRows) {
			return generation.LeaseEnded(id)
		}
		if err != nil {
			return err
		}
		now := time.Now()
		var status string
		if err := t.queryRow(ctx, `SELECT status FROM generation WHERE id = ?`, l.GenerationID).Scan(&status); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if status == "" || generation.Status(status).Terminal() {
			if err := t.setJobState(ctx, riverdriver.JobSetStateCancelled(job, now, attemptError(l, now, "the generation ended"), nil)); err != nil {
				return err
			}
			endedMeanwhile = end.Video != nil || end.Failure != nil
			return nil
		}
		switch {
		case end.Video != nil:
			if err := d.finish(ctx, t, l.GenerationID, end.Video, nil); err != nil {
				return err
			}
			return t.setJobState(ctx, riverdriver.JobSetStateCompleted(job, now, nil))
		case end.Failure != nil:
			if err := d.finish(ctx, t, l.GenerationID, nil, end.Failure); err != nil {
				return err
			}
			return t.setJobState(ctx, riverdriver.JobSetStateDiscarded(job, now, attemptError(l, now, end.Failure.Name+": "+end.Failure.Message), nil))
		case end.HandedBack:
			return t.setJobState(ctx, riverdriver.JobSetStateInterrupted(job, end.RetryAt, l.Attempt-1, nil))
		}
		// Available at once, but not taken before RetryAt: no process
		// need run the queue's scheduler for it.
		return t.setJobState(ctx, riverdriver.JobSetStateErrorAvailable(job, end.RetryAt, attemptError(l, now, end.Reason), nil))
	})
	switch {
	case err != nil:
		return nil, err
	case endedMeanwhile:
		return l, fault.Errorf(fault.Conflict, "generation %s has already ended", l.GenerationID)
	}
	return l, nil
}

// attemptError is the queue's record of why l's attempt ended.
func attemptError(l *generation.Lease, at time.Time, why string) []byte {
	b, _ := json.Marshal(rivertype.AttemptError{At: at, Attempt: l.Attempt, Error: "remote worker " + l.Worker + ": " + why})
	return b
}

// Overdue implements generation.LeaseStore.
func (d *DB) Overdue(ctx context.Context, now time.Time, limit int) ([]*generation.Lease, error) {
	rs, err := d.b.query(ctx, `SELECT `+leaseColumns+` FROM lease WHERE until_at < ? ORDER BY until_at LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var ls []*generation.Lease
	for rs.Next() {
		l, err := scanLease(rs)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rs.Err()
}
