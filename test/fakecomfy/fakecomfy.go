// Package fakecomfy is a stand-in ComfyUI server for tests. It speaks the
// HTTP and websocket API of ComfyUI's server (POST /prompt with its
// validation errors, /queue, /interrupt, /history, /view, /upload/image,
// /system_stats, /object_info, and the progress messages on /ws), runs the
// prompts it is given one at a time in order, and "executes" a video
// workflow by rendering it with stillmotion's built-in engine, so that a
// client gets real video files in the formats ComfyUI's output nodes
// write (animated WebP, MP4, WebM, GIF, PNG frames). An image-to-video
// workflow animates its LoadImage's picture; a text-to-video one (no
// LoadImage, an EmptyHunyuanLatentVideo giving the frame's size) animates
// a picture the fake draws from the prompt and seed at the frame's shape
// (see package picture), so that its video has the size and length the
// workflow asks for.
//
// It was written from ComfyUI's documented API, not from its code: it
// knows the core nodes of the Wan, LTX-Video and HunyuanVideo
// image-to-video workflows, of the Wan and HunyuanVideo text-to-video
// ones, and VideoHelperSuite's VHS_VideoCombine, and refuses other
// classes as a ComfyUI without that custom node would.
//
// Tests script it with Options (a node that fails, slow sampler steps)
// and its methods (FailNext, Pause, Restart) and read what it saw
// (Submissions, Interrupts, Deletes).
package fakecomfy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/generation"
)

// Options configure a Server. The zero value serves, rendering with the
// built-in engine at 360p.
type Options struct {
	// Dir holds the server's input, output and temp folders. Default: a
	// new temporary directory, removed by Close.
	Dir string
	// Engine renders the video a workflow describes. Default
	// &engine.Builtin{}.
	Engine generation.Engine
	// Resolution is the resolution the engine renders at before the video
	// is scaled to the workflow's frame size. Default "360p", which keeps
	// a render to a second or two.
	Resolution string
	// FFmpeg is the ffmpeg program that writes the output files. Default
	// "ffmpeg".
	FFmpeg string
	// StepDelay is how long each sampler step takes. Default 0: the steps
	// take as long as the render.
	StepDelay time.Duration
	// Script, if set, says how a prompt runs, from the text of its
	// positive prompt.
	Script func(prompt string) Script
	// Logger logs what the server does. Default: nothing is logged.
	Logger *slog.Logger
}

// Script is how one prompt runs.
type Script struct {
	// StepDelay, if positive, replaces Options.StepDelay.
	StepDelay time.Duration
	// FailNode is a node id whose execution raises an exception: the
	// prompt ends with an execution_error.
	FailNode string
	// FailMessage and FailType are the exception's message and type.
	// Defaults: "fake failure" and "RuntimeError".
	FailMessage, FailType string
}

// Server is a stand-in ComfyUI server; it is an http.Handler.
type Server struct {
	opts   Options
	dir    string
	ownDir bool
	mux    *http.ServeMux
	log    *slog.Logger

	mu          sync.Mutex
	wake        chan struct{} // the worker has something to look at
	stop        chan struct{}
	stopped     sync.WaitGroup
	number      int
	pending     []*job
	running     *job
	history     map[string]json.RawMessage
	order       []string // history ids, oldest first
	sockets     map[string]*socket
	paused      bool
	failNext    int
	submissions int
	interrupts  []string
	deletes     []string
	counters    map[string]int // by output file prefix
}

