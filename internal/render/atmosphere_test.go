package render

import (
	"slices"
	"testing"
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
		{"a forest with god rays through the mist", "", Rays | Fog | Clouds},
		{"sunbeams in a barn", "light rays", 0},
		{"a lake at dawn", "", Water},
		{"boats on the river under a cloudy sky", "", Water | Clouds},
		{"a lake under clouds", "water, clouds", 0},
		{"a river, no clouds", "", Water},
		{"waves on the sea, rain", "particles", Water},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"|"+tt.negative, func(t *testing.T) {
			if got := PlanAtmosphere(tt.prompt, tt.negative); got != tt.want {
				t.Errorf("PlanAtmosphere(%q, %q) = %q, want %q", tt.prompt, tt.negative, got, tt.want)
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
			if p := psnr(want, frame(r, 0)); p < 35 {
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

// TestRays checks that light rays brighten the picture, most of all
// towards the light, and that they are part of the scene: drawn the same
// on every frame of a static shot.
func TestRays(t *testing.T) {
	img := loadImage(t, "coffee.png")
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 360)
	plain := measureRGB(frame(New(img, fw, fh, Shot{}, 2), 0))
	r := New(img, fw, fh, Shot{Atmosphere: Rays}, 10)
	f0 := frame(r, 0)
	if got := measureRGB(f0); got[3] < plain[3]+2 {
		t.Errorf("mean luma with rays %.1f, without %.1f: want brighter", got[3], plain[3])
	}
	if !slices.Equal(f0.Pix, frame(r, 9).Pix) {
		t.Error("the rays change from frame to frame on a static shot")
	}
}
