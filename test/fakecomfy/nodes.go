package fakecomfy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// input is one input of a node class, as ComfyUI's INPUT_TYPES declares
// it: a widget value (INT, FLOAT, STRING, BOOLEAN, a list of options) or a
// link type (IMAGE, LATENT, ...).
type input struct {
	name     string
	kind     string // INT, FLOAT, STRING, BOOLEAN, COMBO, or a link type
	min, max float64
	options  []string // for COMBO
	optional bool
}

// class is a node class the fake knows.
type class struct {
	inputs  []input
	returns []string
	output  bool // an OUTPUT_NODE: the prompt executes what it needs
}

func num(name, kind string, min, max float64) input {
	return input{name: name, kind: kind, min: min, max: max}
}

func link(name, kind string) input { return input{name: name, kind: kind} }

func text(name string) input { return input{name: name, kind: "STRING"} }

func combo(name string, options ...string) input {
	return input{name: name, kind: "COMBO", options: options}
}

func opt(in input) input { in.optional = true; return in }

// classes are the node classes of the workflows the fake runs: ComfyUI's
// core nodes for Wan, LTX-Video and HunyuanVideo image-to-video, and for
// Wan and HunyuanVideo text-to-video (EmptyHunyuanLatentVideo, whose
// inputs and ranges are those of comfy_extras/nodes_hunyuan.py; its step
// of 16 is a UI hint ComfyUI does not validate), and VideoHelperSuite's
// VHS_VideoCombine. Model files are free text: the fake has no model
// folders to list.
var classes = map[string]class{
	"LoadImage":        {inputs: []input{text("image"), opt(text("upload"))}, returns: []string{"IMAGE", "MASK"}},
	"CLIPLoader":       {inputs: []input{text("clip_name"), text("type"), opt(text("device"))}, returns: []string{"CLIP"}},
	"UNETLoader":       {inputs: []input{text("unet_name"), text("weight_dtype")}, returns: []string{"MODEL"}},
	"VAELoader":        {inputs: []input{text("vae_name")}, returns: []string{"VAE"}},
	"CLIPVisionLoader": {inputs: []input{text("clip_name")}, returns: []string{"CLIP_VISION"}},
	"CLIPVisionEncode": {inputs: []input{link("clip_vision", "CLIP_VISION"), link("image", "IMAGE"), opt(combo("crop", "none", "center"))}, returns: []string{"CLIP_VISION_OUTPUT"}},
	"CLIPTextEncode":   {inputs: []input{text("text"), link("clip", "CLIP")}, returns: []string{"CONDITIONING"}},
	"ModelSamplingSD3": {inputs: []input{link("model", "MODEL"), num("shift", "FLOAT", 0, 100)}, returns: []string{"MODEL"}},
	"WanImageToVideo": {inputs: []input{link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("vae", "VAE"),
		num("width", "INT", 16, 16384), num("height", "INT", 16, 16384), num("length", "INT", 1, 16384), num("batch_size", "INT", 1, 4096),
		opt(link("clip_vision_output", "CLIP_VISION_OUTPUT")), opt(link("start_image", "IMAGE"))},
		returns: []string{"CONDITIONING", "CONDITIONING", "LATENT"}},
	"LTXVImgToVideo": {inputs: []input{link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("vae", "VAE"), link("image", "IMAGE"),
		num("width", "INT", 64, 16384), num("height", "INT", 64, 16384), num("length", "INT", 9, 16384), num("batch_size", "INT", 1, 4096),
		opt(num("strength", "FLOAT", 0, 1))},
		returns: []string{"CONDITIONING", "CONDITIONING", "LATENT"}},
	"HunyuanImageToVideo": {inputs: []input{link("positive", "CONDITIONING"), link("vae", "VAE"),
		num("width", "INT", 16, 16384), num("height", "INT", 16, 16384), num("length", "INT", 1, 16384), num("batch_size", "INT", 1, 4096),
		opt(link("start_image", "IMAGE"))},
		returns: []string{"CONDITIONING", "LATENT"}},
	"EmptyHunyuanLatentVideo": {inputs: []input{num("width", "INT", 16, 16384), num("height", "INT", 16, 16384),
		num("length", "INT", 1, 16384), num("batch_size", "INT", 1, 4096)},
		returns: []string{"LATENT"}},
	"KSampler": {inputs: []input{link("model", "MODEL"), num("seed", "INT", 0, 1<<64-1), num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100),
		text("sampler_name"), text("scheduler"), link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("latent_image", "LATENT"),
		num("denoise", "FLOAT", 0, 1)},
		returns: []string{"LATENT"}},
	"KSamplerAdvanced": {inputs: []input{link("model", "MODEL"), combo("add_noise", "enable", "disable"), num("noise_seed", "INT", 0, 1<<64-1),
		num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100), text("sampler_name"), text("scheduler"),
		link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("latent_image", "LATENT"),
		num("start_at_step", "INT", 0, 10000), num("end_at_step", "INT", 0, 10000), combo("return_with_leftover_noise", "disable", "enable")},
		returns: []string{"LATENT"}},
	"VAEDecode": {inputs: []input{link("samples", "LATENT"), link("vae", "VAE")}, returns: []string{"IMAGE"}},
	"SaveAnimatedWEBP": {inputs: []input{link("images", "IMAGE"), text("filename_prefix"), num("fps", "FLOAT", 0.01, 1000),
		input{name: "lossless", kind: "BOOLEAN"}, num("quality", "INT", 0, 100), combo("method", "default", "fastest", "slowest")},
		output: true},
	"SaveWEBM": {inputs: []input{link("images", "IMAGE"), text("filename_prefix"), combo("codec", "vp9", "av1"), num("fps", "FLOAT", 0.01, 1000), num("crf", "FLOAT", 0, 63)},
		output: true},
	"CreateVideo": {inputs: []input{link("images", "IMAGE"), num("fps", "FLOAT", 1, 120), opt(link("audio", "AUDIO"))}, returns: []string{"VIDEO"}},
	"SaveVideo": {inputs: []input{link("video", "VIDEO"), text("filename_prefix"), combo("format", "auto", "mp4"), combo("codec", "auto", "h264")},
		output: true},
	"SaveImage": {inputs: []input{link("images", "IMAGE"), text("filename_prefix")}, output: true},
	"VHS_VideoCombine": {inputs: []input{link("images", "IMAGE"), num("frame_rate", "FLOAT", 1, 1000), num("loop_count", "INT", 0, 100),
		text("filename_prefix"), combo("format", "image/gif", "image/webp", "video/h264-mp4", "video/webm"),
		input{name: "pingpong", kind: "BOOLEAN"}, input{name: "save_output", kind: "BOOLEAN"},
		opt(text("pix_fmt")), opt(num("crf", "INT", 0, 100)), opt(input{name: "save_metadata", kind: "BOOLEAN"}),
		opt(input{name: "trim_to_audio", kind: "BOOLEAN"}), opt(link("audio", "AUDIO"))},
		output: true},
}

