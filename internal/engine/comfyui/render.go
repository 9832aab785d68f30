package comfyui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/draw"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/media"
	"stillmotion/internal/redact"
)

// state is what a render saves before it queues its prompt, so that the
// next attempt finds the job instead of queueing it again.
type state struct {
	Server   string `json:"server"` // the server's URL, without credentials or query
	PromptID string `json:"prompt_id"`
	// ClientID is the websocket client the prompt was queued for: ComfyUI
	// sends a prompt's progress to that client only.
	ClientID string `json:"client_id"`
	// Tries counts the prompts queued before this one that the server
	// lost (it restarted) or stopped (it ran out of memory).
	Tries int `json:"tries,omitempty"`
}

// maxTries bounds how often a render queues its job again after the
// server lost or stopped it.
const maxTries = 3

// maxUpload bounds the input image's long side: the models work at a
// fraction of it, and a huge PNG only slows the upload.
const maxUpload = 2048

// render is one Render call.
type render struct {
	e        *Engine
	t        *generation.Task
	dir      string
	st       state
	srv      *server
	ws       *listener
	reported float64
	png      []byte // the input image, upright, as uploaded
	iw, ih   int
}

// Render implements generation.Engine.
func (e *Engine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	dir, err := os.MkdirTemp(e.tempDir, "stillmotion-comfyui-*")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "creating a temporary directory", err)
	}
	defer os.RemoveAll(dir)
	r := &render{e: e, t: t, dir: dir}
	defer r.stopListening()
	o, err := r.run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, r.stop(ctx)
		}
		return nil, err
	}
	return o, nil
}

// run queues the job, or resumes the saved one, and waits for it.
func (r *render) run(ctx context.Context) (*generation.Output, error) {
	submit := true
	if r.resume() {
		h, queued, err := r.locate(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case h != nil && !(h.status == "error" && serverFault(h.err)):
			r.e.log.Info("resumed a finished ComfyUI job", "id", r.t.ID, "prompt", r.st.PromptID, "server", r.srv.host)
			return r.collect(ctx, h)
		case queued:
			r.e.log.Info("resumed a ComfyUI job", "id", r.t.ID, "prompt", r.st.PromptID, "server", r.srv.host)
			submit = false
			r.listen(ctx)
		default:
			r.e.log.Warn("the saved ComfyUI job is gone or was stopped by the server; queueing it again", "id", r.t.ID, "prompt", r.st.PromptID, "server", r.srv.host)
			r.st.Tries++
		}
	}
	for {
		if submit {
			if r.st.Tries >= maxTries {
				host := "server"
				if r.srv != nil {
					host = "server " + r.srv.host
				}
				return nil, fault.Errorf(fault.Upstream, "the ComfyUI %s lost or stopped the job %d times (is it restarting?); check its log, then try again",
					host, r.st.Tries)
			}
			if err := r.submit(ctx); err != nil {
				return nil, err
			}
		}
		h, err := r.wait(ctx)
		if errors.Is(err, errLost) {
			r.e.log.Warn("the ComfyUI server lost the job; queueing it again", "id", r.t.ID, "prompt", r.st.PromptID, "server", r.srv.host)
			r.st.Tries++
			submit = true
			continue
		}
		if err != nil {
			return nil, err
		}
		return r.collect(ctx, h)
	}
}

// resume reads the saved state: it reports whether there is a job to
// resume on one of the engine's servers.
func (r *render) resume() bool {
	if r.t.State == "" {
		return false
	}
	var st state
	if err := json.Unmarshal([]byte(r.t.State), &st); err != nil || st.PromptID == "" {
		r.e.log.Warn("ignoring unreadable saved state", "id", r.t.ID, "err", err)
		return false
	}
	for _, s := range r.e.servers {
		if s.key == st.Server {
			r.st, r.srv = st, s
			return true
		}
	}
	r.e.log.Warn("the saved job's server is no longer configured; queueing the job anew", "id", r.t.ID, "server", redact.URL(st.Server))
	r.st.Tries = st.Tries
	return false
}

