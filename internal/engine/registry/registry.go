// Package registry reads the engines file: the named engine instances this
// server renders with (the built-in renderer, an upstream AI/ML API, a
// ComfyUI workflow, a Replicate model or Cog container) and the model ids
// clients send, each routed to one of them.
//
// The file is YAML:
//
//	engines:                  # named engine instances; "builtin" always exists
//	  wan:
//	    kind: comfyui         # builtin, upstream, comfyui or replicate
//	    queue: gpu            # its render queue (render_gpu); default: its name
//	    concurrency: 2        # renders at once per worker process
//	    timeout: 30m          # bound of one attempt; default: --job-timeout
//	    prices: {per_second: {720p: 100000}, speech: 84000}
//	    url: http://127.0.0.1:8188
//	    ...                   # the kind's own settings
//	models:                   # model id -> engine name
//	  wan-2.2-i2v: wan
//
// String values may name environment variables as ${VAR}.
package registry

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"stillmotion/internal/billing"
	"stillmotion/internal/engine"
	"stillmotion/internal/engine/scripted"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
)

// Registry is the engines and routes of a server.
type Registry struct {
	// Engines are the engine instances by name; "builtin" is always there.
	Engines map[string]generation.Engine
	// Kinds are the engine instances' kinds by name.
	Kinds map[string]string
	// Routes are the models served, in the file's order.
	Routes []generation.Route
	// Queues say, for each render queue, how its jobs run.
	Queues map[string]Queue
}

// Queue is how one render queue's jobs run in a worker process.
type Queue struct {
	Concurrency int           // jobs at once; 0: the process's --workers
	Timeout     time.Duration // bound of one attempt; 0: --job-timeout
}

// Env is what engines are built with besides their entries: the
// configured built-in engine, and what remote engines share (Dir, the
// engines file's directory, is set by Load when empty).
type Env struct {
	Builtin generation.Engine
	engine.Remote
}

// Entry is one engine instance of the file.
type Entry struct {
	Name        string
	Kind        string
	Queue       string
	Concurrency int
	Timeout     time.Duration
	Prices      *billing.Prices
	Fields      []string // set when the file overrides the kind's fields
	settings    *yaml.Node
}

// Decode reads the kind's own settings into v (a pointer to a struct with
// yaml tags), refusing keys v does not have.
func (e *Entry) Decode(v any) error {
	b, err := yaml.Marshal(e.settings)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fault.E(fault.Invalid, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// A Kind builds engines of one kind from their entries, and says which
// request fields they honour.
type Kind func(e *Entry, env *Env) (eng generation.Engine, fields []string, err error)

// kinds are the engine kinds by name; the kinds' packages add themselves
// in kinds.go.
var kinds = map[string]Kind{}

// KindNames returns the known kinds, sorted.
func KindNames() []string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Default is the registry without an engines file: the built-in engine
// serves the family's models it can render. Every registry also has the
// scripted engine, which test generations rendered fast go to, on a queue
// of its own with room for many at once (they only wait).
func Default(env *Env) *Registry {
	return &Registry{
		Engines: map[string]generation.Engine{generation.BuiltinEngine: env.Builtin, generation.ScriptedEngine: &scripted.Engine{}},
		Kinds:   map[string]string{generation.BuiltinEngine: generation.BuiltinEngine, generation.ScriptedEngine: generation.ScriptedEngine},
		Routes:  generation.DefaultRoutes(),
		Queues: map[string]Queue{queue.For(generation.BuiltinEngine): {},
			queue.For(generation.ScriptedEngine): {Concurrency: ScriptedConcurrency}},
	}
}

// ScriptedConcurrency is how many scripted test generations a worker
// process runs at once.
const ScriptedConcurrency = 100

// Load reads the engines file at path and builds its engines. Relative
// paths in it are read from its directory unless env.Dir is set.
func Load(path string, env *Env) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, fmt.Sprintf("reading the engines file: %v", err), err)
	}
	e := *env
	if e.Dir == "" {
		e.Dir = filepath.Dir(path)
	}
	r, err := Parse(b, &e)
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, fmt.Sprintf("engines file %s: %s", path, fault.MessageOf(err)), err)
	}
	return r, nil
}

