package main

// The poll path's figures for BENCHMARKS.md, run only with
// STILLMOTION_BENCH=1 and wrk installed (their numbers are read, not
// asserted):
//
//	STILLMOTION_BENCH=1 go test -run 'TestBenchPollPath' -v -timeout 10m ./cmd/stillmotion/
//
// With STILLMOTION_POLL_PROFILE=file it also runs the idle server in the
// test process under the same load and writes its CPU profile to file
// (go tool pprof -top file).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchPollPath polls 400 keys' generations (half completed, half
// queued) with wrk, against an idle server on SQLite with the per-key rate
// limit off, against a bare net/http JSON handler in this process (the
// baseline), and against the server while two renders run.
func TestBenchPollPath(t *testing.T) {
	benchOnly(t)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install -y wrk)")
	}
	const nKeys = 400
	dir := t.TempDir()
	keys := make([]string, nKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("sm_pollbench%04d", i)
	}
	img := imageServer(t)
	env := []string{"STILLMOTION_API_KEYS=" + strings.Join(keys, ","), "STILLMOTION_ALLOW_PRIVATE_FETCH=1"}
	args := []string{"--rate-limit", "0", "--max-in-flight", "0"}

	// One generation per key, submitted with no workers so all stay queued.
	p := startPollServer(t, dir, 0, env, args)
	ids := make([]string, nKeys)
	for i, k := range keys {
		req := p.request(k, "POST", "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "a slow pan", "image_url": img.URL + "/astronaut.png",
			"duration": 5, "resolution": "360p", "seed": i})
		res, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var g struct{ ID string }
		json.NewDecoder(res.Body).Decode(&g)
		res.Body.Close()
		if res.StatusCode != 200 || g.ID == "" {
			t.Fatalf("submit %d: status %d", i, res.StatusCode)
		}
		ids[i] = g.ID
	}
	p.kill()

	// Every other generation completed, as a render would leave it.
	db, err := sql.Open("sqlite", filepath.Join(dir, "stillmotion.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < nKeys; i += 2 {
		v := fmt.Sprintf(`{"key":"videos/%s.mp4","file_name":"%s.mp4","file_size":812345,"width":640,"height":360,"duration":5,"fps":24,"has_audio":false}`, ids[i], ids[i])
		if _, err := db.Exec(`UPDATE generation SET status = 'completed', progress = 1, video = ? WHERE id = ?`, v, ids[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE river_job SET state = 'completed', finalized_at = CURRENT_TIMESTAMP WHERE id = (SELECT job_id FROM generation WHERE id = ?)`, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	var script strings.Builder
	// The requests are made in init, once wrk has set the Host header.
	script.WriteString("local polls = {\n")
	for i, k := range keys {
		fmt.Fprintf(&script, "\t{%q, %q},\n", ids[i], k)
	}
	script.WriteString(`}
local reqs = {}
local n = 0
init = function(args)
	for i, p in ipairs(polls) do
		reqs[i] = wrk.format("GET", "/v2/video/generations?generation_id=" .. p[1], {["Authorization"] = "Bearer " .. p[2]})
	end
end
request = function()
	n = n % #reqs + 1
	return reqs[n]
end
`)
	lua := filepath.Join(dir, "poll.lua")
	if err := os.WriteFile(lua, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	// The baseline: a bare net/http handler answering a small JSON body.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]any{"id": r.URL.Query().Get("generation_id"), "status": "queued", "meta": map[string]any{"usage": map[string]any{"credits_used": 0}}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})}
	go bare.Serve(ln)
	t.Cleanup(func() { bare.Close() })
	base := runWrk(t, wrk, lua, "http://"+ln.Addr().String())
	t.Logf("bare net/http:   %8.0f requests/s, p99 %v", base.rps, base.p99)

	p = startPollServer(t, dir, 0, env, args)
	for _, i := range []int{0, 1} {
		if code, body := pollOnce(t, p, keys[i], ids[i]); code != 200 {
			t.Fatalf("poll of %s: %d %s", ids[i], code, body)
		}
	}
	idle := runWrk(t, wrk, lua, p.url)
	t.Logf("idle server:     %8.0f requests/s, p99 %v (%.0f%% of bare)", idle.rps, idle.p99, 100*idle.rps/base.rps)
	p.kill()
	if out := os.Getenv("STILLMOTION_POLL_PROFILE"); out != "" {
		profileServe(t, out, dir, env, args, func(url string) { runWrk(t, wrk, lua, url) })
	}

	// Two workers take the queued generations: two renders run throughout.
	p = startPollServer(t, dir, 2, env, args)
	waitRendering(t, p, 2)
	busy := runWrk(t, wrk, lua, p.url)
	t.Logf("two renders:     %8.0f requests/s, p99 %v (%.0f%% of bare)", busy.rps, busy.p99, 100*busy.rps/base.rps)
	if busy.non2xx > 0 || idle.non2xx > 0 {
		t.Errorf("non-2xx answers: idle %d, rendering %d", idle.non2xx, busy.non2xx)
	}
}

// profileServe runs the server in this process, as the binary would, and
// writes a CPU profile of it to out while load(url) runs.
func profileServe(t *testing.T, out, dir string, env, args []string, load func(url string)) {
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
	logFile, err := os.Create(filepath.Join(dir, "profiled.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	stderr := os.Stderr
	os.Stderr = logFile // the server's log
	defer func() { os.Stderr = stderr }()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, append([]string{"--addr", addr, "--data-dir", dir, "--workers", "0"}, args...), true)
	}()
	defer func() { cancel(); <-done }()
	url := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the profiled server did not become ready")
		}
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	load(url)
	pprof.StopCPUProfile()
	t.Logf("CPU profile of the idle server under load: %s", out)
}

// startPollServer starts the binary on dir with workers workers, its log
// in a file (a pipe read by this process would compete with wrk).
func startPollServer(t *testing.T, dir string, workers int, env, args []string) *proc {
	t.Helper()
	addr := freeAddr(t)
	logFile, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, append([]string{"serve", "--addr", addr, "--data-dir", dir, "--workers", strconv.Itoa(workers)}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{url: "http://" + addr, addr: addr, dataDir: dir, cmd: cmd, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() { p.kill(); logFile.Close() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := p.client.Get(p.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
	t.Fatalf("server did not become ready:\n%s", log)
	return nil
}

// pollOnce polls generation id as key and returns the answer.
func pollOnce(t *testing.T, p *proc, key, id string) (int, string) {
	t.Helper()
	res, err := p.client.Do(p.request(key, "GET", "/v2/video/generations?generation_id="+id, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitRendering waits until n generations are generating.
func waitRendering(t *testing.T, p *proc, n int) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(p.dataDir, "stillmotion.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var c int
		if err := db.QueryRow(`SELECT count(*) FROM generation WHERE status = 'generating'`).Scan(&c); err == nil && c >= n {
			return
		}
	}
	t.Fatalf("%d renders did not start", n)
}

type wrkResult struct {
	rps    float64
	p99    time.Duration
	non2xx int
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99    = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

// runWrk runs wrk with the script lua against url and reads its figures.
func runWrk(t *testing.T, wrk, lua, url string) wrkResult {
	t.Helper()
	out, err := exec.Command(wrk, "-t2", "-c64", "-d10s", "--latency", "-s", lua, url).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	var r wrkResult
	m := wrkRPS.FindSubmatch(out)
	l := wrkP99.FindSubmatch(out)
	if m == nil || l == nil {
		t.Fatalf("wrk's output has no figures:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	p, _ := strconv.ParseFloat(string(l[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(l[2])]
	r.p99 = time.Duration(p * float64(unit))
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(string(m[1]))
	}
	return r
}
