package replicate

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/test/fakecog"
)

const testKey = "r8_TestKey0123456789"

// rig is an engine wired to a fake Cog container or hosted API.
type rig struct {
	fake  *fakecog.Server
	url   string // the fake's root
	eng   *Engine
	image string // the URL of a picture to render
}

// testInput is the template the tests send: every kind of placeholder.
func testInput() map[string]any {
	return map[string]any{
		"image": "{{image_url}}", "prompt": "{{prompt}}", "seed": "{{seed}}",
		"negative_prompt": "{{negative_prompt}}", "width": "{{width}}", "height": "{{height}}",
	}
}

// newRig serves a fake and builds an engine for it: hosted (a model on
// the fake's Replicate API, with a key) or a Cog container.
func newRig(t *testing.T, hosted bool, o fakecog.Options, edit ...func(*Config)) *rig {
	t.Helper()
	if hosted {
		o.Token, o.Model = testKey, "acme/video"
	}
	fake := fakecog.New(o)
	srv := httptest.NewServer(fake)
	png := fakecog.SamplePNG()
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	// The fake first: it ends the predictions that handlers wait on.
	t.Cleanup(func() { fake.Close(); srv.Close(); img.Close() })
	c := Config{URL: srv.URL, Input: testInput(), PollInterval: 100 * time.Millisecond, ExpectedTime: 3 * time.Second}
	if hosted {
		c.Key, c.Model = testKey, "acme/video"
	}
	for _, f := range edit {
		f(&c)
	}
	e, err := New("test", c, Deps{Finisher: &engine.Finisher{TempDir: t.TempDir()}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.retry = retryPolicy{attempts: 4, base: 20 * time.Millisecond, max: 100 * time.Millisecond, maxRetryAfter: 5 * time.Second, timeout: 10 * time.Second}
	return &rig{fake: fake, url: srv.URL, eng: e, image: img.URL + "/sky.png"}
}

func (r *rig) request(prompt string) *generation.Request {
	return &generation.Request{Model: "test", Prompt: prompt, ImageURL: r.image, Resolution: "360p", Duration: 5, Seed: 42}
}

func (r *rig) task(t *testing.T, req *generation.Request) *generation.Task {
	return &generation.Task{ID: generation.NewID(), Request: req, Out: filepath.Join(t.TempDir(), "out.mp4")}
}

// bytesImage is an image with no URL: the engine must send its bytes.
type bytesImage []byte

func (b bytesImage) Bytes(context.Context) ([]byte, error) { return b, nil }
func (b bytesImage) URL(context.Context) (string, error)   { return "", nil }

func modes() []struct {
	name   string
	hosted bool
} {
	return []struct {
		name   string
		hosted bool
	}{{"cog", false}, {"hosted", true}}
}

func TestConformance(t *testing.T) {
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, m.hosted, fakecog.Options{})
			restore := func(t *testing.T, f func()) { t.Cleanup(f) }
			failures := []enginetest.Failure{
				{Name: "model fails", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request {
					return r.request("#fail=no face was found in the image")
				}},
				{Name: "input refused", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request {
					req := r.request("a calm sky")
					req.Seed = -1 // the model's schema wants seed >= 0
					return req
				}},
				{Name: "image unreachable", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request {
					req := r.request("a calm sky")
					req.ImageURL = "http://127.0.0.1:1/gone.png"
					return req
				}},
				{Name: "server failing", Kind: fault.Upstream, Setup: func(t *testing.T) *generation.Request {
					r.fake.FailNext(r.eng.retry.attempts, http.StatusBadGateway, 0)
					return r.request("a calm sky")
				}},
				{Name: "output not a video", Kind: fault.Render, Setup: func(t *testing.T) *generation.Request {
					r.fake.SetOutput(fakecog.NotVideo)
					restore(t, func() { r.fake.SetOutput(fakecog.URL) })
					return r.request("a calm sky")
				}},
			}
			if m.hosted {
				failures = append(failures, enginetest.Failure{Name: "key refused", Kind: fault.Upstream, Setup: func(t *testing.T) *generation.Request {
					r.fake.SetToken("another")
					restore(t, func() { r.fake.SetToken(testKey) })
					return r.request("a calm sky")
				}})
			}
			h := enginetest.Harness{
				Engine:      r.eng,
				Request:     func() *generation.Request { return r.request("a calm sky") },
				Slow:        func() *generation.Request { return r.request("a calm sky #slow") },
				Failures:    failures,
				Submissions: r.fake.Submissions,
				// Cog cannot hand a prediction to a later attempt.
				Stateless: !m.hosted,
			}
			if !m.hosted {
				// The Cog rig sends the image's bytes, the hosted one its URL.
				png := fakecog.SamplePNG()
				h.Inputs = func(req *generation.Request) map[string]generation.Input {
					if req.ImageURL != r.image {
						return nil // the failures' own images
					}
					return map[string]generation.Input{generation.FieldImage: bytesImage(png)}
				}
			}
			enginetest.Run(t, h)
		})
	}
}