// node is one node of an API-format prompt.
type node struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
	Meta      struct {
		Title string `json:"title"`
	} `json:"_meta"`
}

// graph is an API-format prompt: node id → node.
type graph map[string]*node

// linkOf reports the node a link input ([node_id, slot]) points at.
func linkOf(v json.RawMessage) (id string, slot int, ok bool) {
	var l []json.RawMessage
	if json.Unmarshal(v, &l) != nil || len(l) != 2 {
		return "", 0, false
	}
	if json.Unmarshal(l[0], &id) != nil || json.Unmarshal(l[1], &slot) != nil {
		return "", 0, false
	}
	return id, slot, true
}

// apiError is the error object of ComfyUI's responses and node errors.
type apiError struct {
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Details   string         `json:"details"`
	ExtraInfo map[string]any `json:"extra_info"`
}

// nodeErrors are the node_errors of a /prompt response.
type nodeError struct {
	Errors           []apiError `json:"errors"`
	DependentOutputs []string   `json:"dependent_outputs"`
	ClassType        string     `json:"class_type"`
}

// validate checks a prompt as ComfyUI's validate_prompt does, for the
// classes the fake knows: it returns the output nodes to execute, or the
// error and node errors of a 400 response. exists reports whether an
// input file (LoadImage's image) was uploaded.
func (g graph) validate(exists func(name string) bool) (outputs []string, top *apiError, nodeErrs map[string]nodeError) {
	ids := slices.Sorted(maps.Keys(g))
	for _, id := range ids {
		n := g[id]
		if n == nil || n.ClassType == "" {
			return nil, &apiError{Type: "missing_node_type",
				Message:   fmt.Sprintf("Node 'ID #%s' has no class_type. The workflow may be corrupted or a custom node is missing.", id),
				Details:   fmt.Sprintf("Node ID '#%s'", id),
				ExtraInfo: map[string]any{"node_id": id, "class_type": nil, "node_title": nil}}, map[string]nodeError{}
		}
		c, ok := classes[n.ClassType]
		if !ok {
			title := n.Meta.Title
			if title == "" {
				title = n.ClassType
			}
			return nil, &apiError{Type: "missing_node_type",
				Message:   fmt.Sprintf("Node '%s' not found. The custom node may not be installed.", title),
				Details:   fmt.Sprintf("Node ID '#%s'", id),
				ExtraInfo: map[string]any{"node_id": id, "class_type": n.ClassType, "node_title": title}}, map[string]nodeError{}
		}
		if c.output {
			outputs = append(outputs, id)
		}
	}
	if len(outputs) == 0 {
		return nil, &apiError{Type: "prompt_no_outputs", Message: "Prompt has no outputs", ExtraInfo: map[string]any{}}, map[string]nodeError{}
	}
	nodeErrs = map[string]nodeError{}
	var lines []string
	var good []string
	for _, o := range outputs {
		bad := map[string][]apiError{}
		g.check(o, exists, map[string]bool{}, bad)
		if len(bad) == 0 {
			good = append(good, o)
			continue
		}
		for id, errs := range bad {
			ne, ok := nodeErrs[id]
			if !ok {
				ne = nodeError{Errors: errs, ClassType: g[id].ClassType}
				for _, e := range errs {
					lines = append(lines, e.Message+": "+e.Details)
				}
			}
			ne.DependentOutputs = append(ne.DependentOutputs, o)
			nodeErrs[id] = ne
		}
	}
	if len(good) == 0 {
		return nil, &apiError{Type: "prompt_outputs_failed_validation", Message: "Prompt outputs failed validation",
			Details: strings.Join(lines, "\n"), ExtraInfo: map[string]any{}}, nodeErrs
	}
	return good, nil, nodeErrs
}

