package portrait

import (
	"bytes"
	"image"
	"math"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/face"
)

func clone(img *image.RGBA) *image.RGBA {
	c := *img
	c.Pix = bytes.Clone(img.Pix)
	return &c
}

// frameOf returns src with frame i of a drawn over it.
func frameOf(a *Animator, i int, src *image.RGBA) *image.RGBA {
	dst := clone(src)
	a.Draw(i, src, dst, src.Rect)
	return dst
}

// talking returns an Animator that says "ma boo" from 0.3 s.
func talking(src *image.RGBA, f face.Face, seed int64) *Animator {
	s := &Speech{Phones: phones("m", 90, "aa", 200, "pau", 300, "b", 80, "uw", 220), Start: 300 * time.Millisecond}
	return New(src, f, Options{Frames: 72, FPS: 24, Seed: seed, Speech: s})
}

func TestFrameZeroIsTheImage(t *testing.T) {
	src, f := source(t, "astronaut-portrait.png", 360)
	a := talking(src, f, 1)
	if got := frameOf(a, 0, src); !bytes.Equal(got.Pix, src.Pix) {
		t.Error("frame 0 differs from the image")
	}
	if got := frameOf(a, 12, src); bytes.Equal(got.Pix, src.Pix) {
		t.Error("frame 12, mid-vowel, equals the image")
	}
}

// TestDrawDeterministic checks that frames drawn concurrently, into
// reused buffers, equal frames drawn one by one by another Animator made
// from the same inputs.
func TestDrawDeterministic(t *testing.T) {
	src, f := source(t, "astronaut-portrait.png", 360)
	a, b := talking(src, f, 5), talking(src, f, 5)
	const n = 72
	want := make([][]byte, n)
	for i := range n {
		want[i] = frameOf(a, i, src).Pix
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			dst := clone(src)
			for i := w; i < n; i += 3 {
				b.Draw(i, src, dst, src.Rect)
				if !bytes.Equal(dst.Pix, want[i]) {
					t.Errorf("frame %d differs", i)
				}
			}
		})
	}
	wg.Wait()
}

// gradient returns an image of r's size whose colour changes smoothly
// everywhere, so that any tear in a warp of it shows as a jump.
func gradient(r image.Rectangle) *image.RGBA {
	g := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := g.PixOffset(x, y)
			g.Pix[o] = uint8(x * 255 / r.Dx())
			g.Pix[o+1] = uint8(y * 255 / r.Dy())
			g.Pix[o+2] = uint8((x + y) * 255 / (r.Dx() + r.Dy()))
			g.Pix[o+3] = 255
		}
	}
	return g
}

