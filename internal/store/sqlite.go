package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	db *sql.DB
	// reads is a pool of read-only connections for the reads outside
	// transactions (polls, lists, keys): in WAL mode they run beside the
	// one writer and each other instead of queueing for its connection.
	reads sqlConn
	rdb   *sql.DB        // reads' database
	snap  *snapshotCache // nil until the read pool is open
	path  string
	lock  *os.File
}

// readConns is the size of the read pool: enough to keep the cores busy
// while a few reads wait on the disk.
const readConns = 64

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
	b := &sqliteBackend{sqlConn: sqlConn{x: db, stmts: &stmtCache{db: db}}, db: db, path: path, lock: lock}
	return ready(ctx, b, qc, b.recover, func(context.Context) (err error) {
		b.river, err = river.NewClient(riversqlite.New(db), queue.RiverConfig(qc))
		return err
	}, b.openReads)
}

// openReads opens the read pool, once the schema is migrated (WAL mode is
// then set in the file).
func (b *sqliteBackend) openReads(context.Context) error {
	rdb, err := sql.Open("sqlite", "file:"+b.path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	b.rdb, b.reads = rdb, sqlConn{x: rdb, stmts: &stmtCache{db: rdb}}
	b.snap = &snapshotCache{db: rdb}
	return nil
}

func (b *sqliteBackend) snapshot() *snapshotCache { return b.snap }

// snapshotCache keeps what polls and lists read, the generations, the
// pages of lists and the queue positions of all queued ones (read in one
// query), until anyone next commits to the database, which SQLite's
// data_version, read on a connection that never writes, reveals. A poll of an unchanged database
// then costs that one small read and map lookups: no generation read, no
// count over the queue ahead. Each commit, a render's progress included,
// empties it.
type snapshotCache struct {
	db *sql.DB

	mu          sync.Mutex
	conn        *sql.Conn // nil until first used, and after an error
	dataVersion *sql.Stmt // PRAGMA data_version, prepared on conn
	version     int64
	pos         map[string]int                      // by generation id; nil: not read yet
	gens        map[string]*generation.Generation   // by id, as GetForPoll read them
	lists       map[string][]*generation.Generation // by key and query, as List read them
}

// maxSnapshotGenerations bounds the generations kept between two commits.
const maxSnapshotGenerations = 100_000

// check brings the cache up to the database's version, emptying it if
// anyone committed since the last check. c.mu is held. A client gone
// away does not cut its reads short: they are brief, and an error drops
// the cache.
func (c *snapshotCache) check(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if c.conn == nil {
		conn, err := c.db.Conn(ctx)
		if err != nil {
			return err
		}
		st, err := conn.PrepareContext(ctx, `PRAGMA data_version`)
		if err != nil {
			conn.Close()
			return err
		}
		c.conn, c.dataVersion = conn, st
		c.pos, c.gens, c.lists = nil, map[string]*generation.Generation{}, map[string][]*generation.Generation{}
	}
	var v int64
	if err := c.dataVersion.QueryRowContext(ctx).Scan(&v); err != nil {
		c.drop()
		return err
	}
	if v != c.version {
		c.version, c.pos, c.gens, c.lists = v, nil, map[string]*generation.Generation{}, map[string][]*generation.Generation{}
	}
	return nil
}

// generation returns generation id as read returns it, from the cache if
// nothing was committed since read last ran for it.
func (c *snapshotCache) generation(ctx context.Context, id string, read func() (*generation.Generation, error)) (*generation.Generation, error) {
	g, err := cached(ctx, c, func() map[string]*generation.Generation { return c.gens }, id, read)
	if err != nil {
		return nil, err
	}
	cp := *g // callers get their own copy
	return &cp, nil
}

// list returns the page of a list that key names as read returns it, from
// the cache if nothing was committed since read last ran for it.
func (c *snapshotCache) list(ctx context.Context, key string, read func() ([]*generation.Generation, error)) ([]*generation.Generation, error) {
	gs, err := cached(ctx, c, func() map[string][]*generation.Generation { return c.lists }, key, read)
	if err != nil {
		return nil, err
	}
	out := make([]*generation.Generation, len(gs)) // callers get their own copies
	for i, g := range gs {
		cp := *g
		out[i] = &cp
	}
	return out, nil
}

// cached returns the value of key in the map m returns (one of c's, read
// with c.mu held), or else what read returns, which it keeps there if no
// commit came between: read's value is at least as new as the version
// checked before it, so kept under that version it goes at the next check
// that finds a later commit. Generations and pages count against one bound.
func cached[T any](ctx context.Context, c *snapshotCache, m func() map[string]T, key string, read func() (T, error)) (T, error) {
	var zero T
	c.mu.Lock()
	if err := c.check(ctx); err != nil {
		c.mu.Unlock()
		return zero, err
	}
	v, ok := m()[key]
	version := c.version
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.conn != nil && c.version == version && len(c.gens)+len(c.lists) < maxSnapshotGenerations {
		m()[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

// dataVersionNow returns the database's data_version as of now.
func (c *snapshotCache) dataVersionNow(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(ctx); err != nil {
		return 0, err
	}
	return c.version, nil
}

// positionsQuery lists the queued generations in River's order of each
// queue, the order QueuePosition counts in.
const positionsQuery = `SELECT g.id, g.engine, j.queue FROM generation g JOIN river_job j ON j.id = g.job_id
	WHERE g.status = 'queued' ORDER BY g.engine, j.queue, j.priority, j.scheduled_at, j.id`

// position returns generation id's position, or 0 if it is not queued.
func (c *snapshotCache) position(ctx context.Context, id string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(ctx); err != nil {
		return 0, err
	}
	if c.pos == nil {
		// The version was read first: a commit after it is seen at the
		// next check.
		pos, err := c.readPositions(context.WithoutCancel(ctx))
		if err != nil {
			c.drop()
			return 0, err
		}
		c.pos = pos
	}
	return c.pos[id], nil
}

func (c *snapshotCache) readPositions(ctx context.Context) (map[string]int, error) {
	rs, err := c.conn.QueryContext(ctx, positionsQuery)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	pos := map[string]int{}
	var lastEngine, lastQueue string
	n := 0
	for rs.Next() {
		var id, engine, queue string
		if err := rs.Scan(&id, &engine, &queue); err != nil {
			return nil, err
		}
		if engine != lastEngine || queue != lastQueue {
			lastEngine, lastQueue, n = engine, queue, 0
		}
		n++
		pos[id] = n
	}
	return pos, rs.Err()
}

func (c *snapshotCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
}

// drop closes the connection, if any, and empties the cache; the next
// check opens another. c.mu is held.
func (c *snapshotCache) drop() {
	if c.conn != nil {
		c.dataVersion.Close()
		c.conn.Close()
	}
	c.conn, c.dataVersion, c.pos, c.gens, c.lists = nil, nil, nil, nil, nil
}

func (b *sqliteBackend) reader() conn {
	if b.rdb == nil { // still opening
		return b.sqlConn
	}
	return b.reads
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
	// Jobs leased to remote workers are theirs still: their leases expire
	// if they are gone too.
	if _, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND id NOT IN (SELECT job_id FROM lease)`); err != nil {
		return fmt.Errorf("re-queueing interrupted jobs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE generation SET status = ?, progress = 0 WHERE status = ? AND id NOT IN (SELECT generation_id FROM lease)`, generation.Queued, generation.Generating); err != nil {
		return err
	}
	return tx.Commit()
}

func (b *sqliteBackend) begin(ctx context.Context) (tx, error) {
	t, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{sqlConn{x: t}, queueTx[*sql.Tx]{&b.queueClient, t}, t}, nil
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
	b.stmts.close()
	if b.rdb != nil {
		b.snap.close()
		b.reads.stmts.close()
		b.rdb.Close()
	}
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
	// stmts, on a database (not a transaction), keeps its statements
	// prepared: SQLite's parsing and planning was most of a poll's time.
	stmts *stmtCache
}

// prepared returns q's prepared statement, or nil: q runs unprepared.
// Only queries are prepared (each one statement); exec also runs scripts.
func (c sqlConn) prepared(ctx context.Context, q string) *sql.Stmt {
	if c.stmts == nil {
		return nil
	}
	return c.stmts.get(ctx, q)
}

func (c sqlConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.x.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqlConn) queryRow(ctx context.Context, q string, args ...any) row {
	if st := c.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.x.QueryRowContext(ctx, q, args...)
}

func (c sqlConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	var (
		rs  *sql.Rows
		err error
	)
	if st := c.prepared(ctx, q); st != nil {
		rs, err = st.QueryContext(ctx, args...)
	} else {
		rs, err = c.x.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

// stmtCache holds a database's prepared statements by their SQL. Our
// statements are constants and a few combinations of them (List's), so it
// stays small; past maxStmts it prepares no more.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxStmts = 200

// get returns q's prepared statement, or nil (run q unprepared) if it
// cannot be prepared or the cache is full.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared run reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok {
		st.Close()
		return prev
	}
	if len(c.m) >= maxStmts {
		st.Close()
		return nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
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