// submit uploads the image and queues the workflow on the least busy
// server, saving the state first: an attempt that stops after this
// finds the job queued, or finds it missing and queues it then.
func (r *render) submit(ctx context.Context) error {
	if err := r.prepare(ctx); err != nil {
		return err
	}
	s, err := r.e.pick(ctx)
	if err != nil {
		return err
	}
	defer r.e.unpick(s)
	r.stopListening()
	r.srv = s
	r.st = state{Server: s.key, PromptID: promptID(r.t.ID, r.st.Tries), ClientID: newUUID(), Tries: r.st.Tries}
	if err := r.save(ctx); err != nil {
		return err
	}
	// Listen before queueing: the first messages come at once.
	r.listen(ctx)
	// Named after the job: a retry replaces its own file, nothing else.
	var name string
	if r.png != nil {
		if name, err = r.e.upload(ctx, s, "stillmotion-"+r.st.PromptID+".png", r.png); err != nil {
			return err
		}
	}
	graph, err := r.e.wf.build(r.values(name))
	if err != nil {
		return fault.Wrap(fault.Internal, "building the workflow", err)
	}
	if err := r.post(ctx, graph); err != nil {
		return err
	}
	// The first progress says the job is queued.
	r.report(0.02)
	return nil
}

func (r *render) save(ctx context.Context) error {
	b, _ := json.Marshal(r.st)
	if err := r.t.SaveState(ctx, string(b)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fault.Wrap(fault.Internal, "saving the render's state", err)
	}
	return nil
}

// prepare loads the input image once: upright, bounded, as PNG. A
// workflow without an image input makes the frame's shape from the
// request's aspect ratio instead.
func (r *render) prepare(ctx context.Context) error {
	if r.png != nil || r.iw > 0 {
		return nil
	}
	if len(r.e.fields[inImage]) == 0 {
		r.iw, r.ih = r.t.Request.Aspect()
		return nil
	}
	var img image.Image
	var err error
	if in := r.t.Input(generation.FieldImage); in != nil {
		var b []byte
		if b, err = in.Bytes(ctx); err != nil {
			return err
		}
		// intake decodes safely (format sniffed, pixels bounded, EXIF
		// orientation applied) from a data: URI.
		img, err = intake.Load(ctx, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(b), intake.Options{MaxBytes: int64(len(b)) + 1})
	} else {
		img, err = intake.Load(ctx, r.t.Request.ImageURL, intake.Options{})
	}
	if err != nil {
		return err
	}
	b := img.Bounds()
	if long := max(b.Dx(), b.Dy()); long > maxUpload {
		w, h := max(1, b.Dx()*maxUpload/long), max(1, b.Dy()*maxUpload/long)
		small := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(small, small.Bounds(), img, b, draw.Src, nil)
		img, b = small, small.Bounds()
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return fault.Wrap(fault.Internal, "encoding the input image", err)
	}
	r.png, r.iw, r.ih = buf.Bytes(), b.Dx(), b.Dy()
	return nil
}

// values are the request's values for the mapped inputs.
func (r *render) values(image string) map[target]any {
	e, req := r.e, r.t.Request
	v := map[target]any{}
	set := func(field string, val any) {
		for _, t := range e.fields[field] {
			v[t] = val
		}
	}
	set(inImage, image)
	set(inPrompt, req.Prompt)
	if req.NegativePrompt != "" {
		set(inNegative, req.NegativePrompt)
	}
	set(inSeed, req.Seed)
	w, h := r.size()
	set(inWidth, w)
	set(inHeight, h)
	set(inFrames, r.frames())
	set(inFPS, e.fps)
	return v
}

// size is the frame size the workflow is asked for.
func (r *render) size() (int, int) {
	short := r.t.Request.ShortSide()
	if short <= 0 {
		short = 480
	}
	iw, ih := r.iw, r.ih
	if iw == 0 && len(r.e.fields[inImage]) == 0 {
		// A resumed text-to-video job was never prepared here.
		iw, ih = r.t.Request.Aspect()
	}
	return frameSize(iw, ih, short, r.e.multiple)
}

// frames is the frame count the workflow is asked for.
func (r *render) frames() int {
	d := r.t.Request.Duration
	if d <= 0 {
		d = 5
	}
	return r.e.frames.frames(d, r.e.fps)
}

