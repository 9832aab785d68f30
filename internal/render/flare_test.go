package render

import (
	"bytes"
	"image"
	"math"
	"testing"
)

// lamp returns a w x h dark picture with a small white light at (x, y).
func lamp(w, h int, x, y float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for py := range h {
		for px := range w {
			v := uint8(40)
			if math.Hypot(float64(px)+0.5-x, float64(py)+0.5-y) < 6 {
				v = 255
			}
			i := img.PixOffset(px, py)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
	return img
}

// added returns the light f adds to base at each pixel, summed over RGB.
func added(f, base *image.RGBA) []float64 {
	a := make([]float64, len(f.Pix)/4)
	for i := range a {
		for c := range 3 {
			a[i] += float64(f.Pix[4*i+c]) - float64(base.Pix[4*i+c])
		}
	}
	return a
}

// TestFlare checks the lens flare: frame 0 is the picture; later frames
// add light most of all at the light, whose place it finds and follows as
// the camera pans, and along the line from the light through the frame's
// centre rather than along another line; seeds vary it.
func TestFlare(t *testing.T) {
	const w, h = 640, 360
	lx, ly := 0.72*w, 0.3*h
	src := lamp(w, h, lx, ly)
	for _, mv := range []Move{Static, PanRight, TiltUp} {
		t.Run(mv.String(), func(t *testing.T) {
			t.Parallel()
			plain := New(src, w, h, Shot{Move: mv}, 48)
			shot := Shot{Move: mv, Atmosphere: Flare, Seed: 3}
			r := New(src, w, h, shot, 48)
			if !bytes.Equal(frame(r, 0).Pix, frame(plain, 0).Pix) {
				t.Error("frame 0 is not the picture")
			}
			const i = 40
			f, base := frame(r, i), frame(plain, i)
			add := added(f, base)
			// Where the light is on frame i, by the camera.
			s, cx, cy := r.view(i)
			sx, sy := view{s, cx, cy}.frame(lx/w, ly/h, w, h)
			// The most light is added beside the light, where the
			// picture is not already white.
			best, bx, by := -1.0, 0, 0
			for y := range h {
				for x := range w {
					if base.Pix[base.PixOffset(x, y)] < 200 && add[y*w+x] > best {
						best, bx, by = add[y*w+x], x, y
					}
				}
			}
			if d := math.Hypot(float64(bx)+0.5-sx, float64(by)+0.5-sy); d > 12 {
				t.Errorf("the most light is added at (%d, %d), %.0f px from the light at (%.0f, %.0f)", bx, by, d, sx, sy)
			}
			if mv != Static && math.Hypot(sx-lx, sy-ly) < 10 {
				t.Errorf("the light moved only to (%.0f, %.0f): the test does not test following", sx, sy)
			}
			// along returns the mean light added on the line from (x, y)
			// through the frame's centre, beyond the glow.
			along := func(x, y float64) float64 {
				var sum float64
				n := 0
				for k := 0.6; k <= 2.2; k += 0.002 {
					px, py := int(x+(w/2-x)*k), int(y+(h/2-y)*k)
					if px >= 0 && px < w && py >= 0 && py < h {
						sum += add[py*w+px]
						n++
					}
				}
				return sum / float64(max(n, 1))
			}
			on, off := along(sx, sy), along(w-sx, sy)
			t.Logf("light added at (%d, %d); on the line %.2f, on its mirror %.2f", bx, by, on, off)
			if on < 3 || on < 4*off {
				t.Errorf("light added on the line through the centre %.2f, on its mirror image %.2f", on, off)
			}
			if !bytes.Equal(f.Pix, frame(New(src, w, h, shot, 48), i).Pix) {
				t.Error("the same seed drew a different frame")
			}
			shot.Seed = 4
			if bytes.Equal(f.Pix, frame(New(src, w, h, shot, 48), i).Pix) {
				t.Error("seeds 3 and 4 drew the same frame")
			}
		})
	}
}

// TestFlareCorner checks that without a bright light the flare comes
// from an upper corner the seed chooses, and that seeds choose both.
func TestFlareCorner(t *testing.T) {
	const w, h = 320, 180
	src := pattern(w, h, 5) // no channel above 240, no light
	base := frame(New(src, w, h, Shot{}, 48), 30)
	sides := map[string]bool{}
	for seed := range int64(8) {
		add := added(frame(New(src, w, h, Shot{Atmosphere: Flare, Seed: seed}, 48), 30), base)
		corner := func(x0 int) float64 {
			var s float64
			for y := range 20 {
				for x := x0; x < x0+40; x++ {
					s += add[y*w+x]
				}
			}
			return s / 800
		}
		left, right := corner(0), corner(w-40)
		switch {
		case left > 3*right && left > 20:
			sides["left"] = true
		case right > 3*left && right > 20:
			sides["right"] = true
		default:
			t.Errorf("seed %d: light added %.1f in the top left, %.1f in the top right", seed, left, right)
		}
	}
	if len(sides) != 2 {
		t.Errorf("seeds 0..7 put the flare only on the %v", sides)
	}
}

// TestFlareFindsLightUnderLook checks that the flare's light is found in
// the picture as it is, not as a style or grade repaints it: under the
// cyberpunk style and a night grade a lamp no longer reads as bright, yet
// the flare still comes from it.
func TestFlareFindsLightUnderLook(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 360))
	for y := range 360 {
		for x := range 640 {
			v := uint8(70)
			if math.Hypot(float64(x)-448, float64(y)-108) < 10 {
				v = 255
			}
			p := img.Pix[y*img.Stride+4*x:]
			p[0], p[1], p[2], p[3] = v, v, v, 255
		}
	}
	for _, shot := range []Shot{
		{Atmosphere: Flare},
		{Atmosphere: Flare, Style: Cyberpunk},
		{Atmosphere: Flare, Style: Cyberpunk, Light: Light{From: Night, To: Night}},
	} {
		t.Run(shot.Description(), func(t *testing.T) {
			fl := New(img, 640, 360, shot, 24).atmo.flare
			if math.Abs(fl.u-0.7) > 0.03 || math.Abs(fl.v-0.3) > 0.03 {
				t.Errorf("the flare's light at (%.2f, %.2f), want the lamp at (0.70, 0.30)", fl.u, fl.v)
			}
		})
	}
}
