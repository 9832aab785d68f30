package billing

import "testing"

func TestCost(t *testing.T) {
	p := Default()
	tests := []struct {
		name  string
		model string
		usage Usage
		want  int64
	}{
		{"720p 5s as hosted", "", Usage{Resolution: "720p", Seconds: 5}, 420_000},
		{"360p 8s", "", Usage{Resolution: "360p", Seconds: 8}, 504_000},
		{"540p 5s", "", Usage{Resolution: "540p", Seconds: 5}, 315_000},
		{"1080p 5s", "", Usage{Resolution: "1080p", Seconds: 5}, 840_000},
		{"one byte of speech is one chunk", "", Usage{Resolution: "720p", Seconds: 5, Speech: "a"}, 504_000},
		{"15 bytes is one chunk", "", Usage{Resolution: "720p", Seconds: 5, Speech: "abcdefghijklmno"}, 504_000},
		{"16 bytes is two chunks", "", Usage{Resolution: "720p", Seconds: 5, Speech: "abcdefghijklmnop"}, 588_000},
		{"bytes, not characters", "", Usage{Resolution: "720p", Seconds: 5, Speech: "ééééééé é"}, 588_000}, // 17 bytes
		{"v5.5 10s as v5 per second", "pixverse/v5.5/image-to-video", Usage{Resolution: "720p", Seconds: 10}, 840_000},
		{"v5.5 sound", "pixverse/v5.5/image-to-video", Usage{Resolution: "720p", Seconds: 5, Extras: []string{"audio"}}, 525_000},
		{"v5.5 sound and shots", "pixverse/v5.5/text-to-video", Usage{Resolution: "540p", Seconds: 8, Extras: []string{"audio", "multi_clip"}}, 504_000 + 2*8*21_000},
		{"an extra a model does not price is free", "", Usage{Resolution: "720p", Seconds: 5, Extras: []string{"audio"}}, 420_000},
		{"lip-sync per video", "pixverse/lip-sync", Usage{}, 420_000},
		{"lip-sync speech", "pixverse/lip-sync", Usage{Speech: "abcdefghijklmnop"}, 588_000},
		{"transition as image-to-video", "pixverse/v5/transition", Usage{Resolution: "360p", Seconds: 5}, 315_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := p
			if tt.model != "" {
				q = ForModel(tt.model, p)
			}
			if got := q.Cost(tt.usage); got != tt.want {
				t.Errorf("Cost(%+v) = %d, want %d", tt.usage, got, tt.want)
			}
		})
	}
	if got := USD(420_000); got != 0.21 {
		t.Errorf("USD(420000) = %v, want 0.21", got)
	}
}

func TestForModelKeepsSetPrices(t *testing.T) {
	p := Default()
	p.PerVideo = 1
	p.Extras = map[string]int64{"audio": 2}
	if q := ForModel("pixverse/lip-sync", p); q.PerVideo != 1 {
		t.Errorf("PerVideo = %d, want the configured 1", q.PerVideo)
	}
	if q := ForModel("pixverse/v5.5/image-to-video", p); q.Extras["audio"] != 2 || q.Extras["multi_clip"] != 0 {
		t.Errorf("Extras = %v, want the configured ones", q.Extras)
	}
}
