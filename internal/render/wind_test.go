package render

import (
	"bytes"
	"image"
	"math"
	"testing"
)

// woodland returns a w x h picture whose upper half is a textured grey
// sky, which a misplaced sway would visibly move, and whose lower half is
// foliage: textured greens.
func woodland(w, h int) *image.RGBA {
	img := pattern(w, h, 3)
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			if y < h/2 {
				v := uint8((int(img.Pix[i]) + int(img.Pix[i+1]) + int(img.Pix[i+2])) / 3)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = v, v, v
				continue
			}
			// Leaves: the pattern's green, broken up finely.
			n := 0.5 + 0.5*math.Sin(float64(x)*0.9)*math.Sin(float64(y)*0.7)
			v := float64(img.Pix[i+1]) * (0.5 + 0.5*n)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(0.45*v), uint8(v), uint8(0.3*v)
		}
	}
	return img
}

// shift returns the whole-pixel offset (within ±r) at which the p x p
// patch of a at (x0, y0) best matches b, by the least sum of absolute
// differences of green.
func shift(a, b *image.RGBA, x0, y0, p, r int) (int, int) {
	best, bx, by := math.MaxInt, 0, 0
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			sad := 0
			for y := y0; y < y0+p; y++ {
				for x := x0; x < x0+p; x++ {
					d := int(a.Pix[a.PixOffset(x, y)+1]) - int(b.Pix[b.PixOffset(x+dx, y+dy)+1])
					sad += max(d, -d)
				}
			}
			if sad < best || sad == best && dx*dx+dy*dy < bx*bx+by*by {
				best, bx, by = sad, dx, dy
			}
		}
	}
	return bx, by
}

// TestSway checks the foliage sway at 720p: frame 0 is the picture; later
// the foliage moves by a few pixels while the grey sky above it, as the
// camera moves it (a tilt up lowers the foliage's edge), stays exactly as
// the camera drew it; the same seed sways the same way and another seed
// differently.
func TestSway(t *testing.T) {
	const w, h = 1280, 720
	src := woodland(w, h)
	for _, mv := range []Move{Static, PanRight, ZoomIn, TiltUp} {
		t.Run(mv.String(), func(t *testing.T) {
			t.Parallel()
			plain := New(src, w, h, Shot{Move: mv}, 48)
			shot := Shot{Move: mv, Atmosphere: Sway, Seed: 1}
			r := New(src, w, h, shot, 48)
			if !bytes.Equal(frame(r, 0).Pix, frame(plain, 0).Pix) {
				t.Error("frame 0 is not the picture")
			}
			maxShift := 0
			for _, i := range []int{20, 30, 40} {
				f, base := frame(r, i), frame(plain, i)
				// The sky: every row above the foliage as the camera
				// shows it, but for the mask's soft edge.
				s, cx, cy := r.view(i)
				_, top := view{s, cx, cy}.frame(0.5, 0.5, w, h)
				if n := 4 * w * (int(top) - 32); !bytes.Equal(f.Pix[:n], base.Pix[:n]) {
					t.Errorf("frame %d: the sky above row %d changed", i, int(top)-32)
				}
				for _, x0 := range []int{200, 600, 1000} {
					for _, y0 := range []int{480, 600} {
						dx, dy := shift(base, f, x0, y0, 32, 8)
						maxShift = max(maxShift, dx*dx+dy*dy)
					}
				}
			}
			t.Logf("largest patch shift %.1f px", math.Sqrt(float64(maxShift)))
			if maxShift < 1 || maxShift > 6*6 {
				t.Errorf("largest patch shift %.1f px; want 1 to 6", math.Sqrt(float64(maxShift)))
			}
			f30 := frame(r, 30)
			if !bytes.Equal(f30.Pix, frame(New(src, w, h, shot, 48), 30).Pix) {
				t.Error("the same seed drew a different frame 30")
			}
			shot.Seed = 2
			if bytes.Equal(f30.Pix, frame(New(src, w, h, shot, 48), 30).Pix) {
				t.Error("seeds 1 and 2 drew the same frame 30")
			}
		})
	}
}

// TestSwayFindsFoliage checks the foliage mask: high on the textured
// greens, nil on a grey wall and on smooth green paint.
func TestSwayFindsFoliage(t *testing.T) {
	const w, h = 320, 180
	flat := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(flat.Pix); i += 4 {
		flat.Pix[i], flat.Pix[i+1], flat.Pix[i+2], flat.Pix[i+3] = 70, 140, 60, 255
	}
	tests := []struct {
		name     string
		img      *image.RGBA
		min, max float64 // the mask's mean over the lower half
	}{
		{"foliage", woodland(w, h), 0.8, 1},
		{"green paint", flat, 0, 0},
		{"grey", woodland(w, h).SubImage(image.Rect(0, 0, w, h/2)).(*image.RGBA), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tex := newTexture(tt.img, w, h, 1, 0)
			m, mw, mh, _ := foliage(&tex)
			var sum float64
			for _, v := range m[mw*mh/2+mw:] {
				sum += float64(v)
			}
			mean := sum / float64(len(m[mw*mh/2+mw:]))
			if mean < tt.min || mean > tt.max {
				t.Errorf("mean mask %.3f, want %g..%g", mean, tt.min, tt.max)
			}
		})
	}
}

