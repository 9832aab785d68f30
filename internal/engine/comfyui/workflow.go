package comfyui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// workflow is an API-format ComfyUI workflow: node id → node. It is read
// once; each render writes its values into a copy (build).
type workflow struct {
	name  string // the file's name, for messages
	nodes map[string]*wfNode
}

// wfNode is one node: its JSON object as the file has it (class_type,
// inputs, _meta, ...) and its inputs, decoded one level.
type wfNode struct {
	class  string
	raw    map[string]json.RawMessage
	inputs map[string]json.RawMessage
}

// exportHint says how to get the API format out of ComfyUI.
const exportHint = `export it from ComfyUI with Workflow → Export (API) ("Save (API Format)" in older versions, after enabling the dev mode options in the settings)`

// parseWorkflow reads an API-format workflow, telling the UI format (what
// ComfyUI's plain Save writes) apart with a message that says how to
// export the right one.
func parseWorkflow(name string, b []byte) (*workflow, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("workflow %s is not a JSON object (%v); %s", name, err, exportHint)
	}
	if isUIFormat(top) {
		return nil, fmt.Errorf(`workflow %s is in ComfyUI's UI format (it has "nodes" and "links"), not the API format this engine queues; %s`, name, exportHint)
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("workflow %s has no nodes; %s", name, exportHint)
	}
	w := &workflow{name: name, nodes: make(map[string]*wfNode, len(top))}
	for _, id := range slices.Sorted(maps.Keys(top)) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(top[id], &raw) != nil || raw == nil {
			return nil, fmt.Errorf("workflow %s: %q is not a node object; is this an API-format export? %s", name, id, exportHint)
		}
		n := &wfNode{raw: raw}
		if json.Unmarshal(raw["class_type"], &n.class) != nil || n.class == "" {
			return nil, fmt.Errorf("workflow %s: node %q has no class_type; is this an API-format export? %s", name, id, exportHint)
		}
		if v, ok := raw["inputs"]; ok && json.Unmarshal(v, &n.inputs) != nil {
			return nil, fmt.Errorf("workflow %s: the inputs of node %q (%s) are not an object", name, id, n.class)
		}
		if n.inputs == nil {
			n.inputs = map[string]json.RawMessage{}
		}
		w.nodes[id] = n
	}
	return w, nil
}

// isUIFormat reports whether a workflow file's top level is the UI
// format's: a node list and links instead of a node map.
func isUIFormat(top map[string]json.RawMessage) bool {
	nodes, ok := top["nodes"]
	if !ok {
		return false
	}
	if t := bytes.TrimSpace(nodes); len(t) > 0 && t[0] == '[' {
		return true
	}
	_, links := top["links"]
	_, last := top["last_node_id"]
	return links || last
}

// target is one node input a request field is written to.
type target struct{ node, input string }

func (t target) String() string { return t.node + "." + t.input }

// kind is what a mapped input holds.
type kind int

const (
	kindString kind = iota
	kindNumber
)

// describe names a node for messages: `50 (WanImageToVideo)`.
func (w *workflow) describe(id string) string {
	if n, ok := w.nodes[id]; ok {
		return fmt.Sprintf("%s (%s)", id, n.class)
	}
	return id
}

// list names every node, for messages that ask the operator to pick one.
func (w *workflow) list() string {
	ids := slices.SortedFunc(maps.Keys(w.nodes), byNumber)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = w.describe(id)
	}
	return strings.Join(names, ", ")
}

