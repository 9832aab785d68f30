// Package store persists generations, API keys and the render queue. One
// database holds both our tables and River's, so that a generation row and
// its job commit in one transaction. The queries are written once, over a
// small backend interface with two implementations: SQLite (one file, the
// single-machine default; riversqlite) and PostgreSQL (the distributed mode;
// pgx and riverpgxv5).
package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
	"stillmotion/internal/testmode"
)

// DB is stillmotion's database, on SQLite or PostgreSQL.
type DB struct {
	b backend
	// webhooks are the server-wide endpoints, and webhookAttempts the
	// attempts of each delivery (queue.Config).
	webhooks        []string
	webhookAttempts int
}

var (
	_ generation.Store = (*DB)(nil)
	_ auth.Store       = (*DB)(nil)

	_ auth.VersionedStore  = (*DB)(nil)
	_ generation.PollStore = (*DB)(nil)
)

// Open opens the database at url: a postgres:// or postgresql:// URL, or
// else a SQLite file path (with or without a sqlite:// or file: prefix). It
// migrates the schema first. Workers start with Start.
func Open(ctx context.Context, url string, qc queue.Config) (*DB, error) {
	if IsPostgres(url) {
		return OpenPostgres(ctx, url, qc)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
	return OpenSQLite(ctx, path, qc)
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// ready makes a DB of a newly opened backend: it migrates the schema, then
// runs the backend's own steps (re-queueing, creating its River client).
// On failure it closes the backend.
func ready(ctx context.Context, b backend, qc queue.Config, steps ...func(context.Context) error) (*DB, error) {
	d := &DB{b: b, webhooks: qc.Webhooks, webhookAttempts: qc.WebhookAttempts}
	for _, step := range append([]func(context.Context) error{d.migrate}, steps...) {
		if err := step(ctx); err != nil {
			b.close()
			return nil, err
		}
	}
	return d, nil
}

// backend is what a database engine gives the shared queries. Statements
// are written with ? placeholders; a backend rewrites them for its dialect.
type backend interface {
	conn
	// reader runs the reads outside transactions that may see any
	// committed state (polls, lists, key lookups): on SQLite, a pool of
	// read-only connections beside the writer's one.
	reader() conn
	// snapshot returns the cache of what polls and lists read between
	// commits, or nil: a backend that cannot tell when anyone commits
	// (PostgreSQL), or one still opening.
	snapshot() *snapshotCache
	begin(ctx context.Context) (tx, error)
	// lockMigrations serializes schema migrations across processes until
	// the returned function is called.
	lockMigrations(ctx context.Context) (unlock func(), err error)
	// migrateQueue applies River's migrations.
	migrateQueue(ctx context.Context) error
	// start starts the River client's workers; stop stops them, waiting
	// for running jobs until ctx ends, then cancelling them.
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	ping(ctx context.Context) error
	close() error
}

// conn runs statements, in or out of a transaction.
type conn interface {
	// exec runs a statement and returns the number of rows it affected.
	exec(ctx context.Context, q string, args ...any) (int64, error)
	// queryRow runs a query for one row; its Scan returns sql.ErrNoRows
	// when there is none.
	queryRow(ctx context.Context, q string, args ...any) row
	query(ctx context.Context, q string, args ...any) (rows, error)
}

// tx is a transaction that can also enqueue and cancel River jobs.
type tx interface {
	conn
	// insertJob enqueues a job and returns its id.
	insertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error)
	// cancelJob cancels a job: a waiting one never runs; a running one's
	// worker has its context cancelled.
	cancelJob(ctx context.Context, id int64) error
	// lockKey holds back, until this transaction ends, every other
	// transaction that locks the same API key: counting a key's
	// generations and inserting one is then atomic.
	lockKey(ctx context.Context, keyID string) error
	// takeJob takes the first job waiting in the queue, as the queue's
	// workers do, for a remote worker; nil when none waits.
	takeJob(ctx context.Context, queue, worker string) (*rivertype.JobRow, error)
	// setJobState ends or re-queues a running job, as the queue's
	// workers do.
	setJobState(ctx context.Context, p *riverdriver.JobSetStateIfRunningParams) error
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// queueClient is a backend's River client, whatever its transaction type.
type queueClient[TTx any] struct {
	river *river.Client[TTx]
}

func (q *queueClient[TTx]) start(ctx context.Context) error { return q.river.Start(ctx) }
func (q *queueClient[TTx]) stop(ctx context.Context) error  { return q.river.Stop(ctx) }
func (q *queueClient[TTx]) stopAndCancel(ctx context.Context) error {
	return q.river.StopAndCancel(ctx)
}

// queueTx enqueues and cancels jobs in the transaction tx.
type queueTx[TTx any] struct {
	q  *queueClient[TTx]
	tx TTx
}

func (t queueTx[TTx]) insertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := t.q.river.InsertTx(ctx, t.tx, args, opts)
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

func (t queueTx[TTx]) cancelJob(ctx context.Context, id int64) error {
	_, err := t.q.river.JobCancelTx(ctx, t.tx, id)
	return err
}

type row interface{ Scan(dest ...any) error }

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// inTx runs f in a transaction and commits it if f succeeds.
func (d *DB) inTx(ctx context.Context, f func(tx) error) error {
	t, err := d.b.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback(context.WithoutCancel(ctx))
	if err := f(t); err != nil {
		return err
	}
	return t.commit(ctx)
}

// migrations are our part of the schema, in order; River's tables come
// from its own migrations, applied first. Each runs once, in a
// transaction. The SQL is written for both SQLite and PostgreSQL (SQLite
// reads BIGINT as INTEGER and DOUBLE PRECISION as REAL). Append only.
var migrations = []struct {
	version int
	sql     string
}{
	{1, `
CREATE TABLE IF NOT EXISTS api_key (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	credits    BIGINT,              -- NULL: unlimited
	created_at BIGINT NOT NULL,     -- unix ms
	revoked_at BIGINT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_key_live_name ON api_key (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS generation (
	id            TEXT PRIMARY KEY,
	key_id        TEXT NOT NULL,
	status        TEXT NOT NULL,
	request       TEXT NOT NULL,    -- JSON of generation.Request
	credits       BIGINT NOT NULL,
	progress      DOUBLE PRECISION NOT NULL DEFAULT 0,
	plan          TEXT NOT NULL DEFAULT '',
	video         TEXT,             -- JSON of generation.Video
	error_name    TEXT,
	error_message TEXT,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS generation_key_created ON generation (key_id, created_at);
`},
	// Queues per engine, and the job of each generation (to cancel it).
	{2, `
ALTER TABLE generation ADD COLUMN engine TEXT NOT NULL DEFAULT 'builtin';
ALTER TABLE generation ADD COLUMN job_id BIGINT;
UPDATE river_job SET queue = 'render_builtin' WHERE queue = 'render' AND finalized_at IS NULL;
`},
	// Deleted generations (DELETE /v1/videos/{id}): hidden, their file removed.
	// Queue positions: the queued generations in order.
	{3, `
ALTER TABLE generation ADD COLUMN deleted_at BIGINT;
CREATE INDEX IF NOT EXISTS generation_queued ON generation (engine, created_at, id) WHERE status = 'queued';
`},
	// Idempotency keys of submits, per API key, each with its generation.
	{4, `
CREATE TABLE IF NOT EXISTS idempotency_key (
	key_id        TEXT NOT NULL,
	idem_key      TEXT NOT NULL,
	generation_id TEXT NOT NULL,
	request_hash  TEXT NOT NULL,  -- hex SHA-256 of the canonical request
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (key_id, idem_key)
);
`},
	// Expired idempotency keys are swept by age.
	{5, `
CREATE INDEX IF NOT EXISTS idempotency_key_created ON idempotency_key (created_at);
`},
	// What an engine recorded of a generation's render (a remote job's id).
	{6, `
ALTER TABLE generation ADD COLUMN engine_state TEXT NOT NULL DEFAULT '';
`},
	// Each submit counts its key's generations in flight; queue positions
	// are read from River's jobs.
	{7, `
CREATE INDEX IF NOT EXISTS generation_key_in_flight ON generation (key_id) WHERE status IN ('queued', 'generating');
`},
	// Retention: the sweep reads the ended generations oldest first (its
	// queries spell the statuses out as this index does: see endedStatus).
	{8, `
CREATE INDEX IF NOT EXISTS generation_ended_created ON generation (created_at) WHERE status IN ('completed', 'error');
`},
	// A poll's queue position walks River's waiting jobs ahead of its own
	// and finds each one's queued generation here, without the table.
	{9, `
CREATE INDEX IF NOT EXISTS generation_queued_job ON generation (job_id, engine) WHERE status = 'queued';
`},
	// Test mode: test keys, and their generations with the script they
	// run and the number of times they were polled.
	{10, `
ALTER TABLE api_key ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generation ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generation ADD COLUMN script TEXT NOT NULL DEFAULT '';
ALTER TABLE generation ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
`},
	// What test keys sent (GET /v2/test/requests).
	{11, `
CREATE TABLE IF NOT EXISTS test_request (
	id      TEXT PRIMARY KEY,
	key_id  TEXT NOT NULL,
	at      BIGINT NOT NULL,   -- unix ms
	method  TEXT NOT NULL,
	path    TEXT NOT NULL,
	query   TEXT NOT NULL,
	headers TEXT NOT NULL,     -- JSON object
	body    TEXT NOT NULL,
	status  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS test_request_key_at ON test_request (key_id, at, id);
`},
	// Worker tokens: keys that may only take work from their queues.
	{12, `
ALTER TABLE api_key ADD COLUMN worker INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_key ADD COLUMN queues TEXT NOT NULL DEFAULT '';
`},
	// Remote workers' leases: each holds one running render job.
	{13, `
CREATE TABLE IF NOT EXISTS lease (
	id            TEXT PRIMARY KEY,
	generation_id TEXT NOT NULL UNIQUE,
	job_id        BIGINT NOT NULL,
	queue         TEXT NOT NULL,
	worker        TEXT NOT NULL,    -- the worker token's name
	attempt       INTEGER NOT NULL,
	max_attempts  INTEGER NOT NULL,
	until_at      BIGINT NOT NULL,  -- unix ms: it expires then unless renewed
	deadline      BIGINT NOT NULL,  -- unix ms: the attempt's time limit
	parts         INTEGER NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS lease_until ON lease (until_at);
`},
}

// SchemaVersion is the version of our schema this build migrates to.
var SchemaVersion = migrations[len(migrations)-1].version

// migrate brings River's tables and ours up to date. Several processes may
// start at once: the backend's lock makes them take turns, and each later
// one finds nothing left to do.
func (d *DB) migrate(ctx context.Context) error {
	unlock, err := d.b.lockMigrations(ctx)
	if err != nil {
		return fmt.Errorf("locking the schema for migration: %w", err)
	}
	defer unlock()
	if err := d.b.migrateQueue(ctx); err != nil {
		return fmt.Errorf("migrating the queue tables: %w", err)
	}
	if _, err := d.b.exec(ctx, `CREATE TABLE IF NOT EXISTS stillmotion_migration (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	for _, m := range migrations {
		err := d.inTx(ctx, func(t tx) error {
			var n int
			if err := t.queryRow(ctx, `SELECT count(*) FROM stillmotion_migration WHERE version = ?`, m.version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := t.exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := t.exec(ctx, `INSERT INTO stillmotion_migration (version, applied_at) VALUES (?, ?)`, m.version, ms(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating to version %d: %w", m.version, err)
		}
	}
	return nil
}

// Start starts the workers, if the queue configuration has any.
func (d *DB) Start(ctx context.Context) error { return d.b.start(ctx) }

// Stop stops fetching jobs and waits for running ones to finish, until ctx
// ends; then it cancels them (they are re-queued) and waits for that.
func (d *DB) Stop(ctx context.Context) error {
	err := d.b.stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = d.b.stopAndCancel(cctx)
	}
	return err
}

// Close closes the database.
func (d *DB) Close() error { return d.b.close() }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.b.ping(ctx) }

// QueueDepth returns the number of render jobs waiting or running
// (webhook deliveries are not counted).
func (d *DB) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := d.b.queryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'render' AND state IN ('available','running','retryable','scheduled')`).Scan(&n)
	return n, err
}

// QueueStates returns the number of unfinished render jobs in each state
// (available, scheduled, running, retryable, pending); a state left out has
// none.
func (d *DB) QueueStates(ctx context.Context) (map[string]int, error) {
	rs, err := d.b.query(ctx, `SELECT state, count(*) FROM river_job WHERE kind = 'render' AND finalized_at IS NULL GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	n := map[string]int{}
	for rs.Next() {
		var (
			state string
			c     int
		)
		if err := rs.Scan(&state, &c); err != nil {
			return nil, err
		}
		n[state] = c
	}
	return n, rs.Err()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Insert implements generation.Store.
func (d *DB) Insert(ctx context.Context, g *generation.Generation, unlimited bool) error {
	req, err := json.Marshal(g.Request)
	if err != nil {
		return err
	}
	engine := cmp.Or(g.Engine, generation.BuiltinEngine)
	err = d.inTx(ctx, func(t tx) error {
		if g.IdempotencyKey != "" {
			if err := reusedKey(ctx, t, g); err != nil {
				return err
			}
			// Every submit with a key also forgets the keys of all API
			// keys that have expired, so the table holds about a window's
			// worth of keys; the index on created_at keeps this cheap.
			if _, err := t.exec(ctx, `DELETE FROM idempotency_key WHERE created_at <= ?`,
				ms(g.Created.Add(-generation.IdempotencyWindow))); err != nil {
				return err
			}
		}
		if !unlimited {
			n, err := t.exec(ctx, `UPDATE api_key SET credits = credits - ?
				WHERE id = ? AND revoked_at IS NULL AND (credits IS NULL OR credits >= ?)`, g.Credits, g.KeyID, g.Credits)
			if err != nil {
				return err
			}
			if n == 0 {
				var bal sql.NullInt64
				_ = t.queryRow(ctx, `SELECT credits FROM api_key WHERE id = ?`, g.KeyID).Scan(&bal)
				return fault.Errorf(fault.Forbidden, "Insufficient credits: this generation costs %d credits and the key has %d left", g.Credits, bal.Int64)
			}
		}
		if err := t.lockKey(ctx, g.KeyID); err != nil {
			return err
		}
		if err := t.queryRow(ctx, `SELECT count(*) FROM generation WHERE key_id = ? AND status IN ('queued', 'generating')`,
			g.KeyID).Scan(&g.InFlight); err != nil {
			return err
		}
		if g.MaxInFlight > 0 && g.InFlight >= g.MaxInFlight {
			return &fault.Error{Kind: fault.RateLimited, RetryAfter: 10 * time.Second, Message: fmt.Sprintf(
				"This key has %d generations queued or rendering, its limit; wait for some to finish (poll them) and retry after the time in Retry-After", g.InFlight)}
		}
		prio := queue.Priority(g.InFlight)
		g.InFlight++
		opts := queue.InsertOpts(cmp.Or(g.Queue, engine), prio)
		if !g.StartAt.IsZero() {
			opts.ScheduledAt = g.StartAt
		}
		jobID, err := t.insertJob(ctx, queue.RenderArgs{GenerationID: g.ID}, opts)
		if err != nil {
			return fmt.Errorf("enqueueing: %w", err)
		}
		_, err = t.exec(ctx, `INSERT INTO generation (id, key_id, status, request, credits, engine, job_id, created_at, updated_at, test, script)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, g.ID, g.KeyID, string(g.Status), string(req), g.Credits, engine, jobID, ms(g.Created), ms(g.Updated),
			flag(g.Test), g.Script)
		if err != nil || g.IdempotencyKey == "" {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO idempotency_key (key_id, idem_key, generation_id, request_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			g.KeyID, g.IdempotencyKey, g.ID, g.RequestHash, ms(g.Created))
		if isUniqueViolation(err) {
			return errKeyRace
		}
		return err
	})
	if errors.Is(err, errKeyRace) {
		// A concurrent insert with the same key committed first: its
		// transaction is over, so the key's row is there to read.
		err = d.inTx(ctx, func(t tx) error { return reusedKey(ctx, t, g) })
		if err == nil {
			err = fmt.Errorf("idempotency key %q: conflicting insert, but no row", g.IdempotencyKey)
		}
	}
	return err
}

// errKeyRace says an insert lost the race for its idempotency key.
var errKeyRace = errors.New("idempotency key inserted concurrently")

// reusedKey forgets g's idempotency key if it has expired, and returns a
// *generation.KeyReusedError if it is still in use.
func reusedKey(ctx context.Context, t tx, g *generation.Generation) error {
	if _, err := t.exec(ctx, `DELETE FROM idempotency_key WHERE key_id = ? AND idem_key = ? AND created_at <= ?`,
		g.KeyID, g.IdempotencyKey, ms(g.Created.Add(-generation.IdempotencyWindow))); err != nil {
		return err
	}
	var e generation.KeyReusedError
	err := t.queryRow(ctx, `SELECT generation_id, request_hash FROM idempotency_key WHERE key_id = ? AND idem_key = ?`,
		g.KeyID, g.IdempotencyKey).Scan(&e.ID, &e.RequestHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &e
}

// generationColumns are the columns scanGeneration reads. Statuses in
// the statements that polls run are written out, not bound: SQLite
// prepares a statement again whenever a bound value could change its use
// of a partial index (these are on status), which undoes preparing it.
const generationColumns = `id, key_id, status, request, ` + columnsAfterRequest

// pollColumns are generationColumns with an empty request, which
// scanGeneration does not decode: what polls read (they do not show it).
const pollColumns = `id, key_id, status, '', ` + columnsAfterRequest

const columnsAfterRequest = `credits, progress, plan, engine, engine_state, video, error_name, error_message, created_at, updated_at,
	CASE WHEN status IN ('queued', 'generating') AND EXISTS (SELECT 1 FROM river_job WHERE river_job.id = generation.job_id
		AND river_job.state IN ('completed', 'discarded', 'cancelled')) THEN 1 ELSE 0 END,
	CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, test, script, polls`

func scanGeneration(r row) (*generation.Generation, error) {
	var (
		g                       generation.Generation
		status, req             string
		video, errName, errMsg  sql.NullString
		created, updated        int64
		orphaned, deleted, test int
	)
	if err := r.Scan(&g.ID, &g.KeyID, &status, &req, &g.Credits, &g.Progress, &g.Plan, &g.Engine, &g.EngineState,
		&video, &errName, &errMsg, &created, &updated, &orphaned, &deleted, &test, &g.Script, &g.Polls); err != nil {
		return nil, err
	}
	g.Status, g.Orphaned, g.Deleted, g.Test = generation.Status(status), orphaned == 1, deleted == 1, test == 1
	if req != "" { // "": read with pollColumns
		if err := json.Unmarshal([]byte(req), &g.Request); err != nil {
			return nil, err
		}
	}
	if video.Valid {
		g.Video = new(generation.Video)
		if err := json.Unmarshal([]byte(video.String), g.Video); err != nil {
			return nil, err
		}
	}
	if errName.Valid {
		g.Failure = &generation.Failure{Name: errName.String, Message: errMsg.String}
	}
	g.Created, g.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &g, nil
}

// Get implements generation.Store.
func (d *DB) Get(ctx context.Context, id string) (*generation.Generation, error) {
	return d.get(ctx, `SELECT `+generationColumns+` FROM generation WHERE id = ?`, id)
}

// GetForPoll implements generation.PollStore: Get without the request.
func (d *DB) GetForPoll(ctx context.Context, id string) (*generation.Generation, error) {
	read := func() (*generation.Generation, error) {
		return d.get(ctx, `SELECT `+pollColumns+` FROM generation WHERE id = ?`, id)
	}
	if c := d.b.snapshot(); c != nil {
		return c.generation(ctx, id, read)
	}
	return read()
}

func (d *DB) get(ctx context.Context, q, id string) (*generation.Generation, error) {
	g, err := scanGeneration(d.b.reader().queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Errorf(fault.NotFound, "Generation %q not found", fault.Echo(id))
	}
	return g, err
}

// List implements generation.Store.
func (d *DB) List(ctx context.Context, keyID string, q generation.ListQuery) ([]*generation.Generation, error) {
	read := func() ([]*generation.Generation, error) {
		order, cmpOp := "ASC", ">"
		if q.Desc {
			order, cmpOp = "DESC", "<"
		}
		where := `key_id = ? AND deleted_at IS NULL`
		args := []any{keyID}
		if q.After != "" {
			var created int64
			err := d.b.reader().queryRow(ctx, `SELECT created_at FROM generation WHERE id = ? AND key_id = ?`, q.After, keyID).Scan(&created)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, fault.Errorf(fault.NotFound, "Generation %q not found", fault.Echo(q.After))
			}
			if err != nil {
				return nil, err
			}
			where += ` AND (created_at ` + cmpOp + ` ? OR (created_at = ? AND id ` + cmpOp + ` ?))`
			args = append(args, created, created, q.After)
		}
		args = append(args, q.Limit)
		columns := generationColumns
		if q.WithoutRequest {
			columns = pollColumns
		}
		return d.generations(ctx, d.b.reader(), `SELECT `+columns+` FROM generation WHERE `+where+
			` ORDER BY created_at `+order+`, id `+order+` LIMIT ?`, args...)
	}
	if c := d.b.snapshot(); c != nil && q.WithoutRequest {
		return c.list(ctx, fmt.Sprintf("%s\x00%s\x00%d\x00%t", keyID, q.After, q.Limit, q.Desc), read)
	}
	return read()
}

// generations runs q, a query of generationColumns, and scans its rows.
func (d *DB) generations(ctx context.Context, c conn, q string, args ...any) ([]*generation.Generation, error) {
	rs, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var gs []*generation.Generation
	for rs.Next() {
		g, err := scanGeneration(rs)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, rs.Err()
}

// queuePositionQuery counts the queued generations whose jobs are ahead of
// generation ?'s (itself included). Its CROSS JOINs fix SQLite's join order
// (PostgreSQL plans them as inner joins): the jobs, then their generations.
const queuePositionQuery = `SELECT count(*) FROM generation meg CROSS JOIN river_job me CROSS JOIN river_job j CROSS JOIN generation g
	WHERE meg.id = ? AND meg.status = 'queued' AND me.id = meg.job_id
		AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled') AND j.queue = me.queue
		AND (j.priority, j.scheduled_at, j.id) <= (me.priority, me.scheduled_at, me.id)
		AND g.job_id = j.id AND g.status = 'queued' AND g.engine = meg.engine`

// QueuePosition implements generation.Store.
func (d *DB) QueuePosition(ctx context.Context, id string) (int, error) {
	if c := d.b.snapshot(); c != nil {
		return c.position(ctx, id)
	}
	// In River's order of its queue: by priority, then time, then id. The
	// walk goes over the unfinished jobs ahead (River's fetching index),
	// so it costs the position, not the queue's length; a queued
	// generation's job is unfinished unless it was orphaned, which the
	// poll of that generation repairs. (The statuses are written out: see
	// generationColumns.)
	var n int
	err := d.b.reader().queryRow(ctx, queuePositionQuery, id).Scan(&n)
	return n, err
}

// Delete implements generation.Store.
func (d *DB) Delete(ctx context.Context, id string) error {
	n, err := d.b.exec(ctx, `UPDATE generation SET deleted_at = ? WHERE id = ? AND status NOT IN (?, ?) AND deleted_at IS NULL`,
		ms(time.Now()), id, string(generation.Queued), string(generation.Generating))
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has not ended or is already deleted", id)
	}
	return nil
}

// Record implements testmode.Recorder.
func (d *DB) Record(ctx context.Context, keyID string, rec *testmode.Recorded) error {
	headers, err := json.Marshal(rec.Headers)
	if err != nil {
		return err
	}
	return d.inTx(ctx, func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO test_request (id, key_id, at, method, path, query, headers, body, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, keyID, ms(rec.At), rec.Method, rec.Path, rec.Query, string(headers), rec.Body, rec.Status); err != nil {
			return err
		}
		_, err := t.exec(ctx, `DELETE FROM test_request WHERE key_id = ? AND id NOT IN
			(SELECT id FROM test_request WHERE key_id = ? ORDER BY at DESC, id DESC LIMIT ?)`, keyID, keyID, testmode.MaxRecorded)
		return err
	})
}

