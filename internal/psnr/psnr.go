// Package psnr measures how close one picture is to another: the peak
// signal-to-noise ratio over the red, green and blue channels, in dB, the
// measure every drawing package's tests use (35 dB and more: the eye sees
// no difference).
package psnr

import (
	"image"
	"math"
)

// RGB returns the PSNR of b against a over R, G and B, in dB, and +Inf
// for identical pictures. b is read at the same offsets from its
// Rect.Min as a; it must be at least as large.
func RGB(a, b *image.RGBA) float64 { return Where(a, b, nil) }

// Where is RGB over the pixels for which keep (given a's coordinates) is
// true; a nil keep keeps all. With no pixel kept it returns +Inf.
func Where(a, b *image.RGBA, keep func(x, y int) bool) float64 {
	var se float64
	n := 0
	d := b.Rect.Min.Sub(a.Rect.Min)
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
			if keep != nil && !keep(x, y) {
				continue
			}
			p, q := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x+d.X, y+d.Y):]
			for c := range 3 {
				e := float64(p[c]) - float64(q[c])
				se += e * e
			}
			n += 3
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(n)/se)
}
