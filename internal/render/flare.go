package render

import (
	"image"
	"math"

	"stillmotion/internal/splitmix"
)

// flare is a lens flare: a glow and a short streak at the picture's
// brightest light, and ghosts of the lens (discs, rings, hexagons of the
// aperture) along the line from the light through the frame's centre.
// The light belongs to the scene and follows it as the camera moves; the
// ghosts follow the light. All of it is added light, with a subtle flicker.
type flare struct {
	fw, fh int
	u, v   float64    // the light, in crop coordinates
	col    [3]float64 // its colour, 0..1
	power  float64    // 1 for a bright light, less for a seeded corner
	ghosts []ghost
	ph     [2]float64
	glow   []float64 // the glow's falloff by squared distance, glowSteps entries
}

// ghost is one reflection of the light in the lens: at position at along
// the line from the light (0) through the centre (1), of radius r (a
// fraction of the frame's height).
type ghost struct {
	at, r, a float64
	shape    int // disc, ring or hexagon
	col      [3]float64
}

const (
	disc = iota
	ringShape
	hexagon
)

// glowSteps is the resolution of the glow's falloff table.
const glowSteps = 1024

// glowRadius is how far the glow reaches, in frame heights.
const glowRadius = 0.32

func newFlare(t *texture, seed int64, fw, fh int) *flare {
	x := splitmix.Mix(uint64(seed) ^ 0xf1a2e)
	next := func() float64 {
		x = splitmix.Mix(x)
		return float64(x>>11) / (1 << 53)
	}
	fl := &flare{fw: fw, fh: fh, power: 1}
	// The light: the brightest blurred point of the crop, if it is bright
	// and stands out from the picture; else an upper corner, as a sun
	// just out of frame.
	k := max(1, int(math.Round(t.sy/180)))
	small, sw, sh := reduce(&image.RGBA{Pix: t.pix, Stride: t.stride, Rect: image.Rect(0, 0, t.w, t.h)}, k)
	lum := make([]float32, sw*sh)
	var mean float32
	for i := range lum {
		lum[i] = (0.299*small[3*i] + 0.587*small[3*i+1] + 0.114*small[3*i+2]) / 255
		mean += lum[i]
	}
	mean /= float32(len(lum))
	boxBlur(lum, sw, sh, 1)
	bx, by, best := 0, 0, float32(-1)
	for y := range sh {
		for x := range sw {
			// Only within the crop, where the frames can see it.
			u := ((float64(x)+0.5)*float64(k) - t.ox) / t.sx
			v := ((float64(y)+0.5)*float64(k) - t.oy) / t.sy
			if u < 0 || u > 1 || v < 0 || v > 1 {
				continue
			}
			if l := lum[y*sw+x]; l > best {
				best, bx, by = l, x, y
			}
		}
	}
	if best >= 0.85 && best-mean >= 0.25 {
		fl.u = ((float64(bx)+0.5)*float64(k) - t.ox) / t.sx
		fl.v = ((float64(by)+0.5)*float64(k) - t.oy) / t.sy
		// The light's colour: the source's, towards white.
		i := 3 * (by*sw + bx)
		for c := range 3 {
			fl.col[c] = 0.5 + 0.5*float64(small[i+c])/255
		}
	} else {
		fl.u, fl.v, fl.power = 0.1, 0.08, 0.8
		if next() < 0.5 {
			fl.u = 0.9
		}
		fl.col = [3]float64{1, 0.92, 0.78} // a warm sun
	}
	tints := [][3]float64{{0.55, 0.75, 1}, {0.6, 1, 0.7}, {1, 0.7, 0.45}, {0.85, 0.6, 1}, {1, 0.9, 0.6}}
	for n, at := range []float64{0.45, 0.8, 1.2, 1.45, 1.75, 2.05} {
		g := ghost{at: at + 0.1*(next()-0.5), r: 0.015 + 0.06*next(), a: 0.05 + 0.07*next()}
		g.shape = []int{disc, hexagon, ringShape, disc, hexagon, ringShape}[n]
		if g.shape == ringShape {
			g.r *= 1.8
		}
		g.col = tints[int(next()*float64(len(tints)))]
		fl.ghosts = append(fl.ghosts, g)
	}
	fl.ph = [2]float64{2 * math.Pi * next(), 2 * math.Pi * next()}
	// A hot core and a wide halo.
	fl.glow = make([]float64, glowSteps)
	for i := range fl.glow {
		d := math.Sqrt(float64(i)/glowSteps) * glowRadius // in frame heights
		fl.glow[i] = (0.55*math.Exp(-sq(d/0.025)) + 0.22/(1+sq(d/0.06))) * (1 - smooth01(d/glowRadius))
	}
	return fl
}

func sq(x float64) float64 { return x * x }