// renderOK renders task and checks the MP4 it wrote.
func renderOK(t *testing.T, r *rig, task *generation.Task) *generation.Output {
	t.Helper()
	o, err := r.eng.Render(context.Background(), task)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	info, err := media.Probe(context.Background(), task.Out)
	if err != nil {
		t.Fatalf("probing the output: %v", err)
	}
	if info.VideoCodec != "h264" || info.Width != o.Width || info.Height != 360 {
		t.Errorf("output %s %dx%d, reported %dx%d", info.VideoCodec, info.Width, info.Height, o.Width, o.Height)
	}
	return o
}

func TestOutputForms(t *testing.T) {
	tests := []struct {
		name   string
		hosted bool
		opts   fakecog.Options
	}{
		{"url", true, fakecog.Options{Output: fakecog.URL}},
		{"data URI", false, fakecog.Options{Output: fakecog.DataURI}},
		{"list", true, fakecog.Options{Output: fakecog.List}},
		{"object", false, fakecog.Options{Output: fakecog.Object}},
		{"webm without audio", true, fakecog.Options{WebM: true, NoAudio: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.WebM && !fakecog.CanWebM() {
				t.Skip("ffmpeg has no libvpx-vp9")
			}
			r := newRig(t, tt.hosted, tt.opts)
			o := renderOK(t, r, r.task(t, r.request("a calm sky")))
			if o.HasAudio == tt.opts.NoAudio {
				t.Errorf("HasAudio %v, the model's video had audio: %v", o.HasAudio, !tt.opts.NoAudio)
			}
			if !strings.Contains(o.Plan, "prediction") {
				t.Errorf("plan %q does not name the prediction", o.Plan)
			}
		})
	}
}

func TestSpeechAddedWhenTheModelIsSilent(t *testing.T) {
	r := newRig(t, false, fakecog.Options{NoAudio: true})
	req := r.request("a calm sky")
	req.Speech, req.Speaker = "Hello there.", "Ava"
	o := renderOK(t, r, r.task(t, req))
	if !o.HasAudio || len(o.Warnings) == 0 {
		t.Errorf("HasAudio %v, warnings %q: want the speech added, with a warning", o.HasAudio, o.Warnings)
	}
}

func TestTransientFailures(t *testing.T) {
	tests := []struct {
		name       string
		hosted     bool
		n, status  int
		retryAfter time.Duration
		kind       fault.Kind // 0: the render succeeds
		msg        string
	}{
		{"cog 500s then success", false, 2, 500, 0, 0, ""},
		{"hosted 503s then success", true, 3, 503, 0, 0, ""},
		{"hosted resets then success", true, 2, 0, 0, 0, ""},
		{"cog 500s forever", false, 4, 500, 0, fault.Upstream, "kept failing"},
		{"hosted 500s forever", true, 4, 500, 0, fault.Upstream, "kept failing"},
		{"hosted 429s forever", true, 4, 429, 0, fault.Upstream, "too many"},
		{"cog unreachable", false, 4, 0, 0, fault.Upstream, "could not be reached"},
		{"hosted 429 with Retry-After", true, 1, 429, time.Second, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.hosted, fakecog.Options{})
			r.fake.FailNext(tt.n, tt.status, tt.retryAfter)
			task := r.task(t, r.request("a calm sky"))
			_, err := r.eng.Render(context.Background(), task)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
			} else {
				if k := fault.KindOf(err); k != tt.kind || !strings.Contains(fault.MessageOf(err), tt.msg) {
					t.Fatalf("Render = %v (kind %v), want %v saying %q", err, k, tt.kind, tt.msg)
				}
				if n := r.fake.Submissions(); n != 0 {
					t.Errorf("%d predictions made", n)
				}
				return
			}
			hits := r.fake.Hits()
			if n := r.fake.Submissions(); n != 1 {
				t.Errorf("%d predictions made, want 1", n)
			}
			if tt.retryAfter > 0 {
				if gap := hits[1].At.Sub(hits[0].At); gap < tt.retryAfter {
					t.Errorf("asked again %v after a 429 with Retry-After %v", gap, tt.retryAfter)
				}
			}
		})
	}
}

