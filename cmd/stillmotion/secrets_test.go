package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSecretsStayOutOfLogs plants secrets where clients put them (a signed
// image URL's query, a webhook URL's token, a video URL's user info) and
// makes every path that logs a URL run: a fetch that fails, a webhook
// that fails and is retried, then delivered. None of the secrets is in
// the server's log; the hosts are.
func TestSecretsStayOutOfLogs(t *testing.T) {
	var hooks atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hooks.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // retried
		}
	}))
	defer hook.Close()
	media := httptest.NewServer(http.NotFoundHandler())
	defer media.Close()
	p := startServer(t, serverOpts{allowPrivate: true})

	secrets := []string{"PLANTED-SIGNATURE", "PLANTED-TOKEN", "PLANTED-PASSWORD"}
	img := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "p", "resolution": "360p",
		"image_url":    media.URL + "/a.png?X-Amz-Signature=PLANTED-SIGNATURE",
		"callback_url": hook.URL + "/hook?token=PLANTED-TOKEN",
	})
	sync := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/lip-sync", "video_url": strings.Replace(media.URL, "http://", "http://user:PLANTED-PASSWORD@", 1) + "/v.mp4",
		"audio_url": media.URL + "/a.mp3?sig=PLANTED-SIGNATURE",
	})
	for _, id := range []string{img, sync} {
		if g := p.wait(t, "/v2/video/generations", id, time.Minute); g["status"] != "error" {
			t.Fatalf("generation %s: %v, want it failed fetching", id, g)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.logs(), "webhook delivered") {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook was not retried and delivered:\n%s", p.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs := p.logs()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %s:\n%s", s, logs)
		}
	}
	host := strings.TrimPrefix(hook.URL, "http://")
	if !strings.Contains(logs, "webhook not delivered; will retry") || !strings.Contains(logs, host+"/hook") {
		t.Errorf("the log does not name the retried webhook's host and path:\n%s", logs)
	}
}
