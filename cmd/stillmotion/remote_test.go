package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// remoteWorker is a running `stillmotion worker --remote` process.
type remoteWorker struct {
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// startRemote starts a remote worker on api with token and waits until it
// runs.
func startRemote(t *testing.T, api, token string, extra ...string) *remoteWorker {
	t.Helper()
	w := &remoteWorker{log: &syncBuffer{}, exited: make(chan struct{})}
	w.cmd = exec.Command(binPath, append([]string{"worker", "--remote", api, "--log-format", "text"}, extra...)...)
	// Nothing of the server's: no database, no storage.
	w.cmd.Env = append(os.Environ(), "STILLMOTION_WORKER_TOKEN="+token, "STILLMOTION_DATABASE_URL=", "STILLMOTION_STORAGE_URL=")
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.exited
		if t.Failed() {
			t.Logf("remote worker %d log:\n%s", w.cmd.Process.Pid, w.log.String())
		}
	})
	w.waitLog(t, "remote worker running", 30*time.Second)
	return w
}

// waitLog waits until the worker has logged a line with every one of
// parts, and returns when it saw it.
func (w *remoteWorker) waitLog(t *testing.T, parts ...any) time.Time {
	t.Helper()
	timeout := parts[len(parts)-1].(time.Duration)
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(w.log.String(), "\n") {
			all := true
			for _, p := range parts[:len(parts)-1] {
				all = all && strings.Contains(line, p.(string))
			}
			if all {
				return time.Now()
			}
		}
		select {
		case <-w.exited:
			t.Fatalf("the remote worker exited before logging %v:\n%s", parts[:len(parts)-1], w.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the remote worker did not log %v within %v:\n%s", parts[:len(parts)-1], timeout, w.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// workerToken makes a worker token for queues in the cluster's database.
func (c *cluster) workerToken(t *testing.T, name, queues string) string {
	t.Helper()
	out, stderr, code := run(t, c.env, "keys", "create", "--name", name, "--worker", "--queues", queues)
	if code != 0 {
		t.Fatalf("keys create: %s", stderr)
	}
	return strings.TrimSpace(out)
}

// workerCall makes a call of the worker protocol with token and returns
// its status and body.
func workerCall(t *testing.T, p *proc, token, method, path string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// TestRemoteWorkers runs the remote worker protocol end to end: two API
// processes on PostgreSQL and S3, and remote workers that reach only them,
// over HTTP. A worker killed mid-render loses its lease; the other worker
// renders the job again, byte for byte as a local render; the killed
// worker's late upload is refused. A cancel reaches a remote render
// within a heartbeat; tokens keep to their queues, and a revoked one stops
// its worker.
func TestRemoteWorkers(t *testing.T) {
	img := imageServer(t)
	c := newCluster(t)
	// A lease of 2 s: heartbeats every 200 ms, and a vanished worker's
	// job goes elsewhere after about 2.5 s.
	apis := [2]*proc{c.api(t, "--lease-time", "2s"), c.api(t, "--lease-time", "2s")}
	tokA, tokB := c.workerToken(t, "gpu-a", "render_builtin"), c.workerToken(t, "gpu-b", "render_builtin")

	body := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in on the rocket",
		"image_url": img.URL + "/rocket.jpg", "resolution": "720p", "duration": 5, "seed": 11}
	local := filepath.Join(t.TempDir(), "local.mp4")
	if _, stderr, code := run(t, nil, "render", "--image", "testdata/rocket.jpg", "--prompt", "slow zoom in on the rocket",
		"--resolution", "720p", "--duration", "5", "--seed", "11", "-o", local); code != 0 {
		t.Fatalf("local render: %s", stderr)
	}

	a := startRemote(t, apis[0].url, tokA)
	id := apis[0].submit(t, "/v2/video/generations", body)
	var lease string
	for deadline := time.Now().Add(30 * time.Second); lease == ""; time.Sleep(10 * time.Millisecond) {
		pgQuery(t, c.db, `SELECT id FROM lease WHERE generation_id = $1`, []any{id}, func(r pgx.Rows) error { return r.Scan(&lease) })
		if time.Now().After(deadline) {
			t.Fatal("worker A never leased the job")
		}
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.exited
	if code, g, _ := apis[0].do(t, "GET", "/v2/video/generations?generation_id="+id, nil); code != 200 || g["status"] != "generating" {
		t.Fatalf("after killing A mid-render: %d %v, want generating", code, g)
	}

	b := startRemote(t, apis[1].url, tokB)
	g := apis[1].wait(t, "/v2/video/generations", id, time.Minute)
	if g["status"] != "completed" {
		t.Fatalf("the job of the killed worker: %v", g)
	}
	b.waitLog(t, "job done", "id="+id, "attempt=2", "outcome=completed", 5*time.Second)
	var attempt int
	pgQuery(t, c.db, `SELECT attempt FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = $1)`, []any{id}, func(r pgx.Rows) error { return r.Scan(&attempt) })
	if attempt != 2 {
		t.Errorf("the job ran %d attempts, want 2 (A's expired lease, then B's)", attempt)
	}
	remote := download(t, apis[0].client, g["video"].(map[string]any)["url"].(string))
	if lb, rb := sha(t, local), sha(t, remote); lb != rb {
		t.Errorf("the remote render differs from the local one: sha256 %s, local %s", rb, lb)
	}

	// A again, restarted: its old lease is gone, and its late upload too.
	a = startRemote(t, apis[0].url, tokA)
	video, _ := os.ReadFile(remote)
	sum := fmt.Sprintf("%x", sha256.Sum256(video))
	if code, msg := workerCall(t, apis[0], tokA, "PUT", "/v2/worker/leases/"+lease+"/output/1", video, "X-Content-Sha256", sum); code != http.StatusGone {
		t.Errorf("late part upload: %d %s, want 410", code, msg)
	}
	done := fmt.Sprintf(`{"parts":1,"size":%d,"sha256":%q,"output":{"width":1280,"height":720,"duration":5,"fps":24}}`, len(video), sum)
	if code, msg := workerCall(t, apis[1], tokA, "POST", "/v2/worker/leases/"+lease+"/complete", []byte(done)); code != http.StatusGone {
		t.Errorf("late completion: %d %s, want 410", code, msg)
	}
	if code, msg := workerCall(t, apis[0], tokA, "POST", "/v2/worker/leases/"+lease+"/heartbeat", []byte(`{"progress":0.9}`)); code != http.StatusGone {
		t.Errorf("late heartbeat: %d %s, want 410", code, msg)
	}
	if _, g, _ := apis[0].do(t, "GET", "/v2/video/generations?generation_id="+id, nil); g["video"].(map[string]any)["file_size"] != float64(len(video)) {
		t.Errorf("the video changed after the late upload: %v", g["video"])
	}

	t.Run("a cancel stops the remote render within a heartbeat", func(t *testing.T) {
		slow := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in", "image_url": img.URL + "/rocket.jpg",
			"resolution": "1080p", "duration": 5, "seed": 12, "lip_sync_tts_content": "Ready for launch, all systems go."}
		id := apis[0].submit(t, "/v2/video/generations", slow)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, g, _ := apis[0].do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
			if g["status"] == "generating" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("never started: %v", g)
			}
		}
		cancelled := time.Now()
		if code, g, _ := apis[1].do(t, "DELETE", "/v2/video/generations?generation_id="+id, nil); code != 200 || g["status"] != "error" {
			t.Fatalf("cancel: %d %v", code, g)
		}
		// The next heartbeat (every 200 ms) hears of it; the engine then
		// stops ffmpeg. The bounds are loose for a loaded machine.
		var heard, stopped time.Time
		for deadline := time.Now().Add(10 * time.Second); stopped.IsZero(); time.Sleep(10 * time.Millisecond) {
			for _, w := range []*remoteWorker{a, b} {
				log := w.log.String()
				if heard.IsZero() && strings.Contains(log, "stopping the render\" id="+id) {
					heard = time.Now()
				}
				if strings.Contains(log, "render stopped\" id="+id) {
					stopped = time.Now()
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no worker stopped the cancelled render:\nA:\n%s\nB:\n%s", a.log.String(), b.log.String())
			}
		}
		t.Logf("the remote worker heard of the cancel %v after it, and its render stopped %v after it",
			heard.Sub(cancelled).Round(time.Millisecond), stopped.Sub(cancelled).Round(time.Millisecond))
		if d := heard.Sub(cancelled); heard.IsZero() || d > time.Second {
			t.Errorf("the worker heard of the cancel %v after it, want within a heartbeat (200 ms) or so", d)
		}
		if d := stopped.Sub(cancelled); d > 3*time.Second {
			t.Errorf("the remote render stopped %v after the cancel", d)
		}
		var state string
		for deadline := time.Now().Add(5 * time.Second); state != "cancelled"; time.Sleep(20 * time.Millisecond) {
			pgQuery(t, c.db, `SELECT state FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = $1)`, []any{id}, func(r pgx.Rows) error { return r.Scan(&state) })
			if time.Now().After(deadline) {
				t.Fatalf("job state %s, want cancelled", state)
			}
		}
	})

	t.Run("tokens keep to their queues", func(t *testing.T) {
		other := c.workerToken(t, "gpu-c", "render_gpu")
		if code, msg := workerCall(t, apis[0], other, "POST", "/v2/worker/leases", []byte(`{"queues":["render_builtin"]}`)); code != http.StatusForbidden || !strings.Contains(msg, "render_gpu only") {
			t.Errorf("a render_gpu token leasing from render_builtin: %d %s, want 403", code, msg)
		}
		id := apis[0].submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p",
			"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5})
		// Its own queues, all of them: nothing there, though a job waits
		// on another.
		if code, msg := workerCall(t, apis[0], other, "POST", "/v2/worker/leases", []byte(`{"wait_seconds":0.5}`)); code != http.StatusNoContent {
			t.Errorf("a render_gpu token's lease: %d %s, want 204", code, msg)
		}
		if code, msg := workerCall(t, apis[0], testKey, "POST", "/v2/worker/leases", nil); code != http.StatusForbidden || !strings.Contains(msg, "not a worker token") {
			t.Errorf("an API key leasing: %d %s, want 403", code, msg)
		}
		if code, msg := workerCall(t, apis[0], other, "GET", "/v2/video/generations?generation_id="+id, nil); code != http.StatusForbidden {
			t.Errorf("a worker token polling: %d %s, want 403", code, msg)
		}
		apis[0].wait(t, "/v2/video/generations", id, time.Minute)
	})

	t.Run("a revoked token is refused at its next call", func(t *testing.T) {
		if _, stderr, code := run(t, c.env, "keys", "revoke", "gpu-b"); code != 0 {
			t.Fatal(stderr)
		}
		select {
		case <-b.exited:
		case <-time.After(15 * time.Second):
			t.Fatalf("worker B still runs with a revoked token:\n%s", b.log.String())
		}
		if b.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(b.log.String(), "unknown or revoked") {
			t.Errorf("worker B exited %d:\n%s", b.cmd.ProcessState.ExitCode(), b.log.String())
		}
		if code, _ := workerCall(t, apis[1], tokB, "POST", "/v2/worker/leases", nil); code != http.StatusUnauthorized {
			t.Errorf("a revoked token's lease: %d, want 401", code)
		}
	})

	// A alone is left: each job now goes to the worker the test starts.
	t.Run("SIGTERM lets the running job finish", func(t *testing.T) {
		id := apis[0].submit(t, "/v2/video/generations", body)
		a.waitLog(t, "job leased", "id="+id, 30*time.Second)
		a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.exited:
		case <-time.After(time.Minute):
			t.Fatal("worker A did not stop")
		}
		if code := a.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("worker A exited %d", code)
		}
		a.waitLog(t, "job done", "id="+id, "outcome=completed", time.Second)
		if g := apis[0].wait(t, "/v2/video/generations", id, 5*time.Second); g["status"] != "completed" {
			t.Errorf("after SIGTERM: %v", g)
		}
	})
	t.Run("SIGTERM past the grace hands the job back, not counted", func(t *testing.T) {
		tokE := c.workerToken(t, "gpu-e", "render_builtin")
		e := startRemote(t, apis[1].url, tokE, "--shutdown-timeout", "100ms")
		id := apis[0].submit(t, "/v2/video/generations", body)
		e.waitLog(t, "job leased", "id="+id, 30*time.Second)
		e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(30 * time.Second):
			t.Fatal("worker E did not stop")
		}
		e.waitLog(t, "job done", "id="+id, "outcome=handed_back", time.Second)
		var state string
		var attempt int
		pgQuery(t, c.db, `SELECT state, attempt FROM river_job WHERE id = (SELECT job_id FROM generation WHERE id = $1)`, []any{id},
			func(r pgx.Rows) error { return r.Scan(&state, &attempt) })
		if state != "available" || attempt != 0 {
			t.Errorf("handed-back job: %s, attempt %d; want available, 0", state, attempt)
		}
		f := startRemote(t, apis[0].url, tokE)
		if g := apis[0].wait(t, "/v2/video/generations", id, time.Minute); g["status"] != "completed" {
			t.Errorf("the handed-back job: %v", g)
		}
		f.waitLog(t, "job done", "id="+id, "attempt=1", "outcome=completed", 5*time.Second)
	})
}

