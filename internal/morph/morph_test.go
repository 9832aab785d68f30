package morph

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"stillmotion/internal/psnr"
)

// load decodes a picture from testdata as RGBA.
func load(tb testing.TB, name string) *image.RGBA {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return Fit(img, img.Bounds().Dx(), img.Bounds().Dy())
}

// meanLuma is a picture's mean luma, 0..255.
func meanLuma(img *image.RGBA) float64 {
	var s float64
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			i := img.PixOffset(img.Rect.Min.X+x, img.Rect.Min.Y+y)
			s += 0.299*float64(img.Pix[i]) + 0.587*float64(img.Pix[i+1]) + 0.114*float64(img.Pix[i+2])
		}
	}
	return s / float64(img.Rect.Dx()*img.Rect.Dy())
}

// affine maps x to (m[0]x + m[1]y + m[2], m[3]x + m[4]y + m[5]).
type affine [6]float64

func (m affine) apply(x, y float64) (float64, float64) {
	return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]
}

func (m affine) inverse() affine {
	det := m[0]*m[4] - m[1]*m[3]
	a, b, c, d := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return affine{a, b, -(a*m[2] + b*m[5]), c, d, -(c*m[2] + d*m[5])}
}

// toward returns the map that moves each point the share t of the way
// from x to m(x): the view part of the way between the two.
func (m affine) toward(t float64) affine {
	id := affine{1, 0, 0, 0, 1, 0}
	var r affine
	for i := range r {
		r[i] = (1-t)*id[i] + t*m[i]
	}
	return r
}

// view returns the picture whose point m(x) shows src's point x,
// sampled bilinearly (m must keep the view within src).
func view(src *image.RGBA, m affine) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	inv := m.inverse()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx, sy := inv.apply(float64(x), float64(y))
			sx = min(max(sx, 0), float64(w-1))
			sy = min(max(sy, 0), float64(h-1))
			x0, y0 := min(int(sx), w-2), min(int(sy), h-2)
			fx, fy := sx-float64(x0), sy-float64(y0)
			i := src.PixOffset(src.Rect.Min.X+x0, src.Rect.Min.Y+y0)
			p, q := src.Pix[i:i+8], src.Pix[i+src.Stride:i+src.Stride+8]
			o := dst.PixOffset(x, y)
			for c := range 4 {
				v := (1-fy)*((1-fx)*float64(p[c])+fx*float64(p[4+c])) + fy*((1-fx)*float64(q[c])+fx*float64(q[4+c]))
				dst.Pix[o+c] = uint8(v + 0.5)
			}
		}
	}
	return dst
}

// relight returns img with its colours scaled by gain (img itself for 1).
func relight(img *image.RGBA, gain float64) *image.RGBA {
	if gain == 1 {
		return img
	}
	out := image.NewRGBA(img.Rect)
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = v
		} else {
			out.Pix[i] = uint8(min(float64(v)*gain+0.5, 255))
		}
	}
	return out
}

// crossFade is the plain dissolve halfway from a to b.
func crossFade(a, b *image.RGBA) *image.RGBA {
	dst := image.NewRGBA(a.Rect)
	for i := range dst.Pix {
		dst.Pix[i] = uint8((int(a.Pix[i]) + int(b.Pix[i]) + 1) / 2)
	}
	return dst
}

// pair is two test pictures and the morph between them.
type pair struct {
	a, b *image.RGBA
	m    *Morph
}

var (
	pairsMu sync.Mutex
	pairs   = map[string]pair{}
)

// cached returns the pair named key, made by mk and morphed the first time
// it is asked for, so that tests that look at the same morph share it.
func cached(tb testing.TB, key string, mk func() (a, b *image.RGBA)) pair {
	tb.Helper()
	pairsMu.Lock()
	defer pairsMu.Unlock()
	if p, ok := pairs[key]; ok {
		return p
	}
	a, b := mk()
	p := pair{a, b, mustNew(tb, a, b)}
	pairs[key] = p
	return p
}

// rocketPair is the rocket and its view zoomed and shifted (the first case
// of TestMiddleView); unrelatedPair is the rocket and the coffee cup.
func rocketPair(tb testing.TB) pair {
	return cached(tb, "zoom and shift rocket", func() (*image.RGBA, *image.RGBA) {
		a := load(tb, "rocket.jpg")
		return a, view(a, zoomShift)
	})
}

