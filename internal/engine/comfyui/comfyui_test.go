package comfyui

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/test/fakecomfy"
)

// TestConformance runs the engines' conformance suite against the fake
// ComfyUI running the Wan workflow with an MP4 output.
func TestConformance(t *testing.T) {
	f := newFake(t, fakecomfy.Options{Script: slowly})
	e := newEngine(t, config("vhs", f.ts.URL))
	enginetest.Run(t, enginetest.Harness{
		Engine:  e,
		Request: func() *generation.Request { return request("a lake at dawn, gentle ripples") },
		Slow:    func() *generation.Request { return request("a slow pan over the hills") },
		Failures: []enginetest.Failure{
			{Name: "failing node", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request { return request("fail please") }},
			{Name: "out of memory", Kind: fault.Render, Setup: func(t *testing.T) *generation.Request { return request("oom please") }},
			{Name: "server down", Kind: fault.Upstream, Setup: func(t *testing.T) *generation.Request {
				f.FailNext(1 << 20)
				t.Cleanup(func() { f.FailNext(0) })
				return request("a lake")
			}},
		},
		Submissions: f.Submissions,
	})
}

// TestOutputs renders through each kind of output node ComfyUI's video
// workflows end with: the served file is always H.264 at the frame size,
// length and rate the workflow was asked for.
func TestOutputs(t *testing.T) {
	f := newFake(t, fakecomfy.Options{})
	vhs := func(format string) func(map[string]map[string]any) {
		return func(wf map[string]map[string]any) { wf["60"]["inputs"].(map[string]any)["format"] = format }
	}
	for _, tc := range []struct {
		name, workflow string
		edit           func(map[string]map[string]any)
		gif            bool // GIF delays are in 1/100 s: 16 fps is not exact
	}{
		{name: "animated WebP", workflow: "webp"},
		{name: "MP4", workflow: "vhs"},
		{name: "SaveVideo", workflow: "video"},
		{name: "PNG frames", workflow: "frames"},
		{name: "WebM", workflow: "vhs", edit: vhs("video/webm")},
		{name: "GIF", workflow: "vhs", edit: vhs("image/gif"), gif: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config(tc.workflow, f.ts.URL)
			if tc.edit != nil {
				c.Workflow = editWorkflow(t, c.Workflow, tc.edit)
			}
			tk := task(t, request("a lake"), nil)
			o, err := newEngine(t, c).Render(context.Background(), tk)
			if err != nil {
				t.Fatal(err)
			}
			info, err := media.Probe(context.Background(), tk.Out)
			if err != nil {
				t.Fatal(err)
			}
			// 480×320 at 360p, in blocks of 16: 544×368; 5 s at 16 fps,
			// 4n+1 frames: 81.
			if info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || info.Width != 544 || info.Height != 368 {
				t.Errorf("video %s/%s %dx%d, want h264/yuv420p 544x368", info.VideoCodec, info.PixFmt, info.Width, info.Height)
			}
			if !tc.gif && (info.Frames < 80 || info.Frames > 82 || math.Abs(info.FPS-16) > 0.01) {
				t.Errorf("%d frames at %.2f fps, want 81 at 16", info.Frames, info.FPS)
			}
			if math.Abs(info.Duration-81.0/16) > 0.3 {
				t.Errorf("%.2f s, want %.2f", info.Duration, 81.0/16)
			}
			if o.Width != 544 || !strings.Contains(o.Plan, "81 frames at 16 fps") {
				t.Errorf("output %+v", o)
			}
		})
	}
}

// portrait is an input image given in Task.Inputs.
type portrait struct{ data []byte }

func (p portrait) Bytes(context.Context) ([]byte, error) { return p.data, nil }
func (p portrait) URL(context.Context) (string, error)   { return "", nil }