// file is the engines file's shape.
type file struct {
	Engines yaml.Node `yaml:"engines"`
	Models  yaml.Node `yaml:"models"`
}

// Parse builds a registry from an engines file's bytes.
func Parse(b []byte, env *Env) (*Registry, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fault.E(fault.Invalid, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := expand(&root); err != nil {
		return nil, err
	}
	var f file
	if err := root.Decode(&f); err != nil {
		return nil, fault.E(fault.Invalid, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := knownKeys(&root, "engines", "models"); err != nil {
		return nil, err
	}
	r := Default(env)
	r.Routes = nil
	entries, err := readEntries(&f.Engines)
	if err != nil {
		return nil, err
	}
	fields := map[string][]string{generation.BuiltinEngine: generation.AllFields}
	prices := map[string]*billing.Prices{}
	queues := map[string]string{generation.BuiltinEngine: generation.BuiltinEngine}
	delete(r.Queues, queue.For(generation.BuiltinEngine))
	for _, e := range entries {
		if e.Name == generation.ScriptedEngine || e.Queue == generation.ScriptedEngine {
			return nil, fault.Errorf(fault.Invalid, "engine %q: the name %q is kept for test generations; choose another", e.Name, generation.ScriptedEngine)
		}
		make, ok := kinds[e.Kind]
		if !ok {
			return nil, fault.Errorf(fault.Invalid, "engine %q: unknown kind %q; the kinds are %s", e.Name, e.Kind, strings.Join(KindNames(), ", "))
		}
		eng, fs, err := make(e, env)
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "engine %q (%s): %s", e.Name, e.Kind, fault.MessageOf(err))
		}
		if e.Fields != nil {
			fs = e.Fields
		}
		r.Engines[e.Name], r.Kinds[e.Name], fields[e.Name], prices[e.Name] = eng, e.Kind, fs, e.Prices
		q := queue.For(cmp.Or(e.Queue, e.Name))
		queues[e.Name] = cmp.Or(e.Queue, e.Name)
		old := r.Queues[q]
		r.Queues[q] = Queue{Concurrency: max(old.Concurrency, e.Concurrency), Timeout: max(old.Timeout, e.Timeout)}
	}
	if _, ok := r.Queues[queue.For(generation.BuiltinEngine)]; !ok && !slices.ContainsFunc(entries, func(e *Entry) bool { return e.Name == generation.BuiltinEngine }) {
		r.Queues[queue.For(generation.BuiltinEngine)] = Queue{}
	}
	if f.Models.Kind == 0 {
		return nil, fault.E(fault.Invalid, "no models: add a models section mapping the model ids clients send to engine names")
	}
	if f.Models.Kind != yaml.MappingNode {
		return nil, fault.Errorf(fault.Invalid, "line %d: models must map model ids to engine names", f.Models.Line)
	}
	for i := 0; i+1 < len(f.Models.Content); i += 2 {
		key, val := f.Models.Content[i], f.Models.Content[i+1]
		// The hosted samples' spelling of a model is the model.
		model := generation.Canonical(key.Value)
		if strings.TrimSpace(model) == "" {
			return nil, fault.Errorf(fault.Invalid, "line %d: an empty model id", key.Line)
		}
		m, err := readModel(val)
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "line %d: model %q: %s", val.Line, model, fault.MessageOf(err))
		}
		if _, ok := r.Engines[m.Engine]; !ok || m.Engine == generation.ScriptedEngine {
			return nil, fault.Errorf(fault.Invalid, "line %d: model %q names the engine %q, which is not defined; the engines are %s",
				val.Line, model, m.Engine, strings.Join(r.names(), ", "))
		}
		rt := generation.Route{Model: model, Engine: m.Engine, Queue: queues[m.Engine], Kind: r.Kinds[m.Engine], Fields: fields[m.Engine],
			Prices: cmp.Or(m.Prices, prices[m.Engine]), Like: m.Like}
		if m.Like != "" {
			if _, ok := generation.SchemaOf(m.Like); !ok {
				return nil, fault.Errorf(fault.Invalid, "line %d: model %q: like %q is not a hosted model; it is one of %s",
					val.Line, model, m.Like, strings.Join(hostedIDs(), ", "))
			}
		}
		can := serves[rt.Kind]
		if s, ok := r.Engines[m.Engine].(interface{ Serves() []generation.Kind }); ok {
			can = s.Serves() // what this instance's settings make of it
		}
		if sc := rt.Schema(); !slices.Contains(can, sc.Kind) {
			return nil, fault.Errorf(fault.Invalid, "line %d: model %q is a %s model, which the %s engine %q cannot render (it renders %s); route it to an engine that can",
				val.Line, model, sc.Kind, rt.Kind, m.Engine, kindList(can))
		}
		r.Routes = append(r.Routes, rt)
	}
	if len(r.Routes) == 0 {
		return nil, fault.E(fault.Invalid, "no models: add a models section mapping the model ids clients send to engine names")
	}
	return r, nil
}

