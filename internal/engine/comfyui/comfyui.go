// Package comfyui is the engine that puts a ComfyUI server, running any
// image-to-video workflow (Wan, LTX-Video, HunyuanVideo, ...), behind
// stillmotion's API.
//
// An engines file entry names the server(s), the workflow exported from
// ComfyUI in API format, where each request field goes in it, and the
// node whose files are the video:
//
//	wan:
//	  kind: comfyui
//	  url: http://127.0.0.1:8188     # or several: urls: [...]
//	  workflow: wan_i2v_api.json     # relative to the engines file
//	  inputs:                        # request field -> "NODE_ID.INPUT_NAME"
//	    image: "52.image"            # the LoadImage node (required)
//	    prompt: "6.text"
//	    negative_prompt: "7.text"
//	    seed: "3.seed"               # a list writes every one: ["3.seed", "40.noise_seed"]
//	    frames: "50.length"
//	    width: "50.width"
//	    height: "50.height"
//	    fps: "60.frame_rate"
//	  output: "60"                   # node whose files are the video
//	  fps: 16                        # default: the workflow's value at inputs.fps, else 16
//	  frames_rule: "4n+1"            # Wan and HunyuanVideo; "8n+1" for LTX-Video
//	  size_multiple: 16              # frame sides in blocks of 16 (32 for LTX-Video)
//	  retries: 4                     # per call, with backoff, before upstream_unavailable
//	  poll_interval: 1s              # /history polling while the websocket is down
//	  request_timeout: 30s           # one API call
//
// A render picks the server with the shortest queue, saves the server and
// a prompt id derived from the generation id as the task's state, uploads
// the input image (POST /upload/image), queues the workflow with the
// request's values (POST /prompt), follows the progress on the websocket
// (the sampler's steps make most of it; /history is polled when the
// websocket is down, and read as the source of truth when the job ends),
// downloads the output (GET /view) and turns it into the served MP4 with
// the engine.Finisher.
//
// An attempt that finds saved state resumes the job instead of queueing it
// again; it queues the job again (under a new prompt id) only when the
// server has lost it (a restart empties ComfyUI's queue and history) or
// stopped it (interrupted, out of GPU memory). Cancelling the generation
// interrupts the job (running) or dequeues it (pending); a render stopped
// for any other reason (the worker stopping, the attempt's time running
// out) leaves it running for the next attempt.
package comfyui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"stillmotion/internal/engine"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// Config is an engines file entry's settings for a ComfyUI engine.
type Config struct {
	// URL is the ComfyUI server's address, like http://127.0.0.1:8188. A
	// path prefix (a reverse proxy's) is kept; user:password@ is sent as
	// basic auth and a query string (a proxy's token) with every request.
	URL string `yaml:"url"`
	// URLs are several servers running the same workflow, instead of or
	// besides URL: each render goes to the one with the shortest queue.
	URLs []string `yaml:"urls"`
	// Workflow is the workflow file in ComfyUI's API format, relative to
	// the engines file.
	Workflow string `yaml:"workflow"`
	// Inputs say where each request field is written in the workflow.
	Inputs Inputs `yaml:"inputs"`
	// Output is the id of the node whose files are the video: an
	// animated WebP, a GIF, an MP4 or WebM, or one image per frame.
	Output string `yaml:"output"`
	// FPS is the frame rate the workflow renders at. Default: the
	// workflow's value at inputs.fps, else 16 (Wan's).
	FPS int `yaml:"fps"`
	// FramesRule is the form of frame count the model takes: "4n+1" (Wan,
	// HunyuanVideo), "8n+1" (LTX-Video). Default: any count, which is
	// duration × fps.
	FramesRule string `yaml:"frames_rule"`
	// SizeMultiple rounds the frame's sides to a multiple of it. Default
	// 16 (Wan, HunyuanVideo); use 32 for LTX-Video. It must be even.
	SizeMultiple int `yaml:"size_multiple"`
	// Retries is how many times a failed call to a server (refused
	// connection, reset, 5xx) is retried, with backoff, before the render
	// fails. Default 4; negative means none.
	Retries int `yaml:"retries"`
	// PollInterval is how often the job's history is read while the
	// websocket is down (and ten times slower while it is up, as a
	// backstop). Default 1s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// RequestTimeout bounds one API call (uploads and downloads excepted).
	// Default 30s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// Inputs map request fields to workflow inputs. Each is one
// "NODE_ID.INPUT_NAME" or a list of them; all but Image are optional
// (an unmapped field keeps the workflow's value and is not honoured).
type Inputs struct {
	// Image is the LoadImage node's image input: it gets the name of the
	// uploaded input image.
	Image Targets `yaml:"image"`
	// Prompt and NegativePrompt get the request's texts (an empty
	// negative prompt keeps the workflow's).
	Prompt         Targets `yaml:"prompt"`
	NegativePrompt Targets `yaml:"negative_prompt"`
	// Seed gets the request's seed.
	Seed Targets `yaml:"seed"`
	// Frames gets duration × fps, shaped by frames_rule.
	Frames Targets `yaml:"frames"`
	// Width and Height get the frame size: the resolution's short side,
	// the image's aspect ratio.
	Width  Targets `yaml:"width"`
	Height Targets `yaml:"height"`
	// FPS gets the frame rate.
	FPS Targets `yaml:"fps"`
}

// Targets are the workflow inputs one request field is written to.
type Targets []string

// UnmarshalYAML reads one "NODE_ID.INPUT_NAME" or a list of them.
func (t *Targets) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*t = Targets{s}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return fmt.Errorf(`line %d: write "NODE_ID.INPUT_NAME" or a list of them`, n.Line)
	}
	*t = l
	return nil
}

