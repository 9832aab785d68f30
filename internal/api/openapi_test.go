package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"stillmotion/internal/generation"
)

// The tests here prove that openapi.json and the handlers agree: every
// route registered in Handler() is documented and every documented route
// is served; the enums are the generation package's; every golden response
// in testdata/ validates against the schema the document gives for its
// route and status.

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	disk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, openAPIDocument) {
		t.Fatal("the embedded document differs from openapi.json")
	}
	v, err := decodeJSON(disk)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	doc, ok := v.(map[string]any)
	if !ok || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json is not an OpenAPI 3.1.0 document")
	}
	return doc
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the top-level value")
	}
	return v, nil
}

// muxRoute is a pattern registered in Handler(), found in the source.
type muxRoute struct {
	pattern string
	authed  bool // registered through s.authed or s.workerAuthed
	limited bool // registered through s.authed: rate-limited
}

// sourceRoutes reads the package's non-test sources and evaluates the
// pattern of every mux.Handle and mux.HandleFunc call: string literals,
// package constants (and those of package workerproto), + and range
// variables over string slice literals.
func sourceRoutes(t *testing.T) []muxRoute {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]ast.Expr{}
	var parsed []*ast.File
	proto, err := filepath.Glob("../workerproto/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(files, proto...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "api" {
			parsed = append(parsed, f)
		}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, sp := range gd.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							consts[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	ranges := map[string]ast.Expr{}
	var eval func(e ast.Expr) []string
	eval = func(e ast.Expr) []string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(e.Value); err == nil {
				return []string{s}
			}
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok && x.Name == "workerproto" {
				return eval(e.Sel)
			}
		case *ast.Ident:
			if x, ok := ranges[e.Name]; ok {
				if cl, ok := x.(*ast.CompositeLit); ok {
					var out []string
					for _, el := range cl.Elts {
						out = append(out, eval(el)...)
					}
					return out
				}
			}
			if x, ok := consts[e.Name]; ok {
				return eval(x)
			}
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				var out []string
				for _, a := range eval(e.X) {
					for _, b := range eval(e.Y) {
						out = append(out, a+b)
					}
				}
				return out
			}
		}
		t.Fatalf("cannot evaluate the route pattern %s", types(fset, e))
		return nil
	}
	var routes []muxRoute
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.RangeStmt:
				if id, ok := n.Value.(*ast.Ident); ok {
					ranges[id.Name] = n.X
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(n.Args) != 2 {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "mux" {
					return true
				}
				authed, limited := false, false
				if c, ok := n.Args[1].(*ast.CallExpr); ok {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok {
						authed, limited = s.Sel.Name == "authed" || s.Sel.Name == "workerAuthed", s.Sel.Name == "authed"
					}
				}
				for _, p := range eval(n.Args[0]) {
					routes = append(routes, muxRoute{p, authed, limited})
				}
			}
			return true
		})
	}
	if len(routes) == 0 {
		t.Fatal("found no routes in the sources")
	}
	return routes
}

