package intake

import (
	"context"
	"fmt"
	"image"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/fault"
)

const refusal = "; stillmotion does not fetch private, loopback, link-local or multicast addresses (set STILLMOTION_ALLOW_PRIVATE_FETCH=1 to allow)"

// TestLoadRefusesForbiddenAddresses checks the connect-time address check
// with the production policy. The check runs before connect(2), so nothing
// is sent to these addresses.
func TestLoadRefusesForbiddenAddresses(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1/", "image_url resolves to 127.0.0.1, a loopback address" + refusal},
		{"http://10.0.0.1/", "image_url resolves to 10.0.0.1, a private address"},
		{"http://169.254.169.254/latest/meta-data", "image_url resolves to 169.254.169.254, a link-local address"},
		{"http://[::1]/", "image_url resolves to ::1, a loopback address"},
		{"https://[::ffff:127.0.0.1]:8443/", "image_url resolves to 127.0.0.1, a loopback address"},
		{"http://0.0.0.0/", "image_url resolves to 0.0.0.0, an unspecified address"},
		{"http://192.168.0.1:8080/x.png", "a private address"},
		{"http://100.64.0.1/", "a carrier-grade NAT address"},
		{"http://localhost/", "a loopback address"}, // a name, resolved by the dialer
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := Load(context.Background(), tt.url, Options{Timeout: 2 * time.Second})
			wantFault(t, err, fault.ImageForbidden, tt.want)
		})
	}
}

// TestLoadAllowPrivate checks that AllowPrivate lets Load reach loopback.
func TestLoadAllowPrivate(t *testing.T) {
	srv := serveBytes(t, encodePNG(t, quadrants(4, 4)))
	if _, err := Load(context.Background(), srv.URL, Options{}); fault.KindOf(err) != fault.ImageForbidden {
		t.Fatalf("Load without AllowPrivate = %v, want ImageForbidden", err)
	}
	if _, err := Load(context.Background(), srv.URL, Options{AllowPrivate: true}); err != nil {
		t.Fatalf("Load with AllowPrivate = %v", err)
	}
}

// onlyFrom returns an address policy that allows srv's own address and
// judges every other address as production does.
func onlyFrom(t *testing.T, url string) func(netip.AddrPort) string {
	t.Helper()
	first, err := netip.ParseAddrPort(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return func(ap netip.AddrPort) string {
		if ap == first {
			return ""
		}
		return forbiddenReason(ap.Addr())
	}
}

// TestLoadRedirectToForbiddenAddress follows a redirect from an allowed
// server to addresses the policy refuses.
func TestLoadRedirectToForbiddenAddress(t *testing.T) {
	img := encodePNG(t, quadrants(4, 4))
	var hits atomic.Int32
	inner := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(img)
	})
	tests := []struct {
		name, to string
		want     string
	}{
		{"private", "http://10.0.0.1/img.png",
			"image_url redirects to http://10.0.0.1/img.png, which resolves to 10.0.0.1, a private address" + refusal},
		{"metadata", "http://169.254.169.254/latest/meta-data",
			"which resolves to 169.254.169.254, a link-local address"},
		{"loopback server", inner.URL + "/secret",
			"image_url redirects to " + inner.URL + "/secret, which resolves to 127.0.0.1, a loopback address"},
		{"IPv6 loopback", "http://[::1]:1/",
			"which resolves to ::1, a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer := serve(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.to, http.StatusFound)
			})
			opt := Options{denyAddr: onlyFrom(t, outer.URL)}
			_, err := Load(context.Background(), outer.URL+"/start", opt)
			wantFault(t, err, fault.ImageForbidden, tt.want)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server behind the redirect got %d requests, want 0", n)
	}

	t.Run("allowed hop", func(t *testing.T) {
		// The same policy lets the first server serve the image itself.
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/img" {
				http.Redirect(w, r, "/img", http.StatusMovedPermanently)
				return
			}
			w.Write(img)
		})
		if _, err := Load(context.Background(), srv.URL, Options{denyAddr: onlyFrom(t, srv.URL)}); err != nil {
			t.Fatal(err)
		}
	})
}

// redirector serves a chain: /N redirects to /N-1 and /0 serves an image.
func redirector(t *testing.T) string {
	img := encodePNG(t, quadrants(4, 4))
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			w.Write(img)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
	})
	return srv.URL
}

func TestLoadRedirects(t *testing.T) {
	base := redirector(t)
	tests := []struct {
		name      string
		redirects int
		max       int
		want      string // "" for success
	}{
		{"none", 0, 0, ""},
		{"default allows 3", 3, 0, ""},
		{"default refuses 4", 4, 0, "fetching image_url: it redirected more than 3 times"},
		{"many", 50, 0, "redirected more than 3 times"},
		{"custom 5", 5, 5, ""},
		{"custom 1", 2, 1, "fetching image_url: it redirected more than once"},
		{"no redirects", 1, -1, "fetching image_url: it redirected, and no redirects are followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := fmt.Sprintf("%s/%d", base, tt.redirects)
			m, err := Load(context.Background(), url, Options{AllowPrivate: true, MaxRedirects: tt.max})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Bounds() != image.Rect(0, 0, 4, 4) {
					t.Errorf("bounds = %v", m.Bounds())
				}
				return
			}
			wantFault(t, err, fault.ImageFetch, tt.want)
		})
	}
}