// TestNoTearing poses the face strongly (jaw, rounding, pressing, head
// and breath) over a smooth gradient: outside the lips, where the warp
// alone acts, neighbouring pixels must stay close, and the animator's
// border must not move at all.
func TestNoTearing(t *testing.T) {
	for _, short := range []int{360, 1080} {
		src, f := source(t, "astronaut-portrait.png", short)
		a := New(src, f, Options{Frames: 1, FPS: 24})
		g := gradient(src.Rect)
		step := 255.0/float64(min(src.Rect.Dx(), src.Rect.Dy())) + 1
		for _, p := range []pose{
			{mouth: Mouth{Open: 1, Round: 1}, roll: 0.02, shiftX: 0.02, shiftY: 0.02, breath: 1},
			{mouth: Mouth{Press: 1, Stretch: 1}, roll: -0.02, shiftY: -0.02, breath: 1},
		} {
			dst := clone(g)
			a.draw(&p, g, dst, g.Rect)
			m := a.mouth
			b := a.bounds
			for y := b.Min.Y; y < b.Max.Y-1; y++ {
				for x := b.Min.X; x < b.Max.X-1; x++ {
					// The lips themselves open and close: skip them, where
					// the body's motion has taken them.
					dx, dy := a.body.displacement(&p, float64(x), float64(y))
					u, v := m.f.local(face.Point{X: float64(x) + 0.5 - dx, Y: float64(y) + 0.5 - dy})
					if math.Abs(u) < 1.15*m.a && v > m.top-0.1*m.a && v < m.split[0]+m.lower+widest*2*m.a+0.1*m.a {
						continue
					}
					o := dst.PixOffset(x, y)
					for _, n := range []int{4, dst.Stride} {
						for c := range 3 {
							if d := math.Abs(float64(dst.Pix[o+c]) - float64(dst.Pix[o+n+c])); d > 3*step {
								t.Fatalf("%dp: jump of %.0f at (%d, %d)", short, d, x, y)
							}
						}
					}
				}
			}
			// Where the bounds end inside the image, nothing moves.
			r := src.Rect
			edge := func(x, y int) {
				o := dst.PixOffset(x, y)
				if !bytes.Equal(dst.Pix[o:o+4], g.Pix[o:o+4]) {
					t.Fatalf("%dp: border pixel (%d, %d) moved", short, x, y)
				}
			}
			for x := b.Min.X; x < b.Max.X; x++ {
				if b.Min.Y > r.Min.Y {
					edge(x, b.Min.Y)
				}
				if b.Max.Y < r.Max.Y {
					edge(x, b.Max.Y-1)
				}
			}
			for y := b.Min.Y; y < b.Max.Y; y++ {
				if b.Min.X > r.Min.X {
					edge(b.Min.X, y)
				}
				if b.Max.X < r.Max.X {
					edge(b.Max.X-1, y)
				}
			}
		}
	}
}

// TestScale checks that the mouth model measures the same face in the same
// proportions at 360p and 1080p, so the motion looks the same.
func TestScale(t *testing.T) {
	lo, flo := source(t, "astronaut-portrait.png", 360)
	hi, fhi := source(t, "astronaut-portrait.png", 1080)
	ml, mh := newMouth(lo, flo), newMouth(hi, fhi)
	k := mh.a / ml.a
	if k < 2.8 || k > 3.2 {
		t.Fatalf("mouth half-widths %.1f and %.1f: ratio %.2f, want 3", ml.a, mh.a, k)
	}
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{
		{"split", ml.split[0], mh.split[0]},
		{"opening at rest", ml.rest, mh.rest},
		{"upper lip", ml.upper, mh.upper},
		{"lower lip", ml.lower, mh.lower},
		{"chin", ml.chin, mh.chin},
	} {
		if r := c.hi / c.lo / k; math.Abs(r-1) > 0.2 {
			t.Errorf("%s: %.1f at 360p, %.1f at 1080p, %.2f of the scale", c.name, c.lo, c.hi, r)
		}
	}
}

// TestMouthShapes checks what each shape does to the picture: an open
// mouth shows a dark inside, closed lips hide the teeth the portrait shows,
// and the lip analysis finds the closed lips of a portrait it made itself.
func TestMouthShapes(t *testing.T) {
	for _, short := range []int{360, 1080} {
		src, f := source(t, "astronaut-portrait.png", short)
		a := New(src, f, Options{Frames: 1, FPS: 24})
		m := a.mouth
		if !m.realTeeth || m.rest < 0.1*m.a {
			t.Fatalf("%dp: the smile's teeth were not seen: rest %.1f, teeth %v", short, m.rest, m.realTeeth)
		}
		// dark and bright count the mouth's pixels that are very dark
		// (the inside) and very bright (teeth), in parts of its area.
		count := func(img *image.RGBA) (dark, bright float64) {
			r := m.f.box(-m.a, m.a, m.top, m.split[0]+widest*2*m.a)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					c := img.Pix[img.PixOffset(x, y):]
					l := 0.299*float64(c[0]) + 0.587*float64(c[1]) + 0.114*float64(c[2])
					if l < 70 {
						dark++
					}
					if l > 200 && float64(c[0])-float64(c[1]) < 25 {
						bright++
					}
				}
			}
			n := float64(r.Dx() * r.Dy())
			return dark / n, bright / n
		}
		_, teeth := count(src)
		for _, tt := range []struct {
			name  string
			m     Mouth
			check func(dark, bright float64) bool
		}{
			{"rest", Mouth{}, func(d, b float64) bool { return d < 0.02 && b > 0.8*teeth }},
			{"open", Mouth{Open: 1}, func(d, b float64) bool { return d > 0.15 && b > 0.5*teeth }},
			{"closed", Mouth{Press: 1}, func(d, b float64) bool { return d < 0.02 && b < 0.2*teeth }},
		} {
			dst := posed(src, f, tt.m, 0)
			if d, b := count(dst); !tt.check(d, b) {
				t.Errorf("%dp %s: %.0f%% dark, %.0f%% teeth (%.0f%% at rest)", short, tt.name, 100*d, 100*b, 100*teeth)
			}
		}

		closed := posed(src, f, Mouth{Press: 1}, 0)
		faces, err := face.Detect(closed)
		if err != nil || len(faces) == 0 {
			t.Fatalf("%dp: no face in the closed-mouth portrait: %v", short, err)
		}
		if c := newMouth(closed, faces[0]); c.rest != 0 || c.realTeeth {
			t.Errorf("%dp: closed lips seen as open: rest %.1f, teeth %v", short, c.rest, c.realTeeth)
		}
	}
}

