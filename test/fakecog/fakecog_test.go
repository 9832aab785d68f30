package fakecog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/media"
	"stillmotion/test/fakecog"
)

var image = "data:image/png;base64," + base64.StdEncoding.EncodeToString(fakecog.SamplePNG())

func serve(t *testing.T, o fakecog.Options) (*fakecog.Server, string) {
	t.Helper()
	s := fakecog.New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts.URL
}

// send makes a request and decodes its JSON answer.
func send(t *testing.T, ctx context.Context, method, url string, body any, header ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, url, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func input(prompt string) map[string]any {
	return map[string]any{"input": map[string]any{"image": image, "prompt": prompt, "seed": 7}}
}

// isMP4 reports whether b starts as an ISO media file does.
func isMP4(b []byte) bool { return len(b) > 8 && string(b[4:8]) == "ftyp" }

func TestCogSynchronousPrediction(t *testing.T) {
	s, url := serve(t, fakecog.Options{Output: fakecog.DataURI})
	start := time.Now()
	code, p := send(t, context.Background(), "PUT", url+"/predictions/abc", input("a calm sky"))
	t.Logf("rendered in %v", time.Since(start))
	if code != 200 || p["status"] != "succeeded" || p["id"] != "abc" {
		t.Fatalf("PUT = %d %v", code, p["status"])
	}
	out, _ := p["output"].(string)
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(out, "data:video/mp4;base64,"))
	if err != nil || !isMP4(b) {
		t.Fatalf("output is not an MP4 data URI (%v)", err)
	}
	if !strings.Contains(p["logs"].(string), "100%|") {
		t.Errorf("logs have no progress bar: %q", p["logs"])
	}
	// Ended, the prediction is forgotten: the same id runs again.
	if code, _ := send(t, context.Background(), "POST", url+"/predictions/abc/cancel", nil); code != 404 {
		t.Errorf("cancel after the end = %d, want 404", code)
	}
	if s.Submissions() != 1 {
		t.Errorf("Submissions = %d", s.Submissions())
	}
}

