package picture

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func TestDraw(t *testing.T) {
	a := Draw("a fox in the snow", 7, 96, 160)
	if b := a.Bounds(); b.Dx() != 96 || b.Dy() != 160 {
		t.Fatalf("bounds %v, want 96x160", b)
	}
	if !bytes.Equal(a.Pix, Draw("a fox in the snow", 7, 96, 160).Pix) {
		t.Error("the same prompt and seed drew another picture")
	}
	for _, other := range []*image.RGBA{Draw("a fox in the snow", 8, 96, 160), Draw("a city at night", 7, 96, 160)} {
		if bytes.Equal(a.Pix, other.Pix) {
			t.Error("another prompt or seed drew the same picture")
		}
	}
	// Not a flat fill: a picture the engine can animate.
	colours := map[[3]uint8]bool{}
	for i := 0; i < len(a.Pix); i += 4 {
		colours[[3]uint8{a.Pix[i], a.Pix[i+1], a.Pix[i+2]}] = true
	}
	if len(colours) < 100 {
		t.Errorf("%d colours, want a gradient", len(colours))
	}
}

func TestPNG(t *testing.T) {
	m, err := png.Decode(bytes.NewReader(PNG("x", 1, 40, 30)))
	if err != nil || m.Bounds().Dx() != 40 || m.Bounds().Dy() != 30 {
		t.Errorf("PNG: %v %v", m.Bounds(), err)
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{368, 640, 368, 640},
		{0, 480, 640, 360},
		{4096, 2304, 1024, 576},
		{1, 16384, 2, 1024},
	} {
		if w, h := Fit(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("Fit(%d, %d) = %dx%d, want %dx%d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}
