package render

import (
	"fmt"
	"math"
	"sync"
)

// Style is the look the clip is drawn in. A style is painted once on the
// prepared source in New, not on each frame: every frame then samples the
// same styled picture, so outlines, dots and colour bands cannot flicker or
// crawl, and a style costs nothing per frame. With a style, frame 0 is the
// styled input rather than the input itself.
type Style int

// The styles. The zero Style draws the image as it is.
const (
	NoStyle     Style = iota
	Anime             // flat colour, banded shading and dark outlines
	Animation3D       // smooth, saturated shading with a soft bloom
	Clay              // smooth matte forms, muted colour, soft relief light
	Comic             // posterized colour, halftone dots and bold ink
	Cyberpunk         // teal shadows, magenta highlights, neon glow, colour fringes
	numStyles
)

var styleNames = [...]string{
	NoStyle:     "",
	Anime:       "anime",
	Animation3D: "3d_animation",
	Clay:        "clay",
	Comic:       "comic",
	Cyberpunk:   "cyberpunk",
}

// String returns the style's request name, such as "3d_animation", or ""
// for NoStyle.
func (s Style) String() string {
	if s >= 0 && s < numStyles {
		return styleNames[s]
	}
	return fmt.Sprintf("style(%d)", int(s))
}

// ParseStyle returns the style a request names: "anime", "3d_animation",
// "clay", "comic" or "cyberpunk", or "" for NoStyle. It reports false for
// any other name.
func ParseStyle(name string) (Style, bool) {
	for s, n := range styleNames {
		if n == name {
			return Style(s), true
		}
	}
	return NoStyle, false
}

// planes is an RGB image as three float32 planes in [0, 1].
type planes struct {
	c    [3][]float32
	w, h int
}

func toPlanes(pix []uint8, stride, w, h int) planes {
	p := planes{w: w, h: h}
	for c := range 3 {
		p.c[c] = make([]float32, w*h)
	}
	for y := range h {
		row := pix[y*stride:][:4*w]
		for x := range w {
			i := y*w + x
			p.c[0][i] = float32(row[4*x]) / 255
			p.c[1][i] = float32(row[4*x+1]) / 255
			p.c[2][i] = float32(row[4*x+2]) / 255
		}
	}
	return p
}

func (p planes) store(pix []uint8, stride int) {
	for y := range p.h {
		row := pix[y*stride:][:4*p.w]
		for x := range p.w {
			i := y*p.w + x
			for c := range 3 {
				row[4*x+c] = unit8(p.c[c][i])
			}
			row[4*x+3] = 255
		}
	}
}

// unit8 converts v in [0, 1] to a byte, rounding and clamping.
func unit8(v float32) uint8 {
	return uint8(min(max(v*255+0.5, 0), 255))
}

func (p planes) luma() []float32 {
	l := make([]float32, p.w*p.h)
	for i := range l {
		l[i] = 0.299*p.c[0][i] + 0.587*p.c[1][i] + 0.114*p.c[2][i]
	}
	return l
}

// each runs f on the three channels, two at a time: the machines this
// runs on have two cores, and a third at once would only add to the peak
// of memory that the filters' scratch planes take.
func each(f func(c int)) {
	var wg sync.WaitGroup
	wg.Go(func() { f(0) })
	f(1)
	wg.Wait()
	f(2)
}

