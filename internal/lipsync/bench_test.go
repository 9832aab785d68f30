package lipsync_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/generation"
	"stillmotion/internal/lipsync"
	"stillmotion/internal/speech"
)

// benchChild, set in a child process's environment, holds the job the
// child runs (a benchJob as JSON).
const benchChild = "STILLMOTION_LIPSYNC_BENCH_CHILD"

// benchJob is one lip-sync a child process runs and measures.
type benchJob struct {
	Video, Out, Line, Voice string
}

// benchResult is what a child process measured.
type benchResult struct {
	Wall, Probe, Track, Encode time.Duration
	Width, Height, Frames      int
	// PeakRSS is the child's own peak resident memory (VmHWM), PeakTotal
	// the peak of its resident memory and its ffmpeg children's together
	// (sampled every 20 ms), PeakHeap the Go heap's peak in use.
	PeakRSS, PeakTotal, PeakHeap int64
	// CPU is the processor time of the child and its children (ffmpeg),
	// synthesis included: the wall time on an idle machine is about
	// this over the cores it keeps busy.
	CPU time.Duration
}

// TestBenchmark measures lip-sync of the built-in engine's talking clips:
// the wall time of a 5-second 720p clip and where it goes, and the peak
// memory of an 8-second 1920x1080 one. Each runs in a child process, so
// that its memory is its own. It runs only with STILLMOTION_BENCH=1:
//
//	STILLMOTION_BENCH=1 go test -run TestBenchmark -v ./internal/lipsync/
func TestBenchmark(t *testing.T) {
	if os.Getenv(benchChild) != "" {
		runBenchChild(t)
		return
	}
	if os.Getenv("STILLMOTION_BENCH") == "" {
		t.Skip("set STILLMOTION_BENCH=1 to measure")
	}
	dir := t.TempDir()
	clip720 := engineClip(t, dir, "720p", 5)
	clip1080 := engineClip(t, dir, "1080p", 8)
	// The 1080p clip is portrait-shaped (1080x1350); fit it into a
	// 1920x1080 frame, the largest the limits allow.
	wide := filepath.Join(dir, "wide1080.mp4")
	ffmpeg(t, "-i", clip1080, "-vf", "scale=-2:1080,pad=1920:1080:(ow-iw)/2:0:color=gray",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "copy", wide)

	var b strings.Builder
	b.WriteString("\nclip                frames  wall    probe   track   encode  CPU     peak RSS  with ffmpeg  Go heap\n")
	for _, job := range []struct {
		name string
		job  benchJob
	}{
		{"720p 5 s (720x900)", benchJob{Video: clip720, Line: "Please open the window, and let the cool morning air come in.", Voice: "Jack"}},
		{"1080p 8 s (1920x1080)", benchJob{Video: wide, Line: "Please open the window, and let the cool morning air come in. Then sit down and rest.", Voice: "Sophia"}},
	} {
		job.job.Out = filepath.Join(dir, "out.mp4")
		r := runChild(t, job.job)
		fmt.Fprintf(&b, "%-21s %4d  %5.1fs  %5.2fs  %5.1fs  %5.1fs  %5.1fs  %5d MB  %7d MB  %5d MB\n", job.name, r.Frames,
			r.Wall.Seconds(), r.Probe.Seconds(), r.Track.Seconds(), r.Encode.Seconds(), r.CPU.Seconds(), r.PeakRSS>>20, r.PeakTotal>>20, r.PeakHeap>>20)
	}
	fmt.Fprintf(&b, "(%d CPUs)\n", runtime.NumCPU())
	t.Log(b.String())
}

// engineClip renders a talking clip of the test portrait at res for secs
// seconds with a slow push in.
func engineClip(t *testing.T, dir, res string, secs int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "astronaut-portrait.png"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, res+".mp4")
	req := &generation.Request{Model: generation.Model, Prompt: "slow push in", Resolution: res, Duration: secs,
		ImageURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(b),
		Seed:     3, SeedGiven: true, Speech: oldLine, Speaker: oldVoice}
	if _, err := (&engine.Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// runChild runs job in a child process and returns what it measured.
func runChild(t *testing.T, job benchJob) benchResult {
	t.Helper()
	spec, _ := json.Marshal(job)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchmark$", "-test.v")
	cmd.Env = append(os.Environ(), benchChild+"="+string(spec))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "BENCH "); ok {
			var r benchResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("child said nothing: %s", out)
	return benchResult{}
}

// runBenchChild is the child's side: one lip-sync, measured.
func runBenchChild(t *testing.T) {
	var job benchJob
	if err := json.Unmarshal([]byte(os.Getenv(benchChild)), &job); err != nil {
		t.Fatal(err)
	}
	a, err := (&speech.Flite{}).Synthesize(context.Background(), job.Line, job.Voice)
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime()
	var r benchResult
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// Sample this process's and its children's resident memory, and
		// the Go heap.
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			total := rss(os.Getpid()) + childrenRSS(os.Getpid())
			r.PeakTotal = max(r.PeakTotal, total)
			runtime.ReadMemStats(&ms)
			r.PeakHeap = max(r.PeakHeap, int64(ms.HeapInuse))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	t0 := time.Now()
	res, err := lipsync.Render(context.Background(), job.Video, &lipsync.Speech{Samples: a.Samples, Phones: a.Phones, Words: a.Words, Start: speech.Lead},
		job.Out, lipsync.Options{})
	r.Wall = time.Since(t0)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	r.CPU = cpuTime() - cpu0
	r.Probe, r.Track, r.Encode = res.Timings.Probe, res.Timings.Track, res.Timings.Encode
	r.Width, r.Height, r.Frames = res.Width, res.Height, res.Frames
	r.PeakRSS = statusKB(fmt.Sprintf("/proc/%d/status", os.Getpid()), "VmHWM:") << 10
	b, _ := json.Marshal(r)
	fmt.Printf("BENCH %s\n", b)
}

// cpuTime returns the processor time of this process and its children
// waited for.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	var sum time.Duration
	for _, tv := range []syscall.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		sum += time.Duration(tv.Nano())
	}
	return sum
}

// rss returns the resident memory of process pid, in bytes.
func rss(pid int) int64 { return statusKB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:") << 10 }

// childrenRSS returns the resident memory of pid's descendants, in
// bytes, found by their parent ids in /proc.
func childrenRSS(pid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var sum int64
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				sum += rss(p)
				break
			}
		}
	}
	return sum
}

// statusKB returns the value, in kB, of the field key in a
// /proc/<pid>/status file, or 0.
func statusKB(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
