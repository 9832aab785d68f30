package portrait

import (
	"bytes"
	"image"
	"math"
	"testing"
)

// TestMouthWarp checks that a MouthWarp draws the same pixels into an image
// that covers only its bounds as into a copy of the source, that it changes
// nothing outside its bounds, and that its mouth is an Animator's. (The two
// interpolate the cheeks' and the chin's motion on grids of different
// origins, so their pixels differ a little where the chin meets the neck.)
func TestMouthWarp(t *testing.T) {
	src, f := source(t, "astronaut-portrait.png", 360)
	w := NewMouthWarp(src, f)
	b := w.Bounds()
	if b.Empty() || !b.In(src.Rect) {
		t.Fatalf("bounds %v, want a part of %v", b, src.Rect)
	}
	for _, m := range []Mouth{{}, {Open: 1}, {Round: 1, Open: 0.3}, {Press: 1}, {Bite: 1, Open: 0.12}, {Stretch: 1, Open: 0.4}} {
		small := image.NewRGBA(b)
		w.Draw(m, src, small)
		full := clone(src)
		w.Draw(m, src, full)
		animator := posed(src, f, m, 0)
		var worst, sum, n float64
		for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
			row := full.Pix[full.PixOffset(src.Rect.Min.X, y):][:4*src.Rect.Dx()]
			if y < b.Min.Y || y >= b.Max.Y {
				if !bytes.Equal(row, src.Pix[src.PixOffset(src.Rect.Min.X, y):][:4*src.Rect.Dx()]) {
					t.Fatalf("%+v: row %d changed, outside the bounds %v", m, y, b)
				}
				continue
			}
			got := small.Pix[small.PixOffset(b.Min.X, y):][:4*b.Dx()]
			if !bytes.Equal(got, full.Pix[full.PixOffset(b.Min.X, y):][:4*b.Dx()]) {
				t.Fatalf("%+v: row %d differs between a small and a full image", m, y)
			}
			want := animator.Pix[animator.PixOffset(b.Min.X, y):][:4*b.Dx()]
			for k := range got {
				d := math.Abs(float64(got[k]) - float64(want[k]))
				worst, sum, n = max(worst, d), sum+d, n+1
			}
		}
		if worst > 40 || sum/n > 0.3 {
			t.Errorf("%+v: differs from the Animator's mouth by up to %.0f levels, %.2f on average; want at most 40 and 0.3", m, worst, sum/n)
		}
	}
}