func TestTaskImage(t *testing.T) {
	f := newFake(t, fakecomfy.Options{})
	e := newEngine(t, config("vhs", f.ts.URL))
	req := request("a tall tower")
	req.ImageURL = "https://images.invalid/never-fetched.png"
	tk := task(t, req, nil)
	tk.Inputs = map[string]generation.Input{generation.FieldImage: portrait{pngOf(t, 320, 480)}}
	o, err := e.Render(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if o.Width != 368 || o.Height != 544 {
		t.Errorf("%dx%d, want a portrait 368x544", o.Width, o.Height)
	}
}

// TestProgress follows a render's progress: it comes from the websocket's
// sampler steps, rises steadily and never goes back.
func TestProgress(t *testing.T) {
	f := newFake(t, fakecomfy.Options{StepDelay: 40 * time.Millisecond})
	e := newEngine(t, config("vhs", f.ts.URL))
	p := &progress{}
	if _, err := e.Render(context.Background(), task(t, request("a lake"), p)); err != nil {
		t.Fatal(err)
	}
	vals := p.seen()
	steps := 0
	for i, v := range vals {
		if v <= 0 || v > 1 || (i > 0 && v <= vals[i-1]) {
			t.Fatalf("progress %v at %d of %v: want rising values in (0, 1]", v, i, vals)
		}
		if v > 0.1 && v < 0.9 {
			steps++
		}
	}
	if steps < 15 || vals[len(vals)-1] != 1 {
		t.Errorf("progress %v: want most of 20 sampler steps, ending at 1", vals)
	}
}

// TestFailingNode reports a node's exception to the user.
func TestFailingNode(t *testing.T) {
	f := newFake(t, fakecomfy.Options{Script: slowly})
	e := newEngine(t, config("vhs", f.ts.URL))
	tk := task(t, request("fail"), nil)
	_, err := e.Render(context.Background(), tk)
	if fault.KindOf(err) != fault.Rejected {
		t.Fatalf("error %v, want a Rejected fault", err)
	}
	msg := fault.MessageOf(err)
	for _, want := range []string{"node 3 (KSampler)", "Expected all tensors to be on the same device"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	if _, err := os.Stat(tk.Out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file at %s after a failed render", tk.Out)
	}
}

// TestCancel cancels renders: a running job is interrupted, a queued one
// deleted, and a render stopped for another reason leaves its job alone.
func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queued  bool
		cause   error
		kind    fault.Kind
		remote  func(f *fake) []string // the ids the fake was asked to stop
		stopped bool
	}{
		{name: "running", cause: generation.ErrCancelled, kind: fault.Cancelled, remote: (*fake).Interrupts, stopped: true},
		{name: "queued", queued: true, cause: generation.ErrCancelled, kind: fault.Cancelled, remote: (*fake).Deletes, stopped: true},
		{name: "worker stopping", cause: context.Canceled, kind: fault.Cancelled, remote: (*fake).Interrupts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, fakecomfy.Options{Script: slowly})
			e := newEngine(t, config("vhs", f.ts.URL))
			if tc.queued {
				f.Pause()
			}
			p := &progress{}
			tk := task(t, request("slow"), p)
			id := promptID(tk.ID, 0)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			done := background(e, ctx, tk)
			if tc.queued {
				eventually(t, "the job queued", func() bool { _, pending := f.Queue(); return slices.Contains(pending, id) })
			} else {
				eventually(t, "sampler steps", func() bool { return p.last() > 0.2 })
			}
			cancel(tc.cause)
			start := time.Now()
			err := <-done
			if took := time.Since(start); took > enginetest.CancelWithin {
				t.Errorf("returned %v after the cancel", took)
			}
			if fault.KindOf(err) != tc.kind {
				t.Errorf("error %v, want kind %v", err, tc.kind)
			}
			if got := slices.Contains(tc.remote(f), id); got != tc.stopped {
				t.Errorf("the server was asked to stop %v (interrupts %v, deletes %v), want the job stopped: %v", tc.remote(f), f.Interrupts(), f.Deletes(), tc.stopped)
			}
			left := func() bool { running, pending := f.Queue(); return running == id || slices.Contains(pending, id) }
			if tc.stopped {
				eventually(t, "the job gone from the server", func() bool { return !left() })
			} else if !left() {
				t.Error("the job was stopped on the server; want it left for the next attempt")
			}
			if _, err := os.Stat(tk.Out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file at %s after a cancelled render", tk.Out)
			}
		})
	}
}