// New starts a server; Close stops it. It panics when it cannot make its
// directory, as a test cannot go on then.
func New(opts Options) *Server {
	if opts.Resolution == "" {
		opts.Resolution = "360p"
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	if opts.Engine == nil {
		opts.Engine = &engine.Builtin{FFmpeg: opts.FFmpeg}
	}
	s := &Server{opts: opts, dir: opts.Dir, log: opts.Logger, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		history: map[string]json.RawMessage{}, sockets: map[string]*socket{}, counters: map[string]int{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "fakecomfy-*")
		if err != nil {
			panic(err)
		}
		s.dir, s.ownDir = d, true
	}
	for _, sub := range []string{"input", "output", "temp"} {
		if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o755); err != nil {
			panic(err)
		}
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /ws", s.serveWS)
	m.HandleFunc("POST /prompt", s.postPrompt)
	m.HandleFunc("GET /prompt", s.getPrompt)
	m.HandleFunc("GET /queue", s.getQueue)
	m.HandleFunc("POST /queue", s.postQueue)
	m.HandleFunc("POST /interrupt", s.postInterrupt)
	m.HandleFunc("GET /history", s.getHistory)
	m.HandleFunc("GET /history/{id}", s.getHistoryID)
	m.HandleFunc("POST /history", s.postHistory)
	m.HandleFunc("GET /view", s.view)
	m.HandleFunc("POST /upload/image", s.upload)
	m.HandleFunc("GET /system_stats", s.systemStats)
	m.HandleFunc("GET /object_info", s.objectInfo)
	m.HandleFunc("GET /object_info/{class}", s.objectInfo)
	s.mux = m
	s.stopped.Add(1)
	go s.work()
	return s
}

// Close stops the server's worker (a running prompt is abandoned),
// closes its websockets and removes its directory if it made it.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		return
	default:
	}
	close(s.stop)
	if s.running != nil {
		s.running.cancel()
	}
	for sid, c := range s.sockets {
		c.close("server stopping")
		delete(s.sockets, sid)
	}
	s.mu.Unlock()
	s.stopped.Wait()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

// Dir is the directory holding the server's input, output and temp folders.
func (s *Server) Dir() string { return s.dir }

// Submissions reports how many prompts POST /prompt has been given,
// accepted or not.
func (s *Server) Submissions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submissions
}

// Interrupts returns the prompt ids of the POST /interrupt requests, in
// order ("" for a request that named none).
func (s *Server) Interrupts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.interrupts)
}

// Deletes returns the prompt ids POST /queue was asked to delete, in order.
func (s *Server) Deletes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deletes)
}

// Queue reports the running prompt's id ("" when idle) and the pending ones.
func (s *Server) Queue() (running string, pending []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		running = s.running.id
	}
	for _, j := range s.pending {
		pending = append(pending, j.id)
	}
	return running, pending
}

// Sockets reports how many websocket clients are connected.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// FailNext makes the next n HTTP requests (websocket upgrades included)
// fail with 500 Internal Server Error, as a server in trouble does; 0 ends
// a failure run.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Pause stops the server from starting prompts: new ones wait in the
// queue. The running one goes on.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = true
}

// Resume lets the server start prompts again.
func (s *Server) Resume() {
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	s.poke()
}

// Restart drops every websocket connection, as a restarting server does
// (clients must reconnect); the queue, the running prompt and the history
// are kept, as if the server came back at once with its state.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sid, c := range s.sockets {
		c.close("server restarting")
		delete(s.sockets, sid)
	}
}

