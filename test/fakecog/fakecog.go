// Package fakecog is a stand-in for a Cog container and for Replicate's
// hosted predictions API, written from their documented HTTP APIs, for
// tests: neither can run here. It renders real videos with stillmotion's
// built-in engine (360p, 5 s: a second or two), so the path through a
// remote engine ends in a real MP4.
//
// One Server serves both APIs:
//
//   - Cog: GET /health-check, GET /, POST /predictions, PUT
//     /predictions/{id} (idempotent: asked again while the prediction runs,
//     it answers 202 with its state), POST /predictions/{id}/cancel. With
//     "Prefer: respond-async" a prediction runs in the background (202) and
//     reports to its webhook, filtered by webhook_events_filter; without,
//     the answer waits for the result, and a client that hangs up cancels
//     the prediction, as Cog's coglet does. There is no GET of a
//     prediction, and a prediction is forgotten when it ends: Cog has
//     neither.
//   - Replicate: POST /v1/predictions ({"version", "input"}), POST
//     /v1/models/{owner}/{name}/predictions, GET /v1/predictions/{id}, POST
//     /v1/predictions/{id}/cancel, GET /v1/account, GET
//     /v1/models/{owner}/{name}[/versions/{id}], with "Prefer: wait[=n]",
//     checking "Authorization: Bearer <token>" when Options.Token is set.
//   - GET /files/{name}: the outputs, when they are URLs.
//
// The model takes a "prompt", and optionally an "image" (or "image_url"),
// "seed", "negative_prompt" and the integers "width", "height",
// "duration", "frames" and "fps"; a value of the wrong type is refused with
// 422, as a Cog model's schema refuses it. Without an image (none, or an
// empty one, as a text-to-video request leaves the image placeholders)
// the model makes text-to-video: it animates a picture drawn from the
// prompt and seed (package fakecomfy/picture), of width×height when both
// are given, else 16:9; the video has the picture's shape (at 360p, as
// every video the fake makes). Its logs show a tqdm progress
// bar. Directives in the prompt script it: "#slow" adds Options.SlowDelay
// before rendering, "#fail=<message>" makes the prediction fail with that
// message. FailNext scripts the transport: the next requests answer 500,
// 429 and the like.
package fakecog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/test/fakecomfy/picture"
)

// Output is the form a succeeded prediction's output takes.
type Output int

const (
	// URL is the video's URL, served by the fake at /files/.
	URL Output = iota
	// DataURI is the video as a data: URI, as Cog returns files when it
	// has nowhere to upload them.
	DataURI
	// List is a list of files: a poster image's URL, then the video's.
	List
	// Object is an object of files: {"poster": URL, "video": URL}.
	Object
	// NotVideo is the URL of a text file.
	NotVideo
)

// Options configure a Server.
type Options struct {
	// Token, if set, is the token the hosted routes require as
	// "Authorization: Bearer <Token>". Cog's routes never check one.
	Token string
	// Output is the form of outputs (SetOutput changes it).
	Output Output
	// NoAudio strips the audio track from the videos.
	NoAudio bool
	// WebM makes the videos WebM (VP9), as some models return them.
	// Rendering fails when ffmpeg has no libvpx-vp9 (see CanWebM).
	WebM bool
	// Delay is added to every prediction's run time.
	Delay time.Duration
	// SlowDelay is added to a "#slow" prediction's run time. Default 4s.
	SlowDelay time.Duration
	// Slots, if positive, is how many Cog predictions may run at once;
	// past it Cog answers 409.
	Slots int
	// Model and Version, if set, are the only hosted model (owner/name)
	// and version the fake knows.
	Model, Version string
	// TempDir holds the videos. Default: a directory of its own, removed
	// by Close.
	TempDir string
	// FFmpeg is the ffmpeg program. Default "ffmpeg".
	FFmpeg string
}

// Hit is one request the server answered.
type Hit struct {
	Method, Path string
	Status       int
	Auth         string // the Authorization header
	At           time.Time
}

