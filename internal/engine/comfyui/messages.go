package comfyui

import (
	"encoding/json"
	"path"
	"strings"
)

// event is a websocket message of ComfyUI's, as far as a render reads it.
type event struct {
	typ    string // progress, progress_state, executing, executed, execution_start, ...
	prompt string // its prompt_id; "" when it has none
	node   string // the node it is about; "" for executing's null: the prompt is done
	value  float64
	max    float64
	cached []string             // execution_cached: the nodes served from the cache
	states map[string]nodeState // progress_state: the nodes' progress
	err    *execError           // execution_error, execution_interrupted
}

// nodeState is one node's entry in a progress_state message.
type nodeState struct {
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
	State string  `json:"state"` // pending, running, finished, error
}

// execError is an execution_error's (or execution_interrupted's) data.
type execError struct {
	PromptID string `json:"prompt_id"`
	NodeID   string `json:"node_id"`
	NodeType string `json:"node_type"`
	Message  string `json:"exception_message"`
	Type     string `json:"exception_type"`
	// interrupted is set for execution_interrupted.
	interrupted bool
}

// parseEvent reads a text websocket message. ok is false for anything
// that is not a JSON object with a type; unknown types come back with
// just their type. Binary messages (latent previews) are not for it.
func parseEvent(b []byte) (ev event, ok bool) {
	var m struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(b, &m) != nil || m.Type == "" {
		return event{}, false
	}
	ev.typ = m.Type
	// Each field is read on its own, so that one of an unexpected type
	// (a newer server's) does not hide the others.
	var d map[string]json.RawMessage
	if json.Unmarshal(m.Data, &d) != nil {
		return ev, true
	}
	_ = json.Unmarshal(d["prompt_id"], &ev.prompt)
	switch m.Type {
	case "executing", "executed", "progress":
		ev.node = nodeID(d["node"])
		_ = json.Unmarshal(d["value"], &ev.value)
		_ = json.Unmarshal(d["max"], &ev.max)
	case "execution_cached":
		var nodes []json.RawMessage
		_ = json.Unmarshal(d["nodes"], &nodes)
		for _, n := range nodes {
			if id := nodeID(n); id != "" {
				ev.cached = append(ev.cached, id)
			}
		}
	case "progress_state":
		var states map[string]json.RawMessage
		_ = json.Unmarshal(d["nodes"], &states)
		ev.states = map[string]nodeState{}
		for id, raw := range states {
			var st nodeState
			if json.Unmarshal(raw, &st) == nil {
				ev.states[id] = st
			}
		}
	case "execution_error", "execution_interrupted":
		e := &execError{interrupted: m.Type == "execution_interrupted"}
		_ = json.Unmarshal(d["prompt_id"], &e.PromptID)
		e.NodeID = nodeID(d["node_id"])
		_ = json.Unmarshal(d["node_type"], &e.NodeType)
		_ = json.Unmarshal(d["exception_message"], &e.Message)
		_ = json.Unmarshal(d["exception_type"], &e.Type)
		ev.err = e
	}
	return ev, true
}

// nodeID reads a node id, a string in ComfyUI's messages (a number in
// some older ones); "" for null or anything else.
func nodeID(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}

// entry is a prompt's /history entry.
type entry struct {
	outputs map[string]map[string]json.RawMessage
	// status is "success" or "error"; "" from a server too old to say,
	// whose entry means success.
	status string
	err    *execError // what failed, when status is "error"
}

