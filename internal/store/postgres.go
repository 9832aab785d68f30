package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"stillmotion/internal/fault"
	"stillmotion/internal/queue"
)

// migrationLock is the key of the PostgreSQL advisory lock that processes
// starting at once take in turns to migrate the schema ("stillmotion" in
// ASCII, truncated to 8 bytes).
const migrationLock = 0x7374696c6c6d6f74

// pgBackend is the store on PostgreSQL: our tables through pgx, River's
// queue through riverpgxv5, both on one connection pool, so that a
// generation and its job commit in one transaction. Any number of processes
// may share a database; River's rescuer re-runs the jobs of a process that
// died (after RescueAfter).
type pgBackend struct {
	pgConn
	queueClient[pgx.Tx]
	pool *pgxpool.Pool
}

// OpenPostgres connects to the PostgreSQL database at url (a postgres://
// URL; pgx's parameters such as sslmode and pool_max_conns apply) and
// migrates it.
func OpenPostgres(ctx context.Context, url string, qc queue.Config) (*DB, error) {
	qc.Defaults()
	if err := qc.Validate(); err != nil {
		return nil, fault.Wrap(fault.Invalid, err.Error(), err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, "invalid --database URL: "+redactErr(err, url), err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// Each worker writes progress; River holds one connection to
		// listen and a few to fetch and complete jobs.
		cfg.MaxConns = int32(max(8, qc.Workers+6))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A server that does not answer at all (its host gone from the
		// network) fails a request in seconds rather than hanging it.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fault.Wrap(fault.Unavailable, fmt.Sprintf("cannot reach PostgreSQL at %s: %s", Redact(url), redactErr(err, url)), err)
	}
	b := &pgBackend{pgConn: pgConn{pool}, pool: pool}
	return ready(ctx, b, qc, func(context.Context) (err error) {
		b.river, err = river.NewClient(riverpgxv5.New(pool), queue.RiverConfig(qc))
		return err
	})
}

// Redact returns url without its password, fit for logs.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":xxxxx@" + host
}

func redactErr(err error, url string) string {
	s := err.Error()
	if r := Redact(url); r != url {
		s = strings.ReplaceAll(s, url, r)
	}
	return s
}

func (b *pgBackend) begin(ctx context.Context) (tx, error) {
	t, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	return &pgTx{pgConn{t}, queueTx[pgx.Tx]{&b.queueClient, t}, t}, nil
}

// lockMigrations takes a session advisory lock on a connection of its own,
// held until unlock: River's migrator and ours then run one process at a time.
func (b *pgBackend) lockMigrations(ctx context.Context) (func(), error) {
	c, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		c.Release()
		return nil, err
	}
	return func() {
		if _, err := c.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)); err != nil {
			// Closing the connection releases the lock too.
			c.Conn().Close(context.Background())
		}
		c.Release()
	}, nil
}

func (b *pgBackend) migrateQueue(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(b.pool), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// reader is the pool itself: PostgreSQL runs reads side by side already.
func (b *pgBackend) reader() conn { return b }

// snapshot implements backend: PostgreSQL cannot tell when anyone commits.
func (b *pgBackend) snapshot() *snapshotCache { return nil }

func (b *pgBackend) ping(ctx context.Context) error { return unavailable(ctx, b.pool.Ping(ctx)) }
func (b *pgBackend) close() error                   { b.pool.Close(); return nil }

type pgTx struct {
	pgConn
	queueTx[pgx.Tx]
	tx pgx.Tx
}

// keyLocks is the first half of the transaction advisory locks taken per
// API key ("stil" in ASCII); the second is the key's hash.
const keyLocks = 0x7374696c

func (t *pgTx) lockKey(ctx context.Context, keyID string) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(keyLocks), keyID)
	return unavailable(ctx, err)
}

func (t *pgTx) commit(ctx context.Context) error   { return unavailable(ctx, t.tx.Commit(ctx)) }
func (t *pgTx) rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// insertJob and cancelJob are the queue's, with its errors classified as
// the store's own statements' are.
func (t *pgTx) insertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	id, err := t.queueTx.insertJob(ctx, args, opts)
	return id, unavailable(ctx, err)
}

func (t *pgTx) takeJob(ctx context.Context, queue, worker string) (*rivertype.JobRow, error) {
	j, err := t.queueTx.takeJob(ctx, queue, worker)
	return j, unavailable(ctx, err)
}

func (t *pgTx) setJobState(ctx context.Context, p *riverdriver.JobSetStateIfRunningParams) error {
	return unavailable(ctx, t.queueTx.setJobState(ctx, p))
}

func (t *pgTx) cancelJob(ctx context.Context, id int64) error {
	return unavailable(ctx, t.queueTx.cancelJob(ctx, id))
}

// pgConn runs statements through pgx, on the pool or in a transaction,
// rewriting ? placeholders as $1, $2, …. Its errors that say the database
// cannot be reached are fault.Unavailable (see unavailable).
type pgConn struct {
	x interface {
		Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
		QueryRow(ctx context.Context, q string, args ...any) pgx.Row
		Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
	}
}

func (c pgConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.x.Exec(ctx, rebind(q), args...)
	if err != nil {
		return 0, unavailable(ctx, err)
	}
	return tag.RowsAffected(), nil
}

func (c pgConn) queryRow(ctx context.Context, q string, args ...any) row {
	return pgRow{c.x.QueryRow(ctx, rebind(q), args...), ctx}
}

func (c pgConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := c.x.Query(ctx, rebind(q), args...)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	return pgRows{rs, ctx}, nil
}

// pgRow reports a missing row as database/sql does.
type pgRow struct {
	pgx.Row
	ctx context.Context // the query's
}

func (r pgRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return unavailable(r.ctx, err)
}

// pgRows classifies the error that ends reading rows.
type pgRows struct {
	pgx.Rows
	ctx context.Context // the query's
}

func (r pgRows) Err() error { return unavailable(r.ctx, r.Rows.Err()) }

// rebind rewrites the ? placeholders of q as PostgreSQL's $n. The store's
// statements have no ? anywhere else.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
