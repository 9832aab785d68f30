package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"regexp"
	"strings"
	"testing"

	"stillmotion/internal/generation"
)

const videoBody = `{"model":"sora-2","prompt":"Mona Lisa puts on glasses with her hands.","input_reference":{"image_url":"https://example.com/1.jpeg"},"seconds":"8","size":"720x1280"}`

// multipartVideo is a create request as OpenAI's SDKs send it: the image
// uploaded as the file input_reference.
func multipartVideo(t *testing.T, fields map[string]string, image []byte) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary("stillmotion-test-boundary")
	for _, k := range []string{"model", "prompt", "seconds", "size", "seed", "input_reference[image_url]"} {
		if v, ok := fields[k]; ok {
			mw.WriteField(k, v)
		}
	}
	if image != nil {
		fw, err := mw.CreateFormFile("input_reference", "first.png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(image)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

func TestGoldenOpenAI(t *testing.T) {
	png, _ := base64.StdEncoding.DecodeString(tinyPNG)
	mpCT, mpBody := multipartVideo(t, map[string]string{"prompt": "slow zoom in", "seconds": "5", "size": "640x360", "seed": "7"}, png)
	urlCT, urlBody := multipartVideo(t, map[string]string{"prompt": "slow zoom in", "input_reference[image_url]": "https://example.com/a.png"}, nil)
	tests := []struct {
		name string
		call call
	}{
		{"v1_create_json", call{"POST", "/v1/videos", bootstrapKey, "", videoBody}},
		{"v1_create_multipart_file", call{"POST", "/v1/videos", bootstrapKey, mpCT, mpBody}},
		{"v1_create_multipart_image_url", call{"POST", "/v1/videos", bootstrapKey, urlCT, urlBody}},
		{"v1_error_invalid_fields", call{"POST", "/v1/videos", bootstrapKey, "", `{"model":"gpt-4o","prompt":"","seconds":"12","size":"4k"}`}},
		{"v1_error_file_id", call{"POST", "/v1/videos", bootstrapKey, "", `{"prompt":"p","input_reference":{"file_id":"file_123"}}`}},
		{"v1_error_malformed_json", call{"POST", "/v1/videos", bootstrapKey, "", `{"prompt":`}},
		{"v1_error_bad_image", call{"POST", "/v1/videos", bootstrapKey, "", `{"prompt":"p","image_url":"ftp://example.com/a.png"}`}},
		{"v1_error_no_key", call{"POST", "/v1/videos", "", "", videoBody}},
		{"v1_error_insufficient_credits", call{"POST", "/v1/videos", "sm_poor", "", videoBody}},
		{"v1_error_unknown_id", call{"GET", "/v1/videos/nope", bootstrapKey, "", ""}},
		{"v1_error_list_query", call{"GET", "/v1/videos?limit=0&order=up", bootstrapKey, "", ""}},
		{"v1_error_variant", call{"GET", "/v1/videos/x/content?variant=spritesheet", bootstrapKey, "", ""}},
		{"v1_error_method", call{"PUT", "/v1/videos/x", bootstrapKey, "", ""}},
		{"v1_list_empty", call{"GET", "/v1/videos", bootstrapKey, "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			golden(t, tt.name, dump(b.do(t, tt.call)))
		})
	}
}

// TestGoldenOpenAILifecycle pins the video object in each status, the list,
// the content redirect and delete.
func TestGoldenOpenAILifecycle(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	create := func() string {
		t.Helper()
		w := b.do(t, call{"POST", "/v1/videos", b.richKey, "", videoBody})
		if w.Code != 200 {
			t.Fatal(dump(w))
		}
		var v struct{ ID string }
		json.Unmarshal(w.Body.Bytes(), &v)
		return v.ID
	}
	// The store stamps the end of a generation with the real clock.
	stamp := regexp.MustCompile(`"completed_at": [0-9]+`)
	get := func(name, path string) {
		t.Helper()
		got := dump(b.do(t, call{"GET", path, b.richKey, "", ""}))
		golden(t, name, stamp.ReplaceAllString(got, `"completed_at": "<the time it ended>"`))
	}
	done, running, failed := create(), create(), create()
	get("v1_retrieve_queued", "/v1/videos/"+done)
	get("v1_error_content_not_ready", "/v1/videos/"+done+"/content")
	if err := b.store.Progress(ctx, running, 0.4567, ""); err != nil {
		t.Fatal(err)
	}
	get("v1_retrieve_in_progress", "/v1/videos/"+running)
	v := &generation.Video{Key: done + "/output.mp4", FileName: "output.mp4", Size: 4259218, Width: 720, Height: 1280, Duration: 8, FPS: 24, HasAudio: true}
	if err := b.store.Finish(ctx, done, v, nil); err != nil {
		t.Fatal(err)
	}
	get("v1_retrieve_completed", "/v1/videos/"+done)
	if err := b.store.Finish(ctx, failed, nil, &generation.Failure{Name: "image_fetch_failed", Message: "fetching image_url: the server answered 404 Not Found"}); err != nil {
		t.Fatal(err)
	}
	get("v1_retrieve_failed", "/v1/videos/"+failed)
	get("v1_list_page", "/v1/videos?limit=2")
	get("v1_list_after_asc", "/v1/videos?order=asc&after="+done)

	w := b.do(t, call{"GET", "/v1/videos/" + done + "/content?variant=video", b.richKey, "", ""})
	if loc := w.Header().Get("Location"); w.Code != 302 || !strings.HasPrefix(loc, "http://127.0.0.1:8080/files/"+done+"/output.mp4?") {
		t.Errorf("content: %d to %q, want a redirect to the signed file URL", w.Code, loc)
	}
	b.api.Thumbnail = func(_ context.Context, url string, w io.Writer) error {
		_, err := io.WriteString(w, "JPEG of "+url[:strings.IndexByte(url, '?')])
		return err
	}
	w = b.do(t, call{"GET", "/v1/videos/" + done + "/content?variant=thumbnail", b.richKey, "", ""})
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" || w.Body.String() != "JPEG of http://127.0.0.1:8080/files/"+done+"/output.mp4" {
		t.Errorf("thumbnail: %d %s %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	// Another key sees nothing, exactly as for an unknown id.
	for _, c := range []call{{"GET", "/v1/videos/" + done, otherKey, "", ""}, {"GET", "/v1/videos/" + done + "/content", otherKey, "", ""}, {"DELETE", "/v1/videos/" + done, otherKey, "", ""}} {
		if w := b.do(t, c); w.Code != 404 {
			t.Errorf("other key %s %s: %d, want 404", c.method, c.path, w.Code)
		}
	}
	if w := b.do(t, call{"GET", "/v1/videos", otherKey, "", ""}); strings.Contains(w.Body.String(), done) {
		t.Errorf("other key's list shows this key's video: %s", w.Body)
	}

	golden(t, "v1_delete_completed", dump(b.do(t, call{"DELETE", "/v1/videos/" + done, b.richKey, "", ""})))
	golden(t, "v1_delete_in_progress", dump(b.do(t, call{"DELETE", "/v1/videos/" + running, b.richKey, "", ""})))
	get("v1_error_deleted", "/v1/videos/"+done)
	get("v1_list_after_delete", "/v1/videos")
	if bal := balance(t, b, "rich"); bal != 10_000_000-672_000 {
		t.Errorf("balance %d, want only the completed video charged (720p, 8 s)", bal)
	}
}
