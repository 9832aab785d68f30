package remote

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/workerproto"
)

func TestPath(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		values  []string
		want    string
	}{
		{workerproto.HeartbeatPath, []string{"abc"}, "/v2/worker/leases/abc/heartbeat"},
		{workerproto.PartPath, []string{"abc", "3"}, "/v2/worker/leases/abc/output/3"},
		{workerproto.InputPath, []string{"a/b", "image_url"}, "/v2/worker/leases/a%2Fb/inputs/image_url"},
	} {
		if got := path(tt.pattern, tt.values...); got != tt.want {
			t.Errorf("path(%q, %q) = %q, want %q", tt.pattern, tt.values, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	var b backoff
	for i := range 12 {
		d := b.next()
		ceiling := min(500*time.Millisecond<<min(i, 6), 30*time.Second)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("wait %d: %v, want %v to %v", i, d, ceiling/2, ceiling)
		}
	}
	b.reset()
	if d := b.next(); d > 500*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}
}

// TestUploadInParts uploads a file of two and a half parts: three parts,
// each with its own hash, make up the whole; a part the server drops once
// (503) is sent again.
func TestUploadInParts(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]byte{}
	dropped := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/v2/worker/leases/L/output/2" && !dropped {
			dropped = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer T" || r.Header.Get(workerproto.SHA256Header) != fmt.Sprintf("%x", sha256.Sum256(b)) ||
			r.ContentLength != int64(len(b)) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got[r.URL.Path] = b
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c := &client{base: base, token: "T", http: srv.Client()}
	data := make([]byte, 2500)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f := filepath.Join(t.TempDir(), "v.mp4")
	os.WriteFile(f, data, 0o644)
	w := &Worker{}
	done, err := c.upload(context.Background(), "L", f, 1000, w.retry)
	if err != nil {
		t.Fatal(err)
	}
	if done.Parts != 3 || done.Size != 2500 || done.SHA256 != fmt.Sprintf("%x", sha256.Sum256(data)) {
		t.Errorf("completion %+v", done)
	}
	var joined []byte
	for n := 1; n <= 3; n++ {
		joined = append(joined, got[fmt.Sprintf("/v2/worker/leases/L/output/%d", n)]...)
	}
	if string(joined) != string(data) {
		t.Errorf("the parts make %d bytes, not the file's", len(joined))
	}
	if !dropped {
		t.Error("the dropped part was never dropped")
	}
}