// draw adds the flare as on frame f to the w x h top-left of dst: the
// light seen through the view c, and its strength scaled by fade.
func (fl *flare) draw(dst *image.RGBA, w, h int, f, fade float64, c view) {
	fh := float64(fl.fh)
	lx, ly := c.frame(fl.u, fl.v, fl.fw, fl.fh)
	cx, cy := float64(fl.fw)/2, fh/2
	// The flare dims as its light leaves the frame.
	out := max(-lx, lx-float64(fl.fw), -ly, ly-fh, 0) / fh
	a := fade * fl.power * (1 - smooth01(out/0.25)) *
		(1 + 0.05*math.Sin(f*0.31+fl.ph[0]) + 0.04*math.Sin(f*0.87+fl.ph[1]))
	if a <= 0 {
		return
	}
	// The glow, from a table by squared distance.
	var col [3]float64
	for ch := range 3 {
		col[ch] = 255 * a * fl.col[ch]
	}
	fl.drawGlow(dst, w, h, lx, ly, col)
	// A horizontal streak, as a lens's coating spreads a light: its
	// profile is a product of one across and one along, so the
	// exponential is taken once a row.
	sh, half := 0.004*fh, 0.5*float64(fl.fw)
	for py := max(int(ly-3*sh), 0); py < min(int(ly+3*sh)+1, h); py++ {
		k := 0.18 * math.Exp(-sq((float64(py)+0.5-ly)/sh))
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+py):][:4*w]
		for px := max(int(lx-half), 0); px < min(int(lx+half)+1, w); px++ {
			a := k * (1 - smooth01(math.Abs(float64(px)+0.5-lx)/half))
			q := row[4*px : 4*px+3 : 4*px+3]
			for c := range 3 {
				q[c] = uint8(min(float64(q[c])+col[c]*a+0.5, 255))
			}
		}
	}
	for _, g := range fl.ghosts {
		gx, gy := lx+(cx-lx)*g.at, ly+(cy-ly)*g.at
		r := g.r * fh
		var gc [3]float64
		for ch := range 3 {
			gc[ch] = 255 * a * g.a * g.col[ch] * fl.col[ch]
		}
		var shape func(dx, dy float64) float64
		switch g.shape {
		case disc:
			shape = func(dx, dy float64) float64 {
				d := math.Sqrt(dx*dx+dy*dy) / r
				return (0.6 + 0.4*d) * (1 - smooth01((d-0.9)/0.1))
			}
		case ringShape:
			shape = func(dx, dy float64) float64 {
				d := math.Abs(math.Sqrt(dx*dx+dy*dy)/r - 0.88)
				return 1 - smooth01(d/0.08)
			}
		case hexagon:
			shape = func(dx, dy float64) float64 {
				// The distance to a hexagon's edge, a flat side up.
				ax, ay := math.Abs(dx), math.Abs(dy)
				d := max(ay, ax*0.8660254+ay*0.5) / r
				return 0.8 * (1 - smooth01((d-0.85)/0.1))
			}
		}
		add(dst, w, h, gx, gy, r, r, shape, gc)
	}
}

// drawGlow adds the glow of colour col around (x, y) to the w x h
// top-left of dst. It is the largest part of the flare, so it adds whole
// levels from a table by squared distance.
func (fl *flare) drawGlow(dst *image.RGBA, w, h int, x, y float64, col [3]float64) {
	var tab [3][glowSteps]int32
	for i, g := range fl.glow {
		for c := range 3 {
			tab[c][i] = int32(col[c]*g + 0.5)
		}
	}
	r := glowRadius * float64(fl.fh)
	scale := glowSteps / (r * r)
	x0, x1 := max(int(math.Floor(x-r)), 0), min(int(math.Ceil(x+r))+1, w)
	y0, y1 := max(int(math.Floor(y-r)), 0), min(int(math.Ceil(y+r))+1, h)
	for py := y0; py < y1; py++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+py):][:4*w]
		dy := float64(py) + 0.5 - y
		for px := x0; px < x1; px++ {
			dx := float64(px) + 0.5 - x
			i := int((dx*dx + dy*dy) * scale)
			if i >= glowSteps {
				continue
			}
			q := row[4*px : 4*px+3 : 4*px+3]
			q[0] = uint8(min(int32(q[0])+tab[0][i], 255))
			q[1] = uint8(min(int32(q[1])+tab[1][i], 255))
			q[2] = uint8(min(int32(q[2])+tab[2][i], 255))
		}
	}
}

// add adds col times shape(dx, dy), for offsets from (x, y) of at most
// rx across and ry down, to the w x h top-left of dst, saturating.
func add(dst *image.RGBA, w, h int, x, y, rx, ry float64, shape func(dx, dy float64) float64, col [3]float64) {
	x0, x1 := max(int(math.Floor(x-rx)), 0), min(int(math.Ceil(x+rx))+1, w)
	y0, y1 := max(int(math.Floor(y-ry)), 0), min(int(math.Ceil(y+ry))+1, h)
	for py := y0; py < y1; py++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+py):][:4*w]
		dy := float64(py) + 0.5 - y
		for px := x0; px < x1; px++ {
			k := shape(float64(px)+0.5-x, dy)
			if k <= 0 {
				continue
			}
			q := row[4*px : 4*px+3 : 4*px+3]
			for c := range 3 {
				q[c] = uint8(min(float64(q[c])+col[c]*k+0.5, 255))
			}
		}
	}
}