// Server is the fake. It is an http.Handler; tests serve it with
// httptest.NewServer and Close both.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	dir     string
	ownDir  bool
	builtin *engine.Builtin
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup

	mu          sync.Mutex
	preds       map[string]*prediction // every prediction made, by id
	inflight    map[string]*prediction // Cog's running predictions, by id
	submissions int
	cancels     int
	fail        []scripted
	token       string
	output      Output
	health      string
	hits        []Hit
}

// scripted is an answer FailNext queued.
type scripted struct {
	status     int
	retryAfter time.Duration
}

// New returns a server.
func New(opts Options) *Server {
	if opts.SlowDelay <= 0 {
		opts.SlowDelay = 4 * time.Second
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), dir: opts.TempDir,
		preds: map[string]*prediction{}, inflight: map[string]*prediction{},
		token: opts.Token, output: opts.Output}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "fakecog-*")
		if err != nil {
			panic(err)
		}
		s.dir, s.ownDir = d, true
	}
	// The inputs are test servers on loopback.
	s.builtin = &engine.Builtin{Intake: intake.Options{AllowPrivate: true}, TempDir: s.dir, FFmpeg: opts.FFmpeg}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.routes()
	return s
}

// Close cancels the running predictions, waits for them and removes the
// videos.
func (s *Server) Close() {
	s.stop()
	s.wg.Wait()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

// FailNext makes the next n requests (to any route) answer status, with a
// Retry-After header when retryAfter is positive, and do nothing else;
// status 0 hangs up without answering.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, scripted{status, retryAfter})
	}
}

// SetToken changes the token the hosted routes require.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetOutput changes the form of the outputs of predictions that end from
// now on.
func (s *Server) SetOutput(o Output) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.output = o
}

// SetHealth makes /health-check answer status (STARTING, SETUP_FAILED…);
// "" restores READY (or BUSY).
func (s *Server) SetHealth(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = status
}

// Submissions counts the predictions created: an idempotent PUT that finds
// its prediction running creates none.
func (s *Server) Submissions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submissions
}

// Cancels counts the cancel requests received, for predictions known or not.
func (s *Server) Cancels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancels
}

// Status returns the status of the prediction with id ("" if none was made).
func (s *Server) Status(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.preds[id]; p != nil {
		return p.status
	}
	return ""
}

// IDs returns the ids of the predictions made, in no order.
func (s *Server) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.preds))
	for id := range s.preds {
		ids = append(ids, id)
	}
	return ids
}

// Hits returns the requests answered so far.
func (s *Server) Hits() []Hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Hit(nil), s.hits...)
}

// CanWebM reports whether ffmpeg can encode the WebM videos of
// Options.WebM.
func CanWebM() bool {
	out, err := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output()
	return err == nil && bytes.Contains(out, []byte("libvpx-vp9"))
}