// TestHairAndCloth checks the wind in a figure's hair and clothes: the
// face box is left exactly as the camera drew it, the band of hair above
// it and the clothes below the neck move, and only with a figure.
func TestHairAndCloth(t *testing.T) {
	const w, h = 512, 512
	src := pattern(w, h, 9)
	face := Box{Min: Point{-0.1, -0.3}, Max: Point{0.1, -0.05}}
	for _, mv := range []Move{Static, ZoomIn, PanLeft, DollyZoom} {
		t.Run(mv.String(), func(t *testing.T) {
			t.Parallel()
			plain := New(src, w, h, Shot{Move: mv, Figure: face}, 48)
			shot := Shot{Move: mv, Figure: face, Atmosphere: Hair, Seed: 4}
			r := New(src, w, h, shot, 48)
			if !bytes.Equal(frame(r, 0).Pix, frame(plain, 0).Pix) {
				t.Error("frame 0 is not the picture")
			}
			for _, i := range []int{24, 40} {
				f, base := frame(r, i), frame(plain, i)
				s, cx, cy := r.view(i)
				fg := r.scene(s, cx, cy).fg
				x0, y0 := fg.frame(face.Min.X+0.5, face.Min.Y+0.5, w, h)
				x1, y1 := fg.frame(face.Max.X+0.5, face.Max.Y+0.5, w, h)
				// change returns the mean change of the rectangle.
				change := func(x0, y0, x1, y1 float64) float64 {
					var d, n float64
					for y := max(int(y0), 0); y < min(int(y1), h); y++ {
						for x := max(int(x0), 0); x < min(int(x1), w); x++ {
							for c := range 3 {
								d += math.Abs(float64(f.Pix[f.PixOffset(x, y)+c]) - float64(base.Pix[base.PixOffset(x, y)+c]))
								n++
							}
						}
					}
					return d / n
				}
				fw, fh := x1-x0, y1-y0
				onFace := change(x0, y0, x1, y1)
				hair := change(x0, y0-0.4*fh, x1, y0-0.1*fh)
				cloth := change(x0-0.5*fw, y1+fh, x1+0.5*fw, y1+1.8*fh)
				t.Logf("frame %d: face %.2f, hair %.2f, clothes %.2f", i, onFace, hair, cloth)
				if onFace != 0 || hair < 1 || cloth < 0.5 {
					t.Errorf("frame %d: the face changed by %.2f, the hair %.2f, the clothes %.2f; want 0, >1, >0.5", i, onFace, hair, cloth)
				}
			}
			f30 := frame(r, 30)
			shot.Seed = 5
			if bytes.Equal(f30.Pix, frame(New(src, w, h, shot, 48), 30).Pix) {
				t.Error("seeds 4 and 5 drew the same frame 30")
			}
			shot.Figure = Box{}
			if !bytes.Equal(frame(New(src, w, h, shot, 48), 30).Pix, frame(New(src, w, h, Shot{Move: mv}, 48), 30).Pix) {
				t.Error("hair and cloth drawn without a figure")
			}
		})
	}
}

// TestSwayLeavesFigure checks that on a push in that separates a figure,
// foliage behind the figure sways and the figure itself stays still, even
// where it looks like foliage.
func TestSwayLeavesFigure(t *testing.T) {
	const w, h = 640, 360
	src := woodland(w, h)
	face := Box{Min: Point{-0.06, 0.02}, Max: Point{0.06, 0.2}}
	shot := Shot{Move: ZoomIn, Figure: face}
	plain := New(src, w, h, shot, 48)
	shot.Atmosphere, shot.Seed = Sway, 1
	r := New(src, w, h, shot, 48)
	f, base := frame(r, 40), frame(plain, 40)
	s, cx, cy := r.view(40)
	x0, y0 := view{s, cx, cy}.frame(face.Min.X+0.5, face.Min.Y+0.5, w, h)
	x1, y1 := view{s, cx, cy}.frame(face.Max.X+0.5, face.Max.Y+0.5, w, h)
	// diff counts the pixels of rows y0..y1 and columns x0..x1 that differ.
	diff := func(x0, y0, x1, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			i, j := f.PixOffset(x0, y), f.PixOffset(x1, y)
			for k := i; k < j; k++ {
				if f.Pix[k] != base.Pix[k] {
					n++
				}
			}
		}
		return n
	}
	if n := diff(int(x0)+8, int(y0)+8, int(x1)-8, int(y1)-8); n != 0 {
		t.Errorf("%d values of the face changed", n)
	}
	if n := diff(0, h-60, 80, h); n == 0 {
		t.Error("the foliage beside the figure did not move")
	}
}