// TestResume renders again from saved state, as the attempt after a
// worker's crash does: it finds the job instead of queueing it again,
// unless the server lost it or stopped it.
func TestResume(t *testing.T) {
	for _, tc := range []struct {
		name        string
		prompt      string
		first       func(t *testing.T, f *fake, e *Engine, tk *generation.Task) // the attempt that saves the state
		submissions int
		tries       int // the job's try in the final state
	}{
		{name: "finished", prompt: "a lake", submissions: 1, first: func(t *testing.T, f *fake, e *Engine, tk *generation.Task) {
			if _, err := e.Render(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "running, websocket dropped", prompt: "slow", submissions: 1, first: func(t *testing.T, f *fake, e *Engine, tk *generation.Task) {
			stopMidway(t, e, tk)
			f.Restart()
		}},
		{name: "lost by a restarted server", prompt: "a lake", submissions: 1, tries: 1, first: func(t *testing.T, f *fake, e *Engine, tk *generation.Task) {
			// The state of a job the server no longer has.
			b, _ := json.Marshal(state{Server: e.servers[0].key, PromptID: promptID(tk.ID, 0), ClientID: newUUID()})
			tk.State = string(b)
		}},
		{name: "interrupted on the server", prompt: "slow", submissions: 2, tries: 1, first: func(t *testing.T, f *fake, e *Engine, tk *generation.Task) {
			stopMidway(t, e, tk)
			// Someone stops it in ComfyUI's UI, or the attempt's own
			// timeout did: the next attempt queues it again.
			http.Post(f.ts.URL+"/interrupt", "application/json", strings.NewReader(`{}`))
			id := promptID(tk.ID, 0)
			eventually(t, "the job stopped", func() bool { r, _ := f.Queue(); return r != id })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, fakecomfy.Options{Script: slowly})
			tk := task(t, request(tc.prompt), nil)
			tk.Save = func(_ context.Context, s string) error { tk.State = s; return nil }
			tc.first(t, f, newEngine(t, config("vhs", f.ts.URL)), tk)
			if tk.State == "" {
				t.Fatal("no state saved")
			}
			p := &progress{}
			again := task(t, tk.Request, p)
			again.ID, again.State = tk.ID, tk.State
			again.Save = func(_ context.Context, s string) error { again.State = s; return nil }
			o, err := newEngine(t, config("vhs", f.ts.URL)).Render(context.Background(), again)
			if err != nil {
				t.Fatalf("resumed render: %v", err)
			}
			if o.Width != 544 {
				t.Errorf("resumed render reported %+v", o)
			}
			if n := f.Submissions(); n != tc.submissions {
				t.Errorf("the server was given %d prompts, want %d", n, tc.submissions)
			}
			// A job queued again has a prompt id of its own.
			var st state
			_ = json.Unmarshal([]byte(again.State), &st)
			if st.Tries != tc.tries || st.PromptID != promptID(tk.ID, tc.tries) {
				t.Errorf("state %+v, want try %d", st, tc.tries)
			}
			if vals := p.seen(); len(vals) == 0 || vals[len(vals)-1] != 1 {
				t.Errorf("resumed progress %v", vals)
			}
		})
	}
}

// stopMidway starts a render and stops it (as a stopping worker does) once
// its job's sampler runs.
func stopMidway(t *testing.T, e *Engine, tk *generation.Task) {
	t.Helper()
	p := &progress{}
	tk.Progress = p.report
	ctx, cancel := context.WithCancel(context.Background())
	done := background(e, ctx, tk)
	eventually(t, "sampler steps", func() bool { return p.last() > 0.2 })
	cancel()
	<-done
}

// TestWebsocketDrops keeps following a job whose server drops the
// websocket: the engine reconnects and the progress goes on.
func TestWebsocketDrops(t *testing.T) {
	f := newFake(t, fakecomfy.Options{Script: slowly})
	e := newEngine(t, config("vhs", f.ts.URL))
	p := &progress{}
	done := background(e, context.Background(), task(t, request("slow"), p))
	eventually(t, "sampler steps", func() bool { return p.last() > 0.2 })
	f.Restart()
	at := p.last()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var after int
	for _, v := range p.seen() {
		if v > at && v < 0.9 {
			after++
		}
	}
	if after < 5 {
		t.Errorf("progress %v: few steps seen after the websocket dropped at %v", p.seen(), at)
	}
}

// TestServers balances renders over several servers by queue length and
// skips servers that do not answer.
func TestServers(t *testing.T) {
	t.Run("shortest queue", func(t *testing.T) {
		a, b := newFake(t, fakecomfy.Options{}), newFake(t, fakecomfy.Options{})
		e := newEngine(t, config("vhs", a.ts.URL, b.ts.URL))
		a.Pause()
		first := task(t, request("a lake"), nil)
		done := background(e, context.Background(), first)
		eventually(t, "the first job queued on A", func() bool { _, p := a.Queue(); return len(p) == 1 })
		if _, err := e.Render(context.Background(), task(t, request("a hill"), nil)); err != nil {
			t.Fatal(err)
		}
		a.Resume()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if a.Submissions() != 1 || b.Submissions() != 1 {
			t.Errorf("A was given %d prompts and B %d; want one each", a.Submissions(), b.Submissions())
		}
	})
	t.Run("one down", func(t *testing.T) {
		a, b := newFake(t, fakecomfy.Options{}), newFake(t, fakecomfy.Options{})
		e := newEngine(t, config("vhs", a.ts.URL, b.ts.URL))
		a.ts.Close()
		if _, err := e.Render(context.Background(), task(t, request("a lake"), nil)); err != nil {
			t.Fatal(err)
		}
		if b.Submissions() != 1 {
			t.Errorf("B was given %d prompts, want 1", b.Submissions())
		}
	})
	t.Run("all down", func(t *testing.T) {
		a, b := newFake(t, fakecomfy.Options{}), newFake(t, fakecomfy.Options{})
		c := config("vhs", a.ts.URL, b.ts.URL)
		c.Retries = 1
		e := newEngine(t, c)
		a.ts.Close()
		b.ts.Close()
		_, err := e.Render(context.Background(), task(t, request("a lake"), nil))
		msg := fault.MessageOf(err)
		if fault.KindOf(err) != fault.Upstream || !strings.Contains(msg, host(a.ts.URL)) || !strings.Contains(msg, host(b.ts.URL)) {
			t.Errorf("error %v, want an Upstream fault naming both servers", err)
		}
	})
}

func host(u string) string {
	p, _ := url.Parse(u)
	return p.Host
}

// TestUpstream retries a server's failures, then gives up with a message
// that names the server but not its credentials.
func TestUpstream(t *testing.T) {
	f := newFake(t, fakecomfy.Options{})
	secret := strings.Replace(f.ts.URL, "http://", "http://user:s3cret@", 1) + "/?token=t0ken"
	e := newEngine(t, config("vhs", secret))
	t.Run("retried", func(t *testing.T) {
		f.FailNext(3)
		if _, err := e.Render(context.Background(), task(t, request("a lake"), nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("down", func(t *testing.T) {
		f.FailNext(1 << 20)
		defer f.FailNext(0)
		_, err := e.Render(context.Background(), task(t, request("a lake"), nil))
		if fault.KindOf(err) != fault.Upstream {
			t.Fatalf("error %v, want an Upstream fault", err)
		}
		msg := fault.MessageOf(err)
		if !strings.Contains(msg, host(f.ts.URL)) || !strings.Contains(msg, "running") {
			t.Errorf("message %q does not name the server or say what to check", msg)
		}
		if s := err.Error(); strings.Contains(s, "s3cret") || strings.Contains(s, "t0ken") {
			t.Errorf("error %q shows the URL's credentials", s)
		}
	})
	t.Run("not ComfyUI", func(t *testing.T) {
		html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>hello</html>"))
		}))
		defer html.Close()
		_, err := newEngine(t, config("vhs", html.URL)).Render(context.Background(), task(t, request("a lake"), nil))
		if fault.KindOf(err) != fault.Upstream || !strings.Contains(fault.MessageOf(err), "ComfyUI") {
			t.Errorf("error %v, want an Upstream fault saying it is not ComfyUI", err)
		}
	})
}

// TestRejected reports the server's validation of the workflow.
func TestRejected(t *testing.T) {
	f := newFake(t, fakecomfy.Options{})
	for _, tc := range []struct {
		name string
		edit func(wf map[string]map[string]any)
		want []string
	}{
		{name: "invalid value", edit: func(wf map[string]map[string]any) { wf["28"]["inputs"].(map[string]any)["method"] = "bogus" },
			want: []string{"Prompt outputs failed validation", "node 28 (SaveAnimatedWEBP): Value not in list", "bogus"}},
		{name: "invalid output beside a valid one", edit: func(wf map[string]map[string]any) {
			wf["28"]["inputs"].(map[string]any)["method"] = "bogus"
			wf["99"] = map[string]any{"class_type": "SaveImage", "inputs": map[string]any{"images": []any{"8", 0}, "filename_prefix": "x"}}
		}, want: []string{"node 28 (SaveAnimatedWEBP): Value not in list"}},
		{name: "missing custom node", edit: func(wf map[string]map[string]any) { wf["8"]["class_type"] = "VAEDecodeTiledPlus" },
			want: []string{"VAEDecodeTiledPlus", "not found", "install"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("webp", f.ts.URL)
			c.Workflow = editWorkflow(t, c.Workflow, tc.edit)
			_, err := newEngine(t, c).Render(context.Background(), task(t, request("a lake"), nil))
			if fault.KindOf(err) != fault.Rejected {
				t.Fatalf("error %v, want a Rejected fault", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(fault.MessageOf(err), w) {
					t.Errorf("message %q does not say %q", fault.MessageOf(err), w)
				}
			}
			eventually(t, "no job left on the server", func() bool { running, pending := f.Queue(); return running == "" && len(pending) == 0 })
		})
	}
}

// editWorkflow writes a changed copy of a workflow file.
func editWorkflow(t *testing.T, file string, edit func(map[string]map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf map[string]map[string]any
	if err := json.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	edit(wf)
	out := filepath.Join(t.TempDir(), filepath.Base(file))
	b, _ = json.Marshal(wf)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheck is what the doctor command runs.
func TestCheck(t *testing.T) {
	f := newFake(t, fakecomfy.Options{})
	ctx := context.Background()
	if err := newEngine(t, config("vhs", f.ts.URL)).Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	c := config("webp", f.ts.URL)
	c.Workflow = editWorkflow(t, c.Workflow, func(wf map[string]map[string]any) { wf["8"]["class_type"] = "VAEDecodeTiledPlus" })
	if err := newEngine(t, c).Check(ctx); err == nil || !strings.Contains(err.Error(), "lacks the node classes VAEDecodeTiledPlus") {
		t.Errorf("Check: %v, want the missing class named", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c = config("vhs", down.URL)
	c.Retries = -1
	if err := newEngine(t, c).Check(ctx); fault.KindOf(err) != fault.Upstream || !strings.Contains(err.Error(), host(down.URL)) {
		t.Errorf("Check: %v, want an Upstream fault naming the server", err)
	}
}
