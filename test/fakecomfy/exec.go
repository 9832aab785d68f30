package fakecomfy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"stillmotion/internal/generation"
	"stillmotion/test/fakecomfy/picture"
)

// job is one queued prompt.
type job struct {
	number   float64
	id       string
	clientID string
	g        graph
	raw      json.RawMessage
	extra    map[string]any
	outputs  []string

	node        string // the node executing, under the server's lock
	cancelFn    context.CancelCauseFunc
	interrupted atomic.Bool
}

// errInterrupted is why a job stops on POST /interrupt.
var errInterrupted = errors.New("interrupted")

// item is the job as /queue and /history list it: [number, prompt_id,
// prompt, extra_data, outputs_to_execute].
func (j *job) item() []any { return []any{j.number, j.id, j.raw, j.extra, j.outputs} }

func (j *job) interrupt() {
	j.interrupted.Store(true)
	if j.cancelFn != nil {
		j.cancelFn(errInterrupted)
	}
}

func (j *job) cancel() {
	if j.cancelFn != nil {
		j.cancelFn(errClosed)
	}
}

// work runs the queue's prompts one at a time, in order.
func (s *Server) work() {
	defer s.stopped.Done()
	for {
		s.mu.Lock()
		select {
		case <-s.stop:
			s.mu.Unlock()
			return
		default:
		}
		var j *job
		var ctx context.Context
		if !s.paused && len(s.pending) > 0 {
			j = s.pending[0]
			s.pending = s.pending[1:]
			ctx, j.cancelFn = s.context()
			s.running = j
			s.statusLocked()
		}
		s.mu.Unlock()
		if j == nil {
			select {
			case <-s.stop:
				return
			case <-s.wake:
			}
			continue
		}
		s.execute(ctx, j)
		j.cancelFn(nil)
		s.mu.Lock()
		s.running = nil
		s.statusLocked()
		s.mu.Unlock()
	}
}

// run is the state of one execution: the messages ComfyUI keeps in the
// history's status, and the nodes' progress.
type run struct {
	s        *Server
	j        *job
	messages []any
	states   map[string]map[string]any
	executed []string
	ui       map[string]any
	meta     map[string]any
}

// add records a status message and sends it as ComfyUI's add_message
// does: to the prompt's client, or to everyone when it has none and the
// message is a broadcast.
func (r *run) add(event string, data map[string]any, broadcast bool) {
	data["timestamp"] = time.Now().UnixMilli()
	r.messages = append(r.messages, []any{event, data})
	if r.j.clientID != "" || broadcast {
		r.s.send(r.j.clientID, message(event, data))
	}
}

// state sends the progress_state message of newer ComfyUI versions.
func (r *run) state(node, state string, value, max float64) {
	r.states[node] = map[string]any{"value": value, "max": max, "state": state, "node_id": node, "prompt_id": r.j.id,
		"display_node_id": node, "parent_node_id": nil, "real_node_id": node}
	nodes := map[string]any{}
	for k, v := range r.states {
		nodes[k] = v
	}
	r.s.send(r.j.clientID, message("progress_state", map[string]any{"prompt_id": r.j.id, "nodes": nodes}))
}

// finish writes the prompt's history, then says it is done, in ComfyUI's
// order.
func (r *run) finish(ok bool) {
	status := "success"
	if !ok {
		status = "error"
	}
	entry, _ := json.Marshal(map[string]any{
		"prompt":  r.j.item(),
		"outputs": r.ui,
		"status":  map[string]any{"status_str": status, "completed": ok, "messages": r.messages},
		"meta":    r.meta,
	})
	s := r.s
	s.mu.Lock()
	if _, ok := s.history[r.j.id]; !ok {
		s.order = append(s.order, r.j.id)
	}
	s.history[r.j.id] = entry
	r.j.node = ""
	// As ComfyUI's task_done: the prompt leaves the queue as its history
	// is written, so that a client never sees it in both.
	if s.running == r.j {
		s.running = nil
	}
	s.mu.Unlock()
	s.send(r.j.clientID, message("executing", map[string]any{"node": nil, "prompt_id": r.j.id}))
}