// sha returns the hex SHA-256 of the file at path.
func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestPythonRemoteWorker runs examples/remote-worker/worker.py, a worker
// written in Python from docs/remote-workers.md alone, against an API on
// SQLite: it leases the job, renews its lease, uploads and completes, and
// the client downloads its video.
func TestPythonRemoteWorker(t *testing.T) {
	py := pythonWithRequests(t)
	img := imageServer(t)
	p := startServer(t, serverOpts{apiOnly: true, allowPrivate: true, extraArgs: []string{"--lease-time", "5s"}})
	token, stderr, code := run(t, nil, "keys", "create", "--data-dir", p.dataDir, "--name", "py", "--worker", "--queues", "render_builtin")
	if code != 0 {
		t.Fatal(stderr)
	}
	id := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5})
	cmd := exec.Command(py, "../../examples/remote-worker/worker.py", "--once")
	cmd.Env = append(os.Environ(), "STILLMOTION_API="+p.url, "STILLMOTION_WORKER_TOKEN="+strings.TrimSpace(token))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "completed "+id) {
		t.Fatalf("worker.py: %v\n%s", err, out)
	}
	g := p.wait(t, "/v2/video/generations", id, 10*time.Second)
	if g["status"] != "completed" {
		t.Fatalf("after worker.py: %v", g)
	}
	checkVideo(t, download(t, p.client, g["video"].(map[string]any)["url"].(string)), 540, 360, 5)
}