// boxBlur replaces p with the mean of each (2r+1)² window, the window cut
// at the edges (so the edges are not darkened), in O(1) per pixel.
func boxBlur(p []float32, w, h, r int) {
	if r <= 0 {
		return
	}
	sum := make([]float32, max(w, h)+1)
	for y := range h {
		row := p[y*w : (y+1)*w]
		for x, v := range row {
			sum[x+1] = sum[x] + v
		}
		for x := range row {
			a, b := max(x-r, 0), min(x+r+1, w)
			row[x] = (sum[b] - sum[a]) / float32(b-a)
		}
	}
	// Vertically, a running sum per column keeps the access row by row.
	acc := make([]float64, w)
	out := make([]float32, w*h)
	for y := range min(r, h) {
		for x := range w {
			acc[x] += float64(p[y*w+x])
		}
	}
	for y := range h {
		if y+r < h {
			for x := range w {
				acc[x] += float64(p[(y+r)*w+x])
			}
		}
		if y-r-1 >= 0 {
			for x := range w {
				acc[x] -= float64(p[(y-r-1)*w+x])
			}
		}
		n := float64(min(y+r+1, h) - max(y-r, 0))
		for x := range w {
			out[y*w+x] = float32(acc[x] / n)
		}
	}
	copy(p, out)
}

// guided returns p smoothed by a self-guided filter (He, Sun and Tang): flat
// regions are averaged over a (2r+1)² window, while edges whose variance
// is well above eps are kept sharp.
func guided(p []float32, w, h, r int, eps float32) []float32 {
	mp := append([]float32(nil), p...)
	boxBlur(mp, w, h, r)
	mpp := make([]float32, len(p))
	for i, v := range p {
		mpp[i] = v * v
	}
	boxBlur(mpp, w, h, r)
	a, b := mpp, make([]float32, len(p))
	for i := range a {
		v := max(mpp[i]-mp[i]*mp[i], 0)
		a[i] = v / (v + eps)
		b[i] = mp[i] * (1 - a[i])
	}
	boxBlur(a, w, h, r)
	boxBlur(b, w, h, r)
	for i := range mp {
		mp[i] = a[i]*p[i] + b[i]
	}
	return mp
}

// sobel returns the gradient magnitude of l, normalised so that a step
// from 0 to 1 gives about 1.
func sobel(l []float32, w, h int) []float32 {
	g := make([]float32, len(l))
	at := func(x, y int) float32 { return l[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)] }
	for y := range h {
		for x := range w {
			gx := at(x+1, y-1) + 2*at(x+1, y) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x-1, y) - at(x-1, y+1)
			gy := at(x-1, y+1) + 2*at(x, y+1) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x, y-1) - at(x+1, y-1)
			g[y*w+x] = float32(math.Sqrt(float64(gx*gx+gy*gy))) / 4
		}
	}
	return g
}

func smoothstep(a, b, x float32) float32 {
	t := min(max((x-a)/(b-a), 0), 1)
	return t * t * (3 - 2*t)
}

// saturate scales the chroma of each pixel about its luma by k.
func (p planes) saturate(k float32) {
	for i := range p.c[0] {
		l := 0.299*p.c[0][i] + 0.587*p.c[1][i] + 0.114*p.c[2][i]
		for c := range 3 {
			p.c[c][i] = min(max(l+(p.c[c][i]-l)*k, 0), 1)
		}
	}
}

// stylize paints style s over the w x h texels of pix in place. unit is
// the texels per 1/1000 of the picture's short side, so that the look does
// not depend on the resolution.
func stylize(s Style, pix []uint8, stride, w, h int, unit float64) {
	if s == NoStyle {
		return
	}
	px := func(thousandths float64) int { return max(1, int(math.Round(thousandths*unit))) }
	p := toPlanes(pix, stride, w, h)
	switch s {
	case Anime:
		anime(p, px)
	case Animation3D:
		animation3D(p, px)
	case Clay:
		clay(p, px)
	case Comic:
		comic(p, px)
	case Cyberpunk:
		cyberpunk(p, px)
	}
	p.store(pix, stride)
}

// smoothAll applies the guided filter to every channel, twice for a
// flatter result.
func (p planes) smoothAll(r int, eps float32, passes int) {
	each(func(c int) {
		for range passes {
			copy(p.c[c], guided(p.c[c], p.w, p.h, r, eps))
		}
	})
}

