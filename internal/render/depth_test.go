package render

import (
	"image"
	"slices"
	"testing"
)

// TestFigureParallax checks a push in with a figure: frame 0 is still the
// picture, every pixel is opaque, and the background grows more slowly
// than the figure, so a background patch moves less than it does without
// the layers.
func TestFigureParallax(t *testing.T) {
	src := pattern(640, 360, 11)
	want := reference(src, 320, 180)
	figure := Box{Min: Point{-0.08, -0.3}, Max: Point{0.08, -0.02}}
	flat := New(src, 320, 180, Shot{Move: ZoomIn}, 24)
	deep := New(src, 320, 180, Shot{Move: ZoomIn, Figure: figure}, 24)
	f0 := frame(deep, 0)
	if p := psnr(want, f0); p < 35 {
		t.Errorf("frame 0: PSNR %.1f dB against the input", p)
	}
	last := frame(deep, 23)
	for i := 3; i < len(last.Pix); i += 4 {
		if last.Pix[i] != 255 {
			t.Fatalf("pixel %d has alpha %d", i/4, last.Pix[i])
		}
	}
	if !slices.Equal(last.Pix, frame(New(src, 320, 180, Shot{Move: ZoomIn, Figure: figure}, 24), 23).Pix) {
		t.Error("the layers are not deterministic")
	}
	shift := func(r *Renderer) float64 {
		a := fullLuma(frame(r, 8).Pix, 320, 180)
		b := fullLuma(frame(r, 10).Pix, 320, 180)
		dx, dy := patchShift(a, b, 320, 8, 100, 4)
		return dx*dx + dy*dy
	}
	if d, f := shift(deep), shift(flat); d >= 0.8*f {
		t.Errorf("a background patch moved %.2f px² with the layers, %.2f without: want less", d, f)
	}
}

// BenchmarkFrame720pLayers draws the frames of shots with two layers: a
// figure's push in and pan, from a face box.
func BenchmarkFrame720pLayers(b *testing.B) {
	src := loadImage(b, "coffee.png")
	figure := Box{Min: Point{-0.08, -0.3}, Max: Point{0.08, -0.02}}
	for _, mv := range []Move{ZoomIn, PanRight} {
		b.Run(mv.String(), func(b *testing.B) {
			r := New(src, 1280, 720, Shot{Move: mv, Figure: figure}, 120)
			dst := image.NewRGBA(image.Rect(0, 0, 1280, 720))
			i := 0
			for b.Loop() {
				r.Frame(i%120, dst)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/frame")
		})
	}
}
