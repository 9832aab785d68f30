package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/blob"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
	"stillmotion/internal/queue"
	"stillmotion/internal/speech"
	"stillmotion/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	bootstrapKey = "test-bootstrap-key"
	otherKey     = "test-other-key"
	testKey      = "test-mode-key" // a test key (test mode)
)

var epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

type bundle struct {
	api      *Server
	handler  http.Handler
	store    *store.DB
	poorKey  string // a stored key with 100,000 credits
	richKey  string // a stored key with 10,000,000 credits
	richID   string
	bootstID string
}

// setup returns an API over a real SQLite store (no workers) whose ids,
// clock and signing key are fixed, so responses are byte-stable.
func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db.sqlite"), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := 0
	ids := func() string {
		n++
		return fmt.Sprintf("gen%018d", n)
	}
	clock := func() time.Time { return epoch }
	files := &blob.Disk{Dir: t.TempDir(), BaseURL: "http://127.0.0.1:8080", Secret: []byte("0123456789abcdef0123456789abcdef"), Now: clock}
	svc := &generation.Service{Store: st, Blobs: files, Prices: billing.Default(), Now: clock, NewID: ids, Logger: slog.New(slog.DiscardHandler),
		Retention: 7 * 24 * time.Hour}
	b := &bundle{store: st, poorKey: "sm_poor", richKey: "sm_rich", richID: "key_rich"}
	for _, k := range []*auth.Key{
		{ID: "key_poor", Name: "poor", Hash: auth.Hash(b.poorKey), Credits: 100_000, Created: epoch},
		{ID: b.richID, Name: "rich", Hash: auth.Hash(b.richKey), Credits: 10_000_000, Created: epoch},
	} {
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	rid := 0
	b.api = &Server{
		Service:      svc,
		Auth:         auth.NewAuthenticator(st, []string{bootstrapKey, otherKey}, testKey),
		Files:        files,
		CheckInput:   (&input.Files{}).Check,
		CheckSpeech:  func(text string) error { _, err := speech.CleanText(text); return err },
		Ready:        st.Ping,
		QueueDepth:   st.QueueDepth,
		MaxBody:      64 << 10,
		Now:          clock,
		NewRequestID: func() string { rid++; return fmt.Sprintf("req%03d", rid) },
		Logger:       slog.New(slog.DiscardHandler),
		VoicePreview: func(_ context.Context, voice string) ([]byte, error) { return []byte("RIFF " + voice), nil },
		Tests:        st,
		Studio:       http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "studio "+r.URL.Path) }),
	}
	b.handler = b.api.Handler()
	b.bootstID = "env_" + auth.Hash(bootstrapKey)[:16]
	return b
}

type call struct {
	method, path, key, contentType, body string
}

func (b *bundle) do(t *testing.T, c call) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.key != "" {
		r.Header.Set("Authorization", "Bearer "+c.key)
	}
	ct := c.contentType
	if ct == "" && c.body != "" {
		ct = "application/json"
	}
	if ct != "-" && ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	return w
}