func TestFailedPredictionIsRejectedWithTheModelsMessage(t *testing.T) {
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, m.hosted, fakecog.Options{})
			task := r.task(t, r.request("#fail=the image must show a face"))
			_, err := r.eng.Render(context.Background(), task)
			if fault.KindOf(err) != fault.Rejected || !strings.Contains(fault.MessageOf(err), "the image must show a face") {
				t.Errorf("Render = %v, want Rejected with the model's message", err)
			}
		})
	}
}

// started runs task until its prediction is under way (progress beyond the
// submit), then returns the render's cancel and its outcome.
func started(t *testing.T, r *rig, task *generation.Task) (context.CancelCauseFunc, <-chan error) {
	t.Helper()
	var once sync.Once
	going := make(chan struct{})
	task.Progress = func(p float64) {
		if p > waitFrom {
			once.Do(func() { close(going) })
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.eng.Render(ctx, task)
		done <- err
	}()
	select {
	case <-going:
	case err := <-done:
		t.Fatalf("the render ended before it was under way: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no progress in a minute")
	}
	return cancel, done
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name   string
		hosted bool
		cause  error
		// upstream says the prediction is cancelled on the server.
		upstream bool
		kind     fault.Kind
	}{
		{"cog cancelled by the client", false, generation.ErrCancelled, true, fault.Cancelled},
		{"cog worker stopping", false, context.Canceled, true, fault.Cancelled},
		{"hosted cancelled by the client", true, generation.ErrCancelled, true, fault.Cancelled},
		{"hosted worker stopping", true, context.Canceled, false, fault.Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.hosted, fakecog.Options{})
			task := r.task(t, r.request("a calm sky #slow"))
			cancel, done := started(t, r, task)
			cancel(tt.cause)
			start := time.Now()
			err := <-done
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Render returned %v after the cancel", took)
			}
			if fault.KindOf(err) != tt.kind {
				t.Errorf("Render = %v, want kind %v", err, tt.kind)
			}
			if tt.upstream != (r.fake.Cancels() > 0) {
				t.Errorf("%d cancel requests upstream, want them: %v", r.fake.Cancels(), tt.upstream)
			}
			if _, err := os.Stat(task.Out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file at the output (%v)", err)
			}
			ids := r.fake.IDs()
			if len(ids) != 1 {
				t.Fatalf("predictions %v", ids)
			}
			deadline := time.Now().Add(5 * time.Second)
			for tt.upstream && r.fake.Status(ids[0]) != "canceled" && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if st := r.fake.Status(ids[0]); (st == "canceled") != tt.upstream {
				t.Errorf("the prediction is %s upstream", st)
			}
		})
	}
}

func TestTimeoutLeavesTheHostedPredictionRunning(t *testing.T) {
	r := newRig(t, true, fakecog.Options{})
	task := r.task(t, r.request("a calm sky #slow"))
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := r.eng.Render(ctx, task)
	if fault.KindOf(err) != fault.Timeout {
		t.Errorf("Render = %v, want Timeout", err)
	}
	if r.fake.Cancels() != 0 {
		t.Error("the prediction was cancelled: the next attempt cannot resume it")
	}
}

func TestResume(t *testing.T) {
	videos := t.TempDir()
	r := newRig(t, true, fakecog.Options{TempDir: videos})
	task := r.task(t, r.request("a calm sky #slow"))
	var saved []string
	task.Save = func(_ context.Context, s string) error { saved = append(saved, s); return nil }
	cancel, done := started(t, r, task)
	cancel(context.Canceled) // the worker stops
	<-done
	if len(saved) != 1 {
		t.Fatalf("saved %q, want one state", saved)
	}
	id := savedPrediction(saved[0])
	if id == "" || r.fake.Status(id) == "" {
		t.Fatalf("the state %q names no prediction of the server", saved[0])
	}

	t.Run("running", func(t *testing.T) {
		again := r.task(t, task.Request)
		again.ID, again.State = task.ID, saved[0]
		renderOK(t, r, again)
		if n := r.fake.Submissions(); n != 1 {
			t.Errorf("%d predictions made, want 1", n)
		}
	})
	t.Run("succeeded", func(t *testing.T) {
		again := r.task(t, task.Request)
		again.ID, again.State = task.ID, saved[0]
		renderOK(t, r, again)
		if n := r.fake.Submissions(); n != 1 {
			t.Errorf("%d predictions made, want 1", n)
		}
	})
	t.Run("expired", func(t *testing.T) {
		// The video's URL answers 404 now, as Replicate's do after an hour.
		files, _ := filepath.Glob(filepath.Join(videos, id+"*"))
		for _, f := range files {
			os.Remove(f)
		}
		var resaved string
		again := r.task(t, task.Request)
		again.ID, again.State = task.ID, saved[0]
		again.Save = func(_ context.Context, s string) error { resaved = s; return nil }
		renderOK(t, r, again)
		if n := r.fake.Submissions(); n != 2 {
			t.Errorf("%d predictions made, want a second one", n)
		}
		if p := savedPrediction(resaved); p == "" || p == id {
			t.Errorf("saved %q, want the new prediction", resaved)
		}
	})
	t.Run("gone", func(t *testing.T) {
		again := r.task(t, r.request("a calm sky"))
		again.State = `{"prediction":"nosuchprediction"}`
		var resaved string
		again.Save = func(_ context.Context, s string) error { resaved = s; return nil }
		renderOK(t, r, again)
		if n := r.fake.Submissions(); n != 3 {
			t.Errorf("%d predictions made, want a third one", n)
		}
		if p := savedPrediction(resaved); p == "" || p == "nosuchprediction" {
			t.Errorf("saved %q, want the new prediction", resaved)
		}
	})
}