// check validates node id and the nodes it links to, adding each node's
// errors to bad.
func (g graph) check(id string, exists func(string) bool, seen map[string]bool, bad map[string][]apiError) {
	if seen[id] {
		return
	}
	seen[id] = true
	n := g[id]
	c := classes[n.ClassType]
	var errs []apiError
	for _, in := range c.inputs {
		v, ok := n.Inputs[in.name]
		if !ok {
			if !in.optional {
				errs = append(errs, apiError{Type: "required_input_missing", Message: "Required input is missing",
					Details: in.name, ExtraInfo: map[string]any{"input_name": in.name}})
			}
			continue
		}
		if to, slot, isLink := linkOf(v); isLink {
			target, ok := g[to]
			if !ok {
				errs = append(errs, apiError{Type: "bad_linked_input", Message: "Bad linked input, the linked node does not exist",
					Details: fmt.Sprintf("%s: node %s", in.name, to), ExtraInfo: map[string]any{"input_name": in.name, "linked_node": []any{to, slot}}})
				continue
			}
			if r := classes[target.ClassType].returns; slot < 0 || slot >= len(r) {
				errs = append(errs, apiError{Type: "bad_linked_input", Message: "Bad linked input, the linked node has no such output",
					Details: fmt.Sprintf("%s: slot %d of node %s", in.name, slot, to), ExtraInfo: map[string]any{"input_name": in.name, "linked_node": []any{to, slot}}})
				continue
			}
			g.check(to, exists, seen, bad)
			continue
		}
		if e := in.checkValue(v); e != nil {
			errs = append(errs, *e)
			continue
		}
		if n.ClassType == "LoadImage" && in.name == "image" {
			var name string
			_ = json.Unmarshal(v, &name)
			if !exists(name) {
				errs = append(errs, apiError{Type: "custom_validation_failed", Message: "Custom validation failed for node",
					Details: "image - Invalid image file: " + name, ExtraInfo: map[string]any{"input_name": "image"}})
			}
		}
	}
	if len(errs) > 0 {
		bad[id] = errs
	}
}