func TestLoadFetchErrors(t *testing.T) {
	const mib = 1 << 20
	// Handlers that stall stop when the client goes or after a while, so
	// closing the server never waits long.
	stall := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		return "http://" + l.Addr().String() + "/"
	}()
	png64 := encodePNG(t, quadrants(64, 64))
	jpeg64 := encodeJPEG(t, quadrants(64, 64))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		url     string // instead of a server
		opt     Options
		kind    fault.Kind
		msgs    []string
	}{
		{name: "404", handler: http.NotFound, kind: fault.ImageFetch,
			msgs: []string{"fetching image_url: the server answered 404 Not Found"}},
		{name: "500", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, kind: fault.ImageFetch, msgs: []string{"the server answered 500 Internal Server Error"}},
		{name: "unknown status", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(599)
		}, kind: fault.ImageFetch, msgs: []string{"the server answered 599"}},
		{name: "too large by Content-Length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(21*mib))
			w.Write([]byte("\x89PNG"))
		}, kind: fault.ImageTooLarge, msgs: []string{"image is larger than the 20 MiB limit"}},
		{name: "too large streamed", handler: func(w http.ResponseWriter, r *http.Request) {
			chunk := make([]byte, mib) // no Content-Length: chunked
			for range 21 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, kind: fault.ImageTooLarge, msgs: []string{"image is larger than the 20 MiB limit"}},
		{name: "too large for a custom cap", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(png64)
		}, opt: Options{MaxBytes: 100}, kind: fault.ImageTooLarge, msgs: []string{"image is larger than the 100 bytes limit"}},
		{name: "HTML", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png") // lies
			w.Write([]byte("<html><body><h1>Welcome</h1></body></html>"))
		}, kind: fault.ImageInvalid, msgs: []string{"image_url is not an image: the content looks like text/html; supported formats are JPEG, PNG, WebP and GIF"}},
		{name: "truncated JPEG", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(jpeg64[:len(jpeg64)*2/3])
		}, kind: fault.ImageInvalid, msgs: []string{"image_url is not a valid image: unexpected EOF in JPEG data; supported formats are JPEG, PNG, WebP and GIF"}},
		{name: "PNG claiming 100000x100000", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(pngHeader(100000, 100000))
		}, kind: fault.ImageTooLarge, msgs: []string{"image is 100000x100000 (10000 megapixels); the limit is 40 megapixels"}},
		{name: "redirect to ftp", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "ftp://example.com/x.png", http.StatusFound)
		}, kind: fault.ImageForbidden, msgs: []string{"image_url redirects to ftp://example.com/x.png, which is not an http(s) URL"}},
		{name: "redirect to file", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}, kind: fault.ImageForbidden, msgs: []string{"which is not an http(s) URL"}},
		{name: "timeout before headers", handler: func(w http.ResponseWriter, r *http.Request) {
			stall(r)
		}, opt: Options{Timeout: 100 * time.Millisecond}, kind: fault.ImageFetch,
			msgs: []string{"fetching image_url: timed out after 100ms"}},
		{name: "timeout in the body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(png64[:20])
			w.(http.Flusher).Flush()
			stall(r)
		}, opt: Options{Timeout: 100 * time.Millisecond}, kind: fault.ImageFetch,
			msgs: []string{"fetching image_url: timed out after 100ms"}},
		{name: "connection refused", url: refused, kind: fault.ImageFetch,
			msgs: []string{"fetching image_url: the server refused the connection"}},
		{name: "bad scheme", url: "gopher://example.com/", kind: fault.Invalid,
			msgs: []string{`image_url has the scheme "gopher"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if tt.handler != nil {
				url = serve(t, tt.handler).URL + "/image.png"
			}
			opt := tt.opt
			opt.AllowPrivate = true
			start := time.Now()
			_, err := Load(context.Background(), url, opt)
			wantFault(t, err, tt.kind, tt.msgs...)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Load took %v", d)
			}
		})
	}
}

// TestLoadParentDeadline checks that the caller's deadline, not the fetch
// timeout, is reported when it is the one that ends the fetch.
func TestLoadParentDeadline(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Load(ctx, srv.URL, Options{AllowPrivate: true})
	wantFault(t, err, fault.Timeout, "loading image_url ran out of time")
}

// TestLoadClientOverride checks that a caller's client is used as is.
func TestLoadClientOverride(t *testing.T) {
	srv := serveBytes(t, encodePNG(t, quadrants(4, 4)))
	var used atomic.Bool
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	// No AllowPrivate: the override replaces the address check too.
	if _, err := Load(context.Background(), srv.URL, Options{Client: client}); err != nil {
		t.Fatal(err)
	}
	if !used.Load() {
		t.Error("Load did not use Options.Client")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
