package psnr

import (
	"image"
	"math"
	"testing"
)

func TestRGB(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for i := range a.Pix {
		a.Pix[i] = 100
	}
	same := image.NewRGBA(image.Rect(10, 10, 14, 12)) // elsewhere, same pixels
	copy(same.Pix, a.Pix)
	off := image.NewRGBA(a.Rect)
	copy(off.Pix, a.Pix)
	off.Pix[0] = 100 + 51 // one channel of 24 off by 51: MSE 51²/24
	off.Pix[3] = 0        // alpha is not measured
	for _, tt := range []struct {
		name string
		b    *image.RGBA
		keep func(x, y int) bool
		want float64
	}{
		{"identical", same, nil, math.Inf(1)},
		{"one channel off", off, nil, 10 * math.Log10(255*255*24/(51*51.0))},
		{"the pixel off left out", off, func(x, y int) bool { return x > 0 }, math.Inf(1)},
		{"only the pixel off", off, func(x, y int) bool { return x == 0 && y == 0 }, 10 * math.Log10(255*255*3/(51*51.0))},
	} {
		if got := Where(a, tt.b, tt.keep); math.Abs(got-tt.want) > 1e-9 && got != tt.want {
			t.Errorf("%s: %v dB, want %v", tt.name, got, tt.want)
		}
	}
	if got := RGB(a, off); math.Abs(got-Where(a, off, nil)) > 1e-12 {
		t.Errorf("RGB = %v, want Where with nil", got)
	}
}
