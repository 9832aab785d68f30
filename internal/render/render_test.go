package render

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"

	"stillmotion/internal/psnr"
)

var allMoves = []Move{Static, ZoomIn, ZoomOut, PanLeft, PanRight, TiltUp, TiltDown, WhipLeft, WhipRight, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom}

func loadImage(tb testing.TB, name string) image.Image {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatalf("decoding %s: %v", name, err)
	}
	return img
}

// pattern returns a w x h image of smooth value noise in several octaves,
// textured everywhere (so motion can be measured anywhere) and with every
// channel in 16..240 (so no pixel is black).
func pattern(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	acc := make([]float64, 3*w*h)
	for _, cell := range []int{64, 24, 9, 4} {
		gw, gh := w/cell+2, h/cell+2
		grid := make([]float64, 3*gw*gh)
		for i := range grid {
			grid[i] = rng.Float64()
		}
		for y := range h {
			fy := float64(y) / float64(cell)
			y0 := int(fy)
			ty := smooth(fy - float64(y0))
			for x := range w {
				fx := float64(x) / float64(cell)
				x0 := int(fx)
				tx := smooth(fx - float64(x0))
				for c := range 3 {
					g := func(i, j int) float64 { return grid[3*(j*gw+i)+c] }
					top := g(x0, y0)*(1-tx) + g(x0+1, y0)*tx
					bot := g(x0, y0+1)*(1-tx) + g(x0+1, y0+1)*tx
					acc[3*(y*w+x)+c] += (top*(1-ty) + bot*ty) / 4
				}
			}
		}
	}
	for i := range w * h {
		for c := range 3 {
			img.Pix[4*i+c] = uint8(16 + 224*acc[3*i+c])
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// reference scales the centre crop of src with the frame's aspect ratio to
// fw x fh with Catmull-Rom: what frame 0 should look like.
func reference(src image.Image, fw, fh int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	crop := b
	if w*fh > h*fw {
		cw := int(math.Round(float64(h) * float64(fw) / float64(fh)))
		crop.Min.X += (w - cw) / 2
		crop.Max.X = crop.Min.X + cw
	} else {
		ch := int(math.Round(float64(w) * float64(fh) / float64(fw)))
		crop.Min.Y += (h - ch) / 2
		crop.Max.Y = crop.Min.Y + ch
	}
	dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
	xdraw.CatmullRom.Scale(dst, dst.Rect, src, crop, xdraw.Src, nil)
	return dst
}

func frame(r *Renderer, i int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, r.fw, r.fh))
	r.Frame(i, dst)
	return dst
}

func TestFrameZeroIsInput(t *testing.T) {
	sources := []struct {
		name  string
		img   image.Image
		short int
	}{
		{"coffee 360p", loadImage(t, "coffee.png"), 360},
		{"rocket 720p", loadImage(t, "rocket.jpg"), 720},
		{"rocket portrait crop", loadImage(t, "rocket.jpg").(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(200, 0, 480, 427)), 360},
		{"large detailed source", pattern(2400, 1500, 1), 360},
		{"small source enlarged", pattern(160, 120, 2), 360},
		{"ultra-wide source cropped", pattern(1600, 300, 3), 360},
	}
	for _, src := range sources {
		b := src.img.Bounds()
		fw, fh := FrameSize(b.Dx(), b.Dy(), src.short)
		want := reference(src.img, fw, fh)
		for _, mv := range allMoves {
			t.Run(src.name+"/"+mv.String(), func(t *testing.T) {
				r := New(src.img, fw, fh, Shot{Move: mv}, 48)
				if p := psnr.RGB(want, frame(r, 0)); p < 35 {
					t.Errorf("frame 0 of %dx%d: PSNR %.1f dB against the scaled input, want >= 35", fw, fh, p)
				}
			})
		}
	}
}

// luma returns the luma of img reduced by 2 in each direction.
func luma(img *image.RGBA) (l []float64, w, h int) {
	w, h = img.Rect.Dx()/2, img.Rect.Dy()/2
	l = make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s float64
			for _, o := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				p := img.Pix[img.PixOffset(2*x+o[0], 2*y+o[1]):]
				s += 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			}
			l[y*w+x] = s / 4
		}
	}
	return l, w, h
}

