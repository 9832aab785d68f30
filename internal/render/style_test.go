package render

import (
	"image"
	"math"
	"slices"
	"testing"
)

// stats are measurable properties of a picture's look.
type stats struct {
	colours  int     // distinct 24-bit colours
	top64    float64 // fraction of pixels in the 64 most common colours
	sat      float64 // mean HSV saturation
	hf       float64 // median absolute Laplacian of luma: fine texture
	black    float64 // fraction of near-black pixels
	lines    float64 // fraction of near-black pixels beside light ones: ink
	neonHues float64 // fraction of coloured pixels that are teal or magenta
}

func measure(img *image.RGBA) stats {
	var s stats
	w, h := img.Rect.Dx(), img.Rect.Dy()
	count := make(map[uint32]int)
	l := make([]float64, w*h)
	coloured, neon := 0, 0
	for y := range h {
		for x := range w {
			p := img.Pix[img.PixOffset(x, y):][:3]
			count[uint32(p[0])<<16|uint32(p[1])<<8|uint32(p[2])]++
			r, g, b := float64(p[0])/255, float64(p[1])/255, float64(p[2])/255
			mx, mn := max(r, g, b), min(r, g, b)
			if mx > 0 {
				s.sat += (mx - mn) / mx
			}
			if mx < 0.16 {
				s.black++
			}
			l[y*w+x] = 0.299*r + 0.587*g + 0.114*b
			if mx-mn > 0.1 && mx > 0.15 {
				coloured++
				var hue float64
				switch mx {
				case r:
					hue = math.Mod((g-b)/(mx-mn)+6, 6)
				case g:
					hue = (b-r)/(mx-mn) + 2
				default:
					hue = (r-g)/(mx-mn) + 4
				}
				hue *= 60
				if (hue >= 150 && hue <= 215) || (hue >= 270 && hue <= 345) {
					neon++
				}
			}
		}
	}
	n := float64(w * h)
	s.colours = len(count)
	freq := make([]int, 0, len(count))
	for _, c := range count {
		freq = append(freq, c)
	}
	slices.Sort(freq)
	slices.Reverse(freq)
	top := 0
	for _, c := range freq[:min(64, len(freq))] {
		top += c
	}
	s.top64 = float64(top) / n
	s.sat /= n
	s.black /= n
	if coloured > 0 {
		s.neonHues = float64(neon) / float64(coloured)
	}
	var lap []float64
	const d = 3
	for y := d; y < h-d; y++ {
		for x := d; x < w-d; x++ {
			i := y*w + x
			lap = append(lap, math.Abs(4*l[i]-l[i-1]-l[i+1]-l[i-w]-l[i+w]))
			if l[i] < 0.16 && max(l[i-d], l[i+d], l[i-d*w], l[i+d*w]) > 0.45 {
				s.lines++
			}
		}
	}
	slices.Sort(lap)
	s.hf = lap[len(lap)/2]
	s.lines /= float64(len(lap))
	return s
}

func TestStyles(t *testing.T) {
	img := loadImage(t, "coffee.png")
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 360)
	in := measure(frame(New(img, fw, fh, Shot{}, 2), 0))
	tests := []struct {
		style Style
		check func(s stats) bool
		want  string
	}{
		{Anime, func(s stats) bool { return s.colours < in.colours*7/10 && s.lines > 2*in.lines },
			"fewer colours, flatter, dark outlines"},
		{Animation3D, func(s stats) bool { return s.sat > in.sat*1.1 && s.hf < in.hf*0.8 },
			"more saturated, smoother"},
		{Clay, func(s stats) bool { return s.hf < in.hf*0.5 && s.sat < in.sat },
			"much less fine detail, muted colour"},
		{Comic, func(s stats) bool { return s.top64 > 0.35 && s.top64 > 3*in.top64 && s.lines > 2*in.lines },
			"a small palette, dark ink"},
		{Cyberpunk, func(s stats) bool { return s.neonHues > 0.6 && s.neonHues > in.neonHues+0.4 },
			"mostly teal and magenta hues"},
	}
	for _, tt := range tests {
		t.Run(tt.style.String(), func(t *testing.T) {
			r := New(img, fw, fh, Shot{Move: Static, Style: tt.style}, 10)
			f0 := frame(r, 0)
			if got := measure(f0); !tt.check(got) {
				t.Errorf("%s look: %+v, input %+v; want %s", tt.style, got, in, tt.want)
			}
			// The look is painted once, so a static shot does not change
			// at all: no flicker, no crawling edges.
			if f5 := frame(r, 5); !slices.Equal(f0.Pix, f5.Pix) {
				t.Error("frames 0 and 5 of a static shot differ")
			}
		})
	}
}

func TestParseStyle(t *testing.T) {
	for s := range numStyles {
		if got, ok := ParseStyle(s.String()); !ok || got != s {
			t.Errorf("ParseStyle(%q) = %v, %v", s.String(), got, ok)
		}
	}
	if _, ok := ParseStyle("watercolour"); ok {
		t.Error("ParseStyle accepted an unknown style")
	}
}

// TestStyleCost keeps the one-off cost of a style at 720p small beside
// the clip's encoding.
// BenchmarkStylePrepare prepares the 720p source of each style (the
// figures are read, not asserted):
//
//	go test -run '^$' -bench StylePrepare ./internal/render/
func BenchmarkStylePrepare(b *testing.B) {
	img := loadImage(b, "rocket.jpg")
	for s := Anime; s < numStyles; s++ {
		b.Run(s.String(), func(b *testing.B) {
			for b.Loop() {
				New(img, 1280, 720, Shot{Move: ZoomIn, Style: s}, 120)
			}
		})
	}
}
