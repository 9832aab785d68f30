package api

import (
	"strings"
	"testing"
)

// TestVoicePreview serves a voice's sample as WAV, and the studio only at
// the root and under /assets/: other unknown paths stay the API's 404.
func TestVoicePreview(t *testing.T) {
	b := setup(t)
	for _, tt := range []struct {
		path, key string
		code      int
		ctype     string
		body      string
	}{
		{"/v2/voices/Jack/preview", bootstrapKey, 200, "audio/wav", "RIFF Jack"},
		{"/v2/voices/Jack/preview", "", 401, "application/json; charset=utf-8", `"statusCode":401`},
		{"/v2/voices/jack/preview", bootstrapKey, 404, "application/json; charset=utf-8", "No preview of voice 'jack'"},
		{"/", "", 200, "", "studio /"},
		{"/assets/index-abc.js", "", 200, "", "studio /assets/index-abc.js"},
		{"/index.html", "", 404, "application/json; charset=utf-8", `"statusCode":404`},
		{"/v2/nothing", bootstrapKey, 404, "application/json; charset=utf-8", `"statusCode":404`},
	} {
		w := b.do(t, call{"GET", tt.path, tt.key, "", ""})
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) || (tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype) {
			t.Errorf("GET %s: %d %q %q, want %d %q containing %q", tt.path, w.Code, w.Header().Get("Content-Type"), w.Body, tt.code, tt.ctype, tt.body)
		}
	}
}
