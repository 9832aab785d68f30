package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"stillmotion/internal/auth"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
	"stillmotion/internal/workerproto"
)

// workerBundle is a bundle whose service lends jobs, with a worker token
// for render_builtin.
func workerBundle(t *testing.T) (b *bundle, token string) {
	t.Helper()
	b = setup(t)
	svc := b.api.Service
	svc.Leasing = &generation.Leasing{Store: b.store}
	svc.Inputs = &input.Files{Blobs: svc.Blobs}
	for _, k := range []*auth.Key{
		{ID: "wrk_a", Name: "gpu-a", Hash: auth.Hash("sm_gpu_a"), Unlimited: true, Worker: true, Queues: []string{"render_builtin"}, Created: epoch},
		{ID: "wrk_b", Name: "gpu-b", Hash: auth.Hash("sm_gpu_b"), Unlimited: true, Worker: true, Queues: []string{"render_builtin"}, Created: epoch},
	} {
		if err := b.store.CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	return b, "sm_gpu_a"
}

// lease takes a lease with token, or fails the test.
func (b *bundle) lease(t *testing.T, token string) *workerproto.Lease {
	t.Helper()
	w := b.do(t, call{"POST", workerproto.LeasesPath, token, "", ""})
	if w.Code != http.StatusOK {
		t.Fatalf("lease: %d %s", w.Code, w.Body)
	}
	var l workerproto.Lease
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	return &l
}

func leasePath(pattern, id string, more ...string) string {
	p := strings.Replace(pattern, "{id}", id, 1)
	for _, m := range more {
		i, j := strings.IndexByte(p, '{'), strings.IndexByte(p, '}')
		p = p[:i] + m + p[j+1:]
	}
	return p
}

func TestWorkerLeaseUploadComplete(t *testing.T) {
	b, tok := workerBundle(t)
	if w := b.do(t, call{"POST", workerproto.LeasesPath, b.richKey, "", ""}); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "not a worker token") {
		t.Errorf("an API key leasing: %d %s", w.Code, w.Body)
	}
	if w := b.do(t, call{"POST", workerproto.LeasesPath, tok, "", `{"wait_seconds":0}`}); w.Code != http.StatusNoContent {
		t.Errorf("nothing queued: %d %s, want 204", w.Code, w.Body)
	}
	if w := b.do(t, call{"POST", workerproto.LeasesPath, tok, "", `{"wait_seconds":31}`}); w.Code != http.StatusBadRequest {
		t.Errorf("a 31 s wait: %d %s, want 400", w.Code, w.Body)
	}
	sub := b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"data:image/png;base64,` + tinyPNG + `","seed":5}`})
	id := idOf(t, sub)

	lw := b.do(t, call{"POST", workerproto.LeasesPath, tok, "", ""})
	golden(t, "worker_lease", dump(lw))
	var l *workerproto.Lease
	if err := json.Unmarshal(lw.Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	in := leasePath(workerproto.InputPath, l.ID, "image_url")
	if l.GenerationID != id || l.Engine != "builtin" || l.Queue != "render_builtin" || l.Attempt != 1 || l.Inputs["image_url"] != in || l.HeartbeatMillis != 3000 {
		t.Errorf("lease %+v", l)
	}
	var req generation.Request
	if err := json.Unmarshal(l.Request, &req); err != nil || req.ImageURL != in || req.Seed != 5 || req.Prompt != "p" {
		t.Errorf("leased request %s (%v)", l.Request, err)
	}
	// The input, without a token: the URL is the credential.
	png, _ := base64.StdEncoding.DecodeString(tinyPNG)
	if w := b.do(t, call{"GET", in, "", "", ""}); w.Code != 200 || w.Body.String() != string(png) || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("input: %d %q %v", w.Code, w.Body, w.Header())
	}
	if w := b.do(t, call{"GET", leasePath(workerproto.InputPath, "nope", "image_url"), "", "", ""}); w.Code != http.StatusGone {
		t.Errorf("input of no lease: %d, want 410", w.Code)
	}

	hb := b.do(t, call{"POST", leasePath(workerproto.HeartbeatPath, l.ID), tok, "", `{"progress":0.5}`})
	golden(t, "worker_heartbeat", dump(hb))
	if g := decodeBody(t, b.do(t, call{"GET", "/v2/video/generations?generation_id=" + id, b.richKey, "", ""})); g["status"] != "generating" || g["progress"] != 50.0 {
		t.Errorf("poll while leased: %v", g)
	}
	if w := b.do(t, call{"POST", leasePath(workerproto.HeartbeatPath, l.ID), "sm_gpu_b", "", `{"progress":0.6}`}); w.Code != http.StatusNotFound {
		t.Errorf("another token's heartbeat: %d, want 404", w.Code)
	}

	video := []byte(strings.Repeat("not really an mp4 ", 100))
	sum := fmt.Sprintf("%x", sha256.Sum256(video))
	part := leasePath(workerproto.PartPath, l.ID, "1")
	for _, tt := range []struct {
		name, path, sha string
		want            int
	}{
		{"no hash", part, "", 400},
		{"wrong hash", part, strings.Repeat("0", 64), 400},
		{"part 0", leasePath(workerproto.PartPath, l.ID, "0"), sum, 400},
		{"part 1001", leasePath(workerproto.PartPath, l.ID, "1001"), sum, 400},
		{"good", part, sum, 200},
	} {
		w := b.doWith(t, call{"PUT", tt.path, tok, "application/octet-stream", string(video)}, map[string]string{workerproto.SHA256Header: tt.sha})
		if w.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body, tt.want)
		}
		if tt.name == "wrong hash" || tt.name == "good" {
			golden(t, "worker_part_"+strings.ReplaceAll(tt.name, " ", "_"), dump(w))
		}
	}
	complete := func(parts int, size int, sha string) *http.Response {
		body := fmt.Sprintf(`{"parts":%d,"size":%d,"sha256":%q,"output":{"width":2,"height":2,"duration":5,"fps":24,"has_audio":true,"plan":"a plan"}}`, parts, size, sha)
		return b.do(t, call{"POST", leasePath(workerproto.CompletePath, l.ID), tok, "", body}).Result()
	}
	for _, tt := range []struct {
		name        string
		parts, size int
		sha, want   string
	}{
		{"a part missing", 2, len(video), sum, "Part 2 of 2 was not uploaded"},
		{"wrong size", 1, len(video) + 1, sum, fmt.Sprintf("make %d bytes, not %d", len(video), len(video)+1)},
		{"wrong hash", 1, len(video), strings.Repeat("1", 64), "have SHA-256 " + sum},
	} {
		res := complete(tt.parts, tt.size, tt.sha)
		var e errorBody
		json.NewDecoder(res.Body).Decode(&e)
		if res.StatusCode != 400 || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s: %d %q, want 400 saying %q", tt.name, res.StatusCode, e.Message, tt.want)
		}
	}
	if res := complete(1, len(video), sum); res.StatusCode != 200 {
		t.Fatalf("complete: %d", res.StatusCode)
	}
	g := decodeBody(t, b.do(t, call{"GET", "/v2/video/generations?generation_id=" + id, b.richKey, "", ""}))
	if v, _ := g["video"].(map[string]any); g["status"] != "completed" || v["file_size"] != float64(len(video)) || g["plan"] != "a plan" {
		t.Errorf("after completing: %v", g)
	}
	again := b.do(t, call{"POST", leasePath(workerproto.CompletePath, l.ID), tok, "", fmt.Sprintf(`{"parts":1,"size":%d,"sha256":%q,"output":{"width":2,"height":2,"duration":5,"fps":24,"has_audio":true}}`, len(video), sum)})
	golden(t, "worker_error_complete_again", dump(again))
	if w := b.doWith(t, call{"PUT", part, tok, "application/octet-stream", string(video)}, map[string]string{workerproto.SHA256Header: sum}); w.Code != http.StatusGone {
		t.Errorf("a part after completing: %d, want 410", w.Code)
	}
}

func TestWorkerFailAndRelease(t *testing.T) {
	b, tok := workerBundle(t)
	submit := func() string {
		return idOf(t, b.do(t, call{"POST", "/v2/video/generations", b.richKey, "", validBody}))
	}
	before := balance(t, b, "rich")
	id := submit()

	// Handed back: the same job again, still its first attempt.
	l := b.lease(t, tok)
	if w := b.do(t, call{"POST", leasePath(workerproto.ReleasePath, l.ID), tok, "", ""}); w.Code != http.StatusNoContent {
		t.Fatalf("release: %d %s", w.Code, w.Body)
	}
	if l = b.lease(t, "sm_gpu_b"); l.GenerationID != id || l.Attempt != 1 {
		t.Errorf("after a hand-back: %+v, want %s at attempt 1", l, id)
	}

	fail := func(l *workerproto.Lease, token, name string) (int, map[string]any) {
		w := b.do(t, call{"POST", leasePath(workerproto.FailPath, l.ID), token, "", `{"error":{"name":"` + name + `","message":"it broke"}}`})
		var m map[string]any
		json.Unmarshal(w.Body.Bytes(), &m)
		return w.Code, m
	}
	if code, m := fail(l, "sm_gpu_b", "not_a_name"); code != 400 {
		t.Errorf("an unknown error name: %d %v", code, m)
	}
	if code, m := fail(l, "sm_gpu_b", "render_failed"); code != 200 || m["retried"] != true {
		t.Errorf("a render failure on attempt 1: %d %v, want retried", code, m)
	}
	// (The service's clock is in the past: the retry is due at once.)
	l = b.lease(t, tok)
	if l.GenerationID != id || l.Attempt != 2 {
		t.Errorf("the retry: %+v, want attempt 2", l)
	}
	if code, m := fail(l, tok, "input_rejected"); code != 200 || m["retried"] != false {
		t.Errorf("a rejected input: %d %v, want not retried", code, m)
	}
	g := decodeBody(t, b.do(t, call{"GET", "/v2/video/generations?generation_id=" + id, b.richKey, "", ""}))
	if e, _ := g["error"].(map[string]any); g["status"] != "error" || e["name"] != "input_rejected" || e["message"] != "it broke" {
		t.Errorf("after a permanent failure: %v", g)
	}
	if after := balance(t, b, "rich"); after != before {
		t.Errorf("balance %d, want %d: refunded", after, before)
	}
	if code, _ := fail(l, tok, "render_failed"); code != http.StatusGone {
		t.Errorf("failing an ended lease: %d, want 410", code)
	}
}