// dump renders a response as golden text: status, the headers that are part
// of the contract, and the indented JSON body.
func dump(w *httptest.ResponseRecorder) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "HTTP %d\n", w.Code)
	for _, h := range []string{"Content-Type", "Allow", "Retry-After", "X-Inference-Id", "X-Aimlapi-Credits-Used", "X-Aimlapi-Usd-Spent", "Idempotent-Replayed", "Preference-Applied", "X-Request-Id",
		"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
		"X-Ratelimit-Limit-Generations", "X-Ratelimit-Remaining-Generations"} {
		if v := w.Header().Get(h); v != "" {
			fmt.Fprintf(&sb, "%s: %s\n", h, v)
		}
	}
	sb.WriteString("\n")
	var out bytes.Buffer
	if err := json.Indent(&out, w.Body.Bytes(), "", "  "); err != nil {
		out.Reset()
		out.Write(w.Body.Bytes())
	}
	sb.Write(out.Bytes())
	sb.WriteString("\n")
	return sb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("response differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const validBody = `{"model":"pixverse/v5/image-to-video","prompt":"Mona Lisa puts on glasses with her hands.","image_url":"https://example.com/1.jpeg","duration":5}`

// tinyPNG is a valid 1x1 PNG.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="

func TestGolden(t *testing.T) {
	big := `{"model":"pixverse/v5/image-to-video","prompt":"x","image_url":"data:image/png;base64,` + strings.Repeat("A", 70<<10) + `"}`
	tests := []struct {
		name string
		call call
	}{
		{"submit_universal", call{"POST", "/v2/video/generations", bootstrapKey, "", validBody}},
		{"submit_legacy", call{"POST", "/v2/generate/video/pixverse/generation", bootstrapKey, "", validBody}},
		{"submit_speech_1080p", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"A news presenter","image_url":"https://example.com/p.jpg","resolution":"1080p","seed":1,"lip_sync_tts_content":"Hello and welcome. This is our latest news update, and here are the headlines.","lip_sync_tts_speaker":"Chloe"}`}},
		{"submit_data_uri", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"data:image/png;base64,` + tinyPNG + `","resolution":"360p","duration":"8"}`}},
		{"submit_no_content_type", call{"POST", "/v2/video/generations", bootstrapKey, "-", validBody}},
		{"error_invalid_fields", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v4","prompt":"","image_url":7,"resolution":"4k","duration":10,"style":"pixar","seed":-1,"lip_sync_tts_speaker":"Bob"}`}},
		{"error_1080p_8s", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","resolution":"1080p","duration":8}`}},
		{"error_malformed_json", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model": "pixverse/v5/image-to-video",`}},
		{"error_bad_image_url_scheme", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"ftp://example.com/a.png"}`}},
		{"error_bad_data_uri", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"data:image/png;base64,bm90IGFuIGltYWdl"}`}},
		{"error_unspeakable_text", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","lip_sync_tts_content":"🎉🎉 ✨"}`}},
		{"error_no_key", call{"POST", "/v2/video/generations", "", "", validBody}},
		{"error_unknown_key", call{"POST", "/v2/video/generations", "sm_nope", "", validBody}},
		{"error_insufficient_credits", call{"POST", "/v2/video/generations", "sm_poor", "", validBody}},
		{"error_too_large", call{"POST", "/v2/video/generations", bootstrapKey, "", big}},
		{"error_unsupported_media", call{"POST", "/v2/video/generations", bootstrapKey, "application/x-www-form-urlencoded", "model=x"}},
		{"error_poll_missing_id", call{"GET", "/v2/video/generations", bootstrapKey, "", ""}},
		{"error_poll_unknown_id", call{"GET", "/v2/video/generations?generation_id=nope", bootstrapKey, "", ""}},
		{"error_unknown_route", call{"GET", "/v2/chat/completions", bootstrapKey, "", ""}},
		{"error_method_not_allowed", call{"PUT", "/v2/video/generations", bootstrapKey, "", ""}},
		// Allow lists what the path has, not what the API has.
		{"error_method_healthz", call{"POST", "/healthz", "", "", ""}},
		{"error_method_worker_part", call{"GET", "/v2/worker/leases/l1/output/video", "", "", ""}},
		// The family: a valid body of each model the built-in engine
		// serves, and each model's required, exclusive and ranged fields.
		{"submit_v55", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5.5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","duration":10,"generate_audio_switch":true,"generate_multi_clip_switch":true,"thinking_type":"auto"}`}},
		{"submit_v55_dashed", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5-5-image-to-video","prompt":"p","image_url":"https://example.com/a.png"}`}},
		{"submit_transition", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/transition","prompt":"p","image_url":"https://example.com/a.png","tail_image_url":"https://example.com/b.png","resolution":"540p","duration":8}`}},
		{"submit_lipsync_audio", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/lip-sync","video_url":"https://example.com/v.mp4","audio_url":"https://example.com/a.mp3"}`}},
		{"submit_lipsync_text", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/lip-sync","video_url":"https://example.com/v.mp4","lip_sync_tts_content":"Hello World!","lip_sync_tts_speaker":"Harper"}`}},
		{"error_v55_fields", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5.5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","resolution":"1080p","duration":10,"generate_audio_switch":"on","thinking_type":"deep"}`}},
		{"error_transition_fields", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/transition","prompt":"p","image_url":"https://example.com/a.png","tail_image_url":"ftp://example.com/b.png"}`}},
		{"error_transition_no_tail", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/transition","prompt":"p","image_url":"https://example.com/a.png"}`}},
		{"error_lipsync_both", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/lip-sync","video_url":"https://example.com/v.mp4","audio_url":"https://example.com/a.mp3","lip_sync_tts_content":"Hi","lip_sync_tts_speaker":"Harper"}`}},
		{"error_lipsync_none", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/lip-sync","video_url":"https://example.com/v.mp4"}`}},
		{"error_lipsync_video_not_video", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/lip-sync","video_url":"data:image/png;base64,` + tinyPNG + `","audio_url":"https://example.com/a.mp3"}`}},
		{"error_text_to_video_not_served", call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/text-to-video","prompt":"A dragon"}`}},
		{"models", call{"GET", "/v2/models", bootstrapKey, "", ""}},
		{"balance", call{"GET", "/v1/billing/balance", "sm_rich", "", ""}},
		{"balance_unlimited", call{"GET", "/v1/billing/balance", bootstrapKey, "", ""}},
		{"voices", call{"GET", "/v2/voices", bootstrapKey, "", ""}},
		{"error_voice_unknown", call{"GET", "/v2/voices/Bob/preview", bootstrapKey, "", ""}},
		{"error_voice_auto", call{"GET", "/v2/voices/Auto/preview", bootstrapKey, "", ""}},
		{"models_openai", call{"GET", "/v1/models", bootstrapKey, "", ""}},
		{"v1_error_models_no_key", call{"GET", "/v1/models", "", "", ""}},
		{"healthz", call{"GET", "/healthz", "", "", ""}},
		{"readyz", call{"GET", "/readyz", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			golden(t, tt.name, dump(b.do(t, tt.call)))
		})
	}
}

// TestGoldenLifecycle pins the poll shapes of each status, on both routes.
func TestGoldenLifecycle(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
	if w.Code != 200 {
		t.Fatalf("submit: %s", dump(w))
	}
	var sub struct{ ID string }
	json.Unmarshal(w.Body.Bytes(), &sub)
	poll := func(name, path string) {
		t.Helper()
		golden(t, name, dump(b.do(t, call{"GET", path + "?generation_id=" + sub.ID, b.richKey, "", ""})))
	}
	poll("poll_queued", "/v2/video/generations")
	if err := b.store.Progress(ctx, sub.ID, 0.4567, `zoom in, slow, ease in-out (from prompt: "zoom in")`); err != nil {
		t.Fatal(err)
	}
	poll("poll_generating", "/v2/generate/video/pixverse/generation")
	v := &generation.Video{Key: sub.ID + "/output.mp4", FileName: "output.mp4", Size: 4259218, Width: 1280, Height: 720, Duration: 5, FPS: 24, HasAudio: true}
	if err := b.store.Finish(ctx, sub.ID, v, nil); err != nil {
		t.Fatal(err)
	}
	poll("poll_completed", "/v2/video/generations")
	poll("poll_completed_legacy", "/v2/generate/video/pixverse/generation")
	b.api.SucceededWord = "succeeded"
	poll("poll_succeeded", "/v2/video/generations")
	poll("poll_succeeded_legacy_stays_completed", "/v2/generate/video/pixverse/generation")
	b.api.SucceededWord = ""

	// Another key sees nothing, exactly as for an unknown id.
	w = b.do(t, call{"GET", "/v2/video/generations?generation_id=" + sub.ID, otherKey, "", ""})
	if w.Code != 404 {
		t.Errorf("other key: %d, want 404", w.Code)
	}

	// A failure refunds the reserved credits.
	w = b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
	json.Unmarshal(w.Body.Bytes(), &sub)
	if bal := balance(t, b, "rich"); bal != 10_000_000-2*420_000 {
		t.Fatalf("balance after two submits = %d", bal)
	}
	f := &generation.Failure{Name: "image_fetch_failed", Message: "fetching image_url: the server answered 404 Not Found"}
	if err := b.store.Finish(ctx, sub.ID, nil, f); err != nil {
		t.Fatal(err)
	}
	poll("poll_error", "/v2/video/generations")
	if bal := balance(t, b, "rich"); bal != 10_000_000-420_000 {
		t.Errorf("balance after the failure = %d, want the failed one refunded", bal)
	}
	if err := b.store.Finish(ctx, sub.ID, nil, f); err == nil {
		t.Error("finishing twice succeeded; the refund could happen twice")
	}
}

// TestGoldenCancel pins the cancel route's answers: the generation, ended
// in error and refunded, or why it cannot be cancelled.
func TestGoldenCancel(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	submit := func() string {
		t.Helper()
		w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody})
		var sub struct{ ID string }
		json.Unmarshal(w.Body.Bytes(), &sub)
		return sub.ID
	}
	cancel := func(name, path, key, id string) *httptest.ResponseRecorder {
		t.Helper()
		q := ""
		if id != "" {
			q = "?generation_id=" + id
		}
		w := b.do(t, call{"DELETE", path + q, key, "", ""})
		if name != "" {
			golden(t, name, dump(w))
		}
		return w
	}
	queued := submit()
	if w := cancel("", "/v2/video/generations", otherKey, queued); w.Code != 404 {
		t.Errorf("another key's cancel: %d, want 404", w.Code)
	}
	cancel("cancel_queued", "/v2/video/generations", b.richKey, queued)
	cancel("error_cancel_already_cancelled", "/v2/video/generations", b.richKey, queued)

	generating := submit()
	if err := b.store.Progress(ctx, generating, 0.25, ""); err != nil {
		t.Fatal(err)
	}
	cancel("cancel_generating_legacy", "/v2/generate/video/pixverse/generation", b.richKey, generating)

	done := submit()
	v := &generation.Video{Key: done + "/output.mp4", FileName: "output.mp4", Size: 10, Width: 1280, Height: 720, Duration: 5, FPS: 24, HasAudio: true}
	if err := b.store.Finish(ctx, done, v, nil); err != nil {
		t.Fatal(err)
	}
	cancel("error_cancel_completed", "/v2/video/generations", b.richKey, done)
	cancel("error_cancel_unknown_id", "/v2/video/generations", b.richKey, "nope")
	cancel("error_cancel_missing_id", "/v2/video/generations", b.richKey, "")

	if bal := balance(t, b, "rich"); bal != 10_000_000-420_000 {
		t.Errorf("balance %d, want only the completed generation charged", bal)
	}
	// Left: the job of the generation finished above without a worker.
	if n, _ := b.store.QueueDepth(ctx); n != 1 {
		t.Errorf("queue depth %d, want 1: the cancelled generations' jobs are still waiting", n)
	}
}

func balance(t *testing.T, b *bundle, name string) int64 {
	t.Helper()
	keys, err := b.store.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == name {
			return k.Credits
		}
	}
	t.Fatalf("no key %s", name)
	return 0
}

func TestRateLimit(t *testing.T) {
	b := setup(t)
	b.api.RatePerSecond, b.api.RateBurst = 0.001, 2
	b.handler = b.api.Handler()
	var last *httptest.ResponseRecorder
	for range 3 {
		last = b.do(t, call{"GET", "/v2/video/generations?generation_id=x", bootstrapKey, "", ""})
	}
	golden(t, "error_rate_limited", dump(last))
	// Another key has its own budget.
	if w := b.do(t, call{"GET", "/v2/video/generations?generation_id=x", otherKey, "", ""}); w.Code != 404 {
		t.Errorf("other key: %d, want 404", w.Code)
	}
}

func TestDraining(t *testing.T) {
	b := setup(t)
	b.api.Drain()
	golden(t, "error_draining", dump(b.do(t, call{"POST", "/v2/video/generations", bootstrapKey, "", validBody})))
	if w := b.do(t, call{"GET", "/readyz", "", "", ""}); w.Code != 503 {
		t.Errorf("readyz while draining: %d, want 503", w.Code)
	}
	if w := b.do(t, call{"GET", "/healthz", "", "", ""}); w.Code != 200 {
		t.Errorf("healthz while draining: %d, want 200", w.Code)
	}
}

func TestOverloaded(t *testing.T) {
	b := setup(t)
	b.api.MaxQueued = 2
	for i := range 3 {
		w := b.do(t, call{"POST", "/v2/video/generations", bootstrapKey, "", validBody})
		if want := []int{200, 200, 503}[i]; w.Code != want {
			t.Fatalf("submit %d: %d, want %d", i, w.Code, want)
		}
		if i == 2 && w.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
}

func TestPanicIsA500WithoutDetails(t *testing.T) {
	b := setup(t)
	b.api.CheckInput = func(string, string) error { panic("secret internal detail") }
	b.handler = b.api.Handler()
	w := b.do(t, call{"POST", "/v2/video/generations", bootstrapKey, "", validBody})
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	golden(t, "error_internal", dump(w))
}

func TestSubmitDebitsAndCreatesOneJob(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	body := `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","lip_sync_tts_content":"Sixteen bytes!!!"}`
	w := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", body})
	if w.Code != 200 {
		t.Fatal(dump(w))
	}
	if got := w.Header().Get("X-Aimlapi-Credits-Used"); got != "588000" {
		t.Errorf("credits header %s, want 588000 (420000 + 2 speech chunks)", got)
	}
	if n, _ := b.store.QueueDepth(ctx); n != 1 {
		t.Errorf("queue depth %d, want 1", n)
	}
	if bal := balance(t, b, "rich"); bal != 10_000_000-588_000 {
		t.Errorf("balance %d", bal)
	}
	// A refused submit creates neither a row nor a job.
	b.do(t, call{"POST", "/v2/video/generations", b.poorKey, "", validBody})
	if n, _ := b.store.QueueDepth(ctx); n != 1 {
		t.Errorf("queue depth %d after a refused submit, want 1", n)
	}
}

// TestHonestErrors: a request the client abandoned is a 499 logged at
// debug, never a 500 logged as an error; a value echoed in a message is
// cut short; a duplicate key is a 400 naming it; /files answers its
// errors in the JSON error shape.
func TestHonestErrors(t *testing.T) {
	b := setup(t)
	var logs bytes.Buffer
	b.api.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.handler = b.api.Handler()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/v2/video/generations/list", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+bootstrapKey)
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	if w.Code != StatusClientClosedRequest || strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "client closed request") {
		t.Errorf("abandoned request: %d; log %s", w.Code, logs.String())
	}

	long := strings.Repeat("x", 20000)
	w = b.do(t, call{"GET", "/v2/video/generations?generation_id=" + long, bootstrapKey, "", ""})
	if w.Code != 404 || w.Body.Len() > 600 || !strings.Contains(w.Body.String(), strings.Repeat("x", 64)+"…") {
		t.Errorf("a 20,000-character id: %d, %d bytes: %.300s", w.Code, w.Body.Len(), w.Body.String())
	}

	w = b.do(t, call{"POST", "/v2/video/generations", bootstrapKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://example.com/a.png","resolution":"360p","resolution":"1080p"}`})
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"resolution","message":"Duplicate key`) {
		t.Errorf("duplicate key: %d %s", w.Code, w.Body)
	}

	for _, path := range []string{"/files/nope/output.mp4?expires=1&signature=x", "/files/../etc/passwd"} {
		w = b.do(t, call{"GET", path, "", "", ""})
		var body errorBody
		if json.Unmarshal(w.Body.Bytes(), &body) != nil || body.StatusCode != w.Code || (w.Code != 403 && w.Code != 404) ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %q %s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
}

// TestStorageFull: with the disk below its floor, a submit is a 503 with
// Retry-After naming storage, and /readyz answers not ready, saying why.
func TestStorageFull(t *testing.T) {
	b := setup(t)
	full := fault.E(fault.StorageFull, "Storage is nearly full: 100 MiB free on /data, below the 256 MiB floor; retry later")
	b.api.CheckStorage = func() error { return full }
	b.handler = b.api.Handler()
	w := b.do(t, call{"POST", "/v2/video/generations", bootstrapKey, "", validBody})
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "Storage is nearly full") {
		t.Errorf("submit: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = b.do(t, call{"GET", "/readyz", "", "", ""})
	if w.Code != 503 || !strings.Contains(w.Body.String(), "Not ready: Storage is nearly full: 100 MiB free on /data") {
		t.Errorf("readyz: %d %s", w.Code, w.Body)
	}
}
