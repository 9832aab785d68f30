package redact

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://h/p/v.mp4?expires=1&signature=abc", "https://h/p/v.mp4"},
		{"https://user:pw@h/hook?token=s#frag", "https://h/hook"},
		{"http://h:8080/", "http://h:8080/"},
		{"data:image/png;base64,AAAA", "a data URI"},
		{"http://bad\x7f/x?token=s", "http://bad\x7f/x"},
		{"http://[::1:bad/x?token=1", "http://[::1:bad/x"},
	} {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestError(t *testing.T) {
	err := Error(&url.Error{Op: "Get", URL: "https://h/v?signature=secret", Err: errors.New("refused")})
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "https://h/v") {
		t.Errorf("Error = %v", err)
	}
}

func FuzzURL(f *testing.F) {
	f.Add("https://u:p@h/p?q=s#f")
	f.Add("data:,x")
	f.Fuzz(func(t *testing.T, raw string) {
		got := URL(raw)
		if u, err := url.Parse(raw); err == nil && u.RawQuery != "" && strings.Contains(got, "?"+u.RawQuery) {
			t.Errorf("URL(%q) = %q keeps the query", raw, got)
		}
	})
}
