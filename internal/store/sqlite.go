// Package store persists generations, API keys and the render queue.
// SQLite is the single-machine store: one file in the data directory
// holding both our tables and River's, so that a generation row and its job
// commit in one transaction.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// SQLite is the store on one SQLite file. Only one process with workers may
// open a file: it takes an exclusive lock beside it, which is also what makes
// it safe to re-queue the jobs a killed process left running.
type SQLite struct {
	db    *sql.DB
	river *river.Client[*sql.Tx]
	lock  *os.File
}

var (
	_ generation.Store = (*SQLite)(nil)
	_ auth.Store       = (*SQLite)(nil)
)

// schema is our part of the database. River's tables come from its own
// migrations. Version it with PRAGMA user_version when it changes.
const schema = `
CREATE TABLE IF NOT EXISTS api_key (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	credits    INTEGER,             -- NULL: unlimited
	created_at INTEGER NOT NULL,    -- unix ms
	revoked_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS api_key_live_name ON api_key (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS generation (
	id            TEXT PRIMARY KEY,
	key_id        TEXT NOT NULL,
	status        TEXT NOT NULL,
	request       TEXT NOT NULL,    -- JSON of generation.Request
	credits       INTEGER NOT NULL,
	progress      REAL NOT NULL DEFAULT 0,
	plan          TEXT NOT NULL DEFAULT '',
	video         TEXT,             -- JSON of generation.Video
	error_name    TEXT,
	error_message TEXT,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS generation_key_created ON generation (key_id, created_at);
`

// OpenSQLite opens (creating if needed) the database file at path, migrates
// it, and re-queues the jobs that a previous process left running. Workers
// start with Start.
func OpenSQLite(ctx context.Context, path string, qc queue.Config) (*SQLite, error) {
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
	s := &SQLite{db: db, lock: lock}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if lock != nil {
		if err := s.recover(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.river, err = river.NewClient(riversqlite.New(db), queue.RiverConfig(qc))
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	m, err := rivermigrate.New(riversqlite.New(s.db), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating the queue tables: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// recover makes the jobs a killed process held runnable again. Holding the
// file lock proves no other process is running them.
func (s *SQLite) recover(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
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

// Start starts the workers (if any were configured).
func (s *SQLite) Start(ctx context.Context) error { return s.river.Start(ctx) }

// Stop stops fetching jobs and waits for running ones to finish, until ctx
// ends; then it cancels them (they are re-queued) and waits for that.
func (s *SQLite) Stop(ctx context.Context) error {
	err := s.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.river.StopAndCancel(cctx)
	}
	return err
}

// Close closes the database and releases the lock.
func (s *SQLite) Close() error {
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// Ping checks the database answers.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// QueueDepth returns the number of jobs waiting or running.
func (s *SQLite) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available','running','retryable','scheduled')`).Scan(&n)
	return n, err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Insert implements generation.Store.
func (s *SQLite) Insert(ctx context.Context, g *generation.Generation, unlimited bool) error {
	req, err := json.Marshal(g.Request)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !unlimited {
		res, err := tx.ExecContext(ctx, `UPDATE api_key SET credits = credits - ?
			WHERE id = ? AND revoked_at IS NULL AND (credits IS NULL OR credits >= ?)`, g.Credits, g.KeyID, g.Credits)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var bal sql.NullInt64
			_ = tx.QueryRowContext(ctx, `SELECT credits FROM api_key WHERE id = ?`, g.KeyID).Scan(&bal)
			return fault.Errorf(fault.Forbidden, "Insufficient credits: this generation costs %d credits and the key has %d left", g.Credits, bal.Int64)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO generation (id, key_id, status, request, credits, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, g.ID, g.KeyID, g.Status, string(req), g.Credits, ms(g.Created), ms(g.Updated))
	if err != nil {
		return err
	}
	if _, err := s.river.InsertTx(ctx, tx, queue.RenderArgs{GenerationID: g.ID}, queue.InsertOpts()); err != nil {
		return fmt.Errorf("enqueueing: %w", err)
	}
	return tx.Commit()
}

// Get implements generation.Store.
func (s *SQLite) Get(ctx context.Context, id string) (*generation.Generation, error) {
	var (
		g                      generation.Generation
		req                    string
		video, errName, errMsg sql.NullString
		created, updated       int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, key_id, status, request, credits, progress, plan, video, error_name, error_message, created_at, updated_at
		FROM generation WHERE id = ?`, id).Scan(&g.ID, &g.KeyID, &g.Status, &req, &g.Credits, &g.Progress, &g.Plan,
		&video, &errName, &errMsg, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Errorf(fault.NotFound, "Generation %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(req), &g.Request); err != nil {
		return nil, err
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

// Progress implements generation.Store.
func (s *SQLite) Progress(ctx context.Context, id string, p float64, plan string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE generation SET status = ?, progress = ?, plan = CASE WHEN ? = '' THEN plan ELSE ? END, updated_at = ?
		WHERE id = ? AND status IN (?, ?)`, generation.Generating, p, plan, plan, ms(time.Now()), id, generation.Queued, generation.Generating)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has already ended", id)
	}
	return nil
}

// Finish implements generation.Store.
func (s *SQLite) Finish(ctx context.Context, id string, v *generation.Video, f *generation.Failure) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := ms(time.Now())
	var res sql.Result
	if f != nil {
		res, err = tx.ExecContext(ctx, `UPDATE generation SET status = ?, error_name = ?, error_message = ?, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, generation.Failed, f.Name, f.Message, now, id, generation.Queued, generation.Generating)
	} else {
		var vj []byte
		if vj, err = json.Marshal(v); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE generation SET status = ?, video = ?, progress = 1, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, generation.Completed, string(vj), now, id, generation.Queued, generation.Generating)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Errorf(fault.Conflict, "generation %s has already ended", id)
	}
	if f != nil {
		// The refund commits with the failure, so it happens exactly once.
		if _, err := tx.ExecContext(ctx, `UPDATE api_key SET credits = credits + (SELECT credits FROM generation WHERE id = ?)
			WHERE id = (SELECT key_id FROM generation WHERE id = ?) AND credits IS NOT NULL`, id, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CreateKey implements auth.Store.
func (s *SQLite) CreateKey(ctx context.Context, k *auth.Key) error {
	var credits any
	if !k.Unlimited {
		credits = k.Credits
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_key (id, name, hash, credits, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Hash, credits, ms(k.Created))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fault.Errorf(fault.Conflict, "a key named %q already exists; revoke it or choose another name", k.Name)
	}
	return err
}

const keyColumns = `id, name, hash, credits, created_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (*auth.Key, error) {
	var (
		k       auth.Key
		credits sql.NullInt64
		created int64
		revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &credits, &created, &revoked); err != nil {
		return nil, err
	}
	k.Credits, k.Unlimited = credits.Int64, !credits.Valid
	k.Created = time.UnixMilli(created).UTC()
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		k.Revoked = &t
	}
	return &k, nil
}

// KeyByHash implements auth.Store.
func (s *SQLite) KeyByHash(ctx context.Context, hash string) (*auth.Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_key WHERE hash = ? AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.E(fault.NotFound, "no such key")
	}
	return k, err
}

// Keys implements auth.Store.
func (s *SQLite) Keys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_key ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*auth.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// RevokeKey implements auth.Store.
func (s *SQLite) RevokeKey(ctx context.Context, idOrName string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_key SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL`,
		ms(time.Now()), idOrName, idOrName)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Errorf(fault.NotFound, "no live key with id or name %q", idOrName)
	}
	return nil
}

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