// Deps are what an engine is built with besides its settings.
type Deps = engine.Remote

// Engine renders generations with a ComfyUI workflow.
type Engine struct {
	name     string
	servers  []*server
	wf       *workflow
	output   string
	fields   map[string][]target // by request field (the Inputs' yaml names)
	fps      int
	frames   framesRule
	multiple int
	retries  int
	poll     time.Duration
	timeout  time.Duration
	fin      *engine.Finisher
	tempDir  string
	log      *slog.Logger
	client   *http.Client
	// progress weighs each node the output needs in the progress reported.
	weights map[string]float64

	mu    sync.Mutex
	picks map[*server]int // renders that chose a server and have not queued yet
}

var _ generation.Engine = (*Engine)(nil)

// The request fields, by their names in Inputs.
const (
	inImage    = "image"
	inPrompt   = "prompt"
	inNegative = "negative_prompt"
	inSeed     = "seed"
	inFrames   = "frames"
	inWidth    = "width"
	inHeight   = "height"
	inFPS      = "fps"
)

func (in Inputs) byField() map[string]Targets {
	return map[string]Targets{inImage: in.Image, inPrompt: in.Prompt, inNegative: in.NegativePrompt, inSeed: in.Seed,
		inFrames: in.Frames, inWidth: in.Width, inHeight: in.Height, inFPS: in.FPS}
}

// Serves returns the kind of model the engine renders: image-to-video when
// its workflow takes an image, else text-to-video.
func (e *Engine) Serves() []generation.Kind {
	if len(e.fields[inImage]) > 0 {
		return []generation.Kind{generation.ImageToVideo}
	}
	return []generation.Kind{generation.TextToVideo}
}

// Fields returns the request fields an engine of c honours: those its
// inputs map, and the speech, which the Finisher adds as a track.
func Fields(c Config) []string {
	var f []string
	if len(c.Inputs.Prompt) > 0 {
		f = append(f, generation.FieldPrompt)
	}
	if len(c.Inputs.NegativePrompt) > 0 {
		f = append(f, generation.FieldNegativePrompt)
	}
	if len(c.Inputs.Width) > 0 && len(c.Inputs.Height) > 0 {
		f = append(f, generation.FieldResolution)
	}
	if len(c.Inputs.Frames) > 0 {
		f = append(f, generation.FieldDuration)
	}
	if len(c.Inputs.Seed) > 0 {
		f = append(f, generation.FieldSeed)
	}
	if len(c.Inputs.Image) == 0 {
		f = append(f, generation.FieldAspectRatio)
	}
	return append(f, generation.FieldSpeech, generation.FieldSpeaker)
}