// TestRemoteWorkerReconnects starts a remote worker before its API: it
// backs off while the API is away, then takes the job once it is up, and
// its metrics say so.
func TestRemoteWorkerReconnects(t *testing.T) {
	img := imageServer(t)
	dataDir, addr, metrics := t.TempDir(), freeAddr(t), freeAddr(t)
	token, stderr, code := run(t, nil, "keys", "create", "--data-dir", dataDir, "--name", "gpu", "--worker", "--queues", "render_builtin")
	if code != 0 {
		t.Fatal(stderr)
	}
	w := startRemote(t, "http://"+addr, strings.TrimSpace(token), "--metrics-addr", metrics)
	w.waitLog(t, "the API is unreachable; trying again", 10*time.Second)
	p := startServer(t, serverOpts{apiOnly: true, allowPrivate: true, dataDir: dataDir, addr: addr})
	id := p.submit(t, "/v2/video/generations", map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "duration": 5})
	if g := p.wait(t, "/v2/video/generations", id, time.Minute); g["status"] != "completed" {
		t.Fatalf("after the API came up: %v", g)
	}
	res, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	for _, want := range []string{`stillmotion_remote_job_duration_seconds_count{outcome="completed"} 1`, "stillmotion_remote_jobs_running 0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
	if !strings.Contains(b.String(), "stillmotion_remote_api_unreachable_total ") || strings.Contains(b.String(), "stillmotion_remote_api_unreachable_total 0\n") {
		t.Errorf("metrics do not count the unanswered calls:\n%s", b.String())
	}
}
