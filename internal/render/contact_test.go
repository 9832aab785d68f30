package render

import (
	"slices"
	"testing"
)

func TestSheetFrames(t *testing.T) {
	tests := []struct {
		n, frames int
		want      []int
	}{
		{6, 120, []int{0, 24, 48, 71, 95, 119}},
		{1, 120, []int{0}},
		{3, 2, []int{0, 1}},
		{0, 10, []int{0}},
	}
	for _, tt := range tests {
		if got := SheetFrames(tt.n, tt.frames); !slices.Equal(got, tt.want) {
			t.Errorf("SheetFrames(%d, %d) = %v, want %v", tt.n, tt.frames, got, tt.want)
		}
	}
}

func TestContactSheet(t *testing.T) {
	t.Parallel()
	r := New(pattern(320, 180, 3), 160, 90, Shot{Move: PanLeft}, 24)
	img := ContactSheet(r, SheetFrames(5, 24))
	if w, h := img.Rect.Dx(), img.Rect.Dy(); w != 3*160+2*SheetGap || h != 2*90+SheetGap {
		t.Fatalf("sheet is %dx%d", w, h)
	}
	// The first tile is frame 0.
	f0 := frame(r, 0)
	for y := range 90 {
		for x := range 160 {
			if img.RGBAAt(x, y) != f0.RGBAAt(x, y) {
				t.Fatalf("tile 0 differs from frame 0 at (%d, %d)", x, y)
			}
		}
	}
}