// Recorded implements testmode.Recorder.
func (d *DB) Recorded(ctx context.Context, keyID string, limit int) ([]*testmode.Recorded, error) {
	rs, err := d.b.query(ctx, `SELECT id, at, method, path, query, headers, body, status FROM test_request
		WHERE key_id = ? ORDER BY at DESC, id DESC LIMIT ?`, keyID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*testmode.Recorded
	for rs.Next() {
		var (
			r       testmode.Recorded
			at      int64
			headers string
		)
		if err := rs.Scan(&r.ID, &at, &r.Method, &r.Path, &r.Query, &headers, &r.Body, &r.Status); err != nil {
			return nil, err
		}
		r.At = time.UnixMilli(at).UTC()
		if err := json.Unmarshal([]byte(headers), &r.Headers); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rs.Err()
}

// ResetTests implements testmode.Recorder. Running test generations are
// left to end; their files go with the retention sweep's.
func (d *DB) ResetTests(ctx context.Context, keyID string) (requests, generations int, err error) {
	err = d.inTx(ctx, func(t tx) error {
		n, err := t.exec(ctx, `DELETE FROM test_request WHERE key_id = ?`, keyID)
		if err != nil {
			return err
		}
		m, err := t.exec(ctx, `UPDATE generation SET deleted_at = ? WHERE key_id = ? AND test = 1 AND deleted_at IS NULL
			AND status IN ('completed', 'error')`, ms(time.Now()), keyID)
		requests, generations = int(n), int(m)
		return err
	})
	return requests, generations, err
}

// CountPoll implements generation.Store.
func (d *DB) CountPoll(ctx context.Context, id string) (int, error) {
	var n int
	err := d.b.queryRow(ctx, `UPDATE generation SET polls = polls + 1 WHERE id = ? RETURNING polls`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fault.E(fault.NotFound, "no such generation")
	}
	return n, err
}

// SaveState implements generation.Store.
func (d *DB) SaveState(ctx context.Context, id, state string) error {
	n, err := d.b.exec(ctx, `UPDATE generation SET engine_state = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)`,
		state, ms(time.Now()), id, string(generation.Queued), string(generation.Generating))
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has already ended", id)
	}
	return nil
}

// Progress implements generation.Store. The first call on a queued
// generation also enqueues its generation.started webhooks, in the same
// transaction.
func (d *DB) Progress(ctx context.Context, id string, p float64, plan string) error {
	return d.inTx(ctx, func(t tx) error { return d.progress(ctx, t, id, p, plan) })
}

// progress is Progress in t.
func (d *DB) progress(ctx context.Context, t tx, id string, p float64, plan string) error {
	now := ms(time.Now())
	n, err := t.exec(ctx, `UPDATE generation SET status = ?, progress = ?, plan = CASE WHEN ? = '' THEN plan ELSE ? END, updated_at = ?
		WHERE id = ? AND status = ?`, string(generation.Generating), p, plan, plan, now, id, string(generation.Queued))
	if err != nil {
		return err
	}
	if n == 1 {
		return d.notify(ctx, t, id, generation.EventStarted)
	}
	n, err = t.exec(ctx, `UPDATE generation SET progress = ?, plan = CASE WHEN ? = '' THEN plan ELSE ? END, updated_at = ?
		WHERE id = ? AND status = ?`, p, plan, plan, now, id, string(generation.Generating))
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has already ended", id)
	}
	return nil
}

