package blob

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/blob/blobtest"
	"stillmotion/internal/fault"
)

// store is what the suite checks: generation.Blobs, restated here.
type store interface {
	Put(ctx context.Context, key, path string) (int64, error)
	URL(ctx context.Context, key, fileName string) (string, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// opener returns an empty store whose URLs last ttl.
type opener func(t *testing.T, ttl time.Duration) store

// runSuite checks what every store must do. It runs against each one.
func runSuite(t *testing.T, open opener) {
	ctx := context.Background()
	file := func(t *testing.T, b []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "out.mp4")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	put := func(t *testing.T, s store, key string, b []byte) {
		t.Helper()
		src := file(t, b)
		n, err := s.Put(ctx, key, src)
		if err != nil || n != int64(len(b)) {
			t.Fatalf("Put = %d, %v; want %d bytes", n, err, len(b))
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Errorf("Put left its source file (%v): it moves files into storage", err)
		}
	}
	fetch := func(t *testing.T, s store, key string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		u, err := s.URL(ctx, key, "output.mp4")
		if err != nil {
			t.Fatal(err)
		}
		return download(t, u, hdr...)
	}

	t.Run("put, download, range", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Hour)
		want := random(300 << 10)
		put(t, s, "gen1/output.mp4", want)
		res, got := fetch(t, s, "gen1/output.mp4")
		if res.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Fatalf("download: %d, %d bytes (want %d)", res.StatusCode, len(got), len(want))
		}
		if ct := res.Header.Get("Content-Type"); ct != "video/mp4" {
			t.Errorf("Content-Type %q, want video/mp4", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="output.mp4"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		res, got = fetch(t, s, "gen1/output.mp4", "Range", "bytes=5-9")
		if res.StatusCode != 206 || !bytes.Equal(got, want[5:10]) {
			t.Errorf("range: %d %q", res.StatusCode, got)
		}
	})
	t.Run("open, and images", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Hour)
		want := random(70 << 10)
		put(t, s, "gen2/input.png", want)
		r, err := s.Open(ctx, "gen2/input.png")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Open: %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
		u, _ := s.URL(ctx, "gen2/input.png", "input.png")
		if res, got := download(t, u); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, want) {
			t.Errorf("download: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(got))
		}
		if _, err := s.Open(ctx, "gen2/missing.png"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("Open of a missing key = %v, want NotFound", err)
		}
	})
	t.Run("large files", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Hour)
		want := random(12<<20 + 12345) // several parts where uploads are multipart
		put(t, s, "big/output.mp4", want)
		res, got := fetch(t, s, "big/output.mp4")
		if res.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Fatalf("download: %d, %d bytes (want %d)", res.StatusCode, len(got), len(want))
		}
	})
	t.Run("overwrite and delete", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Hour)
		put(t, s, "g/output.mp4", []byte("first"))
		put(t, s, "g/output.mp4", []byte("second"))
		if _, got := fetch(t, s, "g/output.mp4"); string(got) != "second" {
			t.Errorf("after overwrite: %q", got)
		}
		if err := s.Delete(ctx, "g/output.mp4"); err != nil {
			t.Fatal(err)
		}
		// Disk answers 410 (the signature proves the file was there); an
		// object store 404 or 403.
		if res, _ := fetch(t, s, "g/output.mp4"); res.StatusCode != 410 && res.StatusCode != 404 && res.StatusCode != 403 {
			t.Errorf("deleted file: %d", res.StatusCode)
		}
		if err := s.Delete(ctx, "g/output.mp4"); err != nil {
			t.Errorf("deleting twice: %v", err)
		}
	})
	t.Run("signatures and expiry", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Second)
		put(t, s, "g/output.mp4", []byte("x"))
		u, _ := s.URL(ctx, "g/output.mp4", "output.mp4")
		p, _ := url.Parse(u)
		q := p.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "signature") {
				q.Set(k, strings.Repeat("0", len(q.Get(k))))
			}
		}
		p.RawQuery = q.Encode()
		if res, _ := download(t, p.String()); res.StatusCode != 403 {
			t.Errorf("tampered signature: %d, want 403", res.StatusCode)
		}
		time.Sleep(2100 * time.Millisecond)
		// Disk answers 410 Gone; an object store answers 403 itself.
		if res, _ := download(t, u); res.StatusCode != 410 && res.StatusCode != 403 {
			t.Errorf("expired URL: %d, want 410 (disk) or 403 (object store)", res.StatusCode)
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		t.Parallel()
		s := open(t, time.Hour)
		for _, k := range []string{"../x.mp4", "a/../../b.mp4", "/etc/passwd", "gen1/output.mp4/..", "gen1\\output.mp4", ""} {
			if _, err := s.URL(ctx, k, "x"); fault.KindOf(err) != fault.Invalid {
				t.Errorf("URL(%q) = %v", k, err)
			}
			if _, err := s.Put(ctx, k, "/dev/null"); fault.KindOf(err) != fault.Invalid {
				t.Errorf("Put(%q) = %v", k, err)
			}
		}
	})
}