// checkValue checks a widget value against the input's type and range.
func (in input) checkValue(v json.RawMessage) *apiError {
	invalid := func(what string) *apiError {
		return &apiError{Type: "invalid_input_type", Message: "Failed to convert an input value to a " + in.kind + " value",
			Details: fmt.Sprintf("%s, %s, %s", in.name, v, what), ExtraInfo: map[string]any{"input_name": in.name}}
	}
	switch in.kind {
	case "INT", "FLOAT":
		f, err := strconv.ParseFloat(string(bytes.Trim(bytes.TrimSpace(v), `"`)), 64)
		if err != nil {
			return invalid("not a number")
		}
		if f < in.min {
			return &apiError{Type: "value_smaller_than_min", Message: fmt.Sprintf("Value %v smaller than min of %v", f, in.min),
				Details: in.name, ExtraInfo: map[string]any{"input_name": in.name, "received_value": f}}
		}
		if f > in.max {
			return &apiError{Type: "value_bigger_than_max", Message: fmt.Sprintf("Value %v bigger than max of %v", f, in.max),
				Details: in.name, ExtraInfo: map[string]any{"input_name": in.name, "received_value": f}}
		}
	case "STRING":
		var s any
		if json.Unmarshal(v, &s) != nil {
			return invalid("not a value")
		}
	case "COMBO":
		var s string
		if json.Unmarshal(v, &s) != nil || !slices.Contains(in.options, s) {
			return &apiError{Type: "value_not_in_list", Message: "Value not in list",
				Details: fmt.Sprintf("%s: %s not in %v", in.name, v, in.options), ExtraInfo: map[string]any{"input_name": in.name, "received_value": string(v)}}
		}
	}
	return nil
}

// order returns the nodes that outputs need, each after the nodes it links
// to: the order the fake executes them in.
func (g graph) order(outputs []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		n := g[id]
		for _, name := range slices.Sorted(maps.Keys(n.Inputs)) {
			if to, _, ok := linkOf(n.Inputs[name]); ok {
				if _, exists := g[to]; exists {
					visit(to)
				}
			}
		}
		out = append(out, id)
	}
	for _, o := range outputs {
		visit(o)
	}
	return out
}

// str reads a literal string input of node id.
func (g graph) str(id, name string) string {
	var s string
	if n := g[id]; n != nil {
		_ = json.Unmarshal(n.Inputs[name], &s)
	}
	return s
}

// number reads a literal number input of node id (0 when absent).
func (g graph) number(id, name string) float64 {
	if n := g[id]; n != nil {
		f, _ := strconv.ParseFloat(string(bytes.Trim(bytes.TrimSpace(n.Inputs[name]), `"`)), 64)
		return f
	}
	return 0
}

// boolean reads a literal boolean input of node id.
func (g graph) boolean(id, name string, def bool) bool {
	if n := g[id]; n != nil {
		var b bool
		if json.Unmarshal(n.Inputs[name], &b) == nil {
			return b
		}
	}
	return def
}

// follow returns the node an input of node id links to, or "".
func (g graph) follow(id, name string) string {
	if n := g[id]; n != nil {
		if to, _, ok := linkOf(n.Inputs[name]); ok {
			if _, exists := g[to]; exists {
				return to
			}
		}
	}
	return ""
}

// textOf returns the text of the conditioning node id leads to: a
// CLIPTextEncode's text, through any conditioning nodes on the way.
func (g graph) textOf(id string) string {
	for range 16 { // a bound, in case of a cycle
		n := g[id]
		if n == nil {
			return ""
		}
		if n.ClassType == "CLIPTextEncode" {
			return g.str(id, "text")
		}
		next := ""
		for _, name := range []string{"positive", "conditioning", "conditioning_1", "conditioning_to"} {
			if next = g.follow(id, name); next != "" {
				break
			}
		}
		if next == "" {
			return ""
		}
		id = next
	}
	return ""
}

// classOf returns the first node (by id) of one of the classes, or "".
func (g graph) classOf(names ...string) string {
	for _, id := range slices.Sorted(maps.Keys(g)) {
		if slices.Contains(names, g[id].ClassType) {
			return id
		}
	}
	return ""
}