// SamplePNG is a 640x360 picture (sky, sun and hills) for requests to
// render.
func SamplePNG() []byte {
	const w, h = 640, 360
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(40 + 100*y/h), uint8(90 + 100*y/h), 220, 255}
			if dx, dy := float64(x-470), float64(y-110); dx*dx+dy*dy < 45*45 {
				c = color.RGBA{250, 220, 120, 255}
			}
			if float64(y) > 250+30*math.Sin(float64(x)/70) {
				c = color.RGBA{50, uint8(120 + 40*y/h), 60, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// recorder remembers a response's status for Hits.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		s.hits = append(s.hits, Hit{Method: r.Method, Path: r.URL.Path, Status: rec.status, Auth: r.Header.Get("Authorization"), At: time.Now()})
		s.mu.Unlock()
	}()
	s.mu.Lock()
	var f *scripted
	if len(s.fail) > 0 {
		f = &s.fail[0]
		s.fail = s.fail[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.status == 0 {
			// Hang up without an answer, as a reset connection does.
			panic(http.ErrAbortHandler)
		}
		if f.retryAfter > 0 {
			rec.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
		}
		writeJSON(rec, f.status, map[string]any{"detail": fmt.Sprintf("scripted failure (HTTP %d)", f.status), "status": f.status})
		return
	}
	s.mux.ServeHTTP(rec, r)
}

func (s *Server) routes() {
	// Cog.
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /health-check", s.healthCheck)
	s.mux.HandleFunc("POST /predictions", func(w http.ResponseWriter, r *http.Request) { s.cogPredict(w, r, "") })
	s.mux.HandleFunc("PUT /predictions/{id}", func(w http.ResponseWriter, r *http.Request) { s.cogPredict(w, r, r.PathValue("id")) })
	s.mux.HandleFunc("POST /predictions/{id}/cancel", s.cogCancel)
	// Replicate.
	s.mux.HandleFunc("POST /v1/predictions", s.authorized(s.hostedCreate))
	s.mux.HandleFunc("POST /v1/models/{owner}/{name}/predictions", s.authorized(s.hostedCreate))
	s.mux.HandleFunc("GET /v1/predictions/{id}", s.authorized(s.hostedGet))
	s.mux.HandleFunc("POST /v1/predictions/{id}/cancel", s.authorized(s.hostedCancel))
	s.mux.HandleFunc("GET /v1/account", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"type": "user", "username": "fakecog", "name": "Fake Cog"})
	}))
	s.mux.HandleFunc("GET /v1/models/{owner}/{name}", s.authorized(s.hostedModel))
	s.mux.HandleFunc("GET /v1/models/{owner}/{name}/versions/{version}", s.authorized(s.hostedModel))
	// Outputs.
	s.mux.HandleFunc("GET /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(s.dir, name))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newID makes a prediction id as Cog's docs suggest: 16 random bytes in
// lower-case base32, without padding.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// prediction is one prediction; its fields are guarded by Server.mu.
type prediction struct {
	id, model, version string
	cog                bool
	input              map[string]any
	status             string
	output             any
	err                string
	logs               strings.Builder
	created            time.Time
	started, completed time.Time
	base               string // the server's root as the client reached it
	webhook            string
	events             map[string]bool
	lastLogsHook       time.Time
	cancel             context.CancelFunc
	done               chan struct{}
}

func terminal(status string) bool {
	return status == "succeeded" || status == "failed" || status == "canceled"
}

// view is the prediction object; s.mu is held.
func (s *Server) view(p *prediction) map[string]any {
	v := map[string]any{
		"id": p.id, "status": p.status, "input": p.input, "logs": p.logs.String(),
		"output": p.output, "error": nil, "metrics": map[string]any{},
		"created_at": p.created.UTC().Format(time.RFC3339Nano),
	}
	if p.err != "" {
		v["error"] = p.err
	}
	if !p.completed.IsZero() {
		v["completed_at"] = p.completed.UTC().Format(time.RFC3339Nano)
		v["metrics"] = map[string]any{"predict_time": p.completed.Sub(p.started).Seconds()}
	}
	if !p.cog {
		v["model"], v["version"] = p.model, p.version
		v["urls"] = map[string]any{
			"get":    p.base + "/v1/predictions/" + p.id,
			"cancel": p.base + "/v1/predictions/" + p.id + "/cancel",
		}
		v["started_at"] = nil
		if p.completed.IsZero() {
			v["completed_at"] = nil
		}
		if !p.started.IsZero() {
			v["started_at"] = p.started.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// job is what a prediction's input asks the model for.
type job struct {
	image, prompt, negative string // image "" for text-to-video
	seed                    int64
	width, height           int64 // 0 when not given
	slow                    bool
	fail                    string
}

// fieldError is one input the model's schema refuses.
type fieldError struct{ field, msg string }

// parseInput checks an input as a model's schema would.
func parseInput(in map[string]any) (job, []fieldError) {
	var j job
	var errs []fieldError
	str := func(name string, required bool) string {
		v, ok := in[name]
		if !ok {
			if required {
				errs = append(errs, fieldError{name, "field required"})
			}
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fieldError{name, fmt.Sprintf("Invalid type. Expected: string, given: %s", typeName(v))})
		}
		return s
	}
	integer := func(name string, lo float64) (int64, bool) {
		v, ok := in[name]
		if !ok {
			return 0, false
		}
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			errs = append(errs, fieldError{name, fmt.Sprintf("Invalid type. Expected: integer, given: %s", typeName(v))})
			return 0, false
		}
		if f < lo {
			errs = append(errs, fieldError{name, fmt.Sprintf("must be greater than or equal to %v", lo)})
			return 0, false
		}
		return int64(f), true
	}
	if _, ok := in["image"]; ok {
		j.image = str("image", false)
	} else {
		j.image = str("image_url", false)
	}
	j.prompt = str("prompt", true)
	j.negative = str("negative_prompt", false)
	j.seed, _ = integer("seed", 0)
	j.width, _ = integer("width", 1)
	j.height, _ = integer("height", 1)
	for _, n := range []string{"duration", "frames", "fps"} {
		integer(n, 1)
	}
	j.slow = strings.Contains(j.prompt, "#slow")
	if _, msg, ok := strings.Cut(j.prompt, "#fail="); ok {
		msg, _, _ = strings.Cut(msg, "#")
		j.fail = strings.TrimSpace(msg)
		if j.fail == "" {
			j.fail = "the model failed"
		}
	}
	return j, errs
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case []any:
		return "array"
	}
	return "object"
}

// predictionRequest is the body of a request that creates a prediction.
type predictionRequest struct {
	ID                  string         `json:"id"`
	Version             string         `json:"version"`
	Input               map[string]any `json:"input"`
	Webhook             string         `json:"webhook"`
	WebhookEventsFilter []string       `json:"webhook_events_filter"`
}

func readRequest(r *http.Request) (*predictionRequest, error) {
	var pr predictionRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<20))
	if err := dec.Decode(&pr); err != nil {
		return nil, err
	}
	if pr.Input == nil {
		pr.Input = map[string]any{}
	}
	return &pr, nil
}

