package replicate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"stillmotion/internal/generation"
)

// The placeholders an input template may use, and the request field each
// one carries ("" for those every request has).
var placeholders = map[string]string{
	"image_url":       "",
	"image":           "",
	"prompt":          generation.FieldPrompt,
	"negative_prompt": generation.FieldNegativePrompt,
	"style":           generation.FieldStyle,
	"seed":            generation.FieldSeed,
	"width":           generation.FieldResolution,
	"height":          generation.FieldResolution,
	"resolution":      generation.FieldResolution,
	"duration":        generation.FieldDuration,
	"frames":          generation.FieldDuration,
	"fps":             "",
	"aspect_ratio":    generation.FieldAspectRatio,
}

// numeric are the placeholders whose value is a number: a template value
// that is exactly one of them is sent as a JSON number, which is what a
// model's schema asks for (a Cog model refuses "42" for an int input).
var numeric = map[string]bool{"seed": true, "width": true, "height": true, "duration": true, "frames": true, "fps": true}

// placeholderNames lists the placeholders, sorted, for error messages.
func placeholderNames() string {
	names := make([]string, 0, len(placeholders))
	for n := range placeholders {
		names = append(names, "{{"+n+"}}")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// A template is the input object sent to the model, parsed once at New:
// every string in it is split into literal text and placeholders.
type template struct {
	root node
	uses map[string]bool // the placeholders that appear
}

// node is one value of the template.
type node struct {
	kind  nodeKind
	lit   any      // literal scalars (numbers, bools, null)
	parts []part   // strings
	keys  []string // objects, sorted so the JSON is stable
	kids  []node   // object values (in keys order) or array items
}

type nodeKind uint8

const (
	literal nodeKind = iota
	text
	object
	array
)

// part is a run of literal text or one placeholder.
type part struct {
	lit  string
	name string // the placeholder, when set
}

// parseTemplate parses a decoded YAML (or JSON) input object.
func parseTemplate(input map[string]any) (*template, error) {
	t := &template{uses: map[string]bool{}}
	root, err := t.parse(input, "input")
	if err != nil {
		return nil, err
	}
	t.root = root
	return t, nil
}

func (t *template) parse(v any, path string) (node, error) {
	switch v := v.(type) {
	case string:
		parts, err := parseText(v)
		if err != nil {
			return node{}, fmt.Errorf("%s: %v", path, err)
		}
		for _, p := range parts {
			if p.name != "" {
				t.uses[p.name] = true
			}
		}
		return node{kind: text, parts: parts}, nil
	case map[string]any:
		n := node{kind: object}
		for k := range v {
			n.keys = append(n.keys, k)
		}
		sort.Strings(n.keys)
		for _, k := range n.keys {
			kid, err := t.parse(v[k], path+"."+k)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, kid)
		}
		return n, nil
	case map[any]any:
		// YAML maps with a non-string key decode this way; JSON keys are
		// strings, so they are written as YAML would print them.
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = x
		}
		return t.parse(m, path)
	case []any:
		n := node{kind: array}
		for i, x := range v {
			kid, err := t.parse(x, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, kid)
		}
		return n, nil
	case nil, bool, int, int64, uint64, float64, float32, uint, int32:
		return node{kind: literal, lit: v}, nil
	}
	return node{}, fmt.Errorf("%s: a value of type %T cannot be sent as JSON", path, v)
}

// parseText splits s into literal text and {{placeholders}} (spaces inside
// the braces are allowed). An unknown placeholder or an unclosed "{{" is
// an error, so that a typo is caught when the server starts rather than
// sent to the model as text.
func parseText(s string) ([]part, error) {
	var parts []part
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts = append(parts, part{lit: s})
			break
		}
		if i > 0 {
			parts = append(parts, part{lit: s[:i]})
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q has a {{ without its }}", s)
		}
		name := strings.TrimSpace(s[i+2 : i+2+j])
		if _, ok := placeholders[name]; !ok {
			return nil, fmt.Errorf("unknown placeholder {{%s}}; the placeholders are %s", name, placeholderNames())
		}
		parts = append(parts, part{name: name})
		s = s[i+2+j+2:]
	}
	return parts, nil
}

// values are what the placeholders stand for in one render.
type values map[string]any

// render builds the input object. A string that is exactly one
// placeholder takes the placeholder's own JSON type.
func (t *template) render(v values) any { return t.root.render(v) }

func (n node) render(v values) any {
	switch n.kind {
	case text:
		if len(n.parts) == 1 && n.parts[0].name != "" {
			return v[n.parts[0].name]
		}
		var b strings.Builder
		for _, p := range n.parts {
			if p.name == "" {
				b.WriteString(p.lit)
				continue
			}
			switch x := v[p.name].(type) {
			case string:
				b.WriteString(x)
			case int:
				b.WriteString(strconv.Itoa(x))
			case int64:
				b.WriteString(strconv.FormatInt(x, 10))
			case nil:
			default:
				fmt.Fprint(&b, x)
			}
		}
		return b.String()
	case object:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			if kid := n.kids[i]; kid.kind == text && len(kid.parts) == 1 && kid.parts[0].name != "" && v[kid.parts[0].name] == nil {
				// A placeholder with no value (no image for text to
				// video) leaves its key out rather than send "".
				continue
			}
			m[k] = n.kids[i].render(v)
		}
		return m
	case array:
		a := make([]any, len(n.kids))
		for i, k := range n.kids {
			a[i] = k.render(v)
		}
		return a
	}
	return n.lit
}

// fields are the request fields the template carries to the model, in
// generation.AllFields order; speech is always among them, since the
// Finisher adds it as a track when the model makes no audio.
func (t *template) fields() []string {
	have := map[string]bool{generation.FieldSpeech: true, generation.FieldSpeaker: true}
	for name := range t.uses {
		if f := placeholders[name]; f != "" {
			have[f] = true
		}
	}
	var out []string
	for _, f := range generation.AllFields {
		if have[f] {
			out = append(out, f)
		}
	}
	return out
}

// usesAny reports whether the template uses one of names.
func (t *template) usesAny(names ...string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return t.uses[n] })
}
