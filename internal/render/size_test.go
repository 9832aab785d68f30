package render

import "testing"

func TestFrameSize(t *testing.T) {
	tests := []struct {
		name         string
		w, h, short  int
		wantW, wantH int
	}{
		{"16:9 720p", 1920, 1080, 720, 1280, 720},
		{"16:9 360p", 1920, 1080, 360, 640, 360},
		{"16:9 540p", 1600, 900, 540, 960, 540},
		{"16:9 1080p", 3840, 2160, 1080, 1920, 1080},
		{"9:16 720p", 1080, 1920, 720, 720, 1280},
		{"square", 1000, 1000, 720, 720, 720},
		{"4:3", 640, 480, 720, 960, 720},
		{"3:2 540p", 600, 400, 540, 810, 540},
		{"4:5 portrait", 512, 640, 720, 720, 900},
		{"odd 640x427 rounds to even", 640, 427, 720, 1080, 720},
		{"odd near-square rounds up", 513, 511, 360, 362, 360},
		{"odd near-square portrait", 511, 513, 360, 360, 362},
		{"half rounds up to even", 361, 360, 360, 362, 360},
		{"21:9 clamps to 16:9", 2560, 1080, 1080, 1920, 1080},
		{"4:1 clamps to 16:9", 4000, 1000, 720, 1280, 720},
		{"1:4 clamps to 9:16", 1000, 4000, 720, 720, 1280},
		{"10000:1 clamps", 10000, 1, 360, 640, 360},
		{"1:10000 clamps", 1, 10000, 360, 360, 640},
		{"just inside 16:9", 1777, 1000, 720, 1280, 720},
		{"just inside 9:16", 1000, 1777, 720, 720, 1280},
		{"degenerate is square", 0, 0, 540, 540, 540},
		{"odd short side", 100, 100, 361, 362, 362},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw, fh := FrameSize(tt.w, tt.h, tt.short)
			if fw != tt.wantW || fh != tt.wantH {
				t.Errorf("FrameSize(%d, %d, %d) = %dx%d, want %dx%d", tt.w, tt.h, tt.short, fw, fh, tt.wantW, tt.wantH)
			}
			if fw%2 != 0 || fh%2 != 0 {
				t.Errorf("FrameSize(%d, %d, %d) = %dx%d, not even", tt.w, tt.h, tt.short, fw, fh)
			}
		})
	}
}
