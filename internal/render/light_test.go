package render

import (
	"image"
	"testing"

	"stillmotion/internal/prompt"
	"stillmotion/internal/psnr"
)

func TestPlanLight(t *testing.T) {
	tests := []struct {
		prompt, negative string
		from, to         Grade
	}{
		{"a harbour", "", 0, 0},
		{"a harbour at golden hour", "", GoldenHour, GoldenHour},
		{"a moody street at night, neon signs", "", Night | Moody | Neon, Night | Moody | Neon},
		{"Vintage black-and-white portrait", "", Vintage | BlackAndWhite, Vintage | BlackAndWhite},
		{"a portrait, not black and white", "", 0, 0},
		{"a high contrast skyline", "high contrast", 0, 0},
		{"a beach as the sun sets", "", 0, GoldenHour | Dusk},
		{"a golden hour beach as the sun sets", "", 0, GoldenHour | Dusk},
		{"the city as night falls, high contrast", "", HighContrast, Night | HighContrast},
		{"a valley, dawn breaks", "", Night, GoldenHour},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			l := PlanLight(prompt.Read(tt.prompt, tt.negative))
			if l.From != tt.from || l.To != tt.to {
				t.Errorf("PlanLight(prompt.Read(%q, %q)) = %v → %v, want %v → %v", tt.prompt, tt.negative, l.From, l.To, tt.from, tt.to)
			}
		})
	}
}

func TestGrades(t *testing.T) {
	img := loadImage(t, "coffee.png")
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 180)
	in := measureRGB(frame(New(img, fw, fh, Shot{}, 2), 0))
	tests := []struct {
		grade Grade
		check func(m [4]float64) bool
		want  string
	}{
		{GoldenHour, func(m [4]float64) bool { return m[0]-m[2] > in[0]-in[2]+10 }, "warmer"},
		{Night, func(m [4]float64) bool { return m[3] < in[3]*0.65 && m[2]-m[0] > in[2]-in[0]+10 }, "darker and bluer"},
		{Moody, func(m [4]float64) bool { return m[3] < in[3]*0.95 }, "darker"},
		{BlackAndWhite, func(m [4]float64) bool { return m[0] == m[1] && m[1] == m[2] }, "grey"},
	}
	ref := reference(img, fw, fh)
	for _, tt := range tests {
		t.Run(tt.grade.String(), func(t *testing.T) {
			r := New(img, fw, fh, Shot{Light: Light{From: tt.grade, To: tt.grade}}, 48)
			// Frame 0 is the picture; the grade has grown in after a
			// second, and holds.
			if p := psnr.RGB(ref, frame(r, 0)); p < 35 {
				t.Errorf("frame 0: PSNR %.1f dB against the input, want >= 35", p)
			}
			half := measureRGB(frame(r, gradeGrowth/2))
			m := measureRGB(frame(r, gradeGrowth))
			if !tt.check(m) {
				t.Errorf("%v: mean RGB and luma %.1f, input %.1f; want %s", tt.grade, m, in, tt.want)
			}
			if half == in || half == m {
				t.Errorf("frame %d (%.1f) is not between the picture (%.1f) and the grade (%.1f)", gradeGrowth/2, half, in, m)
			}
			if last := measureRGB(frame(r, 47)); last != m {
				t.Errorf("the grade changed after growing in: %.1f, then %.1f", m, last)
			}
		})
	}
	t.Run("night falls", func(t *testing.T) {
		r := New(img, fw, fh, Shot{Light: PlanLight(prompt.Read("the harbour as night falls", ""))}, 48)
		f0 := frame(r, 0)
		if p := psnr.RGB(reference(img, fw, fh), f0); p < 35 {
			t.Errorf("frame 0 of a transition from natural light: PSNR %.1f dB", p)
		}
		prev := measureRGB(f0)[3]
		for i := 8; i < 48; i += 8 {
			l := measureRGB(frame(r, i))[3]
			if l > prev {
				t.Errorf("frame %d has luma %.1f, brighter than %.1f before it", i, l, prev)
			}
			prev = l
		}
		if prev > 0.65*measureRGB(f0)[3] {
			t.Errorf("the last frame has luma %.1f, not night", prev)
		}
	})
}

// measureRGB returns the mean R, G, B and luma of img, where B&W
// checks need exact equality, so the greys are summed as integers.
func measureRGB(img *image.RGBA) [4]float64 {
	var s [4]float64
	for i := 0; i < len(img.Pix); i += 4 {
		for c := range 3 {
			s[c] += float64(img.Pix[i+c])
		}
		s[3] += 0.299*float64(img.Pix[i]) + 0.587*float64(img.Pix[i+1]) + 0.114*float64(img.Pix[i+2])
	}
	n := float64(len(img.Pix) / 4)
	for c := range s {
		s[c] /= n
	}
	return s
}