// modelEntry is a model's entry under models: an engine's name, or a
// mapping that also says whose request schema the model takes and what
// it costs.
type modelEntry struct {
	Engine string          `yaml:"engine"`
	Like   string          `yaml:"like"`
	Prices *billing.Prices `yaml:"-"`
}

// readModel reads a model's entry.
func readModel(n *yaml.Node) (*modelEntry, error) {
	if n.Kind == yaml.ScalarNode {
		return &modelEntry{Engine: n.Value}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fault.E(fault.Invalid, "expected an engine name, or a mapping with engine (and like, prices)")
	}
	m := &modelEntry{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		var err error
		switch k {
		case "engine":
			err = v.Decode(&m.Engine)
		case "like":
			err = v.Decode(&m.Like)
		case "prices":
			m.Prices, err = readPrices(v)
		default:
			return nil, fault.Errorf(fault.Invalid, "unknown key %q; a model takes engine, like and prices", k)
		}
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "%s: %s", k, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if m.Engine == "" {
		return nil, fault.E(fault.Invalid, "no engine: name the engine that renders it")
	}
	return m, nil
}

func hostedIDs() []string {
	ids := make([]string, len(generation.Schemas))
	for i, s := range generation.Schemas {
		ids[i] = s.Model
	}
	return ids
}

func kindList(ks []generation.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func (r *Registry) names() []string {
	names := make([]string, 0, len(r.Engines))
	for n := range r.Engines {
		if n != generation.ScriptedEngine {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// knownKeys refuses top-level keys other than keys.
func knownKeys(root *yaml.Node, keys ...string) error {
	m := root
	if m.Kind == yaml.DocumentNode && len(m.Content) > 0 {
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return fault.E(fault.Invalid, "the engines file must be a mapping with engines and models")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; !slices.Contains(keys, k.Value) {
			return fault.Errorf(fault.Invalid, "line %d: unknown key %q; the file has %s", k.Line, k.Value, strings.Join(keys, " and "))
		}
	}
	return nil
}

// readEntries reads the engines section, in the file's order.
func readEntries(n *yaml.Node) ([]*Entry, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fault.Errorf(fault.Invalid, "line %d: engines must map engine names to their settings", n.Line)
	}
	var entries []*Entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		if !validName(name) {
			return nil, fault.Errorf(fault.Invalid, "line %d: engine name %q: use letters, digits, '-' and '_'", n.Content[i].Line, name)
		}
		if body.Kind != yaml.MappingNode {
			return nil, fault.Errorf(fault.Invalid, "line %d: engine %q must be a mapping with at least a kind", body.Line, name)
		}
		e, err := readEntry(name, body)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pricesEntry is the prices of an entry, as written in the file.
type pricesEntry struct {
	PerSecond   map[string]int64 `yaml:"per_second"`
	Speech      *int64           `yaml:"speech"`
	SpeechChunk int              `yaml:"speech_chunk"`
	PerVideo    int64            `yaml:"per_video"`
	Extras      map[string]int64 `yaml:"extras"`
}

// readPrices reads prices, the defaults filling in what is left out.
func readPrices(v *yaml.Node) (*billing.Prices, error) {
	var p pricesEntry
	if v.Kind == yaml.MappingNode {
		for i := 0; i < len(v.Content); i += 2 {
			if k := v.Content[i].Value; !slices.Contains([]string{"per_second", "speech", "speech_chunk", "per_video", "extras"}, k) {
				return nil, fmt.Errorf("unknown key %q; prices take per_second, speech, speech_chunk, per_video and extras", k)
			}
		}
	}
	if err := v.Decode(&p); err != nil {
		return nil, err
	}
	for name := range p.Extras {
		if name != "audio" && name != "multi_clip" {
			return nil, fmt.Errorf("unknown extra %q; the extras are audio and multi_clip", name)
		}
	}
	def := billing.Default()
	if p.PerSecond != nil {
		def.PerSecond = p.PerSecond
	}
	if p.Speech != nil {
		def.Speech = *p.Speech
	}
	if p.SpeechChunk > 0 {
		def.SpeechChunk = p.SpeechChunk
	}
	def.PerVideo, def.Extras = p.PerVideo, p.Extras
	return &def, nil
}

func readEntry(name string, body *yaml.Node) (*Entry, error) {
	e := &Entry{Name: name, settings: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}}
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := body.Content[i], body.Content[i+1]
		var err error
		switch k.Value {
		case "kind":
			err = v.Decode(&e.Kind)
		case "queue":
			err = v.Decode(&e.Queue)
			if err == nil && !validName(e.Queue) {
				err = fmt.Errorf("queue %q: use letters, digits, '-' and '_'", e.Queue)
			}
		case "concurrency":
			err = v.Decode(&e.Concurrency)
			if err == nil && e.Concurrency < 1 {
				err = fmt.Errorf("concurrency must be at least 1")
			}
		case "timeout":
			var s string
			if err = v.Decode(&s); err == nil {
				e.Timeout, err = time.ParseDuration(s)
				if err == nil && e.Timeout <= 0 {
					err = fmt.Errorf("timeout must be positive, like 30m")
				}
			}
		case "fields":
			err = v.Decode(&e.Fields)
			for _, f := range e.Fields {
				if err == nil && !slices.Contains(generation.AllFields, f) {
					err = fmt.Errorf("unknown field %q in fields; the fields are %s", f, strings.Join(generation.AllFields, ", "))
				}
			}
		case "prices":
			e.Prices, err = readPrices(v)
		default:
			e.settings.Content = append(e.settings.Content, k, v)
		}
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "line %d: engine %q: %s: %s", k.Line, name, k.Value, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if e.Kind == "" {
		return nil, fault.Errorf(fault.Invalid, "line %d: engine %q has no kind; the kinds are %s", body.Line, name, strings.Join(KindNames(), ", "))
	}
	return e, nil
}

// expand replaces ${VAR} in every string value with the environment's
// value, refusing unset variables.
func expand(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var missing []string
		n.Value = os.Expand(n.Value, func(v string) string {
			val, ok := os.LookupEnv(v)
			if !ok {
				missing = append(missing, v)
			}
			return val
		})
		if len(missing) > 0 {
			return fault.Errorf(fault.Invalid, "line %d: the environment variable %s is not set", n.Line, strings.Join(missing, ", "))
		}
		return nil
	}
	for _, c := range n.Content {
		if err := expand(c); err != nil {
			return err
		}
	}
	return nil
}

// Checker is an engine that can check its configuration and reach its
// server without rendering.
type Checker interface {
	Check(ctx context.Context) error
}

// Check checks every engine that can be checked, and returns one line per
// engine: its name, kind and "ok" or what is wrong.
func (r *Registry) Check(ctx context.Context) (lines []string, ok bool) {
	ok = true
	for _, name := range r.names() {
		status := "ok"
		if c, can := r.Engines[name].(Checker); can {
			if err := c.Check(ctx); err != nil {
				status, ok = fault.MessageOf(err), false
			}
		}
		lines = append(lines, fmt.Sprintf("engine %s (%s): %s", name, r.Kinds[name], status))
	}
	return lines, ok
}