func TestCogIdempotentPut(t *testing.T) {
	s, url := serve(t, fakecog.Options{})
	code, p := send(t, context.Background(), "PUT", url+"/predictions/p1", input("#slow"), "Prefer", "respond-async")
	if code != 202 || p["status"] != "starting" {
		t.Fatalf("async PUT = %d %v", code, p)
	}
	code, p = send(t, context.Background(), "PUT", url+"/predictions/p1", input("#slow"))
	if code != 202 || p["id"] != "p1" || p["status"] != "processing" {
		t.Fatalf("second PUT = %d %v, want 202 processing", code, p)
	}
	if code, _ := send(t, context.Background(), "PUT", url+"/predictions/p2", map[string]any{"id": "other", "input": map[string]any{}}); code != 422 {
		t.Errorf("PUT with a mismatched id = %d, want 422", code)
	}
	if code, _ := send(t, context.Background(), "POST", url+"/predictions/p1/cancel", nil); code != 200 {
		t.Errorf("cancel = %d", code)
	}
	if s.Submissions() != 1 || s.Cancels() != 1 {
		t.Errorf("Submissions %d, Cancels %d; want 1, 1", s.Submissions(), s.Cancels())
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Status("p1") != "canceled" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Status("p1"); st != "canceled" {
		t.Errorf("status %q, want canceled", st)
	}
}

func TestCogHangUpCancels(t *testing.T) {
	s, url := serve(t, fakecog.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(s.IDs()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "PUT", url+"/predictions/h", bytes.NewReader(must(json.Marshal(input("#slow")))))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Status("h") != "canceled" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Status("h"); st != "canceled" {
		t.Errorf("status %q after the client hung up, want canceled", st)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCogWebhook(t *testing.T) {
	var (
		mu     sync.Mutex
		events []string
		done   = make(chan struct{})
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		defer mu.Unlock()
		events = append(events, p["status"].(string))
		if p["status"] == "succeeded" {
			close(done)
		}
	}))
	defer hook.Close()
	_, url := serve(t, fakecog.Options{})
	body := input("a calm sky")
	body["webhook"], body["webhook_events_filter"] = hook.URL, []string{"start", "completed"}
	if code, _ := send(t, context.Background(), "PUT", url+"/predictions/w", body, "Prefer", "respond-async"); code != 202 {
		t.Fatalf("PUT = %d", code)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("no completed webhook")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(events, ",") != "processing,succeeded" {
		t.Errorf("webhook statuses %v, want the start and the end only", events)
	}
}

func TestHosted(t *testing.T) {
	s, url := serve(t, fakecog.Options{Token: "r8_secret", Model: "acme/video"})
	ctx := context.Background()
	if code, p := send(t, ctx, "POST", url+"/v1/models/acme/video/predictions", input("x"), "Authorization", "Bearer wrong"); code != 401 || !strings.Contains(p["detail"].(string), "wrong") {
		t.Errorf("bad token = %d %v, want 401 echoing it", code, p)
	}
	if code, _ := send(t, ctx, "POST", url+"/v1/models/acme/other/predictions", input("x"), "Authorization", "Bearer r8_secret"); code != 404 {
		t.Errorf("unknown model = %d, want 404", code)
	}
	code, p := send(t, ctx, "POST", url+"/v1/models/acme/video/predictions", input("a calm sky"), "Authorization", "Bearer r8_secret")
	if code != 201 || p["status"] != "starting" {
		t.Fatalf("create = %d %v", code, p)
	}
	get := p["urls"].(map[string]any)["get"].(string)
	for p["status"] != "succeeded" {
		if p["status"] == "failed" || p["status"] == "canceled" {
			t.Fatalf("prediction %v: %v", p["status"], p["error"])
		}
		time.Sleep(50 * time.Millisecond)
		_, p = send(t, ctx, "GET", get, nil, "Authorization", "Bearer r8_secret")
	}
	resp, err := http.Get(p["output"].(string))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !isMP4(b) {
		t.Errorf("the output URL serves %d bytes that are not an MP4", len(b))
	}
	if s.Submissions() != 1 {
		t.Errorf("Submissions = %d", s.Submissions())
	}
}

func TestInputValidation(t *testing.T) {
	_, url := serve(t, fakecog.Options{})
	body := map[string]any{"input": map[string]any{"image": image, "prompt": "x", "seed": "7", "width": 640.5}}
	code, p := send(t, context.Background(), "PUT", url+"/predictions/v", body)
	if code != 422 {
		t.Fatalf("Cog: %d, want 422", code)
	}
	if d := must(json.Marshal(p["detail"])); !bytes.Contains(d, []byte("seed")) || !bytes.Contains(d, []byte("width")) {
		t.Errorf("Cog detail %s names neither seed nor width", d)
	}
	code, p = send(t, context.Background(), "POST", url+"/v1/predictions", map[string]any{"version": "v1", "input": map[string]any{"image": image}})
	if code != 422 || !strings.Contains(p["detail"].(string), "prompt") {
		t.Errorf("hosted: %d %v, want 422 about the prompt", code, p)
	}
	code, p = send(t, context.Background(), "PUT", url+"/predictions/w", map[string]any{"input": map[string]any{"image": 7, "prompt": "x"}})
	if d := must(json.Marshal(p["detail"])); code != 422 || !bytes.Contains(d, []byte("image")) {
		t.Errorf("an image that is not a string: %d %s, want 422 about the image", code, d)
	}
}

// TestTextToVideo makes a prediction without an image (an empty one, as
// a text-to-video request leaves the template's image): the model animates
// a picture of its own, of the width and height asked for.
func TestTextToVideo(t *testing.T) {
	_, url := serve(t, fakecog.Options{Output: fakecog.DataURI})
	in := map[string]any{"prompt": "a lighthouse at dusk", "seed": 3, "width": 360, "height": 640, "image": ""}
	code, p := send(t, context.Background(), "PUT", url+"/predictions/t2v", map[string]any{"input": in})
	if code != 200 || p["status"] != "succeeded" {
		t.Fatalf("PUT = %d %v %v", code, p["status"], p["error"])
	}
	out, _ := p["output"].(string)
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(out, "data:video/mp4;base64,"))
	if err != nil || !isMP4(b) {
		t.Fatalf("output is not an MP4 data URI (%v)", err)
	}
	file := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := media.Probe(context.Background(), file)
	if err != nil || info.Width != 360 || info.Height != 640 || info.Duration < 4.9 {
		t.Errorf("video %+v %v, want 5 s of 360x640", info, err)
	}
}

func TestFailNext(t *testing.T) {
	s := fakecog.New(fakecog.Options{})
	defer s.Close()
	s.FailNext(1, 429, 2*time.Second)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/health-check", nil))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("scripted answer %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/health-check", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "READY") {
		t.Errorf("after the script: %d %s", rec.Code, rec.Body)
	}
}

func TestOutputForms(t *testing.T) {
	tests := []struct {
		name string
		opts fakecog.Options
		want func(any) bool
	}{
		{"list", fakecog.Options{Output: fakecog.List}, func(o any) bool {
			l, _ := o.([]any)
			return len(l) == 2 && strings.HasSuffix(l[1].(string), ".mp4")
		}},
		{"object", fakecog.Options{Output: fakecog.Object}, func(o any) bool {
			m, _ := o.(map[string]any)
			v, _ := m["video"].(string)
			return strings.HasSuffix(v, ".mp4")
		}},
		{"webm", fakecog.Options{WebM: true, NoAudio: true}, func(o any) bool {
			s, _ := o.(string)
			return strings.HasSuffix(s, ".webm")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.WebM && !fakecog.CanWebM() {
				t.Skip("ffmpeg has no libvpx-vp9")
			}
			_, url := serve(t, tt.opts)
			code, p := send(t, context.Background(), "PUT", url+"/predictions/o", input("a calm sky"))
			if code != 200 || !tt.want(p["output"]) {
				t.Errorf("%d %v: output %v", code, p["status"], p["output"])
			}
		})
	}
}