// notify enqueues, in t, one webhook job of event for generation id per
// endpoint: the server-wide ones and the generation's callback_url.
func (d *DB) notify(ctx context.Context, t tx, id, event string) error {
	urls := d.webhooks
	var req string
	if err := t.queryRow(ctx, `SELECT request FROM generation WHERE id = ?`, id).Scan(&req); err != nil {
		return err
	}
	var r struct {
		CallbackURL string `json:"callback_url"`
	}
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		return err
	}
	if r.CallbackURL != "" {
		urls = append(slices.Clip(urls), r.CallbackURL)
	}
	for _, u := range urls {
		if _, err := t.insertJob(ctx, queue.WebhookArgs{GenerationID: id, Event: event, URL: u}, queue.WebhookInsertOpts(d.webhookAttempts)); err != nil {
			return fmt.Errorf("enqueueing a webhook: %w", err)
		}
	}
	return nil
}

// Finish implements generation.Store.
func (d *DB) Finish(ctx context.Context, id string, v *generation.Video, f *generation.Failure) error {
	return d.inTx(ctx, func(t tx) error { return d.finish(ctx, t, id, v, f) })
}

// Cancel implements generation.Store.
func (d *DB) Cancel(ctx context.Context, id string, f *generation.Failure) error {
	return d.inTx(ctx, func(t tx) error {
		if err := d.finish(ctx, t, id, nil, f); err != nil {
			return err
		}
		var job sql.NullInt64
		if err := t.queryRow(ctx, `SELECT job_id FROM generation WHERE id = ?`, id).Scan(&job); err != nil {
			return err
		}
		if !job.Valid {
			// A generation from before jobs were recorded: its job finds
			// the generation ended and does nothing.
			return nil
		}
		if err := t.cancelJob(ctx, job.Int64); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return fmt.Errorf("cancelling job %d: %w", job.Int64, err)
		}
		return nil
	})
}