// ink returns the outline strength of the smoothed picture: 0 in flat
// regions, 1 on strong edges, antialiased by a small blur.
func (p planes) ink(lo, hi float32, soften int) []float32 {
	l := p.luma()
	boxBlur(l, p.w, p.h, 1)
	e := sobel(l, p.w, p.h)
	for i, v := range e {
		e[i] = smoothstep(lo, hi, v)
	}
	boxBlur(e, p.w, p.h, soften)
	return e
}

// band quantises v in [0, 1] to n levels with soft steps, so that a band's
// edge is a short ramp that does not alias.
func band(v float32, n int) float32 {
	x := v * float32(n)
	f := float32(math.Floor(float64(x)))
	return min((f+smoothstep(0.4, 0.6, x-f))/float32(n), 1)
}

func anime(p planes, px func(float64) int) {
	p.smoothAll(px(4), 0.004, 2)
	e := p.ink(0.05, 0.14, 0)
	p.saturate(1.25)
	// The bands follow a blurred luma, so that their edges are smooth
	// contours rather than dithered where noise straddles a step.
	lb := p.luma()
	for range 2 {
		boxBlur(lb, p.w, p.h, px(2))
	}
	for i := range p.c[0] {
		l := 0.299*p.c[0][i] + 0.587*p.c[1][i] + 0.114*p.c[2][i]
		q := band(lb[i], 5)
		k := (0.15 + 0.85*q + 0.02) / (l + 0.02) // cel shading keeps the hue
		dark := 1 - 0.8*e[i]
		for c := range 3 {
			p.c[c][i] = min(p.c[c][i]*k, 1) * dark
		}
	}
}

func animation3D(p planes, px func(float64) int) {
	p.smoothAll(px(8), 0.004, 1)
	p.saturate(1.35)
	bloom := make([]float32, len(p.c[0]))
	for i := range bloom {
		l := 0.299*p.c[0][i] + 0.587*p.c[1][i] + 0.114*p.c[2][i]
		bloom[i] = smoothstep(0.6, 1, l)
	}
	glow := [3][]float32{}
	each(func(c int) {
		g := make([]float32, len(bloom))
		for i := range g {
			g[i] = p.c[c][i] * bloom[i]
		}
		for range 2 {
			boxBlur(g, p.w, p.h, px(12))
		}
		glow[c] = g
	})
	for i := range p.c[0] {
		for c := range 3 {
			v := p.c[c][i]
			v = v + 0.12*v*(1-v)*(2*v-1)*2 // a gentle S-curve for rounded shading
			p.c[c][i] = min(v+0.3*glow[c][i]*(1-v), 1)
		}
	}
}

func clay(p planes, px func(float64) int) {
	p.smoothAll(px(10), 0.005, 2)
	p.saturate(0.72)
	// A relief light from the upper left on the blurred luma gives the
	// forms a rounded, modelled look; it is kept weak so that broad
	// gradients such as a sky do not turn into bumps.
	l := p.luma()
	boxBlur(l, p.w, p.h, px(3))
	d := px(3)
	for y := range p.h {
		for x := range p.w {
			i := y*p.w + x
			gx := l[y*p.w+min(x+d, p.w-1)] - l[y*p.w+max(x-d, 0)]
			gy := l[min(y+d, p.h-1)*p.w+x] - l[max(y-d, 0)*p.w+x]
			n := -(gx + gy) * 2.5 // facing the light
			shade := 1 + 0.25*max(min(n, 0.6), -0.6)
			spec := 0.1 * smoothstep(0.08, 0.35, n)
			for c, tint := range [3]float32{1.04, 1.0, 0.92} {
				v := p.c[c][i]*shade*tint*0.96 + 0.03
				p.c[c][i] = min(max(v+spec, 0), 1)
			}
		}
	}
}