// post queues the workflow. A try after a failed one first looks for the
// prompt: the failed try may have queued it before its answer was lost.
func (r *render) post(ctx context.Context, graph json.RawMessage) error {
	e, s := r.e, r.srv
	body := jsonBody(map[string]any{"prompt": graph, "client_id": r.st.ClientID, "prompt_id": r.st.PromptID})
	var raw json.RawMessage
	first := true
	err := e.try(ctx, s, http.MethodPost, "/prompt", func(ctx context.Context) error {
		if !first {
			if h, queued, err := r.lookup(ctx); err == nil && (h != nil || queued) {
				raw = nil
				return nil
			}
		}
		first = false
		return e.request(ctx, s, http.MethodPost, "/prompt", nil, body, &raw, 0)
	})
	var se *statusError
	switch {
	case errors.As(err, &se) && se.code == http.StatusBadRequest:
		return rejection(s.host, e.wf, se.body)
	case err != nil:
		return e.callFault(s, "the workflow", err)
	}
	var res struct {
		PromptID   string                     `json:"prompt_id"`
		NodeErrors map[string]json.RawMessage `json:"node_errors"`
	}
	_ = json.Unmarshal(raw, &res)
	for id := range res.NodeErrors {
		if _, needed := e.weights[id]; needed {
			// ComfyUI queues the outputs that passed validation: ours did
			// not, so the job would end without the video. Stop it.
			r.st.PromptID = cmpOr(res.PromptID, r.st.PromptID)
			r.cancelJob(ctx)
			return rejection(s.host, e.wf, raw)
		}
	}
	if res.PromptID != "" && res.PromptID != r.st.PromptID {
		// A ComfyUI from before client-chosen prompt ids names its own.
		r.st.PromptID = res.PromptID
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// apiError is the error object of a 400 answer to POST /prompt, and of
// each node's errors.
type apiError struct {
	Type      string `json:"type"`
	Message   string `json:"message"`
	Details   string `json:"details"`
	ExtraInfo struct {
		NodeID    string `json:"node_id"`
		ClassType string `json:"class_type"`
	} `json:"extra_info"`
}

// rejection is the fault of a 400 answer to POST /prompt: the workflow
// failed validation ({"error": {...}, "node_errors": {...}}).
func rejection(host string, wf *workflow, body []byte) error {
	var res struct {
		Error      json.RawMessage `json:"error"`
		NodeErrors map[string]struct {
			Errors    []apiError `json:"errors"`
			ClassType string     `json:"class_type"`
		} `json:"node_errors"`
	}
	_ = json.Unmarshal(body, &res)
	var top apiError
	if json.Unmarshal(res.Error, &top) != nil {
		// Old servers answer with a string.
		_ = json.Unmarshal(res.Error, &top.Message)
	}
	cause := fmt.Errorf("POST /prompt: HTTP 400: %s", clip(string(body)))
	switch top.Type {
	case "missing_node_type":
		node := wf.describe(top.ExtraInfo.NodeID)
		if _, ok := wf.nodes[top.ExtraInfo.NodeID]; !ok {
			node = cmpOr(top.ExtraInfo.ClassType, "a node")
		}
		return fault.Wrap(fault.Rejected, fmt.Sprintf("the ComfyUI server %s cannot run the workflow: it does not have node %s (%s); the server's operator must install the custom node that provides it",
			host, node, strings.TrimSuffix(firstLine(top.Message), ".")), cause)
	case "invalid_prompt_id":
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the ComfyUI server %s refused the prompt id (%s); update ComfyUI", host, top.Message), cause)
	}
	var parts []string
	for _, id := range slices.SortedFunc(maps.Keys(res.NodeErrors), byNumber) {
		ne := res.NodeErrors[id]
		for _, e := range ne.Errors {
			d := e.Message
			if e.Details != "" {
				d += ": " + e.Details
			}
			parts = append(parts, fmt.Sprintf("node %s (%s): %s", id, ne.ClassType, firstLine(d)))
		}
	}
	msg := firstLine(top.Message)
	if msg == "" {
		msg = "the output's nodes failed validation"
	}
	if len(parts) > 0 {
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return fault.Wrap(fault.Rejected, fmt.Sprintf("ComfyUI refused the workflow: %s; check the request's values (resolution, duration), or the engine's workflow %s", msg, wf.name), cause)
}

// queueInfo is GET /queue's answer: items are [number, prompt_id, prompt,
// extra_data, outputs].
type queueInfo struct {
	Running []json.RawMessage `json:"queue_running"`
	Pending []json.RawMessage `json:"queue_pending"`
}

// has reports whether the queue holds prompt id, running or pending.
func (q queueInfo) has(id string) (running, pending bool) {
	in := func(items []json.RawMessage) bool {
		for _, it := range items {
			var parts []json.RawMessage
			var pid string
			if json.Unmarshal(it, &parts) == nil && len(parts) > 1 && json.Unmarshal(parts[1], &pid) == nil && pid == id {
				return true
			}
		}
		return false
	}
	return in(q.Running), in(q.Pending)
}

// history reads the prompt's history entry: nil while it has none.
func (r *render) history(ctx context.Context, once bool) (*entry, error) {
	var raw json.RawMessage
	call := r.e.do
	if once {
		call = r.e.request
	}
	if err := call(ctx, r.srv, http.MethodGet, "/history/"+url.PathEscape(r.st.PromptID), nil, nil, &raw, 0); err != nil {
		return nil, r.e.callFault(r.srv, "reading the job's history", err)
	}
	h, err := parseHistory(raw, r.st.PromptID)
	if err != nil {
		return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("the ComfyUI server %s answered GET /history with something this engine cannot read; check that url points at ComfyUI", r.srv.host), err)
	}
	return h, nil
}

// queued reads whether the prompt is in the queue.
func (r *render) queued(ctx context.Context, once bool) (bool, error) {
	var q queueInfo
	call := r.e.do
	if once {
		call = r.e.request
	}
	if err := call(ctx, r.srv, http.MethodGet, "/queue", nil, nil, &q, 0); err != nil {
		return false, r.e.callFault(r.srv, "reading the queue", err)
	}
	running, pending := q.has(r.st.PromptID)
	return running || pending, nil
}

// locate finds the job: finished (its history entry), queued or running,
// or neither (lost). The history is read again after the queue, since
// the job may finish between the two.
func (r *render) locate(ctx context.Context) (*entry, bool, error) {
	return r.find(ctx, false)
}

// lookup is locate with one try of each call.
func (r *render) lookup(ctx context.Context) (*entry, bool, error) {
	return r.find(ctx, true)
}

func (r *render) find(ctx context.Context, once bool) (*entry, bool, error) {
	if h, err := r.history(ctx, once); err != nil || h != nil {
		return h, false, err
	}
	if q, err := r.queued(ctx, once); err != nil || q {
		return nil, q, err
	}
	h, err := r.history(ctx, once)
	return h, false, err
}

// errLost says the server has neither the job's history nor the job.
var errLost = errors.New("the job is lost")

// outage is how long a server may stay unreachable while a render waits
// on it before the render fails.
const outage = time.Minute

// wait follows the job until it ends: on the websocket, with the history
// as the source of truth, read when the websocket says the job ended, and
// every poll interval (ten when the websocket is up, as a backstop).
func (r *render) wait(ctx context.Context) (*entry, error) {
	e := r.e
	tr := newTracker(e.weights)
	up, ending := false, false
	missing := 0
	var down time.Time // since when the server has not answered
	next := time.NewTimer(e.poll)
	defer next.Stop()
	reset := func(d time.Duration) {
		next.Stop()
		select {
		case <-next.C:
		default:
		}
		next.Reset(d)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case ev := <-r.events():
			switch {
			case ev.typ == wsUp:
				up = true
				reset(10 * e.poll)
			case ev.typ == wsDown:
				up = false
				reset(e.poll)
			case ev.prompt == r.st.PromptID || (ev.prompt == "" && ev.typ == "progress"):
				tr.apply(ev)
				r.report(0.03 + 0.87*tr.fraction())
				if ev.typ == "execution_success" || ev.err != nil || (ev.typ == "executing" && ev.node == "") {
					// The history is written as the job ends: read it now.
					ending = true
					reset(0)
				}
			}
			continue
		case <-next.C:
		}
		h, queued, err := r.locate(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if fault.KindOf(err) != fault.Upstream {
				return nil, err
			}
			if down.IsZero() {
				down = time.Now()
			}
			if time.Since(down) > max(outage, 10*e.poll) {
				return nil, err
			}
			e.log.Warn("ComfyUI server unreachable while waiting; still waiting", "server", r.srv.host, "err", err)
			reset(e.poll)
			continue
		}
		down = time.Time{}
		switch {
		case h != nil:
			return h, nil
		case queued:
			missing = 0
		default:
			if missing++; missing >= 2 {
				return nil, errLost
			}
		}
		switch {
		case ending || missing > 0:
			reset(min(e.poll, 200*time.Millisecond))
		case up:
			reset(10 * e.poll)
		default:
			reset(e.poll)
		}
	}
}

// report tells the task how far the render is, never going back.
func (r *render) report(p float64) {
	// Rounded, so that summing the nodes' parts in another order does
	// not report a change that is none.
	p = math.Round(p*1e4) / 1e4
	if p > r.reported && p <= 1 {
		r.reported = p
		r.t.Report(p)
	}
}

// collect turns the finished job into the served video.
func (r *render) collect(ctx context.Context, h *entry) (*generation.Output, error) {
	e := r.e
	if h.status == "error" {
		return nil, r.failure(h.err)
	}
	r.report(0.9)
	videos, images := h.files(e.output)
	var src string
	var err error
	switch {
	case len(videos) > 0:
		src, err = r.fetch(ctx, videos[0], "video")
	case len(images) == 1 || (len(images) > 1 && !isStill(images[0].Filename)):
		src, err = r.fetch(ctx, images[0], "video")
	case len(images) > 1:
		src, err = r.frameSequence(ctx, images)
	default:
		var others []string
		for _, id := range slices.SortedFunc(maps.Keys(h.outputs), byNumber) {
			if v, i := h.files(id); len(v)+len(i) > 0 {
				others = append(others, e.wf.describe(id))
			}
		}
		msg := fmt.Sprintf("the ComfyUI workflow finished, but its output node %s listed no files", e.wf.describe(e.output))
		if len(others) > 0 {
			msg += "; these nodes did: " + strings.Join(others, ", ") + " (set the engine's output to one of them)"
		} else {
			msg += "; check the workflow's output node in ComfyUI"
		}
		return nil, fault.E(fault.Render, msg)
	}
	if err != nil {
		return nil, err
	}
	r.report(0.95)
	o, err := e.fin.Finish(ctx, src, r.t)
	if err != nil {
		return nil, err
	}
	w, hh := r.size()
	o.Plan = fmt.Sprintf("%s: ComfyUI workflow %s asked for %d×%d, %d frames at %d fps", e.name, e.wf.name, w, hh, r.frames(), e.fps)
	r.report(1)
	return o, nil
}

// fetch downloads an output file into the render's directory.
func (r *render) fetch(ctx context.Context, f outFile, stem string) (string, error) {
	dst := filepath.Join(r.dir, stem+strings.ToLower(path.Ext(f.Filename)))
	if err := r.e.download(ctx, r.srv, f, dst); err != nil {
		return "", err
	}
	return dst, nil
}

// frameSequence downloads one image per frame and encodes them into a
// video at the engine's frame rate.
func (r *render) frameSequence(ctx context.Context, images []outFile) (string, error) {
	ext := strings.ToLower(path.Ext(images[0].Filename))
	for i, f := range images {
		if strings.ToLower(path.Ext(f.Filename)) != ext {
			return "", fault.Errorf(fault.Render, "the ComfyUI workflow's output node %s listed frames of different formats (%s, %s); check the workflow",
				r.e.wf.describe(r.e.output), images[0].Filename, f.Filename)
		}
		if _, err := r.fetch(ctx, f, fmt.Sprintf("frame_%05d", i)); err != nil {
			return "", err
		}
	}
	out := filepath.Join(r.dir, "frames.mp4")
	c := media.Conversion{In: filepath.Join(r.dir, "frame_%05d"+ext), InFPS: r.e.fps, Program: r.e.fin.FFmpeg}
	if err := media.Convert(ctx, c, out); err != nil {
		return "", err
	}
	return out, nil
}

// failure is the fault of a job that ended in error on the server.
func (r *render) failure(x *execError) error {
	where := "the workflow"
	if x.NodeID != "" {
		where = "node " + x.NodeID
		if x.NodeType != "" {
			where += " (" + x.NodeType + ")"
		}
	}
	cause := fmt.Errorf("%s in %s: %s", cmpOr(x.Type, "error"), where, x.Message)
	switch {
	case x.interrupted:
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the job was interrupted on the ComfyUI server %s in %s (was it cancelled there?); try again", r.srv.host, where), cause)
	case outOfMemory(x):
		return fault.Wrap(fault.Render, fmt.Sprintf("the ComfyUI server ran out of GPU memory in %s; try a lower resolution or a shorter duration", where), cause)
	}
	msg := firstLine(x.Message)
	if msg == "" {
		msg = cmpOr(x.Type, "an error")
	}
	return fault.Wrap(fault.Rejected, fmt.Sprintf("the ComfyUI workflow failed in %s: %s; try another image or prompt, or ask the operator to check the workflow", where, msg), cause)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// outOfMemory reports whether an execution error is the GPU running out
// of memory: the server's trouble, worth another try.
func outOfMemory(x *execError) bool {
	s := strings.ToLower(x.Type + " " + x.Message)
	return strings.Contains(s, "outofmemory") || strings.Contains(s, "out of memory") || strings.Contains(s, "allocation on device")
}

// serverFault reports whether a failed job failed for the server's
// reasons (interrupted, out of memory) rather than its input's: a
// resumed render queues such a job again.
func serverFault(x *execError) bool { return x != nil && (x.interrupted || outOfMemory(x)) }

// stop ends a render whose context ended. When the client cancelled the
// generation, the job is interrupted (running) or dequeued (pending) on
// the server, within a bounded time; for any other reason it is left for
// the next attempt to resume.
func (r *render) stop(ctx context.Context) error {
	if generation.Cancelled(ctx) && r.srv != nil && r.st.PromptID != "" {
		cctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		r.cancelJob(cctx)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "the generation ran out of time", ctx.Err())
	}
	return fault.Wrap(fault.Cancelled, "the generation was cancelled", ctx.Err())
}

// cancelJob interrupts or dequeues the job, one try each: the queue says
// which, since an interrupt that names no prompt (or one a server too
// old to read the name) stops whatever runs.
func (r *render) cancelJob(ctx context.Context) {
	e, s, id := r.e, r.srv, r.st.PromptID
	var q queueInfo
	if err := e.request(ctx, s, http.MethodGet, "/queue", nil, nil, &q, 0); err != nil {
		e.log.Warn("could not cancel the ComfyUI job", "server", s.host, "prompt", id, "err", err)
		return
	}
	running, pending := q.has(id)
	var err error
	switch {
	case running:
		err = e.request(ctx, s, http.MethodPost, "/interrupt", nil, jsonBody(map[string]string{"prompt_id": id}), nil, 0)
	case pending:
		err = e.request(ctx, s, http.MethodPost, "/queue", nil, jsonBody(map[string][]string{"delete": {id}}), nil, 0)
	}
	if err != nil {
		e.log.Warn("could not cancel the ComfyUI job", "server", s.host, "prompt", id, "err", err)
	}
}

// pick chooses the server for a new job: the one with the shortest queue
// (counting the renders of this engine about to queue there), skipping
// servers that do not answer. It retries with backoff while none does.
func (e *Engine) pick(ctx context.Context) (*server, error) {
	if len(e.servers) == 1 {
		e.mu.Lock()
		e.picks[e.servers[0]]++
		e.mu.Unlock()
		return e.servers[0], nil
	}
	for i := 0; ; i++ {
		lens := make([]int, len(e.servers))
		errs := make([]error, len(e.servers))
		var wg sync.WaitGroup
		for j, s := range e.servers {
			wg.Go(func() {
				var q queueInfo
				if errs[j] = e.request(ctx, s, http.MethodGet, "/queue", nil, nil, &q, min(e.timeout, 5*time.Second)); errs[j] == nil {
					lens[j] = len(q.Running) + len(q.Pending)
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e.mu.Lock()
		best := -1
		for j, s := range e.servers {
			if errs[j] != nil {
				continue
			}
			if best < 0 || lens[j]+e.picks[s] < lens[best]+e.picks[e.servers[best]] {
				best = j
			}
		}
		if best >= 0 {
			e.picks[e.servers[best]]++
			e.mu.Unlock()
			return e.servers[best], nil
		}
		e.mu.Unlock()
		if i >= e.retries {
			var hosts []string
			for j, s := range e.servers {
				hosts = append(hosts, fmt.Sprintf("%s (%s)", s.host, describe(errs[j])))
			}
			return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("none of the ComfyUI servers is answering: %s; check that they are running and reachable",
				strings.Join(hosts, ", ")), errors.Join(errs...))
		}
		e.log.Warn("no ComfyUI server answered; retrying", "try", i+1)
		if err := sleep(ctx, backoff(i)); err != nil {
			return nil, err
		}
	}
}

// unpick ends a pick: the job is in the server's queue now, or not at all.
func (e *Engine) unpick(s *server) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.picks[s]--; e.picks[s] <= 0 {
		delete(e.picks, s)
	}
}

// namespace is the UUID namespace of the prompt ids derived from
// generation ids.
var namespace = [16]byte{0x5b, 0x1e, 0x4f, 0x0a, 0x93, 0x2c, 0x4d, 0x61, 0x8e, 0x07, 0xc4, 0x3a, 0x71, 0xd2, 0x6b, 0x19}

// promptID is the prompt id of a generation's job: a UUID (version 5,
// the form ComfyUI accepts) derived from the generation id, so that every
// attempt names the same job; tries > 0 names the job queued again.
func promptID(generationID string, tries int) string {
	name := generationID
	if tries > 0 {
		name += "#" + strconv.Itoa(tries)
	}
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