// New builds the engine called name from its settings, checking them
// against the workflow: every error says what to change. It makes no
// network calls (Check does).
func New(name string, c Config, d Deps) (*Engine, error) {
	bad := func(format string, args ...any) error {
		return fault.Errorf(fault.Invalid, format, args...)
	}
	e := &Engine{name: name, fin: d.Finisher, tempDir: d.TempDir, log: d.Logger, client: d.HTTPClient,
		picks: map[*server]int{}, retries: c.Retries, poll: c.PollInterval, timeout: c.RequestTimeout}
	urls := slices.Clone(c.URLs)
	if c.URL != "" {
		urls = append([]string{c.URL}, urls...)
	}
	if len(urls) == 0 {
		return nil, bad("url: set the ComfyUI server's address, like url: http://127.0.0.1:8188 (or urls: [...] for several)")
	}
	seen := map[string]bool{}
	for _, u := range urls {
		s, err := parseServer(u)
		if err != nil {
			return nil, bad("%v", err)
		}
		if seen[s.key] {
			return nil, bad("url %s is listed twice", s.key)
		}
		seen[s.key] = true
		e.servers = append(e.servers, s)
	}

	if c.Workflow == "" {
		return nil, bad("workflow: name the workflow file, exported from ComfyUI in API format; %s", exportHint)
	}
	file := c.Workflow
	if !filepath.IsAbs(file) {
		file = filepath.Join(d.Dir, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, fmt.Sprintf("workflow: cannot read %s: %v", file, unwrapPath(err)), err)
	}
	if e.wf, err = parseWorkflow(filepath.Base(file), b); err != nil {
		return nil, bad("%v", err)
	}

	if len(c.Inputs.Image) == 0 && len(c.Inputs.Prompt) == 0 {
		return nil, bad(`inputs: map image (the LoadImage node's input the uploaded image goes to, like image: "52.image") for an image-to-video workflow, or prompt alone for a text-to-video one; the workflow's nodes are %s`, e.wf.list())
	}
	e.fields = map[string][]target{}
	byField := c.Inputs.byField()
	for _, field := range []string{inImage, inPrompt, inNegative, inSeed, inFrames, inWidth, inHeight, inFPS} {
		specs := byField[field]
		k := kindNumber
		if field == inImage || field == inPrompt || field == inNegative {
			k = kindString
		}
		for _, spec := range specs {
			t, err := e.wf.resolve(field, spec, k)
			if err != nil {
				return nil, bad("%v", err)
			}
			e.fields[field] = append(e.fields[field], t)
		}
	}
	if (len(c.Inputs.Width) > 0) != (len(c.Inputs.Height) > 0) {
		return nil, bad("inputs: map both width and height, or neither")
	}

	e.output = strings.TrimSpace(c.Output)
	if e.output == "" {
		return nil, bad("output: name the node whose files are the video (a SaveAnimatedWEBP, SaveVideo or VHS_VideoCombine node); the workflow's nodes are %s", e.wf.list())
	}
	if _, ok := e.wf.nodes[e.output]; !ok {
		return nil, bad("output: workflow %s has no node %q; its nodes are %s", e.wf.name, e.output, e.wf.list())
	}
	needs := e.wf.ancestors(e.output)
	for _, field := range slices.Sorted(maps.Keys(e.fields)) {
		for _, t := range e.fields[field] {
			if !needs[t.node] {
				return nil, bad("inputs.%s: node %s does not lead to the output node %s, so the video would not use it; map an input of a node the output needs",
					field, e.wf.describe(t.node), e.wf.describe(e.output))
			}
		}
	}

	e.fps = c.FPS
	if e.fps == 0 {
		e.fps = 16
		for _, t := range e.fields[inFPS] {
			if f, ok := e.wf.number(t); ok && f >= 1 {
				e.fps = int(f + 0.5)
				break
			}
		}
	}
	if e.fps < 1 || e.fps > 120 {
		return nil, bad("fps: %d is not a frame rate; use 1 to 120", c.FPS)
	}
	if e.frames, err = parseFramesRule(c.FramesRule); err != nil {
		return nil, bad("%v", err)
	}
	e.multiple = cmp.Or(c.SizeMultiple, 16)
	if e.multiple < 2 || e.multiple > 256 || e.multiple%2 != 0 {
		return nil, bad("size_multiple: %d; use an even number such as 8, 16 or 32", c.SizeMultiple)
	}
	switch {
	case e.retries == 0:
		e.retries = 4
	case e.retries < 0:
		e.retries = 0
	}
	e.poll = cmp.Or(e.poll, time.Second)
	e.timeout = cmp.Or(e.timeout, 30*time.Second)
	if e.poll < 0 || e.timeout < 0 {
		return nil, bad("poll_interval and request_timeout must be positive, like 1s")
	}
	if e.fin == nil {
		e.fin = &engine.Finisher{TempDir: d.TempDir}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("engine", name)
	if e.client == nil {
		e.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	e.weights = weigh(e.wf, needs)
	return e, nil
}

// unwrapPath drops the path from a file error (the message has it already).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Check reaches every server of the engine (GET /system_stats) and asks
// each whether it has every node class the workflow uses (GET
// /object_info/CLASS); it returns an Upstream error listing what is wrong
// with each, or nil.
func (e *Engine) Check(ctx context.Context) error {
	classes := map[string]bool{}
	for _, n := range e.wf.nodes {
		classes[n.class] = true
	}
	problems := make([]string, len(e.servers))
	var wg sync.WaitGroup
	for i, s := range e.servers {
		wg.Go(func() {
			if err := e.do(ctx, s, http.MethodGet, "/system_stats", nil, nil, nil, 0); err != nil {
				problems[i] = fault.MessageOf(err)
				return
			}
			var missing []string
			for _, c := range slices.Sorted(maps.Keys(classes)) {
				var info map[string]any
				if err := e.do(ctx, s, http.MethodGet, "/object_info/"+url.PathEscape(c), nil, nil, &info, 0); err != nil {
					problems[i] = fault.MessageOf(err)
					return
				}
				if _, ok := info[c]; !ok {
					missing = append(missing, c)
				}
			}
			if len(missing) > 0 {
				problems[i] = fmt.Sprintf("the ComfyUI server %s lacks the node classes %s that workflow %s uses: install the custom nodes that provide them",
					s.host, strings.Join(missing, ", "), e.wf.name)
			}
		})
	}
	wg.Wait()
	var msgs []string
	for _, p := range problems {
		if p != "" {
			msgs = append(msgs, p)
		}
	}
	if len(msgs) > 0 {
		return fault.E(fault.Upstream, strings.Join(msgs, "; "))
	}
	return nil
}