func comic(p planes, px func(float64) int) {
	p.smoothAll(px(4), 0.006, 2)
	e := p.ink(0.04, 0.1, 1)
	p.saturate(1.4)
	cell := float64(px(7))
	const levels = 6
	lb := p.luma() // the tone bands follow a blurred luma, as in anime
	for range 2 {
		boxBlur(lb, p.w, p.h, px(2))
	}
	for y := range p.h {
		for x := range p.w {
			i := y*p.w + x
			l := lb[i]
			// Halftone: a dot grid at 45°, each dot as large as the
			// shadow is deep; it is fixed to the picture like print.
			u := (float64(x) + float64(y)) / (cell * math.Sqrt2)
			v := (float64(x) - float64(y)) / (cell * math.Sqrt2)
			du, dv := u-math.Floor(u)-0.5, v-math.Floor(v)-0.5
			dist := math.Hypot(du, dv)
			depth := float64(smoothstep(0.5, 0.1, l))
			radius := 0.5 * math.Sqrt(depth)
			dot := float32(min(max((radius-dist)*cell+0.5, 0), 1))
			ink := max(e[i], 0.75*dot)
			// Flat tones: the luma in three bands, the colour kept and
			// then rounded to a small palette.
			q := float32(math.Floor(float64(l)*3)+0.75) / 3
			k := min(q, 1) / (l + 0.01)
			for c := range 3 {
				v := float32(math.Round(float64(min(p.c[c][i]*k, 1))*(levels-1))) / (levels - 1)
				p.c[c][i] = v * (1 - 0.9*ink)
			}
		}
	}
}

// cyberpunkMap is the gradient the picture's luma is mapped through:
// blue-black shadows, teal, magenta, pale pink highlights.
var cyberpunkMap = [][4]float32{
	{0, 0.02, 0.03, 0.09},
	{0.3, 0.0, 0.42, 0.52},
	{0.62, 0.85, 0.12, 0.68},
	{1, 1, 0.88, 0.98},
}

func cyberpunk(p planes, px func(float64) int) {
	l := p.luma()
	glow := [3][]float32{}
	for c := range 3 {
		glow[c] = make([]float32, len(l))
	}
	for i, v := range l {
		k := 1
		for k < len(cyberpunkMap)-1 && v > cyberpunkMap[k][0] {
			k++
		}
		a, b := cyberpunkMap[k-1], cyberpunkMap[k]
		t := min(max((v-a[0])/(b[0]-a[0]), 0), 1)
		for c := range 3 {
			tone := a[c+1] + (b[c+1]-a[c+1])*t
			p.c[c][i] = min(max(0.72*tone+0.28*p.c[c][i], 0), 1)
			glow[c][i] = p.c[c][i] * smoothstep(0.5, 0.85, v)
		}
	}
	each(func(c int) {
		for range 2 {
			boxBlur(glow[c], p.w, p.h, px(10))
		}
	})
	// Red and blue are fringed apart away from the centre, as a cheap lens
	// does; the shift is fixed to the picture.
	shift := float32(px(1.6))
	out := [2][]float32{make([]float32, len(l)), make([]float32, len(l))}
	for y := range p.h {
		for x := range p.w {
			d := (float32(x) - float32(p.w)/2) / (float32(p.w) / 2) * shift
			for k, c := range [2]int{0, 2} {
				sx := float32(x) - d
				if c == 2 {
					sx = float32(x) + d
				}
				sx = min(max(sx, 0), float32(p.w-1))
				x0 := int(sx)
				x1 := min(x0+1, p.w-1)
				f := sx - float32(x0)
				out[k][y*p.w+x] = p.c[c][y*p.w+x0]*(1-f) + p.c[c][y*p.w+x1]*f
			}
		}
	}
	copy(p.c[0], out[0])
	copy(p.c[2], out[1])
	for i := range l {
		for c := range 3 {
			v := p.c[c][i]
			p.c[c][i] = min(v+0.6*glow[c][i]*(1-v), 1)
		}
	}
}
