package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
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
	authed  bool // registered through s.authed
}

// sourceRoutes reads the package's non-test sources and evaluates the
// pattern of every mux.Handle and mux.HandleFunc call: string literals,
// package constants, + and range variables over string slice literals.
func sourceRoutes(t *testing.T) []muxRoute {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]ast.Expr{}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
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
				authed := false
				if c, ok := n.Args[1].(*ast.CallExpr); ok {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "authed" {
						authed = true
					}
				}
				for _, p := range eval(n.Args[0]) {
					routes = append(routes, muxRoute{p, authed})
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
// prefix pattern ending in "/".
func (o docOperation) muxPattern() string {
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
			for _, code := range []string{"401", "429", "500"} {
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

func TestOpenAPIEnumsMatchGeneration(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	prop := func(schema, field, key string) any {
		t.Helper()
		s, ok := schemas[schema].(map[string]any)
		if !ok {
			t.Fatalf("no schema %s", schema)
		}
		p, ok := s["properties"].(map[string]any)[field].(map[string]any)
		if !ok {
			t.Fatalf("%s has no property %s", schema, field)
		}
		return p[key]
	}
	same := func(what string, got, want any) {
		t.Helper()
		w, _ := json.Marshal(want)
		wv, _ := decodeJSON(w)
		if !jsonEqual(got, wv) {
			t.Errorf("%s = %v in openapi.json, want %v", what, got, wv)
		}
	}
	for _, s := range []string{"GenerationRequest", "CreateVideoRequest", "CreateVideoMultipart"} {
		same(s+".style.enum", prop(s, "style", "enum"), generation.Styles)
		same(s+".lip_sync_tts_speaker.enum", prop(s, "lip_sync_tts_speaker", "enum"), generation.Speakers)
		same(s+".seed.minimum", prop(s, "seed", "minimum"), 0)
		same(s+".seed.maximum", prop(s, "seed", "maximum"), generation.MaxSeed)
	}
	for _, s := range []string{"GenerationRequest", "CreateVideoRequest"} {
		same(s+".prompt.maxLength", prop(s, "prompt", "maxLength"), generation.MaxPrompt)
		same(s+".negative_prompt.maxLength", prop(s, "negative_prompt", "maxLength"), generation.MaxPrompt)
		same(s+".lip_sync_tts_content.maxLength", prop(s, "lip_sync_tts_content", "maxLength"), generation.MaxSpeech)
	}
	same("GenerationRequest.model.enum", prop("GenerationRequest", "model", "enum"), []string{generation.Model})
	same("GenerationRequest.resolution.enum", prop("GenerationRequest", "resolution", "enum"), generation.Resolutions)
	same("GenerationRequest.duration.enum", prop("GenerationRequest", "duration", "enum"), generation.Schemas[0].Durations)
	same("VideoObject.model.enum", prop("VideoObject", "model", "enum"), []string{generation.Model})
	var secs []string
	for _, d := range generation.Schemas[0].Durations {
		secs = append(secs, strconv.Itoa(d))
	}
	same("CreateVideoRequest.seconds.enum", prop("CreateVideoRequest", "seconds", "enum"), secs)
	same("VideoObject.seconds.enum", prop("VideoObject", "seconds", "enum"), secs)
	statuses := []string{string(generation.Queued), string(generation.Generating), string(generation.Completed), string(generation.Failed), "succeeded"}
	same("Generation.status.enum", prop("Generation", "status", "enum"), statuses)
}

// TestOpenAPIRequestSchema checks the request schema on bodies the code
// accepts and refuses, the 1080p/8 s rule included.
func TestOpenAPIRequestSchema(t *testing.T) {
	doc := loadOpenAPI(t)
	gen := map[string]any{"$ref": "#/components/schemas/GenerationRequest"}
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{validBody, true},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/p.jpg","resolution":"1080p","seed":1,"lip_sync_tts_content":"Hello","lip_sync_tts_speaker":"Chloe"}`, true},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","resolution":"1080p","duration":5}`, true},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","resolution":"1080p","duration":8}`, false},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","lip_sync_tts_speaker":"Ava"}`, false},
		{`{"model":"pixverse/v4","prompt":"","image_url":7,"resolution":"4k","duration":10,"style":"pixar","seed":-1,"lip_sync_tts_speaker":"Bob"}`, false},
		{`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","seed":2147483648}`, false},
	} {
		v, err := decodeJSON([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		_, parseErr := generation.ParseRequest([]byte(tc.body))
		if (parseErr == nil) != tc.ok {
			t.Fatalf("test case wrong: ParseRequest(%s) = %v", tc.body, parseErr)
		}
		if errs := validate(doc, gen, v, "body"); (len(errs) == 0) != tc.ok {
			t.Errorf("GenerationRequest on %s: errors %v, want ok=%v", tc.body, errs, tc.ok)
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
	"error_no_key":                          {"POST", universalPath},
	"error_poll_missing_id":                 {"GET", universalPath},
	"error_poll_unknown_id":                 {"GET", universalPath},
	"error_rate_limited":                    {"GET", universalPath},
	"error_too_large":                       {"POST", universalPath},
	"error_unknown_key":                     {"POST", universalPath},
	"error_unknown_route":                   {"Error", ""},
	"error_unspeakable_text":                {"POST", universalPath},
	"error_unsupported_media":               {"POST", universalPath},
	"healthz":                               {"GET", "/healthz"},
	"models":                                {"GET", "/v2/models"},
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
// maxLength, pattern, minimum, maximum, dependentRequired and if/then/else.
// Any other keyword is an error, so the document cannot say what the test
// does not check.
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
