package blob

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func setup(t *testing.T) (*Disk, *httptest.Server, *time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	d := &Disk{Dir: t.TempDir(), Secret: []byte("secret-secret-secret-secret-1234"), Now: func() time.Time { return now }}
	srv := httptest.NewServer(http.StripPrefix("", d))
	t.Cleanup(srv.Close)
	d.BaseURL = srv.URL
	src := filepath.Join(t.TempDir(), "in.mp4")
	if err := os.WriteFile(src, []byte("0123456789abcdefghij"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := d.Put(context.Background(), "gen1/output.mp4", src)
	if err != nil || n != 20 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	return d, srv, &now
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestDiskServe(t *testing.T) {
	d, srv, now := setup(t)
	u, err := d.URL(context.Background(), "gen1/output.mp4", "output.mp4")
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(f func(q url.Values)) string {
		p, _ := url.Parse(u)
		q := p.Query()
		f(q)
		p.RawQuery = q.Encode()
		return p.String()
	}
	tests := []struct {
		name   string
		url    string
		hdr    map[string]string
		status int
		body   string
	}{
		{"whole file", u, nil, 200, "0123456789abcdefghij"},
		{"range", u, map[string]string{"Range": "bytes=5-9"}, 206, "56789"},
		{"open range", u, map[string]string{"Range": "bytes=15-"}, 206, "fghij"},
		{"bad signature", tamper(func(q url.Values) { q.Set("signature", "AAAA") }), nil, 403, "Invalid signature"},
		{"extended expiry", tamper(func(q url.Values) { q.Set("expires", "99999999999") }), nil, 403, "Invalid signature"},
		{"no signature", srv.URL + "/files/gen1/output.mp4", nil, 403, "Invalid signature"},
		{"traversal", srv.URL + "/files/../../etc/passwd", nil, 404, "File not found"},
		{"other key with this signature", strings.Replace(u, "gen1", "gen2", 1), nil, 403, "Invalid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, tt.url, tt.hdr)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
			if res.StatusCode < 300 && res.Header.Get("Content-Type") != "video/mp4" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
		})
	}
	t.Run("deleted", func(t *testing.T) {
		// A valid signature proves the file was there: its generation was
		// deleted, or expired.
		src := filepath.Join(t.TempDir(), "in.mp4")
		os.WriteFile(src, []byte("x"), 0o644)
		if _, err := d.Put(context.Background(), "gen3/output.mp4", src); err != nil {
			t.Fatal(err)
		}
		u3, _ := d.URL(context.Background(), "gen3/output.mp4", "output.mp4")
		if err := d.Delete(context.Background(), "gen3/output.mp4"); err != nil {
			t.Fatal(err)
		}
		res, body := get(t, u3, nil)
		if res.StatusCode != 410 || !strings.Contains(body, "no longer exists") || !strings.Contains(body, "retention period") {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		*now = now.Add(7*24*time.Hour + time.Second)
		res, body := get(t, u, nil)
		if res.StatusCode != 410 || !strings.Contains(body, "expired at 2026-12-01T10:00:00Z") || !strings.Contains(body, "poll the generation again") {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
}

// TestDiskDeleteRemovesEmptyDirectory: a generation's directory goes with
// its last file, so that expired generations leave nothing behind.
func TestDiskDeleteRemovesEmptyDirectory(t *testing.T) {
	ctx := context.Background()
	d, _, _ := setup(t)
	src := filepath.Join(t.TempDir(), "in.png")
	os.WriteFile(src, []byte("png"), 0o644)
	if _, err := d.Put(ctx, "gen1/input.png", src); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(d.Dir, "gen1")
	if err := d.Delete(ctx, "gen1/output.mp4"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "input.png")); err != nil {
		t.Fatalf("the other file of the directory: %v", err)
	}
	if err := d.Delete(ctx, "gen1/input.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the empty directory was left: %v", err)
	}
	os.WriteFile(src, []byte("png"), 0o644)
	if _, err := d.Put(ctx, "gen1/input.png", src); err != nil {
		t.Errorf("Put after the directory went: %v", err)
	}
}

func TestDiskRejectsBadKeys(t *testing.T) {
	d, _, _ := setup(t)
	for _, k := range []string{"../x.mp4", "a/../../b.mp4", "/etc/passwd", "gen1/output.mp4/..", "gen1\\output.mp4", ""} {
		if _, err := d.URL(context.Background(), k, "x"); err == nil {
			t.Errorf("URL(%q) accepted", k)
		}
		if _, err := d.Put(context.Background(), k, "/dev/null"); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
	}
}

func TestLoadSecretPersists(t *testing.T) {
	f := filepath.Join(t.TempDir(), "k")
	a, err := LoadSecret(f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadSecret(f)
	if string(a) != string(b) || len(a) != 32 {
		t.Fatal("secret not stable")
	}
	if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// FuzzServeFile: a request of any path and query is served only with the
// signature of the file it names, and never reaches outside the store.
func FuzzServeFile(f *testing.F) {
	f.Add("gen1/output.mp4", "expires=1&signature=x")
	f.Add("../../etc/passwd", "")
	f.Add("gen1/%2e%2e/output.mp4", "expires=99999999999")
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	d := &Disk{Dir: f.TempDir(), Secret: []byte("secret-secret-secret-secret-1234"), Now: func() time.Time { return now }}
	src := filepath.Join(f.TempDir(), "in.mp4")
	os.WriteFile(src, []byte("video"), 0o644)
	if _, err := d.Put(context.Background(), "gen1/output.mp4", src); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, query string) {
		r, err := http.NewRequest("GET", "http://h"+FilesPath+key+"?"+query, nil)
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		if err := d.ServeFile(w, r); err != nil {
			if w.Body.Len() != 0 {
				t.Fatalf("an error with a body written: %v", err)
			}
			return
		}
		k := strings.TrimPrefix(r.URL.Path, FilesPath)
		exp, _ := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
		if k != "gen1/output.mp4" || r.URL.Query().Get("signature") != d.sign(k, exp) {
			t.Fatalf("served %q with query %q", k, query)
		}
	})
}

// TestKeysOfEveryKeptKind: every extension served has a valid key, so an
// inline lip-sync audio or video is kept as an image is.
func TestKeysOfEveryKeptKind(t *testing.T) {
	for ext, typ := range contentTypes {
		if key := "gen1/input" + ext; !validKey.MatchString(key) {
			t.Errorf("%s (%s) is not a valid key", key, typ)
		}
	}
	for _, key := range []string{"gen1/../x.mp4", "gen1/x.exe", "x.mp4", "gen1/x.mp4/"} {
		if validKey.MatchString(key) {
			t.Errorf("%q is a valid key", key)
		}
	}
}
