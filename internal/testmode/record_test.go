package testmode

import (
	"strings"
	"testing"
)

func TestElide(t *testing.T) {
	img := strings.Repeat("iVBORw0KGgo", 20)
	for _, tt := range []struct{ in, want string }{
		{`{"image_url":"data:image/png;base64,` + img + `"}`, `{"image_url":"data:image/png;base64,…(220 bytes elided)"}`},
		{`{"a":"data:audio/wav;base64,` + img + `","b":"data:,short"}`, `{"a":"data:audio/wav;base64,…(220 bytes elided)","b":"data:,short"}`},
		{`{"image_url":"https://example.com/a.png"}`, `{"image_url":"https://example.com/a.png"}`},
	} {
		if got := Elide(tt.in); got != tt.want {
			t.Errorf("Elide(%.60q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