// estimate finds the global motion from frame a to frame b by brute force:
// the zoom k about the centre and the shift (dx, dy) such that content at
// q in a appears at c + k(q-c) + (dx, dy) in b.
func estimate(a, b []float64, w, h int) (k, dx, dy float64) {
	cx, cy := float64(w)/2, float64(h)/2
	sample := func(x, y float64) float64 {
		x0, y0 := int(math.Floor(x)), int(math.Floor(y))
		fx, fy := x-float64(x0), y-float64(y0)
		at := func(i, j int) float64 {
			return a[min(max(j, 0), h-1)*w+min(max(i, 0), w-1)]
		}
		return (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
	}
	best := math.Inf(1)
	for kk := 0.85; kk <= 1.2; kk += 0.01 {
		for sy := -10.0; sy <= 10; sy++ {
			for sx := -10.0; sx <= 10; sx++ {
				var sad float64
				for y := h / 5; y < h*4/5; y += 2 {
					for x := w / 5; x < w*4/5; x += 2 {
						q := sample(cx+(float64(x)-cx-sx)/kk, cy+(float64(y)-cy-sy)/kk)
						sad += math.Abs(b[y*w+x] - q)
					}
				}
				if sad < best {
					best, k, dx, dy = sad, kk, sx, sy
				}
			}
		}
	}
	return k, dx, dy
}

// TestMotion checks the direction of each move by measuring the global
// motion between frames 10 and 30 of 40. Pans and tilts also zoom a little
// (see New), so only their shift's direction and axis are checked.
func TestMotion(t *testing.T) {
	src := pattern(640, 360, 4)
	tests := []struct {
		move           Move
		kLo, kHi       float64 // the zoom from frame 10 to frame 30
		dxSign, dySign int     // the sign of the content's shift; 0: about none
	}{
		{Static, 1, 1, 0, 0},
		{ZoomIn, 1.05, 1.2, 0, 0},
		{ZoomOut, 0.85, 0.95, 0, 0},
		{PanLeft, 1, 1.15, +1, 0},
		{PanRight, 1, 1.15, -1, 0},
		{TiltUp, 1, 1.15, 0, +1},
		{TiltDown, 1, 1.15, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.move.String(), func(t *testing.T) {
			t.Parallel()
			r := New(src, 320, 180, Shot{Move: tt.move}, 40)
			a, w, h := luma(frame(r, 10))
			b, _, _ := luma(frame(r, 30))
			k, dx, dy := estimate(a, b, w, h)
			t.Logf("zoom %.3f, shift (%+.0f, %+.0f) half-size pixels", k, dx, dy)
			if k < tt.kLo-0.005 || k > tt.kHi+0.005 {
				t.Errorf("zoom from frame 10 to 30 = %.3f, want %.2f..%.2f", k, tt.kLo, tt.kHi)
			}
			check := func(axis string, d float64, sign int) {
				switch {
				case sign == 0 && math.Abs(d) > 1:
					t.Errorf("content moved %+.0f pixels along %s, want none", d, axis)
				case sign != 0 && d*float64(sign) < 2:
					t.Errorf("content moved %+.0f pixels along %s, want at least 2 with sign %+d", d, axis, sign)
				}
			}
			check("x", dx, tt.dxSign)
			check("y", dy, tt.dySign)
		})
	}
}

// lift returns a copy of img with every channel mapped from 0..255 to
// 32..255, so that no pixel is black even after Catmull-Rom's ringing,
// which may undershoot a dark pixel beside a bright one by a few percent of
// the step.
func lift(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			f := func(v uint8) uint8 { return uint8(32 + int(v)*223/255) }
			dst.SetRGBA(x, y, color.RGBA{f(c.R), f(c.G), f(c.B), 255})
		}
	}
	return dst
}

// TestNoBlackPixels checks that no frame shows an empty pixel: none is
// black where the input has no black, and every one is opaque. The zoom
// out shows the surround beyond the image's edges.
func TestNoBlackPixels(t *testing.T) {
	srcs := map[string]image.Image{
		"coffee": lift(loadImage(t, "coffee.png")),
		"rocket": lift(loadImage(t, "rocket.jpg")),
	}
	for name, src := range srcs {
		for _, mv := range allMoves {
			t.Run(name+"/"+mv.String(), func(t *testing.T) {
				for _, amount := range []float64{0, 0.5} {
					r := New(src, 360, 240, Shot{Move: mv, Amount: amount}, 24)
					for i := range 24 {
						img := frame(r, i)
						for p := 0; p < len(img.Pix); p += 4 {
							if img.Pix[p+3] != 255 || img.Pix[p] == 0 && img.Pix[p+1] == 0 && img.Pix[p+2] == 0 {
								x, y := p/4%360, p/4/360
								t.Fatalf("amount %v, frame %d: pixel (%d, %d) = %v, want opaque and not black", amount, i, x, y, img.Pix[p:p+4])
							}
						}
					}
				}
			})
		}
	}
}