func TestBlinks(t *testing.T) {
	for seed := range uint64(20) {
		b := blinkTrack(24*30, 24, seed)
		var shut []float64 // times of frames with the eyes shut
		for i := 0; i < len(b); i++ {
			if b[i] == 0 {
				continue
			}
			j := i
			for j < len(b) && b[j] > 0 {
				j++
			}
			if j-i > 4 {
				t.Errorf("seed %d: a blink lasts %d frames", seed, j-i)
			}
			for k := i; k < j; k++ {
				if b[k] == 1 {
					shut = append(shut, float64(k)/24)
				}
			}
			i = j
		}
		if len(shut) < 5 || shut[0] < 0.7 || shut[0] > 3.1 {
			t.Fatalf("seed %d: eyes shut at %v", seed, shut)
		}
		for k := 1; k < len(shut); k++ {
			if d := shut[k] - shut[k-1]; d < 1.9 || d > 6.1 {
				t.Errorf("seed %d: %.2f s between blinks", seed, d)
			}
		}
	}
}

func TestLife(t *testing.T) {
	env := make([]float64, 240)
	for i := 30; i < 200; i++ {
		env[i] = 0.5 + 0.5*math.Sin(float64(i)/3)
	}
	for _, e := range [][]float64{nil, env} {
		poses := lifeTrack(240, 24, 9, e)
		if poses[0] != (pose{}) {
			t.Errorf("frame 0 moves: %+v", poses[0])
		}
		for i, p := range poses {
			if math.Abs(p.roll) > 0.015 || math.Abs(p.shiftX) > 0.015 || math.Abs(p.shiftY) > 0.025 || p.breath < 0 || p.breath > 1 {
				t.Fatalf("frame %d: %+v", i, p)
			}
		}
	}
}

func TestWithoutSpeechTheMouthRests(t *testing.T) {
	src, f := source(t, "astronaut.png", 360)
	a := New(src, f, Options{Frames: 120, FPS: 24, Seed: 2})
	blinks := 0
	for _, p := range a.poses {
		if p.mouth != (Mouth{}) {
			t.Fatalf("the mouth moves: %+v", p.mouth)
		}
		if p.blink == 1 {
			blinks++
		}
	}
	if blinks == 0 {
		t.Error("no blink in 5 s")
	}
}

func BenchmarkDraw720p(b *testing.B) {
	src, f := source(b, "astronaut-portrait.png", 720)
	a := New(src, f, Options{Frames: 120, FPS: 24, Seed: 3})
	dst := clone(src)
	p := pose{mouth: Mouth{Open: 0.6, Round: 0.3}, blink: 0.5, roll: 0.004, shiftX: 0.003, shiftY: 0.004, breath: 0.5}
	for b.Loop() {
		a.draw(&p, src, dst, src.Rect)
	}
}
