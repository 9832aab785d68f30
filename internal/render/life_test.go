package render

import (
	"bytes"
	"image"
	"math"
	"testing"

	"stillmotion/internal/prompt"
)

// TestWaterAndClouds checks the water shimmer and the cloud drift: frame 0
// is the picture, later frames move the lower part (water) or the upper
// part (sky) and leave the rest exactly as the camera drew it, the same
// seed moves them the same way, and a negative prompt removes them.
func TestWaterAndClouds(t *testing.T) {
	src := pattern(320, 180, 21)
	const w, h = 320, 180
	plain := New(src, w, h, Shot{Move: Static}, 48)
	base := frame(plain, 30)
	// changed returns the mean absolute change of rows y0..y1 against base.
	changed := func(img []uint8, y0, y1 int) float64 {
		var d int
		for i := y0 * 4 * w; i < y1*4*w; i++ {
			d += max(int(img[i])-int(base.Pix[i]), int(base.Pix[i])-int(img[i]))
		}
		return float64(d) / float64((y1-y0)*3*w)
	}
	tests := []struct {
		prompt       string
		moved, still [2]int // row ranges
	}{
		{"a calm lake", [2]int{140, 180}, [2]int{0, 99}},
		{"clouds drifting over the hills", [2]int{0, 40}, [2]int{100, 180}},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			t.Parallel()
			shot := Shot{Move: Static, Atmosphere: PlanAtmosphere(prompt.Read(tt.prompt, "")), Seed: 5}
			r := New(src, w, h, shot, 48)
			if !bytes.Equal(frame(r, 0).Pix, frame(plain, 0).Pix) {
				t.Error("frame 0 is not the picture")
			}
			f := frame(r, 30)
			moved, still := changed(f.Pix, tt.moved[0], tt.moved[1]), changed(f.Pix, tt.still[0], tt.still[1])
			t.Logf("%s: rows %v changed by %.2f, rows %v by %.2f", shot.Atmosphere, tt.moved, moved, tt.still, still)
			if moved < 0.3 || still != 0 {
				t.Errorf("rows %v changed by %.2f, rows %v by %.2f; want the first moved, the second untouched", tt.moved, moved, tt.still, still)
			}
			if !bytes.Equal(f.Pix, frame(New(src, w, h, shot, 48), 30).Pix) {
				t.Error("not deterministic")
			}
			if bytes.Equal(f.Pix, frame(New(src, w, h, Shot{Move: Static, Atmosphere: shot.Atmosphere, Seed: 6}, 48), 30).Pix) {
				t.Error("seeds 5 and 6 draw the same frame")
			}
			if a := PlanAtmosphere(prompt.Read(tt.prompt, "water, clouds")); a != 0 {
				t.Errorf("negated: %s", a)
			}
		})
	}
}

// BenchmarkFrame720pLife draws 720p frames with the life effects, each on
// a static shot of a picture that has what it moves (the plain static shot
// is the baseline: a copy), and some camera moves.
func BenchmarkFrame720pLife(b *testing.B) {
	rocket := loadImage(b, "rocket.jpg")
	woods := woodland(1280, 720)
	face := Box{Min: Point{-0.06, -0.3}, Max: Point{0.06, -0.05}}
	for _, c := range []struct {
		name string // of the picture
		src  image.Image
		shot Shot
	}{
		{"rocket", rocket, Shot{Move: Static}},
		{"rocket", rocket, Shot{Move: DollyZoom}},
		{"rocket", rocket, Shot{Move: TruckLeft}},
		{"rocket", rocket, Shot{Move: Static, Atmosphere: Water}},
		{"rocket", rocket, Shot{Move: Static, Atmosphere: Clouds}},
		{"woods", woods, Shot{Move: Static, Atmosphere: Sway}},
		{"woods", woods, Shot{Move: ZoomIn, Atmosphere: Sway}},
		{"woods", woods, Shot{Move: Static, Atmosphere: Hair, Figure: face}},
		{"woods", woods, Shot{Move: Static, Atmosphere: Sway | Hair, Figure: face}},
		{"window", window(1280, 720), Shot{Move: Static, Atmosphere: Rays}},
		{"rocket", rocket, Shot{Move: Static, Atmosphere: Rays}},
		{"rocket", rocket, Shot{Move: Static, Atmosphere: Flare}},
	} {
		b.Run(c.name+"/"+c.shot.Description(), func(b *testing.B) {
			r := New(c.src, 1280, 720, c.shot, 120)
			benchFrames(b, r, 12)
		})
	}
}

// TestCloudsHoldDetail checks that the cloud drift moves soft sky and
// leaves sharp detail in it (girders, roofs) standing still.
func TestCloudsHoldDetail(t *testing.T) {
	const w, h = 640, 360
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(2*math.Pi*float64(x+y/2)/80) // soft sky
			if x < w/3 {
				v = float64(255 * (x / 4 % 2)) // sharp stripes
			}
			i := src.PixOffset(x, y)
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(v), uint8(v), uint8(v), 255
		}
	}
	base := frame(New(src, w, h, Shot{Move: Static}, 48), 30)
	f := frame(New(src, w, h, Shot{Move: Static, Atmosphere: Clouds, Seed: 3}, 48), 30)
	changed := func(x0, x1 int) float64 {
		var d float64
		for y := range 60 {
			for x := x0; x < x1; x++ {
				i := base.PixOffset(x, y)
				d += math.Abs(float64(f.Pix[i]) - float64(base.Pix[i]))
			}
		}
		return d / float64(60*(x1-x0))
	}
	stripes, sky := changed(20, w/3-20), changed(w/3+20, w-20)
	t.Logf("stripes changed by %.2f, soft sky by %.2f", stripes, sky)
	if sky < 0.5 || stripes > 0.1*sky {
		t.Errorf("stripes changed by %.2f, soft sky by %.2f; want the sky moved and the stripes still", stripes, sky)
	}
}
