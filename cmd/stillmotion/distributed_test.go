package main

// Tests of the distributed mode: API and worker processes of the real
// binary sharing PostgreSQL (the machine's service, a fresh database per
// test) and a real S3-compatible server (versitygw, on loopback).

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"stillmotion/internal/blob/blobtest"
	"stillmotion/internal/store/storetest"
)

// Write and String make syncBuffer safe to write from a process's output
// goroutine while a test reads it.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

// cluster is a shared database and object store, and the processes on them.
type cluster struct {
	db      string // the PostgreSQL URL
	s3      *blobtest.Server
	env     []string
	workers []*worker // in the order they were started
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{db: storetest.Postgres(t), s3: blobtest.Start(t)}
	c.env = append(c.s3.Env(), "STILLMOTION_DATABASE_URL="+c.db, "STILLMOTION_STORAGE_URL="+c.s3.StorageURL())
	return c
}

// api starts an API-only process.
func (c *cluster) api(t *testing.T, extra ...string) *proc {
	t.Helper()
	return startServer(t, serverOpts{apiOnly: true, allowPrivate: true, extraEnv: c.env, extraArgs: extra})
}

// worker is a running `stillmotion worker` process.
type worker struct {
	cmd     *exec.Cmd
	log     *syncBuffer
	dataDir string
	exited  chan struct{}
}

// startWorker starts a worker process with one render at a time; its
// wait method waits until it runs.
func (c *cluster) startWorker(t *testing.T, extra ...string) *worker {
	t.Helper()
	w := &worker{log: &syncBuffer{}, dataDir: t.TempDir(), exited: make(chan struct{})}
	args := append([]string{"worker", "--workers", "1", "--data-dir", w.dataDir}, extra...)
	w.cmd = exec.Command(binPath, args...)
	w.cmd.Env = append(append(os.Environ(), c.env...), "STILLMOTION_ALLOW_PRIVATE_FETCH=1")
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.exited
		if t.Failed() {
			t.Logf("worker %d log:\n%s", w.cmd.Process.Pid, w.log.String())
		}
	})
	c.workers = append(c.workers, w)
	return w
}

// worker starts a worker and waits until it runs.
func (c *cluster) worker(t *testing.T, extra ...string) *worker {
	t.Helper()
	w := c.startWorker(t, extra...)
	w.wait(t)
	return w
}

