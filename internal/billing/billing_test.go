package billing

import "testing"

func TestCost(t *testing.T) {
	p := Default()
	tests := []struct {
		name   string
		res    string
		sec    int
		speech string
		want   int64
	}{
		{"720p 5s as hosted", "720p", 5, "", 420_000},
		{"360p 8s", "360p", 8, "", 504_000},
		{"540p 5s", "540p", 5, "", 315_000},
		{"1080p 5s", "1080p", 5, "", 840_000},
		{"one byte of speech is one chunk", "720p", 5, "a", 504_000},
		{"15 bytes is one chunk", "720p", 5, "abcdefghijklmno", 504_000},
		{"16 bytes is two chunks", "720p", 5, "abcdefghijklmnop", 588_000},
		{"bytes, not characters", "720p", 5, "ééééééé é", 588_000}, // 17 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Cost(tt.res, tt.sec, tt.speech); got != tt.want {
				t.Errorf("Cost(%s, %d, %q) = %d, want %d", tt.res, tt.sec, tt.speech, got, tt.want)
			}
		})
	}
	if got := USD(420_000); got != 0.21 {
		t.Errorf("USD(420000) = %v, want 0.21", got)
	}
}
