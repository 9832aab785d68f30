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
	"slices"
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
	wrk := wrkFor(t)
	pb := seedPollBench(t, 0)
	dir, keys, ids, env, args := pb.dir, pb.keys, pb.ids, pb.env, pb.args

	polls := make([][2]string, len(keys))
	for i, k := range keys {
		polls[i] = [2]string{"/v2/video/generations?generation_id=" + ids[i], k}
	}
	lua := wrkScript(t, dir, "poll.lua", polls)

	bareURL := bareServer(t)
	base := runWrk(t, wrk, lua, bareURL)
	t.Logf("bare net/http:   %8.0f requests/s, p99 %v", base.rps, base.p99)

	p := startPollServer(t, dir, 0, env, args)
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
	if !p.waitReady() {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("server did not become ready:\n%s", log)
	}
	return p
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

// wrkFor skips t unless it is a benchmark run with wrk installed, and
// returns wrk's path.
func wrkFor(t *testing.T) string {
	t.Helper()
	benchOnly(t)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install -y wrk)")
	}
	return wrk
}

// wrkScript writes a wrk script that makes the GET requests reqs (path
// and key) in turn, and returns its path.
func wrkScript(t *testing.T, dir, name string, reqs [][2]string) string {
	t.Helper()
	var script strings.Builder
	// The requests are made in init, once wrk has set the Host header.
	script.WriteString("local gets = {\n")
	for _, r := range reqs {
		fmt.Fprintf(&script, "\t{%q, %q},\n", r[0], r[1])
	}
	script.WriteString(`}
local reqs = {}
local n = 0
init = function(args)
	for i, p in ipairs(gets) do
		reqs[i] = wrk.format("GET", p[1], {["Authorization"] = "Bearer " .. p[2]})
	end
end
request = function()
	n = n % #reqs + 1
	return reqs[n]
end
`)
	lua := filepath.Join(dir, name)
	if err := os.WriteFile(lua, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return lua
}

// bareServer starts the baseline: a bare net/http handler answering a
// small JSON body. It returns its URL.
func bareServer(t *testing.T) string {
	t.Helper()
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
	return "http://" + ln.Addr().String()
}

// pollBench is a data dir seeded for the poll benchmarks: one generation
// per key, the even ones completed and the odd ones queued, and extra
// completed generations for the first keys.
type pollBench struct {
	dir       string
	keys, ids []string
	env, args []string
}

// seedPollBench seeds 400 keys' generations and, for each of the first 20
// keys, extra more completed ones.
func seedPollBench(t *testing.T, extra int) *pollBench {
	t.Helper()
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
	var more []string
	for i := range nKeys + 20*extra {
		k := keys[i%nKeys]
		if i >= nKeys {
			k = keys[(i-nKeys)%20]
		}
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
		if i < nKeys {
			ids[i] = g.ID
		} else {
			more = append(more, g.ID)
		}
	}
	p.kill()

	// Every other generation completed, as a render would leave it.
	db, err := sql.Open("sqlite", filepath.Join(dir, "stillmotion.db"))
	if err != nil {
		t.Fatal(err)
	}
	done := append(slices.Clone(more), ids...)
	for i := 0; i < len(done); i++ {
		if i >= len(more) && (i-len(more))%2 == 1 {
			continue
		}
		v := fmt.Sprintf(`{"key":"videos/%s.mp4","file_name":"%s.mp4","file_size":812345,"width":640,"height":360,"duration":5,"fps":24,"has_audio":false}`, done[i], done[i])
		if _, err := db.Exec(`UPDATE generation SET status = 'completed', progress = 1, video = ? WHERE id = ?`, v, done[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE river_job SET state = 'completed', finalized_at = CURRENT_TIMESTAMP WHERE id = (SELECT job_id FROM generation WHERE id = ?)`, done[i]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	return &pollBench{dir: dir, keys: keys, ids: ids, env: env, args: args}
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

// TestBenchListAndEvents measures the list route and the event stream on
// the idle server: wrk lists 20 keys' generations (21 each, a page of
// 20), against the bare handler; then 1,000 event streams are held open
// on the 200 queued generations (each stream polls its generation twice
// a second), and the server's CPU time over 10 s is read from /proc.
//
//	STILLMOTION_BENCH=1 go test -run 'TestBenchListAndEvents' -v -timeout 10m ./cmd/stillmotion/
func TestBenchListAndEvents(t *testing.T) {
	wrk := wrkFor(t)
	pb := seedPollBench(t, 20)
	lists := make([][2]string, 20)
	for i := range lists {
		lists[i] = [2]string{"/v2/video/generations/list", pb.keys[i]}
	}
	lua := wrkScript(t, pb.dir, "list.lua", lists)
	base := runWrk(t, wrk, lua, bareServer(t))
	t.Logf("bare net/http:   %8.0f requests/s, p99 %v", base.rps, base.p99)

	p := startPollServer(t, pb.dir, 0, pb.env, pb.args)
	res, err := p.client.Do(p.request(pb.keys[0], "GET", "/v2/video/generations/list", nil))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Data []json.RawMessage }
	json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if len(page.Data) != 20 {
		t.Fatalf("a list shows %d generations, want a page of 20", len(page.Data))
	}
	list := runWrk(t, wrk, lua, p.url)
	t.Logf("list of 20:      %8.0f requests/s, p99 %v (%.0f%% of bare)", list.rps, list.p99, 100*list.rps/base.rps)
	if list.non2xx > 0 {
		t.Errorf("non-2xx answers to lists: %d", list.non2xx)
	}

	// The event streams, on the queued (odd) generations.
	const streams = 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams}}
	opened := make(chan error, streams)
	start := time.Now()
	for i := range streams {
		k := 2*(i%200) + 1
		go func() {
			req := p.request(pb.keys[k], "GET", "/v2/video/generations/events?generation_id="+pb.ids[k], nil).WithContext(ctx)
			res, err := client.Do(req)
			if err != nil {
				opened <- err
				return
			}
			defer res.Body.Close()
			buf := make([]byte, 4096)
			n, err := res.Body.Read(buf)
			if err != nil || !strings.Contains(string(buf[:n]), "event: generation") {
				opened <- fmt.Errorf("stream %d: %d %q %v", i, res.StatusCode, buf[:n], err)
				return
			}
			opened <- nil
			io.Copy(io.Discard, res.Body)
		}()
	}
	for range streams {
		if err := <-opened; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d event streams open, each with its first event, in %v", streams, time.Since(start).Round(time.Millisecond))
	c0 := procCPU(t, p.cmd.Process.Pid)
	time.Sleep(10 * time.Second) // the window the CPU time is measured over
	c1 := procCPU(t, p.cmd.Process.Pid)
	t.Logf("%d event streams held for 10 s: the server used %.1f%% of a core", streams, 100*(c1-c0).Seconds()/10)
}

// procCPU returns the CPU time process pid has used, user and system.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis; utime and
	// stime are the 14th and 15th of the whole line, in ticks of 1/100 s.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return time.Duration(u+s) * 10 * time.Millisecond
}
