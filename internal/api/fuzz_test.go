package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

// FuzzPreferredWait: any Prefer header gives a wait of 0..maxWait
// seconds, and a well-formed wait=N is N, capped.
func FuzzPreferredWait(f *testing.F) {
	for _, s := range []string{"wait=5", "respond-async, wait=100", `wait="7"; x=1`, "wait=-1", "wait", "WAIT = 3", "wait=1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Prefer": {v}}
		if n := preferredWait(h); n < 0 || n > maxWait {
			t.Fatalf("Prefer %q: wait %d, want 0..%d", v, n, maxWait)
		}
	})
}

// FuzzVideoParams: any /v1 create body, JSON or multipart, becomes a v2
// body that is a JSON object, or an error of the API's vocabulary; never a
// panic, and never a model the server does not serve.
func FuzzVideoParams(f *testing.F) {
	f.Add("application/json", `{"model":"sora-2","prompt":"p","seconds":"8","size":"720x1280","input_reference":{"image_url":"https://x/y.png"}}`)
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n--X\r\nContent-Disposition: form-data; name=\"generate_audio_switch\"\r\n\r\ntrue\r\n--X--\r\n")
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--X--\r\n")
	f.Add("text/plain", "x")
	b := setup(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/v1/videos", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		out, _, err := b.api.videoParams(r)
		if err != nil {
			if fault.KindOf(err) == fault.Internal {
				t.Fatalf("an internal error: %v", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(out, &m) != nil {
			return // ParseRequest says what is wrong with it
		}
		var model string
		if json.Unmarshal(m["model"], &model); model != "" && !slices.Contains(b.api.Service.Models(), model) {
			t.Fatalf("mapped to a model not served: %q", model)
		}
	})
}