// byNumber orders node ids as numbers when they are ("9" before "10").
func byNumber(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

// resolve checks that spec ("NODE_ID.INPUT_NAME") names an input of the
// workflow that holds a value of kind k, not a link from another node.
func (w *workflow) resolve(field, spec string, k kind) (target, error) {
	id, in, ok := strings.Cut(strings.TrimSpace(spec), ".")
	if !ok || id == "" || in == "" {
		return target{}, fmt.Errorf(`inputs.%s: %q is not of the form "NODE_ID.INPUT_NAME" (like "6.text")`, field, spec)
	}
	n, ok := w.nodes[id]
	if !ok {
		return target{}, fmt.Errorf("inputs.%s: workflow %s has no node %q; its nodes are %s", field, w.name, id, w.list())
	}
	v, ok := n.inputs[in]
	if !ok {
		return target{}, fmt.Errorf("inputs.%s: node %s has no input %q; its inputs are %s", field, w.describe(id), in,
			strings.Join(slices.Sorted(maps.Keys(n.inputs)), ", "))
	}
	if from, _, isLink := linkOf(v); isLink {
		return target{}, fmt.Errorf("inputs.%s: input %s.%s is linked from node %s; map the input that holds the value instead (%s.…)",
			field, id, in, w.describe(from), from)
	}
	var s string
	var f float64
	switch {
	case k == kindString && json.Unmarshal(v, &s) != nil:
		return target{}, fmt.Errorf("inputs.%s: input %s.%s of node %s holds %s, not text", field, id, in, w.describe(id), clip(string(v)))
	case k == kindNumber && json.Unmarshal(v, &f) != nil:
		return target{}, fmt.Errorf("inputs.%s: input %s.%s of node %s holds %s, not a number", field, id, in, w.describe(id), clip(string(v)))
	}
	return target{id, in}, nil
}

// linkOf reports whether an input value is a link, [node_id, output_slot],
// and to which node.
func linkOf(v json.RawMessage) (node string, slot int, ok bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '[' {
		return "", 0, false
	}
	var l []json.RawMessage
	if json.Unmarshal(v, &l) != nil || len(l) != 2 {
		return "", 0, false
	}
	if json.Unmarshal(l[0], &node) != nil || json.Unmarshal(l[1], &slot) != nil {
		return "", 0, false
	}
	return node, slot, true
}

// number reads a numeric input (0, false when it is none).
func (w *workflow) number(t target) (float64, bool) {
	n, ok := w.nodes[t.node]
	if !ok {
		return 0, false
	}
	var f float64
	err := json.Unmarshal(n.inputs[t.input], &f)
	return f, err == nil
}

// ancestors returns node id and every node it needs, following links.
func (w *workflow) ancestors(id string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{id}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, ok := w.nodes[cur]
		if !ok || seen[cur] {
			continue
		}
		seen[cur] = true
		for _, v := range n.inputs {
			if from, _, ok := linkOf(v); ok {
				stack = append(stack, from)
			}
		}
	}
	return seen
}

// build returns the workflow with values written into their inputs, as
// the JSON object POST /prompt takes. The workflow itself is unchanged.
func (w *workflow) build(values map[target]any) (json.RawMessage, error) {
	edits := map[string]map[string]json.RawMessage{}
	for t, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if edits[t.node] == nil {
			edits[t.node] = map[string]json.RawMessage{}
		}
		edits[t.node][t.input] = b
	}
	out := make(map[string]json.RawMessage, len(w.nodes))
	for id, n := range w.nodes {
		e, ok := edits[id]
		if !ok {
			b, err := json.Marshal(n.raw)
			if err != nil {
				return nil, err
			}
			out[id] = b
			continue
		}
		inputs := maps.Clone(n.inputs)
		maps.Copy(inputs, e)
		raw := maps.Clone(n.raw)
		b, err := json.Marshal(inputs)
		if err != nil {
			return nil, err
		}
		raw["inputs"] = b
		if b, err = json.Marshal(raw); err != nil {
			return nil, err
		}
		out[id] = b
	}
	return json.Marshal(out)
}

// framesRule is how a model wants its frame count: k*n + r frames (Wan
// and HunyuanVideo take 4n+1, LTX-Video 8n+1). The zero rule takes any.
type framesRule struct{ k, r int }

// parseFramesRule reads "4n+1", "8n+1", "4n" or "" (any count).
func parseFramesRule(s string) (framesRule, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if s == "" {
		return framesRule{}, nil
	}
	bad := fmt.Errorf(`frames_rule %q: write it as "4n+1" (Wan, HunyuanVideo), "8n+1" (LTX-Video) or "4n"`, s)
	ks, rs, ok := strings.Cut(s, "n")
	k, err := strconv.Atoi(ks)
	if !ok || err != nil || k < 1 || k > 64 {
		return framesRule{}, bad
	}
	r := 0
	if rs != "" {
		digits, plus := strings.CutPrefix(rs, "+")
		if r, err = strconv.Atoi(digits); !plus || err != nil || r < 0 || r >= k {
			return framesRule{}, bad
		}
	}
	return framesRule{k, r}, nil
}

// frames returns the frame count for seconds at fps: the nearest count
// of the rule's form not shorter than asked.
func (f framesRule) frames(seconds, fps int) int {
	n := max(1, seconds*fps)
	if f.k <= 1 {
		return n
	}
	m := (n - f.r + f.k - 1) / f.k
	return max(1, m)*f.k + f.r
}

func (f framesRule) String() string {
	if f.k == 0 {
		return ""
	}
	return fmt.Sprintf("%dn+%d", f.k, f.r)
}

// frameSize returns the frame size for an image of w×h whose short side is
// short pixels: the image's aspect ratio, each side rounded to a multiple
// of m (latent video models work in blocks of 8 or 16 pixels, or 32 for
// LTX-Video; sizes between are refused or padded).
func frameSize(w, h, short, m int) (int, int) {
	if w <= 0 || h <= 0 {
		w, h = 16, 9
	}
	round := func(v float64) int { return max(m, int(math.Floor(v/float64(m)+0.5))*m) }
	if w >= h {
		return round(float64(short) * float64(w) / float64(h)), round(float64(short))
	}
	return round(float64(short)), round(float64(short) * float64(h) / float64(w))
}

// clip shortens a value for a message.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
