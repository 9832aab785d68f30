package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// sqliteBackend is the store on one SQLite file. Only one process with
// workers may open a file: it takes an exclusive lock beside it, which is
// also what makes it safe to re-queue the jobs a killed process left
// running.
type sqliteBackend struct {
	sqlConn
	queueClient[*sql.Tx]
	db   *sql.DB
	path string
	lock *os.File
}

// OpenSQLite opens (creating if needed) the database file at path,
// migrates it, and re-queues the jobs that a previous process left running.
func OpenSQLite(ctx context.Context, path string, qc queue.Config) (*DB, error) {
	qc.Defaults()
	if err := qc.Validate(); err != nil {
		return nil, fault.Wrap(fault.Invalid, err.Error(), err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	// Only a process with workers takes the lock: API-only processes and
	// the keys command share the file freely.
	var lock *os.File
	if qc.Workers > 0 {
		var err error
		if lock, err = lockFile(path + ".lock"); err != nil {
			return nil, err
		}
	}
	// synchronous(FULL): an acknowledged submit survives power loss too.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.Close()
		return nil, err
	}
	// SQLite allows one writer; River's SQLite driver asks for one connection.
	db.SetMaxOpenConns(1)
	b := &sqliteBackend{sqlConn: sqlConn{db}, db: db, path: path, lock: lock}
	return ready(ctx, b, qc, b.recover, func(context.Context) (err error) {
		b.river, err = river.NewClient(riversqlite.New(db), queue.RiverConfig(qc))
		return err
	})
}

// recover makes the jobs a killed process held runnable again, if this
// process holds the workers' lock, which proves no other process is running
// them.
func (b *sqliteBackend) recover(ctx context.Context) error {
	if b.lock == nil {
		return nil
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
		return fmt.Errorf("re-queueing interrupted jobs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE generation SET status = ?, progress = 0 WHERE status = ?`, generation.Queued, generation.Generating); err != nil {
		return err
	}
	return tx.Commit()
}

func (b *sqliteBackend) begin(ctx context.Context) (tx, error) {
	t, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{sqlConn{t}, queueTx[*sql.Tx]{&b.queueClient, t}, t}, nil
}

// lockMigrations takes an exclusive lock on a file beside the database,
// so that processes opening it at once (an API process and a worker, say)
// migrate in turns.
func (b *sqliteBackend) lockMigrations(context.Context) (func(), error) {
	f, err := os.OpenFile(b.path+".migrate", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func (b *sqliteBackend) migrateQueue(ctx context.Context) error {
	m, err := rivermigrate.New(riversqlite.New(b.db), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

func (b *sqliteBackend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }

func (b *sqliteBackend) close() error {
	err := b.db.Close()
	if b.lock != nil {
		b.lock.Close()
	}
	return err
}

type sqliteTx struct {
	sqlConn
	queueTx[*sql.Tx]
	tx *sql.Tx
}

// lockKey does nothing: SQLite runs one write transaction at a time, and
// ours begin as writers (_txlock=immediate).
func (t *sqliteTx) lockKey(context.Context, string) error { return nil }

func (t *sqliteTx) commit(context.Context) error   { return t.tx.Commit() }
func (t *sqliteTx) rollback(context.Context) error { return t.tx.Rollback() }

// sqlConn runs statements through database/sql, on the database or in a
// transaction.
type sqlConn struct {
	x interface {
		ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
		QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
		QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	}
}

func (c sqlConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.x.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqlConn) queryRow(ctx context.Context, q string, args ...any) row {
	return c.x.QueryRowContext(ctx, q, args...)
}

func (c sqlConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := c.x.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fault.Errorf(fault.Unavailable, "another stillmotion process with workers uses %s; stop it, run this one with --workers 0, or use PostgreSQL to run several", strings.TrimSuffix(path, ".lock"))
	}
	return f, nil
}
