package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/media"
	"stillmotion/test/fakecomfy"
)

// family is a server that serves every model of the hosted PixVerse
// family: the built-in engine the four it renders, text-to-video through
// the stand-in ComfyUI's text-to-video workflow. Its media server serves
// the test images, a talking video the built-in engine made and its voice
// as MP3.
type family struct {
	p     *proc
	media string // the media server's root URL
}

func newFamily(t *testing.T) *family {
	t.Helper()
	comfy := fakecomfy.New(fakecomfy.Options{})
	srv := httptest.NewServer(comfy)
	t.Cleanup(func() { srv.Close(); comfy.Close() })
	file := writeEngines(t, fmt.Sprintf(`engines:
  t2v:
    kind: comfyui
    url: %s
    workflow: %s
    inputs: {prompt: "6.text", negative_prompt: "7.text", seed: "3.seed", frames: "40.length", width: "40.width", height: "40.height"}
    output: "60"
    frames_rule: 4n+1
models:
  pixverse/v5/image-to-video: builtin
  pixverse/v5.5/image-to-video: builtin
  pixverse/v5/transition: builtin
  pixverse/lip-sync: builtin
  pixverse/v5/text-to-video: t2v
  pixverse/v5.5/text-to-video: t2v
`, srv.URL, fakecomfy.Workflow("wan_t2v_api.json")))
	dir := t.TempDir()
	for _, name := range []string{"astronaut.png", "rocket.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(files.Close)
	f := &family{p: startServer(t, serverOpts{allowPrivate: true, extraArgs: []string{"--engines", file}}), media: files.URL}

	// The talking video to re-voice: made by the built-in engine, with a
	// push in (camera motion) and the portrait's sway (head motion).
	id := f.p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "slow push in", "image_url": files.URL + "/astronaut.png",
		"resolution": "360p", "seed": 4, "lip_sync_tts_content": "The launch is set for dawn, and the crew is ready.", "lip_sync_tts_speaker": "Jack",
	})
	g := f.p.wait(t, "/v2/video/generations", id, 2*time.Minute)
	talk := download(t, f.p.client, videoURL(t, g))
	b, _ := os.ReadFile(talk)
	os.WriteFile(filepath.Join(dir, "talk.mp4"), b, 0o644)
	// A voice as MP3: the clip's own, two seconds later.
	run := exec.Command("ffmpeg", "-v", "error", "-y", "-i", talk, "-vn", "-af", "adelay=2000", "-c:a", "libmp3lame", "-b:a", "96k", filepath.Join(dir, "voice.mp3"))
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("making the MP3: %v: %s", err, out)
	}
	return f
}

func videoURL(t *testing.T, g map[string]any) string {
	t.Helper()
	v, _ := g["video"].(map[string]any)
	u, _ := v["url"].(string)
	if g["status"] != "completed" || u == "" {
		t.Fatalf("generation did not complete: %v", g)
	}
	return u
}