// parseHistory reads GET /history/{id}'s answer: nil when the prompt has
// no entry yet.
func parseHistory(b []byte, id string) (*entry, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	raw, ok := all[id]
	if !ok {
		return nil, nil
	}
	var h struct {
		Outputs map[string]json.RawMessage `json:"outputs"`
		Status  *struct {
			StatusStr string            `json:"status_str"`
			Completed bool              `json:"completed"`
			Messages  []json.RawMessage `json:"messages"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	e := &entry{outputs: map[string]map[string]json.RawMessage{}}
	for node, raw := range h.Outputs {
		var o map[string]json.RawMessage
		if json.Unmarshal(raw, &o) == nil {
			e.outputs[node] = o
		}
	}
	if h.Status == nil {
		return e, nil
	}
	e.status = h.Status.StatusStr
	if e.status == "" && !h.Status.Completed {
		e.status = "error"
	}
	if e.status != "error" {
		return e, nil
	}
	// The status messages are [event, data] pairs; the last error or
	// interruption says why the prompt failed.
	for _, m := range h.Status.Messages {
		var pair []json.RawMessage
		if json.Unmarshal(m, &pair) != nil || len(pair) != 2 {
			continue
		}
		var name string
		_ = json.Unmarshal(pair[0], &name)
		if name != "execution_error" && name != "execution_interrupted" {
			continue
		}
		msg, _ := json.Marshal(map[string]json.RawMessage{"type": pair[0], "data": pair[1]})
		if ev, ok := parseEvent(msg); ok && ev.err != nil {
			e.err = ev.err
		}
	}
	if e.err == nil {
		e.err = &execError{Message: "the workflow failed"}
	}
	return e, nil
}

// outFile is one file an output node lists.
type outFile struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// folder is the file's folder type, as /view takes it.
func (f outFile) folder() string {
	if f.Type == "" {
		return "output"
	}
	return f.Type
}

// files returns the files node lists in the entry: videos (under
// "videos", or "gifs" as VideoHelperSuite lists its videos) before
// images (under "images": an animated WebP or PNG, a SaveVideo's file, or
// one image per frame).
func (e *entry) files(node string) (videos, images []outFile) {
	o := e.outputs[node]
	read := func(key string) []outFile {
		var raw []json.RawMessage
		_ = json.Unmarshal(o[key], &raw)
		var fs []outFile
		for _, r := range raw {
			var f outFile
			if json.Unmarshal(r, &f) == nil && f.Filename != "" && !strings.ContainsAny(f.Filename, "/\\") {
				fs = append(fs, f)
			}
		}
		return fs
	}
	videos = append(read("videos"), read("gifs")...)
	return videos, read("images")
}

// isStill reports whether a file is a still image format (one frame of a
// frame sequence) rather than a video or an animation.
func isStill(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

// samplerShare is the part of a render's progress the sampler steps make:
// the rest is spread over the other nodes (loading models, encoding,
// decoding), which report no steps.
const samplerShare = 0.85

// weigh gives each node the output needs its part of the progress:
// the samplers share most of it.
func weigh(w *workflow, needs map[string]bool) map[string]float64 {
	var samplers, others int
	for id := range needs {
		if isSampler(w.nodes[id].class) {
			samplers++
		} else {
			others++
		}
	}
	weights := map[string]float64{}
	for id := range needs {
		switch {
		case samplers == 0:
			weights[id] = 1 / float64(others)
		case isSampler(w.nodes[id].class):
			weights[id] = samplerShare / float64(samplers)
		case others > 0:
			weights[id] = (1 - samplerShare) / float64(others)
		}
	}
	return weights
}

// isSampler reports whether a node class samples (KSampler,
// KSamplerAdvanced, SamplerCustomAdvanced, custom video samplers), the
// nodes that report steps. KSamplerSelect only names a sampler.
func isSampler(class string) bool {
	return strings.Contains(strings.ToLower(class), "sampler") && !strings.HasSuffix(class, "Select")
}

// tracker turns a prompt's messages into its progress, 0..1.
type tracker struct {
	weights map[string]float64
	done    map[string]float64 // each node's progress, 0..1
	current string             // the node executing
}

func newTracker(weights map[string]float64) *tracker {
	return &tracker{weights: weights, done: map[string]float64{}}
}

// set raises node's progress to f (a node's progress never goes back:
// a second sampler pass counts as its own node only by id).
func (t *tracker) set(node string, f float64) {
	if f > 1 {
		f = 1
	}
	if _, ok := t.weights[node]; ok && f > t.done[node] {
		t.done[node] = f
	}
}

// apply reads one of the prompt's messages.
func (t *tracker) apply(ev event) {
	switch ev.typ {
	case "execution_cached":
		for _, n := range ev.cached {
			t.set(n, 1)
		}
	case "executing":
		// A server re-announces the running node to a client that
		// reconnects: only another node means this one is done.
		if t.current != "" && ev.node != t.current {
			t.set(t.current, 1)
		}
		t.current = ev.node
		if ev.node == "" {
			for n := range t.weights {
				t.set(n, 1)
			}
		}
	case "executed":
		t.set(ev.node, 1)
	case "progress":
		if ev.max > 0 {
			node := ev.node
			if node == "" {
				node = t.current
			}
			t.set(node, ev.value/ev.max)
		}
	case "progress_state":
		for n, st := range ev.states {
			switch {
			case st.State == "finished":
				t.set(n, 1)
			case st.Max > 0:
				t.set(n, st.Value/st.Max)
			}
		}
	case "execution_success":
		for n := range t.weights {
			t.set(n, 1)
		}
	}
}

// fraction is how far the prompt is, 0..1.
func (t *tracker) fraction() float64 {
	var f float64
	for n, w := range t.weights {
		f += w * t.done[n]
	}
	return min(1, f)
}

// firstLine returns the first non-empty line of an exception message,
// shortened: enough to tell a user what failed.
func firstLine(s string) string {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if r := []rune(l); len(r) > 300 {
				return string(r[:300]) + "…"
			}
			return l
		}
	}
	return ""
}