// execute runs job j: it walks the nodes the outputs need, renders the
// video at the sampler, writes it at each output node, and reports as
// ComfyUI does.
func (s *Server) execute(ctx context.Context, j *job) {
	p := j.g.params(j.outputs)
	var sc Script
	if s.opts.Script != nil {
		sc = s.opts.Script(p.prompt)
	}
	delay := s.opts.StepDelay
	if sc.StepDelay > 0 {
		delay = sc.StepDelay
	}
	r := &run{s: s, j: j, states: map[string]map[string]any{}, ui: map[string]any{}, meta: map[string]any{}}
	dir, err := os.MkdirTemp(filepath.Join(s.dir, "temp"), "job-*")
	if err != nil {
		s.log.Error("temp dir", "err", err)
		return
	}
	defer os.RemoveAll(dir)
	r.add("execution_start", map[string]any{"prompt_id": j.id}, false)
	r.add("execution_cached", map[string]any{"nodes": []string{}, "prompt_id": j.id}, false)

	rd := &rendering{done: make(chan struct{})}
	var once sync.Once
	start := func() {
		once.Do(func() { go rd.run(ctx, s, dir, j.g, p) })
	}
	for _, id := range j.g.order(j.outputs) {
		if ctx.Err() != nil {
			r.stopped(ctx, id)
			return
		}
		s.mu.Lock()
		j.node = id
		s.mu.Unlock()
		s.send(j.clientID, message("executing", map[string]any{"node": id, "display_node": id, "prompt_id": j.id}))
		r.state(id, "running", 0, 1)
		class := j.g[id].ClassType
		if id == sc.FailNode {
			msg, typ := sc.FailMessage, sc.FailType
			if msg == "" {
				msg = "fake failure"
			}
			if typ == "" {
				typ = "RuntimeError"
			}
			r.failed(id, msg+"\n", typ)
			return
		}
		var err error
		switch {
		case class == "KSampler" || class == "KSamplerAdvanced":
			start()
			err = r.sample(ctx, id, rd, p.steps, delay)
		case classes[class].output:
			start()
			select {
			case <-rd.done:
				err = rd.err
			case <-ctx.Done():
				err = ctx.Err()
			}
			if err == nil {
				var ui map[string]any
				if ui, err = s.write(ctx, dir, j.g, id, rd.out, p); err == nil {
					r.ui[id] = ui
					r.meta[id] = map[string]any{"node_id": id, "display_node": id, "parent_node": nil, "real_node_id": id}
					s.send(j.clientID, message("executed", map[string]any{"node": id, "display_node": id, "output": ui, "prompt_id": j.id}))
				}
			}
		}
		if ctx.Err() != nil {
			r.stopped(ctx, id)
			return
		}
		if err != nil {
			r.failed(id, err.Error(), "RuntimeError")
			return
		}
		r.executed = append(r.executed, id)
		r.state(id, "finished", 1, 1)
	}
	r.add("execution_success", map[string]any{"prompt_id": j.id}, false)
	r.finish(true)
}

// stopped ends a run whose context ended: interrupted (it says so), or the
// server is closing (it says nothing).
func (r *run) stopped(ctx context.Context, node string) {
	if !errors.Is(context.Cause(ctx), errInterrupted) {
		return
	}
	r.add("execution_interrupted", map[string]any{"prompt_id": r.j.id, "node_id": node,
		"node_type": r.j.g[node].ClassType, "executed": slices.Clone(r.executed)}, true)
	r.finish(false)
}