func download(t *testing.T, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestDisk(t *testing.T) {
	t.Parallel()
	runSuite(t, func(t *testing.T, ttl time.Duration) store {
		d := &Disk{Dir: t.TempDir(), Secret: []byte("secret-secret-secret-secret-1234"), TTL: ttl}
		srv := httptest.NewServer(d)
		t.Cleanup(srv.Close)
		d.BaseURL = srv.URL
		return d
	})
}

// s3Store opens an S3 store on srv under a prefix of its own.
func s3Store(t *testing.T, srv *blobtest.Server, c S3Config) *S3 {
	t.Helper()
	c.Bucket, c.Region, c.AccessKey, c.SecretKey = srv.Bucket, srv.Region, srv.AccessKey, srv.SecretKey
	c.Endpoint = cmp.Or(c.Endpoint, srv.Endpoint)
	var b [4]byte
	rand.Read(b[:])
	c.Prefix = fmt.Sprintf("t%x/", b)
	s, err := NewS3(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3(t *testing.T) {
	t.Parallel()
	srv := blobtest.Start(t)
	runSuite(t, func(t *testing.T, ttl time.Duration) store {
		return s3Store(t, srv, S3Config{TTL: ttl, PartSize: 5 << 20})
	})
}

// TestS3RetriesFailedUploads puts a proxy that fails the first requests
// with 503 between the store and the server: the upload still succeeds.
func TestS3RetriesFailedUploads(t *testing.T) {
	t.Parallel()
	srv := blobtest.Start(t)
	target, _ := url.Parse(srv.Endpoint)
	var puts, failed, parts atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("partNumber") {
			parts.Add(1)
		}
		if r.Method == http.MethodPut && puts.Add(1) <= 3 {
			io.Copy(io.Discard, r.Body)
			failed.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>try again</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	s := s3Store(t, srv, S3Config{Endpoint: proxy.URL, PartSize: 5 << 20})
	want := make([]byte, 11<<20)
	rand.Read(want)
	src := filepath.Join(t.TempDir(), "in.mp4")
	os.WriteFile(src, want, 0o644)
	if _, err := s.Put(context.Background(), "retry/output.mp4", src); err != nil {
		t.Fatalf("Put through a flaky link: %v", err)
	}
	if failed.Load() != 3 {
		t.Errorf("%d requests failed, want 3", failed.Load())
	}
	if parts.Load() < 3 {
		t.Errorf("%d part uploads for 11 MiB in 5 MiB parts: the upload was not multipart", parts.Load())
	}
	u, _ := s.URL(context.Background(), "retry/output.mp4", "output.mp4")
	if res, got := download(t, u); res.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Errorf("download after retries: %d, %d bytes", res.StatusCode, len(got))
	}
}

func TestS3MissingBucket(t *testing.T) {
	t.Parallel()
	srv := blobtest.Start(t)
	_, err := NewS3(context.Background(), S3Config{Endpoint: srv.Endpoint, Bucket: "no-such-bucket", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "create it first") {
		t.Errorf("missing bucket: %v", err)
	}
	_, err = NewS3(context.Background(), S3Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: "wrong"})
	if err == nil {
		t.Error("wrong credentials accepted")
	}
}

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		in      string
		want    S3Config
		wantErr string
	}{
		{"s3://videos?endpoint=http://127.0.0.1:7070&region=eu-west-1", S3Config{Bucket: "videos", Endpoint: "http://127.0.0.1:7070", Region: "eu-west-1"}, ""},
		{"s3://videos/stillmotion?path_style=true", S3Config{Bucket: "videos", Prefix: "stillmotion/", PathStyle: true}, ""},
		{"s3://videos", S3Config{Bucket: "videos"}, ""},
		{"s3://", S3Config{}, "want s3://BUCKET"},
		{"gs://videos", S3Config{}, "want s3://BUCKET"},
		{"s3://key:secret@videos", S3Config{}, "AWS_ACCESS_KEY_ID"},
		{"s3://videos?endpoint=x&regoin=eu", S3Config{}, `unknown parameter "regoin"`},
		{"s3://videos?path_style=maybe", S3Config{}, "path_style"},
	}
	for _, tt := range tests {
		got, err := ParseS3URL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseS3URL(%q) = %v, want an error with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