func root(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// start creates a prediction and runs it in the background; s.mu is held.
func (s *Server) start(pr *predictionRequest, j job, id, model, version, base string, cog bool) *prediction {
	ctx, cancel := context.WithCancel(s.ctx)
	p := &prediction{id: id, model: model, version: version, cog: cog, input: pr.Input, status: "starting",
		created: time.Now(), base: base, webhook: pr.Webhook, cancel: cancel, done: make(chan struct{})}
	p.events = map[string]bool{"start": true, "output": true, "logs": true, "completed": true}
	if pr.WebhookEventsFilter != nil {
		p.events = map[string]bool{}
		for _, e := range pr.WebhookEventsFilter {
			p.events[e] = true
		}
	}
	s.preds[id] = p
	if cog {
		s.inflight[id] = p
	}
	s.submissions++
	s.wg.Add(1)
	go s.run(ctx, p, j)
	return p
}

// run runs a prediction to its end.
func (s *Server) run(ctx context.Context, p *prediction, j job) {
	defer s.wg.Done()
	defer close(p.done)
	defer p.cancel()
	s.mu.Lock()
	p.status, p.started = "processing", time.Now()
	p.logs.WriteString("Running prediction...\n")
	s.mu.Unlock()
	s.notify(p, "start")
	out, err := s.work(ctx, p, j)
	s.mu.Lock()
	p.completed = time.Now()
	switch {
	case p.status == "canceled" || ctx.Err() != nil:
		p.status = "canceled"
	case err != nil:
		p.status, p.err = "failed", err.Error()
	default:
		p.status, p.output = "succeeded", out
	}
	delete(s.inflight, p.id)
	s.mu.Unlock()
	if p.status == "succeeded" {
		s.notify(p, "output")
	}
	s.notify(p, "completed")
}

// work is the model: it waits as scripted, then renders and returns the
// output.
func (s *Server) work(ctx context.Context, p *prediction, j job) (any, error) {
	delay := s.opts.Delay
	if j.slow {
		delay += s.opts.SlowDelay
	}
	for end := time.Now().Add(delay); time.Now().Before(end); {
		s.log(p, "waiting for a GPU...\n")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(500*time.Millisecond, time.Until(end))):
		}
	}
	if j.fail != "" {
		return nil, errors.New(j.fail)
	}
	img := j.image
	if img == "" {
		// Text-to-video: the fake cannot paint from words, so it animates
		// a picture drawn from the prompt and seed.
		w, h := picture.Fit(int(min(j.width, 1<<20)), int(min(j.height, 1<<20)))
		img = "data:image/png;base64," + base64.StdEncoding.EncodeToString(picture.PNG(j.prompt, uint64(j.seed), w, h))
	}
	mp4 := filepath.Join(s.dir, p.id+".mp4")
	last := -1
	_, err := s.builtin.Render(ctx, &generation.Task{ID: p.id, Out: mp4,
		Request: &generation.Request{ImageURL: img, Prompt: j.prompt, NegativePrompt: j.negative,
			Resolution: "360p", Duration: 5, Seed: j.seed},
		Progress: func(v float64) {
			if pct := int(v * 100); pct/10 > last {
				last = pct / 10
				s.log(p, fmt.Sprintf("%3d%%|%-10s| %d/100\n", pct, strings.Repeat("#", pct/10), pct))
			}
		}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errors.New(fault.MessageOf(err))
	}
	file, mime := mp4, "video/mp4"
	switch {
	case s.opts.WebM:
		file, mime = filepath.Join(s.dir, p.id+".webm"), "video/webm"
		args := []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "40", "-c:a", "libopus"}
		if s.opts.NoAudio {
			args[len(args)-2], args[len(args)-1] = "-an", "-sn"
		}
		err = s.ffmpeg(ctx, mp4, file, args...)
	case s.opts.NoAudio:
		file = filepath.Join(s.dir, p.id+"-silent.mp4")
		err = s.ffmpeg(ctx, mp4, file, "-map", "0:v", "-c:v", "copy")
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	form := s.output
	s.mu.Unlock()
	url := p.base + "/files/" + filepath.Base(file)
	switch form {
	case DataURI:
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b), nil
	case List:
		return []any{s.poster(p), url}, nil
	case Object:
		return map[string]any{"poster": s.poster(p), "video": url}, nil
	case NotVideo:
		txt := filepath.Join(s.dir, p.id+".txt")
		if err := os.WriteFile(txt, []byte("this is not a video\n"), 0o644); err != nil {
			return nil, err
		}
		return p.base + "/files/" + filepath.Base(txt), nil
	}
	return url, nil
}