// failed ends a run with an exception in node.
func (r *run) failed(node, msg, typ string) {
	r.add("execution_error", map[string]any{"prompt_id": r.j.id, "node_id": node, "node_type": r.j.g[node].ClassType,
		"executed": slices.Clone(r.executed), "exception_message": msg, "exception_type": typ,
		"traceback": []string{"  File \"execution.py\", line 1, in execute\n"}, "current_inputs": map[string]any{},
		"current_outputs": []string{}}, false)
	r.finish(false)
}

// sample reports a sampler's steps: each after delay, or, without one, as
// the render gets through its frames; then it waits for the render.
func (r *run) sample(ctx context.Context, node string, rd *rendering, steps int, delay time.Duration) error {
	for i := 1; i <= steps; i++ {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			for rd.progress() < float64(i)/float64(steps) {
				select {
				case <-rd.done:
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
					continue
				}
				break
			}
		}
		r.s.send(r.j.clientID, message("progress", map[string]any{"value": i, "max": steps, "prompt_id": r.j.id, "node": node}))
		r.state(node, "running", float64(i), float64(steps))
		if i == 1 {
			r.s.send(r.j.clientID, preview(previewJPEG))
		}
	}
	select {
	case <-rd.done:
		return rd.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// previewJPEG is the latent preview the sampler sends: a small gray image.
var previewJPEG = func() []byte {
	m := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range m.Pix {
		m.Pix[i] = 128
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, m, nil)
	return b.Bytes()
}()

// params are what a workflow asks to render, read from its nodes.
type params struct {
	image                 string // LoadImage's file; "" when there is none (text-to-video)
	prompt, negative      string
	seed                  uint64
	steps                 int
	width, height, length int
	fps                   float64
}

// params reads the render's parameters from the image-to-video node (or,
// in a text-to-video workflow, the empty latent video), the sampler,
// LoadImage and the output nodes.
func (g graph) params(outputs []string) params {
	p := params{steps: 20, fps: 16}
	toVideo := g.classOf("WanImageToVideo", "LTXVImgToVideo", "HunyuanImageToVideo")
	sampler := g.classOf("KSampler", "KSamplerAdvanced")
	size := toVideo
	if size == "" {
		size = g.classOf("EmptyHunyuanLatentVideo")
	}
	cond := toVideo
	if cond == "" {
		cond = sampler
	}
	if cond != "" {
		p.prompt = g.textOf(g.follow(cond, "positive"))
		if neg := g.follow(cond, "negative"); neg != "" {
			p.negative = g.textOf(neg)
		}
	}
	if sampler != "" {
		seed := g.number(sampler, "seed")
		if g[sampler].ClassType == "KSamplerAdvanced" {
			seed = g.number(sampler, "noise_seed")
		}
		p.seed = uint64(math.Max(0, seed))
		if st := int(g.number(sampler, "steps")); st > 0 {
			p.steps = st
		}
	}
	if size != "" {
		p.width, p.height, p.length = int(g.number(size, "width")), int(g.number(size, "height")), int(g.number(size, "length"))
	}
	if li := g.classOf("LoadImage"); li != "" {
		p.image = g.str(li, "image")
	}
	for _, o := range outputs {
		if f := g.fps(o); f > 0 {
			p.fps = f
			break
		}
	}
	return p
}

// fps is the frame rate output node id writes at.
func (g graph) fps(id string) float64 {
	switch g[id].ClassType {
	case "SaveAnimatedWEBP", "SaveWEBM":
		return g.number(id, "fps")
	case "VHS_VideoCombine":
		return g.number(id, "frame_rate")
	case "SaveVideo":
		if v := g.follow(id, "video"); v != "" {
			return g.number(v, "fps")
		}
	}
	return 0
}

// rendering is the built-in engine's render of a job, run once.
type rendering struct {
	done chan struct{}
	out  string
	err  error
	p    atomic.Uint64 // progress, as float64 bits
}

func (rd *rendering) progress() float64 { return math.Float64frombits(rd.p.Load()) }

func (rd *rendering) run(ctx context.Context, s *Server, dir string, g graph, p params) {
	defer close(rd.done)
	var img []byte
	if p.image == "" {
		// Text-to-video: the fake cannot paint from words, so it animates
		// a picture drawn from the prompt and seed, of the frame's shape.
		w, h := picture.Fit(p.width, p.height)
		img = picture.PNG(p.prompt, p.seed, w, h)
	} else {
		var err error
		if img, err = os.ReadFile(s.inputFile(p.image)); err != nil {
			rd.err = fmt.Errorf("[Errno 2] No such file or directory: %q", p.image)
			return
		}
	}
	seconds := 5.0
	if p.length > 0 && p.fps > 0 {
		seconds = float64(p.length) / p.fps
	}
	dur := 5
	if seconds > 5 {
		dur = 8
	}
	req := &generation.Request{Model: generation.Model, Prompt: p.prompt, NegativePrompt: p.negative,
		ImageURL:   "data:image/png;base64," + base64.StdEncoding.EncodeToString(img),
		Resolution: s.opts.Resolution, Duration: dur, Seed: int64(p.seed % (generation.MaxSeed + 1))}
	out := filepath.Join(dir, "render.mp4")
	_, err := s.opts.Engine.Render(ctx, &generation.Task{ID: generation.NewID(), Request: req, Out: out,
		Progress: func(v float64) { rd.p.Store(math.Float64bits(v)) }})
	if err != nil {
		rd.err = fmt.Errorf("rendering failed: %v", err)
		return
	}
	rd.out = out
}

// inputFile is the path of an input file named as LoadImage names it:
// "name.png", "sub/name.png", or with a " [type]" annotation.
func (s *Server) inputFile(name string) string {
	typ := "input"
	if i := strings.LastIndex(name, " ["); i >= 0 && strings.HasSuffix(name, "]") {
		name, typ = name[:i], name[i+2:len(name)-1]
	}
	dir := s.folder(typ, path.Dir(name))
	if dir == "" || strings.Contains(name, "..") {
		return ""
	}
	return filepath.Join(dir, path.Base(name))
}

// saved is one file an output node lists, as ComfyUI's SavedResult.
func saved(name, subfolder, typ string) map[string]any {
	return map[string]any{"filename": name, "subfolder": subfolder, "type": typ}
}

// prefix splits a filename_prefix ("video/ComfyUI") into its subfolder
// and file stem, and takes the next counter for it.
func (s *Server) prefix(p string) (subfolder, stem string, counter int) {
	p = strings.TrimLeft(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
	subfolder, stem = path.Dir(p), path.Base(p)
	if subfolder == "." {
		subfolder = ""
	}
	if stem == "" || stem == "." {
		stem = "ComfyUI"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters[p]++
	return subfolder, stem, s.counters[p]
}

// write makes output node id's file(s) from the rendered video src, at
// the workflow's frame size, length and rate, and returns the node's UI
// output as ComfyUI records it in the history.
func (s *Server) write(ctx context.Context, dir string, g graph, id, src string, p params) (map[string]any, error) {
	fps := g.fps(id)
	if fps <= 0 {
		fps = p.fps
	}
	frames := p.length
	if frames <= 0 {
		frames = int(math.Round(5 * fps))
	}
	size := "trunc(iw/2)*2:trunc(ih/2)*2"
	if p.width > 0 && p.height > 0 {
		size = fmt.Sprintf("%d:%d", p.width, p.height)
	}
	vf := fmt.Sprintf("fps=%g,scale=%s,tpad=stop_mode=clone:stop=-1", fps, size)
	subfolder, stem, counter := s.prefix(g.str(id, "filename_prefix"))
	typ := "output"
	var ui map[string]any
	var args []string
	var name string
	switch g[id].ClassType {
	case "SaveAnimatedWEBP":
		name = fmt.Sprintf("%s_%05d_.webp", stem, counter)
		lossless := "0"
		if g.boolean(id, "lossless", false) {
			lossless = "1"
		}
		args = []string{"-c:v", "libwebp_anim", "-loop", "0", "-lossless", lossless,
			"-quality", fmt.Sprint(g.number(id, "quality")), "-compression_level", "0"}
		ui = map[string]any{"images": []any{saved(name, subfolder, typ)}, "animated": []bool{true}}
	case "SaveWEBM":
		name = fmt.Sprintf("%s_%05d_.webm", stem, counter)
		args = vp9Args(g.number(id, "crf"))
		ui = map[string]any{"images": []any{saved(name, subfolder, typ)}, "animated": []bool{true}}
	case "SaveVideo":
		name = fmt.Sprintf("%s_%05d_.mp4", stem, counter)
		args = h264Args(23)
		ui = map[string]any{"images": []any{saved(name, subfolder, typ)}, "animated": []bool{true}}
	case "VHS_VideoCombine":
		if !g.boolean(id, "save_output", true) {
			typ = "temp"
		}
		format := g.str(id, "format")
		var ext string
		switch format {
		case "video/h264-mp4":
			ext, args = "mp4", h264Args(g.number(id, "crf"))
		case "video/webm":
			ext, args = "webm", vp9Args(g.number(id, "crf"))
		case "image/webp":
			ext, args = "webp", []string{"-c:v", "libwebp_anim", "-loop", fmt.Sprint(g.number(id, "loop_count")), "-compression_level", "0"}
		default:
			ext, args = "gif", []string{"-c:v", "gif", "-loop", fmt.Sprint(g.number(id, "loop_count"))}
		}
		name = fmt.Sprintf("%s_%05d.%s", stem, counter, ext)
		file := saved(name, subfolder, typ)
		file["format"], file["frame_rate"] = format, fps
		file["workflow"] = fmt.Sprintf("%s_%05d.png", stem, counter)
		file["fullpath"] = filepath.Join(s.folder(typ, subfolder), name)
		ui = map[string]any{"gifs": []any{file}}
	case "SaveImage":
		// One PNG per frame, counted on from the counter as ComfyUI does.
		out := s.folder(typ, subfolder)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.counters[path.Join(subfolder, stem)] += frames - 1
		s.mu.Unlock()
		pattern := filepath.Join(out, stem+"_%05d_.png")
		if err := s.ffmpeg(ctx, "-i", src, "-vf", vf, "-frames:v", fmt.Sprint(frames), "-an", "-start_number", fmt.Sprint(counter), pattern); err != nil {
			return nil, err
		}
		var images []any
		for i := range frames {
			images = append(images, saved(fmt.Sprintf("%s_%05d_.png", stem, counter+i), subfolder, typ))
		}
		return map[string]any{"images": images}, nil
	default:
		return nil, fmt.Errorf("the fake cannot write %s", g[id].ClassType)
	}
	out := s.folder(typ, subfolder)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, name)
	all := append([]string{"-i", src, "-vf", vf, "-frames:v", fmt.Sprint(frames), "-an"}, args...)
	if err := s.ffmpeg(ctx, append(all, tmp)...); err != nil {
		return nil, err
	}
	// The file appears whole, as a saved file does.
	if err := os.Rename(tmp, filepath.Join(out, name)); err != nil {
		return nil, err
	}
	return ui, nil
}

func h264Args(crf float64) []string {
	if crf <= 0 {
		crf = 19
	}
	return []string{"-c:v", "libx264", "-preset", "ultrafast", "-crf", fmt.Sprint(crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart"}
}

func vp9Args(crf float64) []string {
	if crf <= 0 {
		crf = 32
	}
	return []string{"-c:v", "libvpx-vp9", "-crf", fmt.Sprint(crf), "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"}
}

// ffmpeg runs the server's ffmpeg; its error carries ffmpeg's last words.
func (s *Server) ffmpeg(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.opts.FFmpeg, append([]string{"-hide_banner", "-nostats", "-loglevel", "error", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ffmpeg: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