// finish ends generation id in t: Completed with v, or Failed with f and
// its credits refunded; and enqueues its webhooks.
func (d *DB) finish(ctx context.Context, t tx, id string, v *generation.Video, f *generation.Failure) error {
	now := ms(time.Now())
	var (
		n   int64
		err error
	)
	live := []any{id, string(generation.Queued), string(generation.Generating)}
	if f != nil {
		n, err = t.exec(ctx, `UPDATE generation SET status = ?, error_name = ?, error_message = ?, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, append([]any{string(generation.Failed), f.Name, f.Message, now}, live...)...)
	} else {
		var vj []byte
		if vj, err = json.Marshal(v); err != nil {
			return err
		}
		n, err = t.exec(ctx, `UPDATE generation SET status = ?, video = ?, progress = 1, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, append([]any{string(generation.Completed), string(vj), now}, live...)...)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has already ended", id)
	}
	if f != nil {
		// The refund commits with the failure, so it happens exactly once.
		// A test generation was never charged.
		if _, err := t.exec(ctx, `UPDATE api_key SET credits = credits + (SELECT credits FROM generation WHERE id = ?)
			WHERE id = (SELECT key_id FROM generation WHERE id = ? AND test = 0) AND credits IS NOT NULL`, id, id); err != nil {
			return err
		}
		return d.notify(ctx, t, id, generation.EventFailed)
	}
	return d.notify(ctx, t, id, generation.EventCompleted)
}