func (w *worker) wait(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.log.String(), "stillmotion worker running") {
		select {
		case <-w.exited:
			t.Fatalf("worker exited at start:\n%s", w.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", w.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// completedIDs returns the ids of the generations this worker's log says
// it completed, in order.
func (w *worker) completedIDs() []string {
	var ids []string
	for _, m := range completedLine.FindAllStringSubmatch(w.log.String(), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var completedLine = regexp.MustCompile(`generation completed"?,? ?"?id"?[=:]"?([A-Za-z0-9_-]+)`)

// children returns the pids of pid's child processes named comm.
func children(pid int, comm string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || s[open+1:close] != comm {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// checkOnce checks that the workers completed each generation of ids
// exactly once, by their logs.
func (c *cluster) checkOnce(t *testing.T, ids []string) {
	t.Helper()
	count := map[string]int{}
	for _, w := range c.workers {
		for _, id := range w.completedIDs() {
			count[id]++
		}
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("generation %s was completed %d times", id, count[id])
		}
	}
}

// pgQuery runs q on the PostgreSQL database at db and calls scan for each
// row.
func pgQuery(t *testing.T, db, q string, args []any, scan func(pgx.Rows) error) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestDistributed runs 2 API processes and 3 worker processes on
// PostgreSQL and S3, submits 24 generations across both APIs, SIGKILLs a
// worker mid-render and an API process after it acknowledged its share,
// and expects every generation to complete exactly once with a video that
// downloads as a valid MP4.
func TestDistributed(t *testing.T) {
	// Beside the other waiting tests: most of its time is the rescuer's
	// wait for the killed worker's job, with the machine idle.
	t.Parallel()
	img := imageServer(t)
	c := newCluster(t)
	// Small limits so that the killed worker's render is rescued quickly:
	// a 360p render takes about a second here, but up to 10 s while CI
	// builds and tests other packages beside it.
	workerArgs := []string{"--job-timeout", "20s", "--rescue-after", "25s"}
	// All five start at once on an empty database: they migrate in turns.
	for range 3 {
		c.startWorker(t, workerArgs...)
	}
	apis := [2]*proc{c.api(t), c.api(t)}
	for _, w := range c.workers {
		w.wait(t)
	}

	const n = 24
	ids := make([]string, n)
	for i := range n {
		body := map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": []string{"slow zoom in", "pan left", "tilt up", "zoom out"}[i%4],
			"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5, "seed": i,
		}
		if i%8 == 0 {
			body["lip_sync_tts_content"] = "Ready for launch."
		}
		ids[i] = apis[i%2].submit(t, "/v2/video/generations", body)
	}
	submitted := time.Now()

	// Kill the API process that took the odd ones: what it acknowledged is
	// in the database already.
	apis[1].cmd.Process.Signal(syscall.SIGKILL)
	apis[1].cmd.Wait()

	// Kill a worker in the middle of the run, and of a render: once four
	// generations are done, when its ffmpeg runs (early, so that the rescue
	// overlaps the other renders).
	victim := c.workers[0]
	deadline := time.Now().Add(2 * time.Minute)
	for done := 0; done < 4; {
		pgQuery(t, c.db, `SELECT count(*) FROM generation WHERE status = 'completed'`, nil, func(r pgx.Rows) error { return r.Scan(&done) })
		if time.Now().After(deadline) {
			t.Fatalf("only %d generations completed in 2 minutes", done)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for len(children(victim.cmd.Process.Pid, "ffmpeg")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first worker never rendered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	victim.cmd.Process.Signal(syscall.SIGKILL)
	<-victim.exited
	t.Logf("worker %d SIGKILLed mid-render %v after the submits; it had completed %d", victim.cmd.Process.Pid,
		killed.Sub(submitted).Round(time.Millisecond), len(victim.completedIDs()))

	// Its render is the one job still running, with its generation
	// unfinished, after the others have finished: poll until only it is
	// left (on a loaded machine another worker's render may take seconds),
	// but stop before the rescuer, which may take it from --rescue-after on,
	// could have moved it. A job whose render had completed but whose
	// completion River had not yet written when the worker died also stays
	// "running"; it is not counted: its rescue finds the generation ended
	// and renders nothing.
	var orphans []string
	for until := killed.Add(24 * time.Second); ; {
		time.Sleep(200 * time.Millisecond)
		orphans = orphans[:0]
		pgQuery(t, c.db, `SELECT j.args->>'generation_id' FROM river_job j JOIN generation g ON g.id = j.args->>'generation_id'
			WHERE j.kind = 'render' AND j.state = 'running' AND j.attempted_at < $1 AND g.status <> 'completed'`, []any{killed}, func(r pgx.Rows) error {
			var id string
			err := r.Scan(&id)
			orphans = append(orphans, id)
			return err
		})
		if len(orphans) <= 1 || time.Now().After(until) {
			break
		}
	}
	if len(orphans) != 1 {
		t.Errorf("unfinished renders left running by the killed worker: %v, want exactly 1", orphans)
	}

	// Every generation completes, polled through the surviving API.
	api := apis[0]
	for i, id := range ids {
		m := api.wait(t, "/v2/video/generations", id, 3*time.Minute)
		if m["status"] != "completed" {
			t.Fatalf("generation %d (%s): %v", i, id, m)
		}
		if len(orphans) == 1 && id == orphans[0] {
			t.Logf("the killed worker's generation completed %v after the kill", time.Since(killed).Round(time.Second))
		}
	}
	t.Logf("all %d completed %v after the submits", n, time.Since(submitted).Round(time.Millisecond))

	// Exactly once: no generation was rendered to completion twice.
	c.checkOnce(t, ids)
	var rescued int
	pgQuery(t, c.db, `SELECT count(*) FROM river_job WHERE errors::text LIKE '%Stuck job rescued%'`, nil, func(r pgx.Rows) error { return r.Scan(&rescued) })
	if rescued < 1 {
		t.Error("no job was rescued: the killed worker's render was not handed on")
	}

	// Every video.url is a presigned URL of the object store and downloads
	// a valid MP4.
	s3Host := strings.TrimPrefix(c.s3.Endpoint, "http://")
	for _, id := range ids {
		_, m, _ := api.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
		u, _ := m["video"].(map[string]any)["url"].(string)
		if pu, err := url.Parse(u); err != nil || pu.Host != s3Host || pu.Query().Get("X-Amz-Signature") == "" {
			t.Fatalf("video.url %q is not a presigned URL of %s", u, s3Host)
		}
		checkVideo(t, download(t, api.client, u), 540, 360, 5)
	}

	// The schema is current; migrating again does nothing.
	stdout, stderr, code := run(t, nil, "migrate", "--database", c.db)
	if code != 0 || !strings.Contains(stdout, "is migrated") {
		t.Errorf("migrate: exit %d: %s%s", code, stdout, stderr)
	}
}

// TestCancelRunning cancels a generation while it renders, on SQLite (one
// process) and on PostgreSQL (API and worker processes), and measures how
// long the worker takes to stop: its ffmpeg gone and its files removed.
func TestCancelRunning(t *testing.T) {
	img := imageServer(t)
	tests := []struct {
		name  string
		start func(t *testing.T) (api *proc, workerPid int, dataDir string)
	}{
		{"sqlite", func(t *testing.T) (*proc, int, string) {
			p := startServer(t, serverOpts{workers: 1, allowPrivate: true})
			return p, p.cmd.Process.Pid, p.dataDir
		}},
		{"postgres", func(t *testing.T) (*proc, int, string) {
			c := newCluster(t)
			api := c.api(t)
			w := c.worker(t)
			return api, w.cmd.Process.Pid, w.dataDir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, pid, dataDir := tt.start(t)
			// 1080p: a render long enough to cancel in the middle.
			id := api.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video",
				"prompt": "slow zoom in", "image_url": img.URL + "/astronaut.png", "resolution": "1080p", "seed": 5})
			deadline := time.Now().Add(60 * time.Second)
			for len(children(pid, "ffmpeg")) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the render never started")
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			t0 := time.Now()
			code, m, _ := api.do(t, "DELETE", "/v2/video/generations?generation_id="+id, nil)
			if code != 200 || m["status"] != "error" || m["error"].(map[string]any)["name"] != "cancelled" {
				t.Fatalf("cancel: %d %v", code, m)
			}
			for len(children(pid, "ffmpeg")) > 0 || len(files(t, filepath.Join(dataDir, "tmp"))) > 0 {
				if time.Since(t0) > 2*time.Second {
					t.Fatalf("2 s after the cancel: ffmpeg %v, files %v", children(pid, "ffmpeg"), files(t, filepath.Join(dataDir, "tmp")))
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("%s: the render stopped (ffmpeg killed, files removed) %v after the cancel", tt.name, time.Since(t0).Round(time.Millisecond))
			// It stays cancelled, refunded, and cannot be cancelled again.
			time.Sleep(500 * time.Millisecond)
			_, m, _ = api.do(t, "GET", "/v2/generate/video/pixverse/generation?generation_id="+id, nil)
			if m["status"] != "error" || m["meta"].(map[string]any)["usage"].(map[string]any)["credits_used"].(float64) != 0 {
				t.Errorf("after cancel: %v", m)
			}
			code, m, _ = api.do(t, "DELETE", "/v2/generate/video/pixverse/generation?generation_id="+id, nil)
			if code != 409 || !strings.Contains(fmt.Sprint(m["message"]), "already been cancelled") {
				t.Errorf("second cancel: %d %v", code, m)
			}
		})
	}
}

// TestThroughput measures generations per minute with 1, 2 and 3 worker
// processes, and the queue's overhead per job. It is a benchmark, run on
// demand: STILLMOTION_BENCH=1 go test -run TestThroughput -v ./cmd/stillmotion
func TestThroughput(t *testing.T) {
	if os.Getenv("STILLMOTION_BENCH") != "1" {
		t.Skip("a benchmark: set STILLMOTION_BENCH=1 to run it")
	}
	img := imageServer(t)
	res := cmp.Or(os.Getenv("STILLMOTION_BENCH_RESOLUTION"), "360p")
	body := func(i int) map[string]any {
		return map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in",
			"image_url": img.URL + "/rocket.jpg", "resolution": res, "duration": 5, "seed": i}
	}
	n := 30
	if v, err := strconv.Atoi(os.Getenv("STILLMOTION_BENCH_N")); err == nil {
		n = v
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("%d CPUs; load average before: %s", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	for workers := 1; workers <= 3; workers++ {
		c := newCluster(t)
		api := c.api(t)
		for range workers {
			c.worker(t)
		}
		start := time.Now()
		ids := make([]string, n)
		for i := range ids {
			ids[i] = api.submit(t, "/v2/video/generations", body(i))
		}
		for _, id := range ids {
			if m := api.wait(t, "/v2/video/generations", id, 10*time.Minute); m["status"] != "completed" {
				t.Fatal(m)
			}
		}
		elapsed := time.Since(start)
		var cpu time.Duration
		for _, w := range c.workers {
			cpu += cpuTime(w.cmd.Process.Pid)
		}
		t.Logf("%d worker process(es): %d generations (%s, 5 s) in %v: %.1f per minute; %.2f CPU-seconds each (ffmpeg included)",
			workers, n, res, elapsed.Round(100*time.Millisecond), float64(n)/elapsed.Minutes(), cpu.Seconds()/float64(n))
	}

	// Queue overhead: one generation at a time into idle workers; the time
	// from the committed submit to a worker starting the job.
	for _, mode := range []string{"postgres", "sqlite"} {
		var api *proc
		var dbURL string
		switch mode {
		case "postgres":
			c := newCluster(t)
			api, dbURL = c.api(t), c.db
			c.worker(t)
		case "sqlite":
			api = startServer(t, serverOpts{workers: 1, allowPrivate: true})
		}
		var waits []time.Duration
		for i := range 20 {
			id := api.submit(t, "/v2/video/generations", body(i))
			api.wait(t, "/v2/video/generations", id, time.Minute)
			time.Sleep(300 * time.Millisecond) // idle again
		}
		const wait = `SELECT (julianday(attempted_at) - julianday(created_at)) * 86400.0 FROM river_job`
		if mode == "postgres" {
			pgQuery(t, dbURL, `SELECT extract(epoch FROM attempted_at - created_at)::float8 FROM river_job`, nil, func(r pgx.Rows) error {
				var s float64
				err := r.Scan(&s)
				waits = append(waits, time.Duration(s*float64(time.Second)))
				return err
			})
		} else {
			db, err := sql.Open("sqlite", filepath.Join(api.dataDir, "stillmotion.db"))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(wait)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s float64
				rows.Scan(&s)
				waits = append(waits, time.Duration(s*float64(time.Second)))
			}
			db.Close()
		}
		sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
		if len(waits) > 0 {
			t.Logf("%s: submit to worker start, idle: median %v, max %v (%d jobs)", mode,
				waits[len(waits)/2].Round(100*time.Microsecond), waits[len(waits)-1].Round(100*time.Microsecond), len(waits))
		}
	}
}

// cpuTime is the CPU time a process and its waited-for children (ffmpeg,
// flite) have used.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// utime, stime, cutime, cstime: fields 14-17 of stat, in clock ticks (100 Hz).
	var ticks int64
	for _, f := range fields[11:15] {
		v, _ := strconv.ParseInt(f, 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
