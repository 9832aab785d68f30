package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"stillmotion/internal/auth"
	"stillmotion/internal/generation"
)

// doScripted sends c with the test script header (none if script is "-").
func (b *bundle) doScripted(t *testing.T, c call, script string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	r.Header.Set("Authorization", "Bearer "+c.key)
	r.Header.Set("Content-Type", "application/json")
	if script != "-" {
		r.Header.Set(ScriptHeader, script)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	return w
}

func decodeBody(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return m
}

// TestScriptedSubmit checks what a script does to a submit: the faults
// that make no generation, the errors a bad script or a real key's script
// get, and the generation a test key makes: free, marked, scripted.
func TestScriptedSubmit(t *testing.T) {
	submit := call{"POST", universalPath, testKey, "", validBody}
	seeded := func(seed int) call {
		return call{"POST", universalPath, testKey, "", strings.Replace(validBody, `"duration":5`, `"duration":5,"seed":`+itoa(seed), 1)}
	}
	for _, tt := range []struct {
		name       string
		call       call
		script     string
		status     int
		retryAfter string
		message    string
	}{
		{"429", submit, "submit=429;retry_after=7", 429, "7", "Too many requests (test script)"},
		{"500", submit, "submit=500", 500, "", "Internal server error (test script)"},
		{"502", submit, "submit=502", 502, "", "Bad gateway (test script)"},
		{"503", submit, "submit=503", 503, "1", "Service unavailable (test script)"},
		{"504", submit, "submit=504", 504, "", "Generation timeout"},
		{"magic seed 429", seeded(4000429), "-", 429, "1", "Too many requests"},
		{"magic seed 503", seeded(4000503), "-", 503, "1", "Service unavailable"},
		{"bad script", submit, "queue=soon", 400, "", `"field":"X-Stillmotion-Script","message":"queue=\"soon\": want a duration`},
		{"real key", call{"POST", universalPath, bootstrapKey, "", validBody}, "queue=1s", 403, "", "X-Stillmotion-Script is for test keys"},
		{"a real key's magic seed is a seed", call{"POST", universalPath, bootstrapKey, "", seeded(4000429).body}, "-", 200, "", `"status":"queued"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			w := b.doScripted(t, tt.call, tt.script)
			if w.Code != tt.status || w.Header().Get("Retry-After") != tt.retryAfter || !strings.Contains(w.Body.String(), tt.message) {
				t.Errorf("%d Retry-After %q %s; want %d %q containing %q", w.Code, w.Header().Get("Retry-After"), w.Body, tt.status, tt.retryAfter, tt.message)
			}
			if tt.status != 200 {
				if gs, _ := b.store.List(t.Context(), b.bootstID, generation.ListQuery{Limit: 10}); len(gs) != 0 {
					t.Errorf("a refused submit made %d generations", len(gs))
				}
			}
		})
	}

	// The Nth submit of a script: a client that retries gets through.
	b := setup(t)
	for i, want := range []int{429, 503, 200, 200} {
		if w := b.doScripted(t, submit, "submit=1:429,2:503;queue=10m"); w.Code != want {
			t.Errorf("submit %d: %d %s, want %d", i+1, w.Code, w.Body, want)
		}
	}
	if w := b.doScripted(t, call{"POST", universalPath, otherKey, "", validBody}, "-"); w.Code != 200 {
		t.Errorf("another key's submit: %d", w.Code)
	}

	w := b.doScripted(t, submit, "queue=10m;then=error:timeout;preset=hosted")
	m := decodeBody(t, w)
	id, _ := m["id"].(string)
	if w.Code != 200 || !strings.HasSuffix(id, ":pixverse/v5/image-to-video") || m["test"] != true {
		t.Fatalf("%d %v: want a test generation with a :model id", w.Code, m)
	}
	usage := m["meta"].(map[string]any)["usage"].(map[string]any)
	if usage["tokens_used"] != float64(420000) || usage["credits_used"] != nil {
		t.Errorf("usage %v: want the price as tokens_used, as the hosted sample shows", usage)
	}
	g, err := b.api.Service.Get(t.Context(), testOwner, withoutModel(id))
	if err != nil {
		t.Fatal(err)
	}
	if !g.Test || g.Engine != generation.ScriptedEngine || g.Script != "queue=10m0s;then=error:timeout;preset=hosted" {
		t.Errorf("stored %+v", g)
	}
	// The id with its model suffix polls it.
	w = b.do(t, call{"GET", universalPath + "?generation_id=" + id, testKey, "", ""})
	if p := decodeBody(t, w); w.Code != 200 || p["id"] != id || p["status"] != "queued" {
		t.Errorf("poll by the suffixed id: %d %v", w.Code, p)
	}
	// render=real goes to the model's engine.
	w = b.doScripted(t, submit, "render=real")
	g, _ = b.api.Service.Get(t.Context(), testOwner, decodeBody(t, w)["id"].(string))
	if g.Engine != generation.BuiltinEngine || !g.Test {
		t.Errorf("render=real: engine %q test %v", g.Engine, g.Test)
	}
}

// TestScriptedPolls puts faults on the 1st, 3rd and 4th polls: the others
// answer as usual, and the preset renames the status.
func TestScriptedPolls(t *testing.T) {
	b := setup(t)
	w := b.doScripted(t, call{"POST", universalPath, testKey, "", validBody}, "queue=10m;poll=1:429,3:504,4:500;retry_after=3;preset=legacy-statuses")
	id := decodeBody(t, w)["id"].(string)
	poll := call{"GET", universalPath + "?generation_id=" + id, testKey, "", ""}
	for i, want := range []struct {
		status int
		body   string
	}{
		{429, "Too many requests"},
		{200, `"status":"waiting"`},
		{504, `"message":"Generation timeout"`},
		{500, "Internal server error (test script)"},
		{200, `"status":"waiting"`},
	} {
		w := b.do(t, poll)
		if w.Code != want.status || !strings.Contains(w.Body.String(), want.body) {
			t.Errorf("poll %d: %d %s, want %d with %q", i+1, w.Code, w.Body, want.status, want.body)
		}
		if w.Code == 429 && w.Header().Get("Retry-After") != "3" {
			t.Errorf("poll %d: Retry-After %q, want 3", i+1, w.Header().Get("Retry-After"))
		}
	}
	// Another key does not see it, nor cancel it; nor does the test key
	// see or cancel a real key's generation.
	if w := b.do(t, call{"GET", poll.path, bootstrapKey, "", ""}); w.Code != http.StatusNotFound {
		t.Errorf("another key's poll: %d", w.Code)
	}
	if w := b.do(t, call{"DELETE", poll.path, bootstrapKey, "", ""}); w.Code != http.StatusNotFound {
		t.Errorf("another key's cancel: %d", w.Code)
	}
	realID := decodeBody(t, b.do(t, call{"POST", universalPath, bootstrapKey, "", validBody}))["id"].(string)
	for _, m := range []string{"GET", "DELETE"} {
		if w := b.do(t, call{m, universalPath + "?generation_id=" + realID, testKey, "", ""}); w.Code != http.StatusNotFound {
			t.Errorf("%s of a real generation by a test key: %d", m, w.Code)
		}
	}
}

// testOwner owns testKey's generations.
var testOwner = "envtest_" + auth.Hash(testKey)[:16]

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestTestModeGolden pins the test routes' answers and a test
// generation's, in the hosted preset.
func TestTestModeGolden(t *testing.T) {
	b := setup(t)
	img := `"image_url":"data:image/png;base64,` + tinyPNG + `"`
	steps := []struct {
		name   string
		call   call
		script string
	}{
		{"test_submit_hosted", call{"POST", universalPath, testKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p",` + img + `,"seed":4000002}`}, "queue=10m;preset=hosted"},
		{"test_poll_hosted", call{"GET", universalPath + "?generation_id=gen000000000000000001:pixverse/v5/image-to-video", testKey, "", ""}, "-"},
		{"test_requests", call{"GET", testRequestsPath + "?limit=5", testKey, "", ""}, "-"},
		{"test_error_script", call{"POST", universalPath, testKey, "", validBody}, "then=error:oops"},
		{"test_error_real_key_script", call{"POST", universalPath, bootstrapKey, "", validBody}, "queue=1s"},
		{"test_error_real_key_requests", call{"GET", testRequestsPath, bootstrapKey, "", ""}, "-"},
		{"test_reset", call{"DELETE", testRequestsPath, testKey, "", ""}, "-"},
	}
	for _, st := range steps {
		w := b.doScripted(t, st.call, st.script)
		golden(t, st.name, dump(w))
	}
}