// TestZoomOutSurround checks that the surround shown by the last frame of
// a zoom out continues the image: its border pixels are close in colour to
// the image, not an empty fill.
func TestZoomOutSurround(t *testing.T) {
	src := loadImage(t, "coffee.png")
	r := New(src, 360, 240, Shot{Move: ZoomOut}, 24)
	first, last := frame(r, 0), frame(r, 23)
	mean := func(img *image.RGBA, x0, x1 int) (m [3]float64) {
		for y := range 240 {
			for x := x0; x < x1; x++ {
				for c := range 3 {
					m[c] += float64(img.Pix[img.PixOffset(x, y)+c]) / float64(240*(x1-x0))
				}
			}
		}
		return m
	}
	// The leftmost 8 columns of the last frame are surround; compare them
	// with the image's leftmost 8 columns on frame 0.
	a, b := mean(first, 0, 8), mean(last, 0, 8)
	for c := range 3 {
		if math.Abs(a[c]-b[c]) > 40 {
			t.Errorf("channel %d: the surround's mean %.0f is far from the image edge's %.0f", c, b[c], a[c])
		}
	}
	if bytes.Equal(first.Pix, last.Pix) {
		t.Error("the zoom out did not move")
	}
}

func TestTransparentOrEmptySourceIsWhite(t *testing.T) {
	tests := []struct {
		name string
		src  image.Image
	}{
		{"transparent", image.NewNRGBA(image.Rect(0, 0, 64, 64))},
		{"empty", image.NewRGBA(image.Rectangle{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mv := range []Move{ZoomIn, PanLeft} { // a zoom out darkens its surround
				r := New(tt.src, 64, 64, Shot{Move: mv}, 10)
				for i, v := range frame(r, 5).Pix {
					if v != 255 {
						t.Fatalf("%v: byte %d = %d, want 255 (white, opaque)", mv, i, v)
					}
				}
			}
		})
	}
}

func TestStaticIsExact(t *testing.T) {
	src := pattern(320, 180, 5)
	r := New(src, 320, 180, Shot{Move: Static}, 30)
	for i := range 30 {
		if got := frame(r, i); !bytes.Equal(got.Pix, src.Pix) {
			t.Fatalf("static frame %d differs from the input", i)
		}
	}
}

// TestDeterministic checks that the same inputs give the same pixels, from
// separately prepared renderers and with frames drawn concurrently.
func TestDeterministic(t *testing.T) {
	src := loadImage(t, "rocket.jpg")
	for _, mv := range allMoves {
		t.Run(mv.String(), func(t *testing.T) {
			shot := Plan(mv.String(), "", 7)
			a := New(src, 320, 214, shot, 24)
			b := New(src, 320, 214, shot, 24)
			got := make([]*image.RGBA, 24)
			var wg sync.WaitGroup
			for i := range got {
				wg.Go(func() { got[i] = frame(b, i) })
			}
			wg.Wait()
			for i := range got {
				if !bytes.Equal(frame(a, i).Pix, got[i].Pix) {
					t.Fatalf("frame %d differs between runs", i)
				}
			}
		})
	}
}

func BenchmarkFrame720p(b *testing.B) {
	src := loadImage(b, "rocket.jpg")
	for _, mv := range []Move{ZoomIn, PanRight, ZoomOut, Static} {
		b.Run(mv.String(), func(b *testing.B) {
			r := New(src, 1280, 720, Shot{Move: mv}, 120)
			benchFrames(b, r, 0)
		})
	}
	// A steady grade is one table lookup per channel on every frame, since
	// it grows in from the picture rather than being painted on the source.
	b.Run("ZoomIn+golden_hour", func(b *testing.B) {
		r := New(src, 1280, 720, Shot{Move: ZoomIn, Light: Light{From: GoldenHour, To: GoldenHour}}, 120)
		benchFrames(b, r, 0)
	})
}

func BenchmarkNew720p(b *testing.B) {
	srcs := map[string]image.Image{
		"640x427":   loadImage(b, "rocket.jpg"),
		"4000x2667": pattern(4000, 2667, 6),
	}
	for name, src := range srcs {
		for _, mv := range []Move{ZoomIn, ZoomOut} {
			b.Run(name+"/"+mv.String(), func(b *testing.B) {
				for b.Loop() {
					New(src, 1280, 720, Shot{Move: mv}, 120)
				}
			})
		}
	}
}

// benchFrames draws the 1280x720 frames of r from first on, over and over,
// and reports the time a frame.
func benchFrames(b *testing.B, r *Renderer, first int) {
	dst := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	i := 0
	for b.Loop() {
		r.Frame(first+i%(r.frames-first), dst)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/frame")
}