func unrelatedPair(tb testing.TB) pair {
	return cached(tb, "rocket to coffee", func() (*image.RGBA, *image.RGBA) {
		a := load(tb, "rocket.jpg")
		return a, Fit(load(tb, "coffee.jpg"), a.Rect.Dx(), a.Rect.Dy())
	})
}

func mustNew(tb testing.TB, a, b *image.RGBA) *Morph {
	tb.Helper()
	m, err := New(context.Background(), a, b, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func frame(m *Morph, t float64) *image.RGBA {
	dst := image.NewRGBA(m.a.Rect)
	m.Frame(t, dst)
	return dst
}

// zoomShift is the view of a camera that zooms in 10% and looks 40 px
// right and 20 px down of the picture's origin.
var zoomShift = affine{1.1, 0, -1.1 * 40, 0, 1.1, -1.1 * 20}

// turn is the view of a w×h picture turned 3° about a point near its
// middle and zoomed in 12%, enough to keep the view inside the picture.
func turn(w, h int) affine {
	s, c := math.Sincos(3 * math.Pi / 180)
	k := 1.12
	cx, cy := float64(w)/2, float64(h)/2
	px, py := cx+15, cy+5 // the point of the picture that lands in the middle
	return affine{k * c, -k * s, cx - k*c*px + k*s*py, k * s, k * c, cy - k*s*px - k*c*py}
}

// TestEndpoints checks that the morph starts on the first picture and ends
// on the last, for a pair of views of one scene and an unrelated pair.
func TestEndpoints(t *testing.T) {
	for _, tt := range []struct {
		name string
		pair
	}{
		{"same scene", rocketPair(t)},
		{"unrelated", unrelatedPair(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if p := psnr.RGB(tt.a, frame(m, 0)); p < 35 {
				t.Errorf("frame 0: PSNR %.1f dB against the first picture, want >= 35", p)
			}
			if p := psnr.RGB(tt.b, frame(m, 1)); p < 35 {
				t.Errorf("frame 1: PSNR %.1f dB against the last picture, want >= 35", p)
			}
			// Close to the ends the frames stay close to them.
			if p := psnr.RGB(tt.a, frame(m, 0.01)); p < 35 {
				t.Errorf("frame 0.01: PSNR %.1f dB against the first picture, want >= 35", p)
			}
			if p := psnr.RGB(tt.b, frame(m, 0.99)); p < 35 {
				t.Errorf("frame 0.99: PSNR %.1f dB against the last picture, want >= 35", p)
			}
		})
	}
}

// TestMiddleView checks that two views of one scene morph through the
// view halfway between them, much closer to it than a dissolve comes, also
// when the second view is darker (another exposure).
func TestMiddleView(t *testing.T) {
	shift := func(int, int) affine { return zoomShift }
	for _, tt := range []struct {
		name   string
		file   string
		m      func(w, h int) affine
		gain   float64 // of the second view's colours
		margin float64 // dB the morph must gain on a cross-fade
	}{
		{"zoom and shift rocket", "rocket.jpg", shift, 1, 6},
		{"zoom and shift coffee", "coffee.jpg", shift, 1, 8},
		{"turn rocket", "rocket.jpg", turn, 1, 6},
		{"turn coffee", "coffee.jpg", turn, 1, 8},
		{"zoom, shift and darken coffee", "coffee.jpg", shift, 0.85, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := cached(t, tt.name, func() (*image.RGBA, *image.RGBA) {
				a := load(t, tt.file)
				return a, relight(view(a, tt.m(a.Rect.Dx(), a.Rect.Dy())), tt.gain)
			})
			a, b, m := p.a, p.b, p.m
			tm := tt.m(a.Rect.Dx(), a.Rect.Dy())
			// Halfway, the morph blends equal parts of the two views.
			truth := relight(view(a, tm.toward(0.5)), (1+tt.gain)/2)
			pm := psnr.RGB(truth, frame(m, 0.5))
			pc := psnr.RGB(truth, crossFade(a, b))
			t.Logf("matched %.2f; middle frame PSNR: morph %.1f dB, cross-fade %.1f dB", m.Matched(), pm, pc)
			if pm < pc+tt.margin {
				t.Errorf("morph %.1f dB, cross-fade %.1f dB against the true middle view: want a gain of %.0f dB", pm, pc, tt.margin)
			}
			if m.Matched() < 0.7 {
				t.Errorf("matched %.2f, want > 0.7", m.Matched())
			}
		})
	}
}

// TestNewObject checks a second view of one scene in which an object has
// appeared: the scene morphs, and the object fades in where it is carried
// by the scene around it, so that the middle frame is the middle view
// with the object half faded in at its place in that view.
func TestNewObject(t *testing.T) {
	a := load(t, "coffee.jpg")
	w, h := a.Rect.Dx(), a.Rect.Dy()
	obj := Fit(load(t, "rocket.jpg"), 140, 140)
	at := image.Pt(380, 60) // where the object is in the second view
	b := view(a, zoomShift)
	paste := func(dst *image.RGBA) {
		for y := range 140 {
			copy(dst.Pix[dst.PixOffset(at.X, at.Y+y):dst.PixOffset(at.X+140, at.Y+y)], obj.Pix[obj.PixOffset(0, y):obj.PixOffset(140, y)])
		}
	}
	paste(b)

	// The middle view, and where each of its points lies in the second.
	half := zoomShift.toward(0.5)
	truth := view(a, half)
	toB := func(x, y int) (float64, float64) {
		ax, ay := half.inverse().apply(float64(x), float64(y))
		return zoomShift.apply(ax, ay)
	}
	objInB := image.NewRGBA(a.Rect)
	paste(objInB)
	want := image.NewRGBA(a.Rect)
	copy(want.Pix, truth.Pix)
	for y := range h {
		for x := range w {
			bx, by := toB(x, y)
			if bx < float64(at.X) || by < float64(at.Y) || bx >= float64(at.X+140-1) || by >= float64(at.Y+140-1) {
				continue
			}
			i := want.PixOffset(x, y)
			j := objInB.PixOffset(int(bx+0.5), int(by+0.5))
			for c := range 3 {
				want.Pix[i+c] = uint8((int(truth.Pix[i+c]) + int(objInB.Pix[j+c]) + 1) / 2)
			}
		}
	}

	m := mustNew(t, a, b)
	mid := frame(m, 0.5)
	pm := psnr.RGB(want, mid)
	pc := psnr.RGB(want, crossFade(a, b))
	t.Logf("matched %.2f; middle frame PSNR: morph %.1f dB, cross-fade %.1f dB", m.Matched(), pm, pc)
	if pm < pc+6 {
		t.Errorf("morph %.1f dB, cross-fade %.1f dB against the middle view with the object half faded in: want a gain of 6 dB", pm, pc)
	}
	if m.Matched() < 0.6 || m.Matched() > 0.95 {
		t.Errorf("matched %.2f, want 0.6..0.95 (the object is about 8%% of the picture)", m.Matched())
	}
}

// TestUnrelated checks that pictures with nothing in common are mostly
// unmatched and still give sound frames.
func TestUnrelated(t *testing.T) {
	rocket := load(t, "rocket.jpg")
	w, h := rocket.Rect.Dx(), rocket.Rect.Dy()
	for _, tt := range []struct {
		name string
		a, b *image.RGBA
	}{
		{"rocket to coffee", rocket, nil},
		{"astronaut to rocket", Fit(load(t, "astronaut.jpg"), w, h), rocket},
		{"coffee to astronaut", Fit(load(t, "coffee.jpg"), w, h), Fit(load(t, "astronaut.jpg"), w, h)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m *Morph
			if tt.b == nil {
				p := unrelatedPair(t)
				tt.b, m = p.b, p.m
			} else {
				m = mustNew(t, tt.a, tt.b)
			}
			t.Logf("matched %.2f", m.Matched())
			if m.Matched() > 0.25 {
				t.Errorf("matched %.2f, want <= 0.25", m.Matched())
			}
			if p := psnr.RGB(tt.a, frame(m, 0)); p < 35 {
				t.Errorf("frame 0: PSNR %.1f dB, want >= 35", p)
			}
			if p := psnr.RGB(tt.b, frame(m, 1)); p < 35 {
				t.Errorf("frame 1: PSNR %.1f dB, want >= 35", p)
			}
			la, lb, lm := meanLuma(tt.a), meanLuma(tt.b), meanLuma(frame(m, 0.5))
			if lo, hi := min(la, lb)-10, max(la, lb)+10; lm < lo || lm > hi {
				t.Errorf("middle frame mean luma %.1f, want within %.1f..%.1f", lm, lo, hi)
			}
		})
	}
}

