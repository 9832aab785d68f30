package main

// Database trouble: the distributed mode's PostgreSQL stops under load and
// starts again. The test runs a PostgreSQL cluster of its own, since others
// share the machine's.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"stillmotion/internal/blob/blobtest"
)

// pgServer is a PostgreSQL cluster that a test owns: it can stop and
// start it.
type pgServer struct {
	bin  string // the directory of initdb, pg_ctl and postgres
	data string // the cluster's directory
	log  string // the server's log file
	url  string // the test's database
	// cred runs the server's programs as the postgres user when the test
	// runs as root: PostgreSQL refuses to run as root.
	cred *syscall.Credential
}

// startPostgres creates a cluster in a temporary directory, on a free
// loopback port with trust authentication, starts it, and creates a
// database. The cluster is stopped when the test ends. Without the
// PostgreSQL server programs, it skips the test.
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(bins, func(a, b string) int { return pgMajor(b) - pgMajor(a) }) // newest first
	if len(bins) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			bins = []string{p}
		}
	}
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server programs (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH; install them with scripts/setup.sh --test")
	}
	s := &pgServer{bin: filepath.Dir(bins[0])}

	// A directory of its own rather than t.TempDir(): the postgres user
	// must be able to reach it, and the test's temporary directories are
	// private to the test's user.
	dir, err := os.MkdirTemp("", "stillmotion-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, which PostgreSQL refuses, and there is no postgres user to run it as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.data, s.log = filepath.Join(dir, "data"), filepath.Join(dir, "server.log")
	s.run(t, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")

	_, port, _ := net.SplitHostPort(freeAddr(t))
	conf, err := os.OpenFile(filepath.Join(s.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Small: three processes' pools and the test's connections.
	fmt.Fprintf(conf, "\nport = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"max_connections = 50\nshared_buffers = 16MB\nmax_wal_size = 64MB\n", port, dir)
	if err := conf.Close(); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("PostgreSQL log:\n%s", b)
			}
		}
		if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err == nil {
			s.pgctl(t, "stop", "-m", "immediate")
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := "postgres://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable"
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE stillmotion"); err != nil {
		t.Fatal(err)
	}
	s.url = strings.Replace(admin, "/postgres?", "/stillmotion?", 1)
	return s
}

// pgMajor is the major version in a path /usr/lib/postgresql/VERSION/....
func pgMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// run runs one of the server's programs, as the postgres user if need be.
func (s *pgServer) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	cmd.Dir = filepath.Dir(s.data)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
}

func (s *pgServer) pgctl(t *testing.T, args ...string) {
	t.Helper()
	s.run(t, "pg_ctl", append([]string{"-D", s.data, "-l", s.log, "-w", "-t", "60"}, args...)...)
}

// start starts the server and waits until it takes connections.
func (s *pgServer) start(t *testing.T) { t.Helper(); s.pgctl(t, "start") }

// stop stops the server the way an administrator or a failover does:
// "fast" aborts open transactions and closes every connection.
func (s *pgServer) stop(t *testing.T) { t.Helper(); s.pgctl(t, "stop", "-m", "fast") }

// TestDatabaseOutage stops PostgreSQL for 20 s while an API process and two
// workers are under load, and starts it again. While it is away, every
// request answers promptly with a 503 in the documented shape, /readyz says
// not ready, and no process exits. Once it is back, without restarting
// anything, the API is ready again, submits succeed, and every generation
// acknowledged before or after the outage completes exactly once with a
// video that downloads; none fails because of the outage.
func TestDatabaseOutage(t *testing.T) {
	img := imageServer(t)
	pg := startPostgres(t)
	s3 := blobtest.Start(t)
	c := &cluster{db: pg.url, s3: s3}
	c.env = append(s3.Env(), "STILLMOTION_DATABASE_URL="+c.db, "STILLMOTION_STORAGE_URL="+s3.StorageURL())
	c.startWorker(t)
	c.startWorker(t)
	api := c.api(t)
	for _, w := range c.workers {
		w.wait(t)
	}
	// During the outage a request that takes more than a few seconds is a
	// hang, and fails the test (do fails it on a client error).
	impatient := *api
	impatient.client = &http.Client{Timeout: 10 * time.Second}

	var ids []string // every acknowledged generation
	submit := func(p *proc) (int, map[string]any, http.Header) {
		t.Helper()
		code, m, h := p.do(t, "POST", "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in", "image_url": img.URL + "/rocket.jpg",
			"resolution": "360p", "duration": 5, "seed": len(ids),
		})
		if code == 200 {
			ids = append(ids, m["id"].(string))
		}
		return code, m, h
	}

	// Load before: submits, and polls of what was submitted, until a
	// render is under way on a worker, so that the outage catches it.
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		if i%3 == 0 {
			if code, m, _ := submit(api); code != 200 {
				t.Fatalf("submit before the outage: %d %v", code, m)
			}
		} else if code, m, _ := api.do(t, "GET", "/v2/video/generations?generation_id="+ids[i%len(ids)], nil); code != 200 {
			t.Fatalf("poll before the outage: %d %v", code, m)
		}
		if i >= 6 && rendering(c) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no worker started a render within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := len(ids)

	pg.stop(t)
	stopped := time.Now()
	t.Logf("PostgreSQL stopped with %d generations acknowledged, a render under way", before)

	// The outage: the same load, and /readyz.
	var requests int
	var slowest time.Duration
	for i := 0; time.Since(stopped) < 20*time.Second; i++ {
		t0 := time.Now()
		var (
			path string
			code int
			m    map[string]any
			h    http.Header
		)
		switch i % 3 {
		case 0:
			path = "/v2/video/generations"
			code, m, h = submit(&impatient)
		case 1:
			path = "/v2/video/generations"
			code, m, h = impatient.do(t, "GET", path+"?generation_id="+ids[i%len(ids)], nil)
		case 2:
			path = "/readyz"
			code, m, h = impatient.do(t, "GET", path, nil)
		}
		slowest = max(slowest, time.Since(t0))
		requests++
		checkUnavailable(t, path, code, m, h)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("during the outage: %d requests, each a 503; the slowest took %v", requests, slowest.Round(time.Millisecond))
	select {
	case <-c.workers[0].exited:
		t.Fatal("a worker exited during the outage")
	case <-c.workers[1].exited:
		t.Fatal("a worker exited during the outage")
	default:
	}
	if len(ids) != before {
		t.Errorf("%d submits were acknowledged while the database was down", len(ids)-before)
	}

	// Back: the same processes recover on their own.
	pg.start(t)
	restarted := time.Now()
	for {
		res, err := api.client.Get(api.url + "/readyz")
		if err != nil {
			t.Fatalf("/readyz after the restart: %v", err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			break
		}
		if time.Since(restarted) > time.Minute {
			t.Fatalf("/readyz still answers %d a minute after PostgreSQL came back", res.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ready := time.Since(restarted)
	for {
		code, m, _ := submit(api)
		if code == 200 {
			break
		}
		if code != 503 || time.Since(restarted) > time.Minute {
			t.Fatalf("submit after the restart: %d %v", code, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	firstSubmit := time.Since(restarted)
	for range 2 {
		if code, m, _ := submit(api); code != 200 {
			t.Fatalf("submit after the restart: %d %v", code, m)
		}
	}

	for i, id := range ids {
		if m := api.wait(t, "/v2/video/generations", id, 3*time.Minute); m["status"] != "completed" {
			t.Fatalf("generation %d (%s), acknowledged %s the outage: %v", i, id, map[bool]string{true: "before", false: "after"}[i < before], m)
		}
	}
	t.Logf("after the restart: ready in %v, the first submit succeeded in %v, all %d generations completed in %v",
		ready.Round(time.Millisecond), firstSubmit.Round(time.Millisecond), len(ids), time.Since(restarted).Round(time.Millisecond))

	// Exactly once, and none failed: not even one that a submit answered
	// with a 503 may have created.
	c.checkOnce(t, ids)
	var failed []string
	pgQuery(t, c.db, `SELECT id || ': ' || coalesce(error_name, '') || ' ' || coalesce(error_message, '') FROM generation WHERE status <> 'completed'`, nil,
		func(r pgx.Rows) error {
			var s string
			err := r.Scan(&s)
			failed = append(failed, s)
			return err
		})
	if len(failed) > 0 {
		t.Errorf("generations not completed: %v", failed)
	}
	for _, id := range ids {
		_, m, _ := api.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
		checkVideo(t, download(t, api.client, m["video"].(map[string]any)["url"].(string)), 540, 360, 5)
	}
	for _, w := range c.workers {
		select {
		case <-w.exited:
			t.Errorf("worker %d exited", w.cmd.Process.Pid)
		default:
		}
		log := w.log.String()
		t.Logf("worker %d: %d renders ended while the database was away (recorded when it was back), %d requeued",
			w.cmd.Process.Pid, strings.Count(log, "ending the generation when it is back"), strings.Count(log, "render requeued"))
	}
}

// rendering reports whether one of the cluster's workers runs ffmpeg.
func rendering(c *cluster) bool {
	for _, w := range c.workers {
		if len(children(w.cmd.Process.Pid, "ffmpeg")) > 0 {
			return true
		}
	}
	return false
}

// checkUnavailable fails the test unless a response to a request for path
// is a 503 in the documented error shape, with a Retry-After, that says the
// database is the trouble.
func checkUnavailable(t *testing.T, path string, code int, m map[string]any, h http.Header) {
	t.Helper()
	if code != 503 {
		t.Fatalf("%s while the database is down: %d %v, want 503", path, code, m)
	}
	msg, _ := m["message"].(string)
	id, _ := m["requestId"].(string)
	ts, _ := m["timestamp"].(string)
	_, err := time.Parse("2006-01-02T15:04:05.000Z", ts)
	if !strings.Contains(strings.ToLower(msg), "database") || m["path"] != path || id == "" || m["statusCode"] != 503.0 || err != nil {
		t.Fatalf("%s while the database is down: %v, want the error shape, its message naming the database", path, m)
	}
	if h.Get("Retry-After") == "" {
		t.Fatalf("%s while the database is down: no Retry-After (headers %v)", path, h)
	}
}