// poster writes a still beside the video, for outputs of several files.
func (s *Server) poster(p *prediction) string {
	name := p.id + "-poster.png"
	os.WriteFile(filepath.Join(s.dir, name), SamplePNG(), 0o644)
	return p.base + "/files/" + name
}

func (s *Server) ffmpeg(ctx context.Context, in, out string, args ...string) error {
	cmd := exec.CommandContext(ctx, s.opts.FFmpeg, append(append([]string{"-v", "error", "-y", "-i", in}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, b)
	}
	return nil
}

// log appends to a prediction's logs, and tells its webhook at most every
// 500 ms, as Cog does.
func (s *Server) log(p *prediction, line string) {
	s.mu.Lock()
	p.logs.WriteString(line)
	send := time.Since(p.lastLogsHook) >= 500*time.Millisecond
	if send {
		p.lastLogsHook = time.Now()
	}
	s.mu.Unlock()
	if send {
		s.notify(p, "logs")
	}
}

// notify posts the prediction to its webhook for event, if it asked for it.
func (s *Server) notify(p *prediction, event string) {
	s.mu.Lock()
	hook, want := p.webhook, p.events[event]
	body, _ := json.Marshal(s.view(p))
	s.mu.Unlock()
	if hook == "" || !want {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// wait waits for p to end, or ctx; it reports whether p ended.
func wait(ctx context.Context, p *prediction) bool {
	select {
	case <-p.done:
		return true
	case <-ctx.Done():
		return false
	}
}