// probe downloads a video and probes it.
func (f *family) probe(t *testing.T, url string) media.Info {
	t.Helper()
	info, err := media.Probe(context.Background(), download(t, f.p.client, url))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestModelFamily runs every model of the family against one server: on
// v2, on /v1 where it maps, in the page's example adapted to it, and in
// the hosted API's own sample of it.
func TestModelFamily(t *testing.T) {
	f := newFamily(t)
	t.Run("v2", f.v2)
	t.Run("v1", f.v1)
	t.Run("examples", f.examples)
	t.Run("hosted samples", f.hostedSamples)
}

// v2 sends every model through both v2 submit URLs (the second time with
// the same Idempotency-Key, which validates the body again and answers the
// same generation), polls it on the legacy poll URL, and checks the video:
// its size, length and sound as the model and its fields say.
func (f *family) v2(t *testing.T) {
	m := f.media
	for _, tt := range []struct {
		name    string
		body    map[string]any
		w, h    int
		seconds float64
		audio   bool
		plan    string
	}{
		{"v5.5 multi-clip with sound", map[string]any{"model": "pixverse/v5.5/image-to-video", "prompt": "a rocket at dawn, wind",
			"image_url": m + "/rocket.jpg", "resolution": "360p", "duration": 8, "generate_audio_switch": true, "generate_multi_clip_switch": true},
			540, 360, 8, true, "3 shots cut on motion"},
		{"v5.5 silent", map[string]any{"model": "pixverse/v5.5/image-to-video", "prompt": "slow zoom in",
			"image_url": m + "/rocket.jpg", "resolution": "360p", "thinking_type": "auto"},
			540, 360, 5, false, "prompt read as: camera: slow zoom in"},
		{"transition", map[string]any{"model": "pixverse/v5/transition", "prompt": "slow push in",
			"image_url": m + "/rocket.jpg", "tail_image_url": m + "/astronaut.png", "resolution": "360p", "lip_sync_tts_content": "And now, the crew."},
			540, 360, 5, true, "transition: morph"},
		{"text-to-video", map[string]any{"model": "pixverse/v5/text-to-video", "prompt": "a lighthouse at dusk", "aspect_ratio": "9:16", "resolution": "360p"},
			368, 640, 81.0 / 16, false, "asked for 368×640"}, // the workflow makes no sound
		{"v5.5 text-to-video (the hosted samples' spelling)", map[string]any{"model": "pixverse/v5-5-text-to-video", "prompt": "a dragon over a mountain", "aspect_ratio": "1:1", "resolution": "360p"},
			368, 368, 81.0 / 16, false, "asked for 368×368"},
		{"lip-sync with text", map[string]any{"model": "pixverse/lip-sync", "video_url": m + "/talk.mp4",
			"lip_sync_tts_content": "Weather now: rain by noon, sun by evening.", "lip_sync_tts_speaker": "Liam"},
			360, 360, 0, true, "voice Liam"},
		{"lip-sync with audio", map[string]any{"model": "pixverse/lip-sync", "video_url": m + "/talk.mp4", "audio_url": m + "/voice.mp3"},
			360, 360, 0, true, "audio from audio_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := "family-" + tt.name
			code, first, _ := f.p.doWith(t, "POST", "/v2/video/generations", tt.body, key)
			if code != 200 || first["status"] != "queued" {
				t.Fatalf("submit: %d %v", code, first)
			}
			code, again, h := f.p.doWith(t, "POST", "/v2/generate/video/pixverse/generation", tt.body, key)
			if code != 200 || again["id"] != first["id"] || h.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("legacy submit: %d %v %v, want the same generation replayed", code, again, h)
			}
			g := f.p.wait(t, "/v2/generate/video/pixverse/generation", first["id"].(string), 3*time.Minute)
			if g["status"] != "completed" {
				t.Fatalf("generation ended %v", g)
			}
			info := f.probe(t, videoURL(t, g))
			if info.VideoCodec != "h264" || info.Width != tt.w || info.Height != tt.h || info.HasAudio != tt.audio {
				t.Errorf("video %+v, want h264 %dx%d, audio %v", info, tt.w, tt.h, tt.audio)
			}
			if tt.seconds > 0 && math.Abs(info.Duration-tt.seconds) > 0.1 {
				t.Errorf("%.2f s, want %.2f", info.Duration, tt.seconds)
			}
			if plan, _ := g["plan"].(string); !strings.Contains(plan, tt.plan) {
				t.Errorf("plan %q lacks %q", plan, tt.plan)
			}
		})
	}
}

// v1 sends the models /v1/videos maps to through it: v5.5 image-to-video
// (its options pass through) and text-to-video (the size's shape is the
// aspect ratio); the others are v2's, which it says.
func (f *family) v1(t *testing.T) {
	for _, tt := range []struct {
		body map[string]any
		size string
	}{
		{map[string]any{"model": "pixverse/v5.5/image-to-video", "prompt": "pan left", "seconds": "8", "size": "540x360",
			"input_reference": map[string]any{"image_url": f.media + "/rocket.jpg"}, "generate_audio_switch": true}, "540x360"},
		{map[string]any{"model": "pixverse/v5/text-to-video", "prompt": "a lighthouse", "size": "360x640"}, "368x640"},
	} {
		code, v, _ := f.p.do(t, "POST", "/v1/videos", tt.body)
		if code != 200 || v["status"] != "queued" {
			t.Fatalf("create %v: %d %v", tt.body["model"], code, v)
		}
		deadline := time.Now().Add(3 * time.Minute)
		for v["status"] == "queued" || v["status"] == "in_progress" {
			if time.Now().After(deadline) {
				t.Fatalf("%v did not end", v)
			}
			time.Sleep(200 * time.Millisecond)
			_, v, _ = f.p.do(t, "GET", "/v1/videos/"+v["id"].(string), nil)
		}
		if v["status"] != "completed" || v["size"] != tt.size || v["model"] != tt.body["model"] {
			t.Errorf("%v: %v, want completed at %s", tt.body["model"], v, tt.size)
		}
	}
	code, v, _ := f.p.do(t, "POST", "/v1/videos", map[string]any{"model": "pixverse/lip-sync", "prompt": "x"})
	if msg := fmt.Sprint(v); code != 400 || !strings.Contains(msg, "does not map to /v1/videos; send it to POST /v2/video/generations") {
		t.Errorf("lip-sync on /v1: %d %s", code, msg)
	}
}

