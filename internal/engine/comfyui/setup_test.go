package comfyui

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/generation"
	"stillmotion/test/fakecomfy"
)

// fake is a stand-in ComfyUI server on a loopback port.
type fake struct {
	*fakecomfy.Server
	ts *httptest.Server
}

func newFake(t testing.TB, opts fakecomfy.Options) *fake {
	t.Helper()
	srv := fakecomfy.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return &fake{srv, ts}
}

// slowly is the test script: prompts that say "slow" take 3 s of sampler
// steps, prompts that say "fail" fail in the sampler (node 3), prompts
// that say "oom" run out of GPU memory there.
func slowly(prompt string) fakecomfy.Script {
	var s fakecomfy.Script
	if strings.Contains(prompt, "slow") {
		s.StepDelay = 150 * time.Millisecond
	}
	if strings.Contains(prompt, "fail") {
		s.FailNode, s.FailMessage, s.FailType = "3", "Expected all tensors to be on the same device, but found at least two devices", "RuntimeError"
	}
	if strings.Contains(prompt, "oom") {
		s.FailNode, s.FailMessage, s.FailType = "3", "Allocation on device", "torch.OutOfMemoryError"
	}
	return s
}

// workflows are the fake's test workflows with the mapping of each.
var workflows = map[string]struct{ file, fps, output string }{
	"webp":   {"wan_i2v_api.json", "28.fps", "28"},
	"vhs":    {"wan_i2v_vhs_api.json", "60.frame_rate", "60"},
	"video":  {"wan_i2v_video_api.json", "55.fps", "56"},
	"frames": {"wan_i2v_frames_api.json", "", "9"},
}

// config maps one of the test workflows as an engines file would.
func config(workflow string, urls ...string) Config {
	w := workflows[workflow]
	c := Config{URLs: urls, Workflow: fakecomfy.Workflow(w.file), Output: w.output, FramesRule: "4n+1", PollInterval: 200 * time.Millisecond,
		Inputs: Inputs{Image: Targets{"52.image"}, Prompt: Targets{"6.text"}, NegativePrompt: Targets{"7.text"}, Seed: Targets{"3.seed"},
			Frames: Targets{"50.length"}, Width: Targets{"50.width"}, Height: Targets{"50.height"}}}
	if w.fps != "" {
		c.Inputs.FPS = Targets{w.fps}
	}
	return c
}

func newEngine(t testing.TB, c Config) *Engine {
	t.Helper()
	e, err := New("wan", c, Deps{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// testImage is a 480×320 PNG landscape (sky, hills, a sun) as a data URI.
var testImage = sync.OnceValue(func() string {
	m := image.NewRGBA(image.Rect(0, 0, 480, 320))
	for y := range 320 {
		for x := range 480 {
			c := color.RGBA{uint8(90 + y/4), uint8(140 + y/5), 230, 255}
			if hill := 200 + 30*((x/40)%3); y > hill {
				c = color.RGBA{40, uint8(120 + x/8), 50, 255}
			}
			if dx, dy := x-360, y-80; dx*dx+dy*dy < 900 {
				c = color.RGBA{250, 220, 90, 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, m)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
})

func request(prompt string) *generation.Request {
	return &generation.Request{Model: "wan-i2v", Prompt: prompt, ImageURL: testImage(), Resolution: "360p", Duration: 5, Seed: 42}
}

// progress records the progress values of a task.
type progress struct {
	mu     sync.Mutex
	values []float64
}

func (p *progress) report(v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.values = append(p.values, v)
}

func (p *progress) seen() []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]float64(nil), p.values...)
}

// last is the latest value, 0 before any.
func (p *progress) last() float64 {
	v := p.seen()
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func task(t testing.TB, req *generation.Request, p *progress) *generation.Task {
	tk := &generation.Task{ID: generation.NewID(), Request: req, Out: t.TempDir() + "/out.mp4"}
	if p != nil {
		tk.Progress = p.report
	}
	return tk
}

// eventually waits until cond holds, failing the test after a while.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// background runs a render and hands back its result.
func background(e *Engine, ctx context.Context, tk *generation.Task) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := e.Render(ctx, tk)
		done <- err
	}()
	return done
}

// pngOf is a w×h PNG image.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x), uint8(y), 160, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