// ServeHTTP serves ComfyUI's API, under / and under /api as ComfyUI does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fail := s.failNext > 0
	if fail {
		s.failNext--
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "500 Internal Server Error\n\nServer got itself in trouble", http.StatusInternalServerError)
		return
	}
	if p, ok := strings.CutPrefix(r.URL.Path, "/api/"); ok {
		r2 := *r
		u := *r.URL
		u.Path = "/" + p
		r2.URL = &u
		r = &r2
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// canonicalUUID is the form ComfyUI accepts for a client-supplied prompt_id.
var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) postPrompt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt    json.RawMessage `json:"prompt"`
		ClientID  *string         `json:"client_id"`
		PromptID  *string         `json:"prompt_id"`
		Number    *float64        `json:"number"`
		Front     bool            `json:"front"`
		ExtraData map[string]any  `json:"extra_data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&body); err != nil {
		// ComfyUI's handler raises on a body that is not JSON: a 500.
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.submissions++
	s.mu.Unlock()
	if len(body.Prompt) == 0 || string(body.Prompt) == "null" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": apiError{Type: "no_prompt", Message: "No prompt provided",
			Details: "No prompt provided", ExtraInfo: map[string]any{}}, "node_errors": map[string]any{}})
		return
	}
	id := newUUID()
	if body.PromptID != nil {
		if !canonicalUUID.MatchString(*body.PromptID) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": apiError{Type: "invalid_prompt_id",
				Message:   "prompt_id must be a valid UUID",
				Details:   "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one",
				ExtraInfo: map[string]any{}}, "node_errors": map[string]any{}})
			return
		}
		id = *body.PromptID
	}
	var g graph
	if err := json.Unmarshal(body.Prompt, &g); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": apiError{Type: "invalid_prompt", Message: "Invalid prompt",
			Details: err.Error(), ExtraInfo: map[string]any{}}, "node_errors": map[string]any{}})
		return
	}
	outputs, top, nodeErrs := g.validate(s.uploaded)
	if top != nil {
		s.log.Info("invalid prompt", "id", id, "error", top.Message)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": top, "node_errors": nodeErrs})
		return
	}
	extra := body.ExtraData
	if extra == nil {
		extra = map[string]any{}
	}
	clientID := ""
	if body.ClientID != nil {
		clientID = *body.ClientID
		extra["client_id"] = clientID
	}
	extra["create_time"] = time.Now().UnixMilli()
	s.mu.Lock()
	number := float64(s.number)
	if body.Number != nil {
		number = *body.Number
	} else if body.Front {
		number = -number
	}
	s.number++
	j := &job{number: number, id: id, clientID: clientID, g: g, raw: body.Prompt, extra: extra, outputs: outputs}
	// The queue is ordered by number, as ComfyUI's heap is.
	i, _ := slices.BinarySearchFunc(s.pending, number, func(j *job, n float64) int {
		if j.number <= n {
			return -1
		}
		return 1
	})
	s.pending = slices.Insert(s.pending, i, j)
	s.statusLocked()
	s.mu.Unlock()
	s.poke()
	s.log.Info("prompt queued", "id", id, "number", number)
	writeJSON(w, http.StatusOK, map[string]any{"prompt_id": id, "number": number, "node_errors": nodeErrs})
}

func (s *Server) getPrompt(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.queueInfoLocked())
}

// queueInfoLocked is the status ComfyUI sends on connect and on every
// queue change.
func (s *Server) queueInfoLocked() map[string]any {
	n := len(s.pending)
	if s.running != nil {
		n++
	}
	return map[string]any{"exec_info": map[string]any{"queue_remaining": n}}
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	running, pending := []any{}, []any{}
	if s.running != nil {
		running = append(running, s.running.item())
	}
	for _, j := range s.pending {
		pending = append(pending, j.item())
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue_running": running, "queue_pending": pending})
}

func (s *Server) postQueue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Clear  bool     `json:"clear"`
		Delete []string `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.Clear {
		s.pending = nil
	}
	for _, id := range body.Delete {
		s.deletes = append(s.deletes, id)
		s.pending = slices.DeleteFunc(s.pending, func(j *job) bool { return j.id == id })
	}
	s.statusLocked()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) postInterrupt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PromptID string `json:"prompt_id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body) // ComfyUI reads a body that is not JSON as {}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupts = append(s.interrupts, body.PromptID)
	if s.running != nil && (body.PromptID == "" || body.PromptID == s.running.id) {
		s.running.interrupt()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.order
	if m, err := strconv.Atoi(r.URL.Query().Get("max_items")); err == nil && m >= 0 && m < len(ids) {
		ids = ids[len(ids)-m:]
	}
	out := map[string]json.RawMessage{}
	for _, id := range ids {
		out[id] = s.history[id]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getHistoryID(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	if h, ok := s.history[id]; ok {
		out[id] = h
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postHistory(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Clear  bool     `json:"clear"`
		Delete []string `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.Clear {
		s.history, s.order = map[string]json.RawMessage{}, nil
	}
	for _, id := range body.Delete {
		delete(s.history, id)
		s.order = slices.DeleteFunc(s.order, func(o string) bool { return o == id })
	}
	w.WriteHeader(http.StatusOK)
}

// folder returns the directory of a file type ("input", "output",
// "temp") and subfolder, or "" when the subfolder leaves it.
func (s *Server) folder(typ, subfolder string) string {
	if typ == "" {
		typ = "input"
	}
	if typ != "input" && typ != "output" && typ != "temp" {
		return ""
	}
	base := filepath.Join(s.dir, typ)
	dir := filepath.Join(base, filepath.FromSlash(subfolder))
	if dir != base && !strings.HasPrefix(dir, base+string(filepath.Separator)) {
		return ""
	}
	return dir
}