// TestDeterministic checks that two morphs of the same pictures give the
// same bytes, also when frames are drawn concurrently.
func TestDeterministic(t *testing.T) {
	p := rocketPair(t)
	want := frame(p.m, 0.37)
	m := mustNew(t, p.a, p.b)
	var wg sync.WaitGroup
	got := make([]*image.RGBA, 4)
	for i := range got {
		wg.Go(func() { got[i] = frame(m, []float64{0.37, 0.8, 0.37, 0.2}[i]) })
	}
	wg.Wait()
	for _, i := range []int{0, 2} {
		if !bytes.Equal(got[i].Pix, want.Pix) {
			t.Fatalf("frame %d differs from that of another morph of the same pictures", i)
		}
	}
}

// TestFit checks that Fit covers the frame and crops about the centre.
func TestFit(t *testing.T) {
	src := image.NewRGBA(image.Rect(10, 20, 410, 120)) // 4:1, the middle 50 px red
	for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
		for x := src.Rect.Min.X; x < src.Rect.Max.X; x++ {
			c := color.RGBA{0, 0, 255, 255}
			if x >= 10+175 && x < 10+225 {
				c = color.RGBA{255, 0, 0, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	for _, tt := range []struct{ w, h int }{{100, 100}, {50, 50}, {200, 200}, {400, 100}} {
		dst := Fit(src, tt.w, tt.h)
		if dst.Rect != image.Rect(0, 0, tt.w, tt.h) {
			t.Fatalf("%dx%d: got %v", tt.w, tt.h, dst.Rect)
		}
		if tt.w == tt.h {
			// A square of the 4:1 picture is its middle quarter: red
			// in the middle, blue at the sides.
			mid, side := dst.RGBAAt(tt.w/2, tt.h/2), dst.RGBAAt(1, tt.h/2)
			if mid.R < 200 || side.B < 200 {
				t.Errorf("%dx%d: middle %v, side %v", tt.w, tt.h, mid, side)
			}
		}
	}
}

// TestErrors checks the pictures New refuses and that it heeds ctx.
func TestErrors(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 64, 48))
	if _, err := New(context.Background(), a, image.NewRGBA(image.Rect(0, 0, 48, 64)), Options{}); err == nil {
		t.Error("pictures of different sizes: no error")
	}
	if _, err := New(context.Background(), image.NewRGBA(image.Rect(0, 0, 1, 5)), image.NewRGBA(image.Rect(0, 0, 1, 5)), Options{}); err == nil {
		t.Error("1-pixel-wide pictures: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, a, a, Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestShapes checks pictures of extreme sizes and shapes, and ones that
// are sub-images (their pixels do not start at the origin).
func TestShapes(t *testing.T) {
	rocket := load(t, "rocket.jpg")
	coffee := load(t, "coffee.jpg")
	sub := func(img *image.RGBA, r image.Rectangle) *image.RGBA { return img.SubImage(r).(*image.RGBA) }
	for _, tt := range []struct {
		name string
		a, b *image.RGBA
	}{
		{"2x2", Fit(rocket, 2, 2), Fit(coffee, 2, 2)},
		{"3x200", Fit(rocket, 3, 200), Fit(coffee, 3, 200)},
		{"120x6", Fit(rocket, 120, 6), Fit(coffee, 120, 6)},
		{"sub-images", sub(rocket, image.Rect(100, 50, 400, 250)), sub(rocket, image.Rect(120, 60, 420, 260))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tt.a, tt.b)
			dst := image.NewRGBA(image.Rect(5, 7, 5+tt.a.Rect.Dx(), 7+tt.a.Rect.Dy()))
			for _, f := range []float64{-1, 0, 0.5, 1, 2, math.NaN()} {
				m.Frame(f, dst) // must not panic
			}
			m.Frame(0, dst)
			if p := psnr.RGB(tt.a, dst); !math.IsInf(p, 1) {
				t.Errorf("frame 0: PSNR %.1f dB, want identical", p)
			}
			m.Frame(1, dst)
			if p := psnr.RGB(tt.b, dst); !math.IsInf(p, 1) {
				t.Errorf("frame 1: PSNR %.1f dB, want identical", p)
			}
		})
	}
}

func BenchmarkNew720p(b *testing.B) {
	a := Fit(load(b, "rocket.jpg"), 1280, 720)
	c := view(a, zoomShift)
	b.ResetTimer()
	for b.Loop() {
		if _, err := New(context.Background(), a, c, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrame720p(b *testing.B) {
	a := Fit(load(b, "rocket.jpg"), 1280, 720)
	m := mustNew(b, a, view(a, zoomShift))
	dst := image.NewRGBA(a.Rect)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Frame(float64(i%100+1)/101, dst)
	}
}