func TestCogOrphanIsCancelledAndRunAgain(t *testing.T) {
	r := newRig(t, false, fakecog.Options{})
	task := r.task(t, r.request("a calm sky"))
	// An earlier attempt's asynchronous prediction under the same id.
	body, _ := json.Marshal(map[string]any{"input": map[string]any{"image": r.image, "prompt": "#slow"}})
	req, _ := http.NewRequest("PUT", r.url+"/predictions/"+task.ID, strings.NewReader(string(body)))
	req.Header.Set("Prefer", "respond-async")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("async PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	renderOK(t, r, task)
	if r.fake.Cancels() == 0 || r.fake.Submissions() != 2 {
		t.Errorf("cancels %d, predictions %d: want the orphan cancelled and a second prediction", r.fake.Cancels(), r.fake.Submissions())
	}
}

func TestCogBusy(t *testing.T) {
	r := newRig(t, false, fakecog.Options{Slots: 1})
	other := r.task(t, r.request("a calm sky #slow"))
	cancel, done := started(t, r, other)
	defer func() { cancel(generation.ErrCancelled); <-done }()
	_, err := r.eng.Render(context.Background(), r.task(t, r.request("a calm sky")))
	if fault.KindOf(err) != fault.Upstream || !strings.Contains(fault.MessageOf(err), "busy") {
		t.Errorf("Render = %v, want Upstream saying the container is busy", err)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Run("refused key echoed", func(t *testing.T) {
		r := newRig(t, true, fakecog.Options{})
		r.fake.SetToken("another")
		_, err := r.eng.Render(context.Background(), r.task(t, r.request("a calm sky")))
		if fault.KindOf(err) != fault.Upstream {
			t.Fatalf("Render = %v, want Upstream", err)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("the error holds the key: %v", err)
		}
		if !strings.Contains(fault.MessageOf(err), "key") {
			t.Errorf("message %q does not say to check the key", fault.MessageOf(err))
		}
	})
	t.Run("model echoes it", func(t *testing.T) {
		r := newRig(t, true, fakecog.Options{})
		_, err := r.eng.Render(context.Background(), r.task(t, r.request("#fail=bad header Bearer "+testKey+" for https://bucket.example/in.png?X-Amz-Signature=s3cr3t")))
		if err == nil || strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Render = %v, want an error without the key or the URL's query", err)
		}
		if !strings.Contains(fault.MessageOf(err), "https://bucket.example/in.png") {
			t.Errorf("message %q lost the URL itself", fault.MessageOf(err))
		}
	})
	t.Run("signed output URL", func(t *testing.T) {
		// A hosted API whose output is a signed URL on a dead host.
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]any{"id": "p1", "status": "succeeded",
				"output": "http://127.0.0.1:1/out.mp4?X-Amz-Signature=s3cr3t&token=" + testKey})
		}))
		defer api.Close()
		e, err := New("signed", Config{URL: api.URL, Key: testKey, Model: "acme/video", Input: testInput()}, Deps{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		e.retry = retryPolicy{attempts: 2, base: time.Millisecond, max: time.Millisecond, timeout: time.Second}
		_, err = e.Render(context.Background(), &generation.Task{ID: "g", Request: &generation.Request{ImageURL: "http://x/y.png", Resolution: "360p", Duration: 5},
			Out: filepath.Join(t.TempDir(), "out.mp4")})
		if fault.KindOf(err) != fault.Upstream {
			t.Fatalf("Render = %v, want Upstream", err)
		}
		if s := err.Error(); strings.Contains(s, "s3cr3t") || strings.Contains(s, testKey) {
			t.Errorf("the error holds the URL's secrets: %v", s)
		}
	})
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		hosted bool
		script func(*fakecog.Server)
		edit   func(*Config)
		want   string // "" for ok, else a part of the message
	}{
		{"hosted model", true, nil, nil, ""},
		{"hosted version", true, nil, func(c *Config) { c.Model, c.Version = "", "acme/video:abc123" }, ""},
		{"hosted bare version", true, nil, func(c *Config) { c.Model, c.Version = "", "abc123" }, ""},
		{"hosted unknown model", true, nil, func(c *Config) { c.Model = "acme/nothing" }, "not found"},
		{"hosted bad key", true, func(s *fakecog.Server) { s.SetToken("another") }, nil, "key"},
		{"cog ready", false, nil, nil, ""},
		{"cog starting", false, func(s *fakecog.Server) { s.SetHealth("STARTING") }, nil, "still starting"},
		{"cog setup failed", false, func(s *fakecog.Server) { s.SetHealth("SETUP_FAILED") }, nil, "setup failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*Config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			r := newRig(t, tt.hosted, fakecog.Options{}, edits...)
			if tt.script != nil {
				tt.script(r.fake)
			}
			err := r.eng.Check(context.Background())
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(fault.MessageOf(err), tt.want)):
				t.Errorf("Check = %v, want an error saying %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), testKey):
				t.Errorf("the error holds the key: %v", err)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	in := map[string]any{"image": "{{image_url}}"}
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"no url", Config{Input: in}, "url is missing"},
		{"bad url", Config{URL: "ftp://x", Input: in}, "http(s) URL"},
		{"url with a query", Config{URL: "https://x/?token=1", Input: in}, "no user info, query"},
		{"model and version", Config{URL: "https://x", Model: "a/b", Version: "c", Input: in}, "not both"},
		{"bad model", Config{URL: "https://x", Model: "just-a-name", Input: in}, "owner/name"},
		{"bad version", Config{URL: "https://x", Version: "a b", Input: in}, "version id"},
		{"replicate without a model", Config{URL: "https://api.replicate.com", Key: "k", Input: in}, "neither model nor version"},
		{"replicate without a key", Config{URL: "https://api.replicate.com", Model: "a/b", Input: in}, "key is missing"},
		{"no input", Config{URL: "http://cog:5000"}, "input is missing"},
		{"unknown placeholder", Config{URL: "http://cog:5000", Input: map[string]any{"p": "{{promt}}"}}, "unknown placeholder {{promt}}"},
		{"unclosed placeholder", Config{URL: "http://cog:5000", Input: map[string]any{"p": "{{prompt"}}, "without its }}"},
		{"nested unknown", Config{URL: "http://cog:5000", Input: map[string]any{"a": []any{map[string]any{"b": "{{x}}"}}}}, "input.a[0].b"},
		{"bad fps", Config{URL: "http://cog:5000", Input: in, FPS: 500}, "fps"},
		{"bad poll", Config{URL: "http://cog:5000", Input: in, PollInterval: time.Nanosecond}, "poll_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("x", tt.c, Deps{})
			if fault.KindOf(err) != fault.Invalid || !strings.Contains(fault.MessageOf(err), tt.want) {
				t.Errorf("New = %v, want Invalid saying %q", err, tt.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			c := Config{URL: "http://127.0.0.1:1", Input: testInput()}
			if m.hosted {
				c.Model = "acme/video"
			}
			e, err := New("down", c, Deps{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			e.retry = retryPolicy{attempts: 3, base: time.Millisecond, max: 5 * time.Millisecond, timeout: time.Second}
			_, err = e.Render(context.Background(), &generation.Task{ID: "g", Request: &generation.Request{ImageURL: "https://example.com/a.png", Resolution: "360p", Duration: 5},
				Out: filepath.Join(t.TempDir(), "out.mp4")})
			if fault.KindOf(err) != fault.Upstream || !strings.Contains(fault.MessageOf(err), "could not be reached") {
				t.Errorf("Render = %v, want Upstream: could not be reached", err)
			}
			if err := e.Check(context.Background()); fault.KindOf(err) != fault.Upstream {
				t.Errorf("Check = %v, want Upstream", err)
			}
		})
	}
}
