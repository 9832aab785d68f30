package render

import (
	"image"
	"math"
	"testing"
)

// energy returns the mean squared luma gradient of img: how much fine
// detail it shows.
func energy(img *image.RGBA) float64 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	l := make([]float64, w*h)
	for i := range l {
		p := img.Pix[4*i:]
		l[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var s float64
	for y := range h - 1 {
		for x := range w - 1 {
			i := y*w + x
			dx, dy := l[i+1]-l[i], l[i+w]-l[i]
			s += dx*dx + dy*dy
		}
	}
	return s / float64((w-1)*(h-1))
}

// TestSharpnessHolds checks that a pure camera move does not soften the
// picture: the last frame's gradient energy is at least 90% of the first's,
// once the magnification is allowed for. Content magnified s times has
// 1/s² of the gradient energy even when perfectly sharp, so the measure
// is s² times the last frame's energy. The source has detail to spare, as
// a photograph larger than the frame does; the zoom out is left out, since
// what it widens onto is the blurred surround.
func TestSharpnessHolds(t *testing.T) {
	img := pattern(1600, 1000, 9)
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 360)
	for _, mv := range []Move{ZoomIn, PanLeft, PanRight, TiltUp, TiltDown, WhipLeft, WhipRight} {
		t.Run(mv.String(), func(t *testing.T) {
			r := New(img, fw, fh, Shot{Move: mv}, 48)
			s, _, _ := r.view(47)
			first, last := energy(frame(r, 0)), s*s*energy(frame(r, 47))
			if last < 0.9*first {
				t.Errorf("gradient energy of the last frame %.1f (times s²), of the first %.1f: %.0f%%, want >= 90%%", last, first, 100*last/first)
			}
		})
	}
}

// TestSharpnessSteady checks that a slide at constant scale keeps its
// sharpness from frame to frame: as the view moves, samples fall at every
// offset between texels, and a kernel that softens some offsets more than
// others makes the picture pulse. The last 30% of a pan is such a slide;
// bilinear sampling varies there by 11% on this photograph. The shots are
// drawn as two layers (land before sky) and, with a figure, as a stretch.
func TestSharpnessSteady(t *testing.T) {
	img := loadImage(t, "rocket.jpg")
	figure := Box{Min: Point{-0.1, -0.3}, Max: Point{0.1, 0}}
	for _, tt := range []struct {
		name string
		shot Shot
	}{
		{"pan right", Shot{Move: PanRight}},
		{"tilt up", Shot{Move: TiltUp}},
		{"pan right, figure", Shot{Move: PanRight, Figure: figure}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New(img, 1280, 720, tt.shot, 120)
			lo, hi := math.Inf(1), 0.0
			for i := 90; i < 120; i++ {
				e := energy(frame(r, i))
				lo, hi = min(lo, e), max(hi, e)
			}
			if lo < 0.95*hi {
				t.Errorf("gradient energy from frame 90 to 119 ranges %.1f..%.1f (%.0f%%), want within 5%%", lo, hi, 100*lo/hi)
			}
		})
	}
}
