package render

import (
	"bytes"
	"image"
	"image/color"
	"sync"
	"testing"
)

// square is an Animator that paints a square of colour c over r on odd
// frames and leaves the source alone on even ones.
type square struct {
	r image.Rectangle
	c color.RGBA
}

func (s square) Bounds() image.Rectangle { return s.r }

func (s square) Draw(i int, src, dst *image.RGBA, clip image.Rectangle) {
	r := s.r.Intersect(clip)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := src.PixOffset(x, y)
			if i%2 == 1 {
				copy(dst.Pix[o:o+4], []uint8{s.c.R, s.c.G, s.c.B, 255})
			} else {
				copy(dst.Pix[o:o+4], src.Pix[o:o+4])
			}
		}
	}
}

func TestAnimate(t *testing.T) {
	const fw, fh, n = 320, 180, 12
	src := pattern(480, 270, 7)
	for _, mv := range []Move{Static, ZoomIn, ZoomOut, PanRight} {
		t.Run(mv.String(), func(t *testing.T) {
			plain := New(src, fw, fh, Shot{Move: mv}, n)
			anim := New(src, fw, fh, Shot{Move: mv}, n)
			// A red square over the input's pixels (200..240, 100..130).
			x0, y0 := anim.SourcePoint(200, 100)
			x1, y1 := anim.SourcePoint(240, 130)
			r := image.Rect(int(x0), int(y0), int(x1), int(y1))
			anim.Animate(square{r, color.RGBA{255, 0, 0, 255}})

			// Drawn concurrently, from scratch copies that are reused.
			got := make([]*image.RGBA, n)
			var wg sync.WaitGroup
			for w := range 3 {
				wg.Go(func() {
					for i := w; i < n; i += 3 {
						got[i] = frame(anim, i)
					}
				})
			}
			wg.Wait()
			for i := range n {
				want := frame(plain, i)
				if i%2 == 0 {
					if !bytes.Equal(got[i].Pix, want.Pix) {
						t.Errorf("frame %d: an animator that changes nothing changed the frame", i)
					}
					continue
				}
				// The square follows the camera: the input's pixel at its
				// middle is red in the frame where the plain frame shows it.
				red, changed := 0, 0
				for p := 0; p < len(want.Pix); p += 4 {
					if !bytes.Equal(got[i].Pix[p:p+4], want.Pix[p:p+4]) {
						changed++
						if got[i].Pix[p] > 240 && got[i].Pix[p+1] < 15 {
							red++
						}
					}
				}
				if red == 0 || changed > 2*red+4*(r.Dx()+r.Dy()) {
					t.Errorf("frame %d: %d pixels changed, %d red", i, changed, red)
				}
			}
		})
	}
}

// TestSourcePoint checks that SourcePoint maps a marked pixel of the input
// onto the same mark in Source, for every move's texture.
func TestSourcePoint(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range src.Pix {
		src.Pix[i] = 128
	}
	mark := image.Rect(250, 60, 262, 72)
	for y := mark.Min.Y; y < mark.Max.Y; y++ {
		for x := mark.Min.X; x < mark.Max.X; x++ {
			copy(src.Pix[src.PixOffset(x, y):], []uint8{0, 255, 0, 255})
		}
	}
	for _, mv := range allMoves {
		for _, size := range [][2]int{{320, 240}, {180, 320}, {1280, 720}} {
			r := New(src, size[0], size[1], Shot{Move: mv}, 10)
			x, y := r.SourcePoint(256, 66)
			s := r.Source()
			p := s.Pix[s.PixOffset(int(x), int(y)):]
			if p[1] < 200 || p[0] > 60 {
				t.Errorf("%v %v: the mark maps to (%.1f, %.1f), which is %v", mv, size, x, y, p[:3])
			}
		}
	}
}

// noise is an Animator that draws different noise over all of the source
// on every frame, within the clip or, if whole, everywhere.
type noise struct {
	r     image.Rectangle
	whole bool
}

func (n noise) Bounds() image.Rectangle { return n.r }

func (n noise) Draw(i int, src, dst *image.RGBA, clip image.Rectangle) {
	r := n.r
	if !n.whole {
		r = r.Intersect(clip)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := uint8((x*7919 + y*104729 + i*1299709) >> 3)
			copy(dst.Pix[dst.PixOffset(x, y):][:4], []uint8{v, v ^ 0x5a, v ^ 0xa5, 255})
		}
	}
}

// TestAnimateClip checks that the clip an animator is given holds every
// texel the camera reads: an animator that redraws only the clip gives
// the same frames as one that redraws everything, on every move, although
// the texels outside the clip hold an earlier frame's noise.
func TestAnimateClip(t *testing.T) {
	const fw, fh, n = 160, 90, 24
	src := pattern(240, 135, 5)
	for _, shot := range []Shot{
		{Move: Static}, {Move: ZoomIn}, {Move: ZoomOut}, {Move: PanLeft}, {Move: TiltUp},
		{Move: OrbitRight}, {Move: TruckLeft}, {Move: PedestalDown}, {Move: DollyZoom},
		{Move: WhipRight}, {Move: ZoomIn, Shake: 0.5},
		{Move: ZoomIn, Figure: Box{Point{-0.1, -0.3}, Point{0.15, 0.05}}},
		{Move: PanRight, Figure: Box{Point{-0.1, -0.3}, Point{0.15, 0.05}}},
	} {
		whole := New(src, fw, fh, shot, n)
		clipped := New(src, fw, fh, shot, n)
		all := image.Rect(0, 0, whole.Source().Rect.Dx(), whole.Source().Rect.Dy())
		whole.Animate(noise{all, true})
		clipped.Animate(noise{all, false})
		for i := range n {
			if a, b := frame(whole, i), frame(clipped, i); !bytes.Equal(a.Pix, b.Pix) {
				t.Errorf("%v, frame %d: the clipped animator's frame differs", shot.Move, i)
				break
			}
		}
	}
}

func TestAnimateNil(t *testing.T) {
	src := pattern(200, 150, 3)
	r := New(src, 160, 120, Shot{Move: ZoomIn}, 5)
	want := frame(r, 3)
	r.Animate(square{image.Rect(10, 10, 40, 40), color.RGBA{255, 0, 0, 255}})
	r.Animate(nil)
	if got := frame(r, 3); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("detaching the animator did not restore the frames")
	}
}

// BenchmarkFrame720pAnimated is BenchmarkFrame720p with an animator that
// changes a face-sized region: the cost of the scratch copy and the patch.
func BenchmarkFrame720pAnimated(b *testing.B) {
	src := pattern(1280, 720, 1)
	r := New(src, 1280, 720, Shot{Move: ZoomIn}, 120)
	r.Animate(square{image.Rect(500, 200, 800, 600), color.RGBA{255, 0, 0, 255}})
	dst := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	i := 0
	for b.Loop() {
		r.Frame(i%120, dst)
		i++
	}
}