func types(fset *token.FileSet, e ast.Expr) string {
	return fmt.Sprintf("%T at %s", e, fset.Position(e.Pos()))
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// docOperation is a documented method and path.
type docOperation struct {
	method, path string // "GET", "/v1/videos/{id}"
	op           map[string]any
}

func docOperations(doc map[string]any) []docOperation {
	var ops []docOperation
	for path, item := range doc["paths"].(map[string]any) {
		for _, m := range httpMethods {
			if op, ok := item.(map[string]any)[m].(map[string]any); ok {
				ops = append(ops, docOperation{strings.ToUpper(m), path, op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

// muxPattern is the ServeMux pattern a documented operation is served by:
// the path as written, but a trailing {path} (the rest of the path) is the
// prefix pattern ending in "/", and "/" alone is "/{$}".
func (o docOperation) muxPattern() string {
	if o.path == "/" {
		return o.method + " /{$}"
	}
	return o.method + " " + strings.TrimSuffix(o.path, "{path}")
}

func TestOpenAPIRoutesMatchHandler(t *testing.T) {
	doc := loadOpenAPI(t)
	src := sourceRoutes(t)
	ops := docOperations(doc)
	byPattern := map[string]docOperation{}
	for _, o := range ops {
		byPattern[o.muxPattern()] = o
	}
	registered := map[string]bool{}
	for _, r := range src {
		registered[r.pattern] = true
		o, ok := byPattern[r.pattern]
		if !ok {
			t.Errorf("route %q is registered in Handler() but not in openapi.json", r.pattern)
			continue
		}
		sec, own := o.op["security"].([]any)
		public := own && len(sec) == 0
		if r.authed == public {
			t.Errorf("%s: authed=%v in the code, but the document says security=%v", r.pattern, r.authed, o.op["security"])
		}
		if r.authed {
			codes := []string{"401", "500"}
			if r.limited {
				codes = append(codes, "429")
			}
			for _, code := range codes {
				if _, ok := o.op["responses"].(map[string]any)[code]; !ok {
					t.Errorf("%s: an authenticated route can answer %s; the document does not say so", r.pattern, code)
				}
			}
		}
	}
	for _, o := range ops {
		if !registered[o.muxPattern()] {
			t.Errorf("openapi.json documents %s %s; Handler() registers no such route", o.method, o.path)
		}
	}

	// The running handler routes every documented operation to the pattern
	// the document maps it to.
	b := setup(t)
	b.api.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	var got string
	b.api.ObserveRequest = func(route string, status int, elapsed time.Duration) { got = route }
	b.handler = b.api.Handler()
	for _, o := range ops {
		path := strings.NewReplacer("{id}", "x", "{path}", "x/y").Replace(o.path)
		got = ""
		w := b.do(t, call{o.method, path, "", "", ""})
		if got != o.muxPattern() {
			t.Errorf("%s %s is served by route %q (status %d), want %q", o.method, path, got, w.Code, o.muxPattern())
		}
	}
	t.Logf("%d routes registered, %d documented operations", len(src), len(ops))
}

// servedAll are routes serving every hosted model, so that ParseRequest
// judges each body by its model's schema (without an engines file the
// text-to-video models are not served, a fact the schema cannot know).
func servedAll() []generation.Route {
	var rs []generation.Route
	for _, sc := range generation.Schemas {
		rs = append(rs, generation.Route{Model: sc.Model, Engine: "e", Kind: "upstream", Fields: generation.AllFields})
	}
	return rs
}

// requestBranch returns the schema GenerationRequest's discriminator maps
// the model id to.
func requestBranch(t *testing.T, doc map[string]any, model string) map[string]any {
	t.Helper()
	gen := deref(doc, map[string]any{"$ref": "#/components/schemas/GenerationRequest"})
	d, _ := gen["discriminator"].(map[string]any)
	target, ok := d["mapping"].(map[string]any)[model].(string)
	if !ok {
		t.Fatalf("GenerationRequest's discriminator does not map %s", model)
	}
	return deref(doc, map[string]any{"$ref": target})
}

// sampleValues are values of the required request fields that
// ParseRequest accepts.
var sampleValues = map[string]any{
	"prompt":               "A fox runs through the snow.",
	"image_url":            "https://example.com/a.png",
	"tail_image_url":       "https://example.com/b.png",
	"video_url":            "https://example.com/talk.mp4",
	"audio_url":            "https://example.com/speech.wav",
	"lip_sync_tts_content": "Hello there.",
}

// minimalBody is a body of model sc with only the fields its schema in the
// document requires (and, for a lip-sync, extra).
func minimalBody(t *testing.T, branch map[string]any, sc generation.Schema, extra ...string) map[string]any {
	t.Helper()
	body := map[string]any{}
	req, _ := branch["required"].([]any)
	for _, f := range append(req, toAny(extra)...) {
		name := f.(string)
		if name == "model" {
			body[name] = sc.Model
			continue
		}
		v, ok := sampleValues[name]
		if !ok {
			t.Fatalf("%s requires %s, which has no sample value", sc.Model, name)
		}
		body[name] = v
	}
	return body
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// TestOpenAPIEnumsMatchGeneration checks the document's request schemas
// against the generation package's: one schema per hosted model with
// exactly the fields the model takes, its durations, the enums, limits
// and defaults.
func TestOpenAPIEnumsMatchGeneration(t *testing.T) {
	doc := loadOpenAPI(t)
	schema := func(name string) map[string]any {
		t.Helper()
		s, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("no schema %s", name)
		}
		return s
	}
	// prop returns the property field of s, its $ref followed; the
	// property's own keywords (a description beside a $ref) are ignored.
	prop := func(s map[string]any, what, field string) map[string]any {
		t.Helper()
		p, ok := s["properties"].(map[string]any)[field].(map[string]any)
		if !ok {
			t.Fatalf("%s has no property %s", what, field)
		}
		return deref(doc, p)
	}
	same := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		gv, _ := decodeJSON(g)
		w, _ := json.Marshal(want)
		wv, _ := decodeJSON(w)
		if !jsonEqual(gv, wv) {
			t.Errorf("%s = %v in openapi.json, want %v", what, got, wv)
		}
	}
	var ids []string
	for _, sc := range generation.Schemas {
		ids = append(ids, sc.Model)
	}

	gen := schema("GenerationRequest")
	same("GenerationRequest.model.enum", prop(gen, "GenerationRequest", "model")["enum"], ids)
	same("GenerationRequest.required", gen["required"], []string{"model"})
	disc, _ := gen["discriminator"].(map[string]any)
	same("GenerationRequest.discriminator.propertyName", disc["propertyName"], "model")
	if m, _ := disc["mapping"].(map[string]any); len(m) != len(generation.Schemas) {
		t.Errorf("GenerationRequest's discriminator maps %d models, want the %d hosted ones", len(m), len(generation.Schemas))
	}
	for _, sc := range generation.Schemas {
		b := requestBranch(t, doc, sc.Model)
		what := "GenerationRequest[" + sc.Model + "]"
		has := func(field string) bool { _, ok := b["properties"].(map[string]any)[field]; return ok }

		// Exactly the fields the model takes: the others of the family are
		// ignored with a warning, so the schema leaves them unconstrained.
		var got []string
		for f := range b["properties"].(map[string]any) {
			got = append(got, f)
		}
		want := sc.Fields()
		sort.Strings(got)
		sort.Strings(want)
		same(what+" properties", got, want)
		same(what+".model.const", prop(b, what, "model")["const"], sc.Model)
		same(what+".title", b["title"], sc.Model)

		same(what+".prompt.maxLength", propOr(b, doc, "prompt", "maxLength"), ifTakes(has("prompt"), generation.MaxPrompt))
		same(what+".negative_prompt.maxLength", propOr(b, doc, "negative_prompt", "maxLength"), ifTakes(has("negative_prompt"), generation.MaxPrompt))
		same(what+".lip_sync_tts_content.maxLength", propOr(b, doc, "lip_sync_tts_content", "maxLength"), ifTakes(has("lip_sync_tts_content"), generation.MaxSpeech))
		same(what+".lip_sync_tts_speaker.enum", propOr(b, doc, "lip_sync_tts_speaker", "enum"), ifTakes(has("lip_sync_tts_speaker"), generation.Speakers))
		same(what+".style.enum", propOr(b, doc, "style", "enum"), ifTakes(has("style"), generation.Styles))
		same(what+".resolution.enum", propOr(b, doc, "resolution", "enum"), ifTakes(has("resolution"), generation.Resolutions))
		same(what+".aspect_ratio.enum", propOr(b, doc, "aspect_ratio", "enum"), ifTakes(has("aspect_ratio"), generation.AspectRatios))
		same(what+".thinking_type.enum", propOr(b, doc, "thinking_type", "enum"), ifTakes(has("thinking_type"), generation.ThinkingTypes))
		same(what+".duration.enum", propOr(b, doc, "duration", "enum"), ifTakes(len(sc.Durations) > 0, sc.Durations))
		same(what+".seed.minimum", prop(b, what, "seed")["minimum"], 0)
		same(what+".seed.maximum", prop(b, what, "seed")["maximum"], generation.MaxSeed)
		same(what+".callback_url.maxLength", prop(b, what, "callback_url")["maxLength"], generation.MaxCallbackURL)
		if has("lip_sync_tts_speaker") {
			same(what+".dependentRequired", b["dependentRequired"], map[string][]string{"lip_sync_tts_speaker": {"lip_sync_tts_content"}})
		}
		if len(sc.Durations) > 0 {
			same(what+" 1080p rule", []any{b["if"], b["then"]}, []any{
				map[string]any{"required": []string{"resolution"}, "properties": map[string]any{"resolution": map[string]any{"const": "1080p"}}},
				map[string]any{"properties": map[string]any{"duration": map[string]any{"const": 5}}},
			})
		}

		// Every default the document gives is what ParseRequest fills in
		// for a body without the field.
		extra := []string{}
		if sc.Kind == generation.LipSync {
			extra = append(extra, "audio_url")
		}
		body, _ := json.Marshal(minimalBody(t, b, sc, extra...))
		r, err := generation.ParseRequest(body, servedAll()...)
		if err != nil {
			t.Fatalf("%s: the minimal body %s: %v", what, body, err)
		}
		parsed, _ := json.Marshal(r)
		pv, _ := decodeJSON(parsed)
		for field := range b["properties"].(map[string]any) {
			def, ok := prop(b, what, field)["default"]
			if !ok {
				continue
			}
			got, ok := pv.(map[string]any)[field]
			if !ok && def == false {
				got, ok = false, true // omitempty
			}
			if !ok || !jsonEqual(got, def) {
				t.Errorf("%s.%s: default %v in openapi.json, ParseRequest fills in %v", what, field, def, got)
			}
		}
	}

	// GET /v2/models.
	entry := schema("ModelList")["properties"].(map[string]any)["data"].(map[string]any)["items"].(map[string]any)
	var kinds []string
	fields := map[string]bool{}
	for _, sc := range generation.Schemas {
		if !slices.Contains(kinds, string(sc.Kind)) {
			kinds = append(kinds, string(sc.Kind))
		}
		for _, f := range sc.Fields() {
			fields[f] = true
		}
	}
	same("ModelList.kind.enum", prop(entry, "ModelList", "kind")["enum"], kinds)
	same("ModelList.schema.enum", prop(entry, "ModelList", "schema")["enum"], ids)
	var docFields []string
	for _, f := range prop(entry, "ModelList", "fields")["items"].(map[string]any)["enum"].([]any) {
		docFields = append(docFields, f.(string))
	}
	sort.Strings(docFields)
	same("ModelList.fields.items.enum", docFields, slices.Sorted(maps.Keys(fields)))

	// /v1: the fields passed through, and seconds from the durations of
	// the models /v1 maps to.
	for _, s := range []string{"CreateVideoRequest", "CreateVideoMultipart"} {
		cs := schema(s)
		same(s+".style.enum", prop(cs, s, "style")["enum"], generation.Styles)
		same(s+".lip_sync_tts_speaker.enum", prop(cs, s, "lip_sync_tts_speaker")["enum"], generation.Speakers)
		same(s+".seed.minimum", prop(cs, s, "seed")["minimum"], 0)
		same(s+".seed.maximum", prop(cs, s, "seed")["maximum"], generation.MaxSeed)
	}
	cv := schema("CreateVideoRequest")
	same("CreateVideoRequest.prompt.maxLength", prop(cv, "", "prompt")["maxLength"], generation.MaxPrompt)
	same("CreateVideoRequest.negative_prompt.maxLength", prop(cv, "", "negative_prompt")["maxLength"], generation.MaxPrompt)
	same("CreateVideoRequest.lip_sync_tts_content.maxLength", prop(cv, "", "lip_sync_tts_content")["maxLength"], generation.MaxSpeech)
	var durations []int
	lengthless := false
	for _, sc := range generation.Schemas {
		if sc.Kind == generation.ImageToVideo || sc.Kind == generation.TextToVideo {
			durations = append(durations, sc.Durations...)
		}
		lengthless = lengthless || len(sc.Durations) == 0
	}
	slices.Sort(durations)
	var secs []string
	for _, d := range slices.Compact(durations) {
		secs = append(secs, strconv.Itoa(d))
	}
	same("CreateVideoRequest.seconds.enum", prop(cv, "", "seconds")["enum"], secs)
	same("CreateVideoMultipart.seconds.enum", prop(schema("CreateVideoMultipart"), "", "seconds")["enum"], secs)
	if lengthless {
		// A lip-sync made on v2 is listed on /v1 too, with seconds "0".
		secs = append(secs, "0")
	}
	vo := schema("VideoObject")
	same("VideoObject.seconds.enum", prop(vo, "VideoObject", "seconds")["enum"], secs)
	if e, ok := prop(vo, "VideoObject", "model")["enum"]; ok {
		t.Errorf("VideoObject.model.enum = %v: it is any served model id, custom ones included", e)
	}
	// A test generation's preset may also say waiting and active.
	statuses := []string{string(generation.Queued), string(generation.Generating), string(generation.Completed), string(generation.Failed), "succeeded", "waiting", "active"}
	same("Generation.status.enum", prop(schema("Generation"), "Generation", "status")["enum"], statuses)
}

// propOr returns the keyword key of the property field of the schema s,
// nil when s has no such property.
func propOr(s, doc map[string]any, field, key string) any {
	p, ok := s["properties"].(map[string]any)[field].(map[string]any)
	if !ok {
		return nil
	}
	return deref(doc, p)[key]
}

// ifTakes is v when the model takes the field, else nil (no property).
func ifTakes(takes bool, v any) any {
	if !takes {
		return nil
	}
	return v
}

// TestOpenAPIRequestSchema checks the request schema on bodies of every
// model that the code accepts and refuses: ParseRequest and the schema
// must agree on each.
func TestOpenAPIRequestSchema(t *testing.T) {
	doc := loadOpenAPI(t)
	gen := map[string]any{"$ref": "#/components/schemas/GenerationRequest"}
	const (
		v5   = `"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png"`
		v55  = `"model":"pixverse/v5.5/image-to-video","prompt":"p","image_url":"https://example.com/a.png"`
		tr   = `"model":"pixverse/v5/transition","prompt":"p","image_url":"https://example.com/a.png","tail_image_url":"https://example.com/b.png"`
		t2v  = `"model":"pixverse/v5/text-to-video","prompt":"p"`
		t2v5 = `"model":"pixverse/v5.5/text-to-video","prompt":"p"`
		ls   = `"model":"pixverse/lip-sync","video_url":"https://example.com/talk.mp4"`
	)
	long := strings.Repeat("a", generation.MaxSpeech+1)
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		// pixverse/v5/image-to-video
		{validBody, true},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/p.jpg","resolution":"1080p","seed":1,"lip_sync_tts_content":"Hello","lip_sync_tts_speaker":"Chloe"}`, true},
		{`{` + v5 + `,"resolution":"1080p","duration":5}`, true},
		{`{` + v5 + `,"duration":8,"callback_url":"https://example.com/hook","unknown":{"x":[1]}}`, true},
		{`{` + v5 + `,"generate_audio_switch":"yes","thinking_type":7,"tail_image_url":false,"aspect_ratio":"2:1"}`, true}, // not v5's: ignored, unchecked
		{`{` + v5 + `,"resolution":"1080p","duration":8}`, false},
		{`{` + v5 + `,"duration":10}`, false},
		{`{` + v5 + `,"lip_sync_tts_speaker":"Ava"}`, false},
		{`{` + v5 + `,"lip_sync_tts_content":"` + long + `"}`, false},
		{`{` + v5 + `,"seed":2147483648}`, false},
		{`{"model":"pixverse/v5/image-to-video","prompt":"   ","image_url":"https://example.com/a.png"}`, false},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p"}`, false},
		{`{"model":"pixverse/v4","prompt":"","image_url":7,"resolution":"4k","duration":10,"style":"pixar","seed":-1,"lip_sync_tts_speaker":"Bob"}`, false},
		{`{"prompt":"p","image_url":"https://example.com/a.png"}`, false},
		// pixverse/v5.5/image-to-video
		{`{` + v55 + `}`, true},
		{`{` + v55 + `,"duration":10,"resolution":"720p","generate_audio_switch":true,"generate_multi_clip_switch":true,"thinking_type":"auto","style":"clay","seed":0}`, true},
		{`{` + v55 + `,"lip_sync_tts_content":5,"lip_sync_tts_speaker":"Bob"}`, true}, // not v5.5's: ignored, unchecked
		{`{` + v55 + `,"resolution":"1080p","duration":10}`, false},
		{`{` + v55 + `,"thinking_type":"on"}`, false},
		{`{` + v55 + `,"generate_audio_switch":"true"}`, false},
		{`{` + v55 + `,"generate_multi_clip_switch":1}`, false},
		{`{` + v55 + `,"duration":12}`, false},
		// pixverse/v5/transition
		{`{` + tr + `}`, true},
		{`{` + tr + `,"duration":8,"resolution":"540p","lip_sync_tts_content":"Hi","negative_prompt":""}`, true},
		{`{` + tr + `,"resolution":"1080p","duration":8}`, false},
		{`{"model":"pixverse/v5/transition","prompt":"p","image_url":"https://example.com/a.png"}`, false},
		{`{"model":"pixverse/v5/transition","prompt":"p","tail_image_url":"https://example.com/b.png"}`, false},
		{`{` + tr + `,"tail_image_url":""}`, false},
		// pixverse/v5/text-to-video
		{`{` + t2v + `}`, true},
		{`{` + t2v + `,"aspect_ratio":"9:16","duration":8,"lip_sync_tts_content":"Hi","lip_sync_tts_speaker":"Auto"}`, true},
		{`{` + t2v + `,"image_url":7}`, true}, // not text-to-video's: ignored, unchecked
		{`{` + t2v + `,"aspect_ratio":"2:1"}`, false},
		{`{` + t2v + `,"duration":10}`, false},
		{`{` + t2v + `,"resolution":"1080p","duration":8}`, false},
		{`{"model":"pixverse/v5/text-to-video"}`, false},
		// pixverse/v5.5/text-to-video
		{`{` + t2v5 + `}`, true},
		{`{` + t2v5 + `,"aspect_ratio":"1:1","duration":10,"resolution":"540p","thinking_type":"disabled","generate_audio_switch":false}`, true},
		{`{` + t2v5 + `,"resolution":"1080p","duration":8}`, false},
		{`{` + t2v5 + `,"aspect_ratio":"16:10"}`, false},
		{`{"model":"pixverse/v5.5/text-to-video","prompt":""}`, false},
		// pixverse/lip-sync
		{`{` + ls + `,"audio_url":"https://example.com/speech.wav"}`, true},
		{`{` + ls + `,"audio_url":"data:audio/wav;base64,UklGRg=="}`, true},
		{`{` + ls + `,"lip_sync_tts_content":"Hello"}`, true},
		{`{` + ls + `,"lip_sync_tts_content":"Hello","lip_sync_tts_speaker":"Harper","seed":7,"callback_url":"https://example.com/hook"}`, true},
		{`{` + ls + `,"audio_url":"https://example.com/speech.wav","prompt":7,"resolution":"4k","duration":99,"image_url":false}`, true}, // not lip-sync's: ignored, unchecked
		{`{` + ls + `,"audio_url":"https://example.com/speech.wav","lip_sync_tts_content":"Hello"}`, false},
		{`{` + ls + `,"audio_url":"https://example.com/speech.wav","lip_sync_tts_speaker":"Harper"}`, false},
		{`{` + ls + `,"lip_sync_tts_speaker":"Harper"}`, false},
		{`{` + ls + `}`, false},
		{`{` + ls + `,"lip_sync_tts_content":"` + long + `"}`, false},
		{`{` + ls + `,"audio_url":"https://example.com/speech.wav","seed":-1}`, false},
		{`{` + ls + `,"audio_url":""}`, false},
		{`{"model":"pixverse/lip-sync","audio_url":"https://example.com/speech.wav"}`, false},
	} {
		v, err := decodeJSON([]byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		_, parseErr := generation.ParseRequest([]byte(tc.body), servedAll()...)
		if (parseErr == nil) != tc.ok {
			t.Fatalf("test case wrong: ParseRequest(%s) = %v", tc.body, parseErr)
		}
		if errs := validate(doc, gen, v, "body"); (len(errs) == 0) != tc.ok {
			t.Errorf("GenerationRequest on %s: errors %v, want ok=%v", tc.body, errs, tc.ok)
		}
	}

	// The schema is stricter than the server on a few forms it does not
	// advertise: a duration as a numeric string, a null for an absent field.
	for _, body := range []string{
		`{` + v5 + `,"duration":"8"}`,
		`{` + v55 + `,"seed":null,"thinking_type":null}`,
		`{` + ls + `,"audio_url":null,"lip_sync_tts_content":"Hello"}`,
	} {
		v, _ := decodeJSON([]byte(body))
		if _, err := generation.ParseRequest([]byte(body), servedAll()...); err != nil {
			t.Errorf("ParseRequest(%s) = %v; the server takes it", body, err)
		}
		if errs := validate(doc, gen, v, "body"); len(errs) == 0 {
			t.Errorf("GenerationRequest on %s: accepted; the schema does not advertise this form", body)
		}
	}

	// For every model, the body of just the fields the document requires
	// is accepted by both, and without any one of them refused by both.
	for _, sc := range generation.Schemas {
		b := requestBranch(t, doc, sc.Model)
		var extras [][]string
		if sc.Kind == generation.LipSync {
			extras = [][]string{{"audio_url"}, {"lip_sync_tts_content"}}
		} else {
			extras = [][]string{nil}
		}
		for _, extra := range extras {
			body := minimalBody(t, b, sc, extra...)
			check := func(body map[string]any, ok bool) {
				t.Helper()
				raw, _ := json.Marshal(body)
				v, _ := decodeJSON(raw)
				_, err := generation.ParseRequest(raw, servedAll()...)
				if (err == nil) != ok {
					t.Errorf("ParseRequest(%s) = %v, want ok=%v", raw, err, ok)
				}
				if errs := validate(doc, gen, v, "body"); (len(errs) == 0) != ok {
					t.Errorf("GenerationRequest on %s: errors %v, want ok=%v", raw, errs, ok)
				}
			}
			check(body, true)
			for f := range body {
				without := maps.Clone(body)
				delete(without, f)
				check(without, false)
			}
		}
	}

	v, _ := decodeJSON([]byte(videoBody))
	if errs := validate(doc, map[string]any{"$ref": "#/components/schemas/CreateVideoRequest"}, v, "body"); len(errs) > 0 {
		t.Errorf("CreateVideoRequest on %s: %v", videoBody, errs)
	}
}

// goldenRoutes says which documented operation answered each golden file.
// An empty path means no route matched: the body must then be the error
// shape named by method ("Error" or "OpenAIError").
var goldenRoutes = map[string][2]string{
	"cancel_generating_legacy":              {"DELETE", legacyPath},
	"cancel_queued":                         {"DELETE", universalPath},
	"error_1080p_8s":                        {"POST", universalPath},
	"error_lipsync_both":                    {"POST", universalPath},
	"error_lipsync_none":                    {"POST", universalPath},
	"error_lipsync_video_not_video":         {"POST", universalPath},
	"error_text_to_video_not_served":        {"POST", universalPath},
	"error_transition_fields":               {"POST", universalPath},
	"error_transition_no_tail":              {"POST", universalPath},
	"error_v55_fields":                      {"POST", universalPath},
	"submit_lipsync_audio":                  {"POST", universalPath},
	"submit_lipsync_text":                   {"POST", universalPath},
	"submit_transition":                     {"POST", universalPath},
	"submit_v55":                            {"POST", universalPath},
	"submit_v55_dashed":                     {"POST", universalPath},
	"error_bad_data_uri":                    {"POST", universalPath},
	"error_bad_image_url_scheme":            {"POST", universalPath},
	"error_cancel_already_cancelled":        {"DELETE", universalPath},
	"error_cancel_completed":                {"DELETE", universalPath},
	"error_cancel_missing_id":               {"DELETE", universalPath},
	"error_cancel_unknown_id":               {"DELETE", universalPath},
	"error_draining":                        {"POST", universalPath},
	"error_insufficient_credits":            {"POST", universalPath},
	"error_internal":                        {"POST", universalPath},
	"error_invalid_fields":                  {"POST", universalPath},
	"error_malformed_json":                  {"POST", universalPath},
	"error_method_not_allowed":              {"Error", ""},
	"error_method_healthz":                  {"Error", ""},
	"error_method_worker_part":              {"Error", ""},
	"error_no_key":                          {"POST", universalPath},
	"error_poll_missing_id":                 {"GET", universalPath},
	"error_poll_unknown_id":                 {"GET", universalPath},
	"error_rate_limited":                    {"GET", universalPath},
	"error_in_flight":                       {"POST", universalPath},
	"error_too_large":                       {"POST", universalPath},
	"error_unknown_key":                     {"POST", universalPath},
	"error_unknown_route":                   {"Error", ""},
	"error_unspeakable_text":                {"POST", universalPath},
	"error_unsupported_media":               {"POST", universalPath},
	"file_error_deleted":                    {"GET", "/files/{path}"},
	"file_error_expired_url":                {"GET", "/files/{path}"},
	"healthz":                               {"GET", "/healthz"},
	"models":                                {"GET", "/v2/models"},
	"test_submit_hosted":                    {"POST", universalPath},
	"test_poll_hosted":                      {"GET", universalPath},
	"test_requests":                         {"GET", "/v2/test/requests"},
	"test_error_script":                     {"POST", universalPath},
	"test_error_real_key_script":            {"POST", universalPath},
	"test_error_real_key_requests":          {"GET", "/v2/test/requests"},
	"test_reset":                            {"DELETE", "/v2/test/requests"},
	"balance":                               {"GET", "/v1/billing/balance"},
	"worker_lease":                          {"POST", "/v2/worker/leases"},
	"worker_heartbeat":                      {"POST", "/v2/worker/leases/{id}/heartbeat"},
	"worker_part_good":                      {"PUT", "/v2/worker/leases/{id}/output/{part}"},
	"worker_part_wrong_hash":                {"PUT", "/v2/worker/leases/{id}/output/{part}"},
	"worker_error_complete_again":           {"POST", "/v2/worker/leases/{id}/complete"},
	"balance_unlimited":                     {"GET", "/v1/billing/balance"},
	"voices":                                {"GET", "/v2/voices"},
	"error_voice_unknown":                   {"GET", "/v2/voices/{id}/preview"},
	"error_voice_auto":                      {"GET", "/v2/voices/{id}/preview"},
	"models_openai":                         {"GET", "/v1/models"},
	"v1_error_models_no_key":                {"GET", "/v1/models"},
	"idem_error_bad_key":                    {"POST", universalPath},
	"idem_error_other_body":                 {"POST", universalPath},
	"idem_first":                            {"POST", universalPath},
	"idem_replayed":                         {"POST", universalPath},
	"idem_replayed_legacy":                  {"POST", legacyPath},
	"list_empty":                            {"GET", listPath},
	"list_error_limit":                      {"GET", listPath},
	"list_error_unknown_after":              {"GET", listPath},
	"list_first_page":                       {"GET", listPath},
	"list_last_page":                        {"GET", listPath},
	"submit_wait_completed":                 {"POST", universalPath},
	"submit_wait_timeout":                   {"POST", universalPath},
	"v1_idem_error_other_body":              {"POST", videosPath},
	"v1_idem_first":                         {"POST", videosPath},
	"v1_idem_replayed":                      {"POST", videosPath},
	"poll_completed":                        {"GET", universalPath},
	"poll_completed_legacy":                 {"GET", legacyPath},
	"poll_error":                            {"GET", universalPath},
	"poll_generating":                       {"GET", legacyPath},
	"poll_queued":                           {"GET", universalPath},
	"poll_succeeded":                        {"GET", universalPath},
	"poll_succeeded_legacy_stays_completed": {"GET", legacyPath},
	"readyz":                                {"GET", "/readyz"},
	"submit_data_uri":                       {"POST", universalPath},
	"submit_legacy":                         {"POST", legacyPath},
	"submit_no_content_type":                {"POST", universalPath},
	"submit_speech_1080p":                   {"POST", universalPath},
	"submit_universal":                      {"POST", universalPath},
	"v1_create_json":                        {"POST", videosPath},
	"v1_create_multipart_file":              {"POST", videosPath},
	"v1_create_multipart_image_url":         {"POST", videosPath},
	"v1_delete_completed":                   {"DELETE", videosPath + "/{id}"},
	"v1_delete_in_progress":                 {"DELETE", videosPath + "/{id}"},
	"v1_error_bad_image":                    {"POST", videosPath},
	"v1_error_content_not_ready":            {"GET", videosPath + "/{id}/content"},
	"v1_error_deleted":                      {"GET", videosPath + "/{id}"},
	"v1_error_file_id":                      {"POST", videosPath},
	"v1_error_insufficient_credits":         {"POST", videosPath},
	"v1_error_invalid_fields":               {"POST", videosPath},
	"v1_error_list_query":                   {"GET", videosPath},
	"v1_error_malformed_json":               {"POST", videosPath},
	"v1_error_method":                       {"OpenAIError", ""},
	"v1_error_no_key":                       {"POST", videosPath},
	"v1_error_unknown_id":                   {"GET", videosPath + "/{id}"},
	"v1_error_variant":                      {"GET", videosPath + "/{id}/content"},
	"v1_list_after_asc":                     {"GET", videosPath},
	"v1_list_after_delete":                  {"GET", videosPath},
	"v1_list_empty":                         {"GET", videosPath},
	"v1_list_page":                          {"GET", videosPath},
	"v1_retrieve_completed":                 {"GET", videosPath + "/{id}"},
	"v1_retrieve_failed":                    {"GET", videosPath + "/{id}"},
	"v1_retrieve_in_progress":               {"GET", videosPath + "/{id}"},
	"v1_retrieve_queued":                    {"GET", videosPath + "/{id}"},
}

// dumpedHeaders are the headers dump() writes into golden files.
var dumpedHeaders = []string{"Content-Type", "Allow", "Retry-After", "X-Inference-Id", "X-Aimlapi-Credits-Used", "X-Aimlapi-Usd-Spent", "Idempotent-Replayed", "Preference-Applied", "X-Request-Id"}

func TestOpenAPIGoldenResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".golden")
		t.Run(name, func(t *testing.T) {
			route, ok := goldenRoutes[name]
			if !ok {
				t.Fatalf("%s is not in goldenRoutes (openapi_test.go): say which route answered it", file)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			status, headers, body := parseGolden(t, string(raw))
			// The lifecycle tests stand a placeholder for a real-clock time.
			body = strings.ReplaceAll(body, `"<the time it ended>"`, "1795514400")
			v, err := decodeJSON([]byte(body))
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if route[1] == "" {
				if status != 404 && status != 405 {
					t.Errorf("an unrouted request answered %d", status)
				}
				schema := map[string]any{"$ref": "#/components/schemas/" + route[0]}
				for _, e := range validate(doc, schema, v, "body") {
					t.Error(e)
				}
				return
			}
			item, ok := doc["paths"].(map[string]any)[route[1]].(map[string]any)
			if !ok {
				t.Fatalf("openapi.json has no path %s", route[1])
			}
			op, ok := item[strings.ToLower(route[0])].(map[string]any)
			if !ok {
				t.Fatalf("openapi.json has no %s %s", route[0], route[1])
			}
			resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
			if !ok {
				t.Fatalf("%s %s answered %d; openapi.json does not document that status", route[0], route[1], status)
			}
			resp = deref(doc, resp)
			ct := headers["Content-Type"]
			mt, _, _ := strings.Cut(ct, ";")
			media, ok := resp["content"].(map[string]any)[mt].(map[string]any)
			if !ok {
				t.Fatalf("%s %s %d: Content-Type %q is not documented", route[0], route[1], status, ct)
			}
			for _, e := range validate(doc, media["schema"], v, "body") {
				t.Error(e)
			}
			documented, _ := resp["headers"].(map[string]any)
			for h, hd := range documented {
				d := deref(doc, hd.(map[string]any))
				if d["required"] == true && slices.Contains(dumpedHeaders, h) && headers[h] == "" {
					t.Errorf("required header %s is missing", h)
				}
			}
			for h := range headers {
				if _, ok := documented[h]; !ok && h != "Content-Type" {
					t.Errorf("header %s is sent but not documented for %d", h, status)
				}
			}
		})
	}
}

func parseGolden(t *testing.T, s string) (status int, headers map[string]string, body string) {
	t.Helper()
	head, body, ok := strings.Cut(s, "\n\n")
	if !ok {
		t.Fatal("golden file without a blank line")
	}
	lines := strings.Split(head, "\n")
	if _, err := fmt.Sscanf(lines[0], "HTTP %d", &status); err != nil {
		t.Fatalf("status line %q", lines[0])
	}
	headers = map[string]string{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		headers[k] = v
	}
	return status, headers, body
}

func TestOpenAPIServed(t *testing.T) {
	b := setup(t)
	w := b.do(t, call{"GET", "/openapi.json", "", "", ""})
	if w.Code != 200 {
		t.Fatalf("GET /openapi.json without a key: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	disk, _ := os.ReadFile("openapi.json")
	if !bytes.Equal(w.Body.Bytes(), disk) {
		t.Error("served document differs from openapi.json")
	}
}

// TestSchemaValidator checks the validator itself rejects what it should.
func TestSchemaValidator(t *testing.T) {
	doc := map[string]any{}
	schema, _ := decodeJSON([]byte(`{"type":"object","additionalProperties":false,"required":["a","n"],
		"properties":{"a":{"type":"string","enum":["x"]},"n":{"oneOf":[{"type":"integer","minimum":1},{"type":"null"}]},
		"l":{"type":"array","items":{"type":"boolean"}}}}`))
	for body, ok := range map[string]bool{
		`{"a":"x","n":1}`:               true,
		`{"a":"x","n":null,"l":[true]}`: true,
		`{"a":"y","n":1}`:               false,
		`{"a":"x"}`:                     false,
		`{"a":"x","n":1.5}`:             false,
		`{"a":"x","n":0}`:               false,
		`{"a":"x","n":1,"z":1}`:         false,
		`{"a":"x","n":1,"l":[1]}`:       false,
		`[]`:                            false,
	} {
		v, err := decodeJSON([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if errs := validate(doc, schema, v, "body"); (len(errs) == 0) != ok {
			t.Errorf("%s: %v, want ok=%v", body, errs, ok)
		}
	}
	if errs := validate(doc, map[string]any{"typo": true}, "x", "v"); len(errs) == 0 {
		t.Error("an unknown schema keyword passed")
	}
}

// TestSchemaValidatorDiscriminator checks oneOf with a discriminator, and
// a oneOf of required sets (exactly one of two fields) inside one of its
// schemas.
func TestSchemaValidatorDiscriminator(t *testing.T) {
	d, _ := decodeJSON([]byte(`{"components":{"schemas":{
		"A":{"type":"object","required":["k","x"],"properties":{"k":{"const":"a"},"x":{"type":"integer"}}},
		"B":{"type":"object","required":["k","y"],"properties":{"k":{"const":"b"},"y":{"type":"string"}},
			"oneOf":[{"required":["p"]},{"required":["q"]}]},
		"U":{"type":"object","required":["k"],"properties":{"k":{"type":"string","enum":["a","b"]}},
			"oneOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"}],
			"discriminator":{"propertyName":"k","mapping":{"a":"#/components/schemas/A","b":"#/components/schemas/B"}}}}}}`))
	doc := d.(map[string]any)
	u := map[string]any{"$ref": "#/components/schemas/U"}
	for body, want := range map[string]string{
		`{"k":"a","x":1}`:               "",
		`{"k":"a","x":1,"z":true}`:      "",
		`{"k":"b","y":"s","p":1}`:       "",
		`{"k":"b","y":"s","q":null}`:    "",
		`{"k":"a","y":"s"}`:             "required property x is missing", // A's error, not "0 of 2 match"
		`{"k":"a","x":"1"}`:             "body.x: want type integer",
		`{"k":"b","y":"s"}`:             "oneOf: 0 of 2",
		`{"k":"b","y":"s","p":1,"q":2}`: "oneOf: 2 of 2",
		`{"k":"c","x":1}`:               `k "c" is none of [a b]`,
		`{"x":1}`:                       "the discriminator property k is missing",
		`{"k":1,"x":1}`:                 "the discriminator property k is missing or not a string",
		`[]`:                            "want type object",
	} {
		v, err := decodeJSON([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		errs := validate(doc, u, v, "body")
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("%s: %v, want ok", body, errs)
		case want != "" && !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }):
			t.Errorf("%s: %v, want an error with %q", body, errs, want)
		}
	}

	// A discriminator that does not name exactly its schemas is an error
	// whatever the value.
	for _, bad := range []string{
		`{"oneOf":[{"$ref":"#/components/schemas/A"}],"discriminator":{"propertyName":"k","mapping":{"a":"#/components/schemas/A","b":"#/components/schemas/B"}}}`,
		`{"oneOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"}],"discriminator":{"propertyName":"k","mapping":{"a":"#/components/schemas/A"}}}`,
		`{"oneOf":[{"$ref":"#/components/schemas/A"}],"discriminator":{"mapping":{"a":"#/components/schemas/A"}}}`,
		`{"oneOf":[{"$ref":"#/components/schemas/A"}],"discriminator":{"propertyName":"k"}}`,
		`{"oneOf":[{"type":"object"}],"discriminator":{"propertyName":"k","mapping":{"a":"#/components/schemas/A"}}}`,
		`{"discriminator":{"propertyName":"k","mapping":{"a":"#/components/schemas/A"}}}`,
	} {
		schema, err := decodeJSON([]byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := decodeJSON([]byte(`{"k":"a","x":1}`))
		if errs := validate(doc, schema, v, "body"); len(errs) == 0 {
			t.Errorf("%s passed", bad)
		}
	}
}

// deref follows a local $ref ("#/components/...").
func deref(doc map[string]any, m map[string]any) map[string]any {
	for i := 0; i < 16; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = doc
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			mm, _ := cur.(map[string]any)
			cur = mm[p]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			return map[string]any{"x-unresolved-ref": ref}
		}
		m = next
	}
	return m
}

// annotations are schema keywords that do not constrain a value.
var annotations = map[string]bool{"description": true, "default": true, "format": true, "title": true,
	"contentMediaType": true, "examples": true, "deprecated": true, "readOnly": true, "writeOnly": true}

// validate checks v against a JSON Schema (the 2020-12 subset the document
// uses): $ref, type (one or a list), enum, const, properties, required,
// additionalProperties, items, minItems, oneOf, anyOf, allOf, minLength,
// maxLength, pattern, minimum, maximum, dependentRequired and if/then/else,
// and OpenAPI's discriminator (see discriminate). Any other keyword is an
// error, so the document cannot say what the test does not check.
func validate(doc map[string]any, schema any, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, ok := schema.(bool); ok && b {
			return nil
		}
		return []string{at + ": schema is not an object"}
	}
	s = deref(doc, s)
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for k, kw := range s {
		switch k {
		case "type":
			var types []string
			switch kw := kw.(type) {
			case string:
				types = []string{kw}
			case []any:
				for _, x := range kw {
					types = append(types, x.(string))
				}
			}
			if !slices.ContainsFunc(types, func(ty string) bool { return hasType(v, ty) }) {
				bad("want type %v, got %s", kw, typeOf(v))
			}
		case "enum":
			if !slices.ContainsFunc(kw.([]any), func(e any) bool { return jsonEqual(e, v) }) {
				bad("%v is not one of %v", v, kw)
			}
		case "const":
			if !jsonEqual(kw, v) {
				bad("%v is not %v", v, kw)
			}
		case "properties":
			if o, ok := v.(map[string]any); ok {
				for name, ps := range kw.(map[string]any) {
					if x, ok := o[name]; ok {
						errs = append(errs, validate(doc, ps, x, at+"."+name)...)
					}
				}
			}
		case "required":
			if o, ok := v.(map[string]any); ok {
				for _, name := range kw.([]any) {
					if _, ok := o[name.(string)]; !ok {
						bad("required property %s is missing", name)
					}
				}
			}
		case "additionalProperties":
			if o, ok := v.(map[string]any); ok {
				props, _ := s["properties"].(map[string]any)
				for name, x := range o {
					if _, ok := props[name]; ok {
						continue
					}
					if b, ok := kw.(bool); ok {
						if !b {
							bad("property %s is not allowed", name)
						}
						continue
					}
					errs = append(errs, validate(doc, kw, x, at+"."+name)...)
				}
			}
		case "items":
			if a, ok := v.([]any); ok {
				for i, x := range a {
					errs = append(errs, validate(doc, kw, x, fmt.Sprintf("%s[%d]", at, i))...)
				}
			}
		case "minItems":
			if a, ok := v.([]any); ok && big.NewFloat(float64(len(a))).Cmp(num(kw)) < 0 {
				bad("%d items, want at least %v", len(a), kw)
			}
		case "oneOf", "anyOf":
			if _, ok := s["discriminator"]; ok {
				break // the discriminator picks the one schema to check
			}
			n := 0
			for _, sub := range kw.([]any) {
				if len(validate(doc, sub, v, at)) == 0 {
					n++
				}
			}
			if n == 0 || (k == "oneOf" && n > 1) {
				bad("%s: %d of %d schemas match", k, n, len(kw.([]any)))
			}
		case "allOf":
			for _, sub := range kw.([]any) {
				errs = append(errs, validate(doc, sub, v, at)...)
			}
		case "minLength", "maxLength":
			if str, ok := v.(string); ok {
				n := big.NewFloat(float64(utf8.RuneCountInString(str)))
				if c := n.Cmp(num(kw)); (k == "minLength" && c < 0) || (k == "maxLength" && c > 0) {
					bad("length %v violates %s %v", n, k, kw)
				}
			}
		case "pattern":
			if str, ok := v.(string); ok && !regexp.MustCompile(kw.(string)).MatchString(str) {
				bad("%q does not match %s", str, kw)
			}
		case "minimum", "maximum":
			if n, ok := v.(json.Number); ok {
				if c := num(n).Cmp(num(kw)); (k == "minimum" && c < 0) || (k == "maximum" && c > 0) {
					bad("%v violates %s %v", n, k, kw)
				}
			}
		case "dependentRequired":
			if o, ok := v.(map[string]any); ok {
				for name, deps := range kw.(map[string]any) {
					if _, ok := o[name]; !ok {
						continue
					}
					for _, d := range deps.([]any) {
						if _, ok := o[d.(string)]; !ok {
							bad("%s requires %s", name, d)
						}
					}
				}
			}
		case "if":
			if len(validate(doc, kw, v, at)) == 0 {
				if th, ok := s["then"]; ok {
					errs = append(errs, validate(doc, th, v, at)...)
				}
			} else if el, ok := s["else"]; ok {
				errs = append(errs, validate(doc, el, v, at)...)
			}
		case "discriminator":
			errs = append(errs, discriminate(doc, s, kw, v, at)...)
		case "then", "else", "$ref":
		default:
			if !annotations[k] {
				bad("schema keyword %q is not checked by this validator", k)
			}
		}
	}
	sort.Strings(errs)
	return errs
}

// discriminate checks v, an object, against the one schema of s's oneOf
// (or anyOf) that the discriminator d maps the value of its property to;
// the errors are that schema's, which say more than "0 of n schemas
// match". The mapping must be explicit and name exactly the schemas of the
// oneOf, each a $ref; the property must be a string the mapping knows.
func discriminate(doc, s map[string]any, d any, v any, at string) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	dm, _ := d.(map[string]any)
	name, _ := dm["propertyName"].(string)
	mapping, _ := dm["mapping"].(map[string]any)
	subs, ok := s["oneOf"].([]any)
	if !ok {
		subs, _ = s["anyOf"].([]any)
	}
	if name == "" || len(mapping) == 0 || len(subs) == 0 {
		bad("a discriminator needs a propertyName, a mapping and a oneOf or anyOf")
		return errs
	}
	refs := map[string]bool{}
	for _, sub := range subs {
		sm, _ := sub.(map[string]any)
		ref, ok := sm["$ref"].(string)
		if !ok || len(sm) != 1 {
			bad("a discriminated schema must be a bare $ref, not %v", sub)
			continue
		}
		refs[ref] = true
	}
	mapped := map[string]bool{}
	for value, target := range mapping {
		ref, _ := target.(string)
		if !refs[ref] {
			bad("the discriminator maps %q to %v, which is not one of its schemas", value, target)
		}
		mapped[ref] = true
	}
	for ref := range refs {
		if !mapped[ref] {
			bad("the discriminator's mapping does not name %s", ref)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	o, ok := v.(map[string]any)
	if !ok {
		bad("want type object, got %s", typeOf(v))
		return errs
	}
	value, ok := o[name].(string)
	if !ok {
		bad("the discriminator property %s is missing or not a string", name)
		return errs
	}
	target, ok := mapping[value].(string)
	if !ok {
		bad("%s %q is none of %v", name, value, slices.Sorted(maps.Keys(mapping)))
		return errs
	}
	return validate(doc, map[string]any{"$ref": target}, v, at)
}

func num(v any) *big.Float {
	f, _, err := big.ParseFloat(fmt.Sprint(v), 10, 128, big.ToNearestEven)
	if err != nil {
		return big.NewFloat(0)
	}
	return f
}

func hasType(v any, ty string) bool {
	switch ty {
	case "integer":
		n, ok := v.(json.Number)
		return ok && num(n).IsInt()
	case "number":
		_, ok := v.(json.Number)
		return ok
	}
	return typeOf(v) == ty
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		bn, ok := b.(json.Number)
		return ok && num(a).Cmp(num(bn)) == 0
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, jsonEqual)
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, x := range a {
			if y, ok := bm[k]; !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestOpenAPIWellFormed checks what the other tests do not reach: every
// $ref resolves, operationIds are unique, and every {param} of a path is
// declared as a path parameter.
func TestOpenAPIWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, bad := deref(doc, v)["x-unresolved-ref"]; bad || !strings.HasPrefix(ref, "#/components/") {
					t.Errorf("%s: $ref %s does not resolve", at, ref)
				}
			}
			for k, x := range v {
				walk(x, at+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, "#")
	ids := map[string]bool{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range docOperations(doc) {
		id, _ := o.op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s %s: operationId %q missing or repeated", o.method, o.path, id)
		}
		ids[id] = true
		declared := map[string]bool{}
		item := doc["paths"].(map[string]any)[o.path].(map[string]any)
		for _, list := range []any{item["parameters"], o.op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm := deref(doc, p.(map[string]any))
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
		}
		for _, m := range param.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s %s: path parameter %s is not declared", o.method, o.path, m[1])
			}
		}
		if len(o.op["responses"].(map[string]any)) == 0 {
			t.Errorf("%s %s: no responses", o.method, o.path)
		}
	}
}