// uploaded reports whether name (with an optional subfolder, and an
// optional " [type]" annotation) is a file in the input folder.
func (s *Server) uploaded(name string) bool {
	typ := "input"
	if i := strings.LastIndex(name, " ["); i >= 0 && strings.HasSuffix(name, "]") {
		name, typ = name[:i], name[i+2:len(name)-1]
	}
	dir := s.folder(typ, path.Dir(name))
	if dir == "" || strings.Contains(name, "..") {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, path.Base(name)))
	return err == nil && st.Mode().IsRegular()
}

func (s *Server) view(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("filename")
	if name == "" {
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	typ := q.Get("type")
	if typ == "" {
		typ = "output"
	}
	dir := s.folder(typ, q.Get("subfolder"))
	if dir == "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	file := filepath.Join(dir, path.Base(name))
	st, err := os.Stat(file)
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(filepath.Ext(file))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf("filename=%q", path.Base(name)))
	http.ServeFile(w, r, file)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f, fh, err := r.FormFile("image")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || fh.Filename == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	name := path.Base(fh.Filename)
	typ := r.FormValue("type")
	if typ == "" {
		typ = "input"
	}
	subfolder := r.FormValue("subfolder")
	dir := s.folder(typ, subfolder)
	if dir == "" || strings.Contains(fh.Filename, "..") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	overwrite := r.FormValue("overwrite")
	if overwrite != "true" && overwrite != "1" {
		// As ComfyUI does: the same content keeps its name, other content
		// gets a numbered one.
		ext := path.Ext(name)
		stem := strings.TrimSuffix(name, ext)
		for i := 1; ; i++ {
			old, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || bytes.Equal(old, data) {
				break
			}
			name = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": name, "subfolder": subfolder, "type": typ})
}

func (s *Server) systemStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"system": map[string]any{"os": "linux", "ram_total": 24 << 30, "ram_free": 16 << 30, "comfyui_version": "0.0.0-fakecomfy",
			"python_version": "3.12.0", "pytorch_version": "none", "embedded_python": false, "argv": []string{"main.py"}},
		"devices": []any{map[string]any{"name": "cpu", "type": "cpu", "index": nil, "vram_total": 0, "vram_free": 0,
			"torch_vram_total": 0, "torch_vram_free": 0}},
	})
}

func (s *Server) objectInfo(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	for name, c := range classes {
		if want := r.PathValue("class"); want != "" && want != name {
			continue
		}
		required, optional := map[string]any{}, map[string]any{}
		for _, in := range c.inputs {
			var spec []any
			switch in.kind {
			case "COMBO":
				spec = []any{in.options}
			case "INT", "FLOAT":
				spec = []any{in.kind, map[string]any{"min": in.min, "max": in.max}}
			default:
				spec = []any{in.kind}
			}
			if in.optional {
				optional[in.name] = spec
			} else {
				required[in.name] = spec
			}
		}
		returns := c.returns
		if returns == nil {
			returns = []string{}
		}
		out[name] = map[string]any{"input": map[string]any{"required": required, "optional": optional}, "output": returns,
			"name": name, "display_name": name, "output_node": c.output, "category": "fakecomfy"}
	}
	writeJSON(w, http.StatusOK, out)
}

// errClosed is why a job stops when the server closes.
var errClosed = errors.New("server closed")

// context ties a job to the server: it ends when the server closes.
func (s *Server) context() (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		select {
		case <-s.stop:
			cancel(errClosed)
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// Workflow returns the path of one of the package's API-format test
// workflows, modelled on ComfyUI's Wan 2.1 image-to-video example (node
// 52 LoadImage, 6 and 7 CLIPTextEncode, 50 WanImageToVideo, 3 KSampler, 8
// VAEDecode), each with another output node:
//
//	wan_i2v_api.json         28 SaveAnimatedWEBP (fps)
//	wan_i2v_vhs_api.json     60 VHS_VideoCombine (frame_rate), H.264 MP4
//	wan_i2v_video_api.json   55 CreateVideo (fps) and 56 SaveVideo
//	wan_i2v_frames_api.json  9 SaveImage: one PNG per frame
//
// and one modelled on ComfyUI's Wan 2.1 text-to-video example, without a
// LoadImage (6 and 7 CLIPTextEncode, 40 EmptyHunyuanLatentVideo with the
// width, height and length, 3 KSampler, 8 VAEDecode):
//
//	wan_t2v_api.json         60 VHS_VideoCombine (frame_rate), H.264 MP4
func Workflow(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}