// CreateKey implements auth.Store.
func (d *DB) CreateKey(ctx context.Context, k *auth.Key) error {
	var credits any
	if !k.Unlimited {
		credits = k.Credits
	}
	_, err := d.b.exec(ctx, `INSERT INTO api_key (id, name, hash, credits, created_at, test, worker, queues) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Hash, credits, ms(k.Created), flag(k.Test), flag(k.Worker), strings.Join(k.Queues, ","))
	if isUniqueViolation(err) {
		return fault.Errorf(fault.Conflict, "a key named %q already exists; revoke it or choose another name", k.Name)
	}
	return err
}

// isUniqueViolation reports whether err is a unique constraint violation,
// in either dialect.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE")
}

const keyColumns = `id, name, hash, credits, created_at, revoked_at, test, worker, queues`

// flag is a boolean as the schema's INTEGER flags hold it.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanKey(r row) (*auth.Key, error) {
	var (
		k       auth.Key
		credits sql.NullInt64
		created int64
		revoked sql.NullInt64
		test    int
		worker  int
		queues  string
	)
	if err := r.Scan(&k.ID, &k.Name, &k.Hash, &credits, &created, &revoked, &test, &worker, &queues); err != nil {
		return nil, err
	}
	k.Credits, k.Unlimited, k.Test, k.Worker = credits.Int64, !credits.Valid, test == 1, worker == 1
	if queues != "" {
		k.Queues = strings.Split(queues, ",")
	}
	k.Created = time.UnixMilli(created).UTC()
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		k.Revoked = &t
	}
	return &k, nil
}

// KeyByHash implements auth.Store.
func (d *DB) KeyByHash(ctx context.Context, hash string) (*auth.Key, error) {
	k, err := scanKey(d.b.reader().queryRow(ctx, `SELECT `+keyColumns+` FROM api_key WHERE hash = ? AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.E(fault.NotFound, "no such key")
	}
	return k, err
}

// Keys implements auth.Store.
func (d *DB) Keys(ctx context.Context) ([]*auth.Key, error) {
	rs, err := d.b.query(ctx, `SELECT `+keyColumns+` FROM api_key ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var keys []*auth.Key
	for rs.Next() {
		k, err := scanKey(rs)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rs.Err()
}

// Version implements auth.VersionedStore: on SQLite, a value that any
// process's commit changes (its data_version); PostgreSQL cannot tell.
func (d *DB) Version(ctx context.Context) (int64, bool, error) {
	c := d.b.snapshot()
	if c == nil {
		return 0, false, nil
	}
	v, err := c.dataVersionNow(ctx)
	return v, err == nil, err
}

// RevokeKey implements auth.Store.
func (d *DB) RevokeKey(ctx context.Context, idOrName string) error {
	n, err := d.b.exec(ctx, `UPDATE api_key SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL`,
		ms(time.Now()), idOrName, idOrName)
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.Errorf(fault.NotFound, "no live key with id or name %q", idOrName)
	}
	return nil
}
