package render

import (
	"image"
	"math"
	"slices"
	"testing"

	"stillmotion/internal/prompt"
	"stillmotion/internal/psnr"
)

func TestPlanAtmosphere(t *testing.T) {
	tests := []struct {
		prompt, negative string
		want             Atmosphere
	}{
		{"a quiet harbour", "", 0},
		{"a street in the rain", "", Rain},
		{"snow falling on a cabin, misty", "", Snow | Fog | Clouds},
		{"a campfire with fireflies", "", Embers | Fireflies},
		{"cherry blossoms in a dusty courtyard", "", Petals | Dust},
		{"a street in the rain", "rain", 0},
		{"a foggy street, no rain", "", Fog},
		{"snow and fog", "particles", Fog},
		{"a forest with god rays through the mist", "", Rays | Fog | Clouds | Sway},
		{"sunbeams in a barn", "light rays", 0},
		{"a lake at dawn", "", Water},
		{"boats on the river under a cloudy sky", "", Water | Clouds},
		{"a lake under clouds", "water, clouds", 0},
		{"a river, no clouds", "", Water},
		{"waves on the sea, rain", "particles", Water},
		{"a meadow", "", Sway},
		{"tall grass swaying", "", Sway},
		{"trees in the breeze", "", Sway | Hair},
		{"a woman, her hair blowing", "", Hair},
		{"a windy forest", "wind", 0},
		{"a forest, no wind", "", 0},
		{"a forest with flowing hair", "foliage sway", Hair},
		{"portrait, windy day", "hair movement", Sway},
		{"a sunset with lens flare", "", Flare},
		{"anamorphic street at night", "", Flare},
		{"sun flare over the sea", "no lens flare", Water},
		{"a forest, no lens flare", "", Sway},
		{"leaves falling in the wind", "particles", Sway | Hair},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"|"+tt.negative, func(t *testing.T) {
			if got := PlanAtmosphere(prompt.Read(tt.prompt, tt.negative)); got != tt.want {
				t.Errorf("PlanAtmosphere(prompt.Read(%q, %q)) = %q, want %q", tt.prompt, tt.negative, got, tt.want)
			}
		})
	}
}

// TestAtmosphere checks each effect: frame 0 is the picture, later frames
// change it, the same seed draws the same frames and another seed others.
func TestAtmosphere(t *testing.T) {
	src := pattern(640, 360, 7)
	want := reference(src, 640, 360)
	for e := range numParticles + 1 { // the particles and fog
		a := Atmosphere(1 << e)
		t.Run(a.String(), func(t *testing.T) {
			r := New(src, 640, 360, Shot{Atmosphere: a, Seed: 1}, 48)
			if p := psnr.RGB(want, frame(r, 0)); p < 35 {
				t.Errorf("frame 0: PSNR %.1f dB", p)
			}
			f30 := frame(r, 30)
			changed := 0
			for i := 0; i < len(f30.Pix); i += 4 {
				if d := int(f30.Pix[i+1]) - int(want.Pix[i+1]); d > 12 || d < -12 {
					changed++
				}
			}
			if frac := float64(changed) / float64(len(f30.Pix)/4); frac < 0.001 {
				t.Errorf("frame 30 differs from the picture in %.2f%% of pixels", 100*frac)
			}
			if !slices.Equal(f30.Pix, frame(New(src, 640, 360, Shot{Atmosphere: a, Seed: 1}, 48), 30).Pix) {
				t.Error("the same seed drew a different frame 30")
			}
			if slices.Equal(f30.Pix, frame(New(src, 640, 360, Shot{Atmosphere: a, Seed: 2}, 48), 30).Pix) {
				t.Error("seeds 1 and 2 drew the same frame 30")
			}
		})
	}
}

// window returns a w x h dark room lit by a bright window with mullions
// in the middle of its upper part.
func window(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(30)
			u, t := float64(x)/float64(w), float64(y)/float64(h)
			if u > 0.42 && u < 0.58 && t > 0.08 && t < 0.28 && x%24 > 4 {
				v = 250
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
	return img
}

// TestRays checks the light rays: frame 0 is the picture; later frames
// are brighter, coffee.png's too; the rays breathe and drift from frame
// to frame of a static shot; and the part of the picture they do not
// reach, the lower part, is exactly as the camera drew it.
func TestRays(t *testing.T) {
	img := loadImage(t, "coffee.png")
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 360)
	plain := measureRGB(frame(New(img, fw, fh, Shot{}, 48), 30))
	if got := measureRGB(frame(New(img, fw, fh, Shot{Atmosphere: Rays}, 48), 30)); got[3] < plain[3]+2 {
		t.Errorf("coffee.png: mean luma with rays %.1f, without %.1f: want brighter", got[3], plain[3])
	}

	const w, h = 640, 360
	src := window(w, h)
	for _, mv := range []Move{Static, PanRight, ZoomIn} {
		t.Run(mv.String(), func(t *testing.T) {
			t.Parallel()
			plain := New(src, w, h, Shot{Move: mv}, 72)
			shot := Shot{Move: mv, Atmosphere: Rays, Seed: 1}
			r := New(src, w, h, shot, 72)
			if !slices.Equal(frame(r, 0).Pix, frame(plain, 0).Pix) {
				t.Error("frame 0 is not the picture")
			}
			var lit []float64 // the light added on frame 30
			for _, i := range []int{30, 60} {
				f, base := frame(r, i), frame(plain, i)
				if n := 4 * w * (h * 3 / 4); !slices.Equal(f.Pix[n:], base.Pix[n:]) {
					t.Errorf("frame %d: the lower part changed", i)
				}
				add := added(f, base)
				var sum float64
				for _, v := range add {
					sum += v
				}
				if m := sum / float64(3*w*h); m < 1 {
					t.Errorf("frame %d: the rays add %.2f on average; want at least 1", i, m)
				}
				if lit == nil {
					lit = add
					continue
				}
				if mv != Static {
					continue
				}
				// Where the rays are, they change from frame 30 to 60.
				var d, n float64
				for j, v := range lit {
					if v > 30 {
						d += math.Abs(add[j] - v)
						n++
					}
				}
				t.Logf("the rays change by %.1f where they add over 30", d/n)
				if d/n < 4 {
					t.Errorf("the rays change by %.1f from frame 30 to 60; want at least 4", d/n)
				}
			}
			f30 := frame(r, 30)
			shot.Seed = 2
			if slices.Equal(f30.Pix, frame(New(src, w, h, shot, 72), 30).Pix) {
				t.Error("seeds 1 and 2 drew the same frame 30")
			}
		})
	}
}

// TestAtmosphereDescription checks that a shot's description names the
// effects of its atmosphere.
func TestAtmosphereDescription(t *testing.T) {
	tests := []struct {
		a    Atmosphere
		want string
	}{
		{Sway, "static; atmosphere foliage sway"},
		{Hair | Flare, "static; atmosphere hair and cloth in wind+lens flare"},
		{Rays | Sway | Flare, "static; atmosphere light rays+foliage sway+lens flare"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := (Shot{Atmosphere: tt.a}).Description(); got != tt.want {
				t.Errorf("Description() = %q, want %q", got, tt.want)
			}
		})
	}
}