// examples runs the hosted page's Python example adapted to each model
// (its model and fields only; examples/models) against the real binary,
// unchanged but for the base URL, the key and the media URLs.
func (f *family) examples(t *testing.T) {
	py := pythonWithRequests(t)
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/files/[^'"\s]+`)
	examples := []struct {
		file    string
		seconds float64
		audio   bool
	}{
		{"v5.5-image-to-video.py", 10, true}, {"transition.py", 5, true}, {"lip-sync.py", 0, true}, {"text-to-video.py", 81.0 / 16, false},
	}
	dir := t.TempDir()
	started := map[string]*ahead{}
	for _, ex := range examples {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "models", ex.file))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer(
			"https://api.aimlapi.com", f.p.url,
			"<YOUR_AIMLAPI_KEY>", testKey,
			"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/news-presenter.jpg", f.media+"/astronaut.png",
			"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/landscape.jpg", f.media+"/rocket.jpg",
			"https://cdn.aimlapi.com/assets/content/white-fish.png", f.media+"/astronaut.png",
			"https://storage.googleapis.com/falserverless/model_tests/kling/kling-v2.5-turbo-pro-text-to-video-output.mp4", f.media+"/talk.mp4",
		).Replace(string(src))
		file := filepath.Join(dir, ex.file)
		os.WriteFile(file, []byte(s), 0o644)
		started[ex.file] = runAhead(exec.Command(py, file))
	}
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			out, err := started[ex.file].wait()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "Processing complete") || !strings.Contains(string(out), "'status': 'completed'") {
				t.Fatalf("the example did not complete:\n%s", out)
			}
			info := f.probe(t, strings.ReplaceAll(urlRE.FindString(string(out)), `\u0026`, "&"))
			if info.VideoCodec != "h264" || info.HasAudio != ex.audio || ex.seconds > 0 && math.Abs(info.Duration-ex.seconds) > 0.1 {
				t.Errorf("video %+v, want %.2f s, audio %v", info, ex.seconds, ex.audio)
			}
		})
	}
}

// hostedSamples runs the Python sample the hosted API publishes with each
// model's schema (examples/hosted), unchanged but for the base URL, the
// key and the media URLs: each creates a generation of its model (which
// is then cancelled: the v2 and example runs above render every model).
// The v5.5 samples spell their model "pixverse/v5-5-...".
func (f *family) hostedSamples(t *testing.T) {
	py := pythonWithRequests(t)
	dir := filepath.Join("..", "..", "examples", "hosted")
	names, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil || len(names) != 6 {
		t.Fatalf("samples %v (%v), want the six models'", names, err)
	}
	idRE := regexp.MustCompile(`'id': '([A-Za-z0-9_-]{21})'`)
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			src := strings.NewReplacer(
				"https://api.aimlapi.com", f.p.url,
				"<YOUR_AIMLAPI_KEY>", testKey,
				"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/mona_lisa_extended.jpg", f.media+"/astronaut.png",
				"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/landscape.jpg", f.media+"/rocket.jpg",
				"https://cdn.aimlapi.com/assets/content/white-fish.png", f.media+"/astronaut.png",
				"https://storage.googleapis.com/falserverless/model_tests/kling/kling-v2.5-turbo-pro-text-to-video-output.mp4", f.media+"/talk.mp4",
			).Replace(string(raw))
			file := filepath.Join(t.TempDir(), "sample.py")
			os.WriteFile(file, []byte(src), 0o644)
			out, err := exec.Command(py, file).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			id := idRE.FindStringSubmatch(string(out))
			if id == nil || !strings.Contains(string(out), "'status': 'queued'") {
				t.Fatalf("the sample did not create a generation:\n%s", out)
			}
			code, g, _ := f.p.do(t, "DELETE", "/v2/video/generations?generation_id="+id[1], nil)
			if code != 200 || g["status"] != "error" {
				t.Errorf("cancelling the sample's generation: %d %v", code, g)
			}
		})
	}
}
