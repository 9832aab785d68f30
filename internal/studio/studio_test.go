package studio

import (
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler serves the page and its files with the security headers,
// hashed files cached for good and the page revalidated, and no listings.
func TestHandler(t *testing.T) {
	var asset string
	fs.WalkDir(dist, "dist/assets", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && asset == "" {
			asset = strings.TrimPrefix(path, "dist")
		}
		return nil
	})
	h := Handler("https://media.example.com")
	tests := []struct {
		path  string
		code  int
		cache string
	}{
		{"/", 200, "no-cache"},
		{"/assets/", 404, ""},
		{"/assets/nothing.js", 404, ""},
	}
	if asset != "" {
		tests = append(tests, struct {
			path  string
			code  int
			cache string
		}{asset, 200, "public, max-age=31536000, immutable"})
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.code {
			t.Errorf("GET %s: %d, want %d", tt.path, w.Code, tt.code)
		}
		hd := w.Header()
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'", "media-src 'self' blob: https://media.example.com;"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", tt.path, csp, want)
			}
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", tt.path, hd)
		}
		if tt.code == 200 && hd.Get("Cache-Control") != tt.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tt.path, hd.Get("Cache-Control"), tt.cache)
		}
	}
	// The page holds no inline script or style, which the policy forbids.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	page := w.Body.String()
	if !strings.Contains(page, "<html") || strings.Contains(page, "<script>") || strings.Contains(page, "<style") || strings.Contains(page, " style=") {
		t.Errorf("page:\n%s", page)
	}
}
