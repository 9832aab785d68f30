package render

import "math"

// The mattes are worked out on a reduced copy of the texture (see grid)
// and only the last step, where the guided filter follows the picture's
// edges, runs at full resolution: a push in needs a matte that is smooth
// where the picture is, not one that is exact texel by texel.

// gridSide is about the short side of the reduced copy.
const gridSide = 120

// grid is a reduced copy of a texture: the mean colour of each k x k block
// of texels (blocks at the right and bottom edges may be smaller), channels
// in [0, 1], and how much the grey level varies inside the block, which
// tells fine texture from a smooth area at any resolution.
type grid struct {
	c    []float32 // 3 per cell
	dev  []float32 // standard deviation of the grey level in the block
	w, h int
	k    int
}

func newGrid(t *texture) *grid {
	k := max(1, int(math.Round(float64(min(t.w, t.h))/gridSide)))
	w, h := (t.w+k-1)/k, (t.h+k-1)/k
	g := &grid{c: make([]float32, 3*w*h), dev: make([]float32, w*h), w: w, h: h, k: k}
	n := make([]float32, w*h)
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		cells := y / k * w
		for x := range t.w {
			i := cells + x/k
			r, gr, b := float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			g.c[3*i] += r
			g.c[3*i+1] += gr
			g.c[3*i+2] += b
			l := 0.299*r + 0.587*gr + 0.114*b
			g.dev[i] += l * l
			n[i]++
		}
	}
	for i := range n {
		s := 1 / (255 * n[i])
		g.c[3*i] *= s
		g.c[3*i+1] *= s
		g.c[3*i+2] *= s
		l := 0.299*g.c[3*i] + 0.587*g.c[3*i+1] + 0.114*g.c[3*i+2]
		g.dev[i] = float32(math.Sqrt(float64(max(g.dev[i]*s/255-l*l, 0))))
	}
	return g
}

// luma returns the grid's grey levels.
func (g *grid) luma() []float32 {
	l := make([]float32, g.w*g.h)
	for i := range l {
		l[i] = 0.299*g.c[3*i] + 0.587*g.c[3*i+1] + 0.114*g.c[3*i+2]
	}
	return l
}

// boxMean returns the mean of p over the (2r+1)² window around each cell,
// the window cut at the edges.
func boxMean(p []float32, w, h, r int) []float32 {
	tmp := make([]float32, len(p))
	out := make([]float32, len(p))
	for y := range h {
		row := p[y*w:][:w]
		var s float32
		for x := 0; x < min(r, w); x++ {
			s += row[x]
		}
		for x := range w {
			if x+r < w {
				s += row[x+r]
			}
			if x-r-1 >= 0 {
				s -= row[x-r-1]
			}
			tmp[y*w+x] = s / float32(min(x+r, w-1)-max(x-r, 0)+1)
		}
	}
	for x := range w {
		var s float32
		for y := 0; y < min(r, h); y++ {
			s += tmp[y*w+x]
		}
		for y := range h {
			if y+r < h {
				s += tmp[(y+r)*w+x]
			}
			if y-r-1 >= 0 {
				s -= tmp[(y-r-1)*w+x]
			}
			out[y*w+x] = s / float32(min(y+r, h-1)-max(y-r, 0)+1)
		}
	}
	return out
}

// bandRadius is how far, in cells, a coarse matte's transition may lie
// from the object's outline for localize to move it there: about 5% of
// the short side.
const bandRadius = 6

// localize moves the coarse matte p (one value per cell of g) onto the
// colours of the picture: near its transition each cell is given the
// probability that its colour belongs to the near layer rather than the
// far one, each modelled by a Gaussian of the colours nearby (within
// 2*bandRadius cells) where the coarse matte is sure. The guided filter
// alone only moves a transition onto an edge within its window, and
// blurs it where the window sees no edge; this first step lets a rough
// guess (two ellipses for a person) land on the outline.
func localize(g *grid, p []float32) []float32 {
	w, h, n := g.w, g.h, g.w*g.h
	R := 2 * bandRadius
	wf, wb := make([]float32, n), make([]float32, n)
	for i, v := range p {
		wf[i] = smoothstep(0.7, 0.95, v)
		wb[i] = 1 - smoothstep(0.05, 0.3, v)
	}
	// Local weighted means of colour and of its square, per model.
	type model struct {
		m [3][]float32
		v []float32
	}
	fit := func(wt []float32) model {
		// The picture's own statistics are a prior worth a twentieth
		// of a window, so that where the layer has few sure cells
		// nearby (a thin mast in the sky) its model is the layer's
		// overall colours rather than noise.
		const prior = 0.05
		var gw, gm, g2 float64
		var gc [3]float64
		for i := range n {
			gw += float64(wt[i])
			for c := range 3 {
				v := float64(g.c[3*i+c])
				gc[c] += float64(wt[i]) * v
				g2 += float64(wt[i]) * v * v
			}
		}
		gw = max(gw, 1e-6)
		for c := range 3 {
			gc[c] /= gw
			gm += gc[c] * gc[c]
		}
		g2 /= gw
		sw := boxMean(wt, w, h, R)
		var md model
		sq := make([]float32, n)
		for c := range 3 {
			x := make([]float32, n)
			for i := range n {
				x[i] = wt[i] * g.c[3*i+c]
				sq[i] += wt[i] * g.c[3*i+c] * g.c[3*i+c]
			}
			md.m[c] = boxMean(x, w, h, R)
		}
		md.v = boxMean(sq, w, h, R)
		for i := range n {
			k := 1 / (sw[i] + prior)
			var e float32
			for c := range 3 {
				md.m[c][i] = (md.m[c][i] + prior*float32(gc[c])) * k
				e += md.m[c][i] * md.m[c][i]
			}
			// The mean variance per channel, with a floor of about
			// 5 levels so that a flat region is not infinitely sure.
			md.v[i] = max((md.v[i]+prior*float32(g2))*k-e, 0)/3 + 0.02*0.02
		}
		return md
	}
	f, b := fit(wf), fit(wb)
	// The band: cells within bandRadius of the coarse transition.
	near := boxMean(p, w, h, bandRadius)
	out := make([]float32, n)
	for i := range n {
		if near[i] < 0.01 || near[i] > 0.99 {
			out[i] = p[i]
			continue
		}
		var df, db float32
		for c := range 3 {
			x := g.c[3*i+c]
			df += (x - f.m[c][i]) * (x - f.m[c][i])
			db += (x - b.m[c][i]) * (x - b.m[c][i])
		}
		// Log-likelihood ratio of isotropic Gaussians in three channels.
		l := float64(db/(2*b.v[i])-df/(2*f.v[i])) + 1.5*math.Log(float64(b.v[i]/f.v[i]))
		q := float32(1 / (1 + math.Exp(-min(max(l, -30), 30))))
		// The coarse matte stays a prior: its sure parts keep their
		// layer unless the colour says otherwise clearly.
		out[i] = q
	}
	return out
}

// guideEps is the guided filter's regulariser, in squared grey levels of
// [0, 1]: edges of a contrast well above its root (0.05) steer the matte,
// fainter texture does not.
const guideEps = 0.0025

// refine writes into t's alpha the coarse matte p (one value per cell of
// g), first moved onto the picture's colours (see localize), then refined
// with the fast guided filter (He and Sun, 2015): within each
// window of radius r cells the matte is fitted as a linear function of the
// grey level, and the fits, smoothed and enlarged to full resolution, are
// applied to the texels' own grey levels, so that the matte's transition
// moves onto the picture's edges nearby. The result is then softened over
// a few texels, so that the layers never meet at a hard cut.
func refine(t *texture, g *grid, p []float32, r int) {
	p = localize(g, p)
	w, h := g.w, g.h
	I := g.luma()
	n := w * h
	ii, ip := make([]float32, n), make([]float32, n)
	for i := range n {
		ii[i] = I[i] * I[i]
		ip[i] = I[i] * p[i]
	}
	mI, mp := boxMean(I, w, h, r), boxMean(p, w, h, r)
	mII, mIp := boxMean(ii, w, h, r), boxMean(ip, w, h, r)
	a, b := make([]float32, n), make([]float32, n)
	for i := range n {
		a[i] = (mIp[i] - mI[i]*mp[i]) / (mII[i] - mI[i]*mI[i] + guideEps)
		b[i] = mp[i] - a[i]*mI[i]
	}
	a, b = boxMean(a, w, h, r), boxMean(b, w, h, r)

	// At full resolution: q = A I + B with A and B bilinear between the
	// cells' centres. The fit can overshoot; a gentle curve pulls the
	// transition together, and the blur below widens it to a few texels.
	q := make([]uint8, t.w*t.h)
	k := float32(g.k)
	cols := make([]int, t.w)
	fxs := make([]float32, t.w)
	for x := range t.w {
		u := min(max((float32(x)+0.5)/k-0.5, 0), float32(w-1))
		cols[x] = min(int(u), max(w-2, 0))
		fxs[x] = u - float32(cols[x])
	}
	ra, rb := make([]float32, w+1), make([]float32, w+1)
	for y := range t.h {
		v := min(max((float32(y)+0.5)/k-0.5, 0), float32(h-1))
		j := min(int(v), max(h-2, 0))
		fy := v - float32(j)
		j1 := min(j+1, h-1)
		for i := range w {
			ra[i] = a[j*w+i] + (a[j1*w+i]-a[j*w+i])*fy
			rb[i] = b[j*w+i] + (b[j1*w+i]-b[j*w+i])*fy
		}
		ra[w], rb[w] = ra[w-1], rb[w-1]
		row := t.pix[y*t.stride:][:4*t.w]
		out := q[y*t.w:][:t.w]
		for x, i := range cols {
			fx := fxs[x]
			l := (0.299*float32(row[4*x]) + 0.587*float32(row[4*x+1]) + 0.114*float32(row[4*x+2])) / 255
			out[x] = unit8(smoothstep(0.1, 0.9, (ra[i]+(ra[i+1]-ra[i])*fx)*l+rb[i]+(rb[i+1]-rb[i])*fx))
		}
	}
	// Soft edges: two passes of a 5-texel box, a transition about five
	// texels wide on a sharp edge.
	for range 2 {
		box5(q, t.w, t.h)
	}
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		for x, v := range q[y*t.w:][:t.w] {
			row[4*x+3] = v
		}
	}
}

// box5 filters the w x h plane p in place with a 5 x 5 box, repeating the
// edge values.
func box5(p []uint8, w, h int) { box(p, w, h, 2) }

// box filters the w x h plane p in place with a (2r+1)² box, repeating
// the edge values.
func box(p []uint8, w, h, r int) {
	for i, v := range widen(p, w, h, r) {
		p[i] = uint8((uint32(v) + 128) / 257)
	}
}

// widen returns the w x h plane a filtered with a (2r+1)² box, repeating
// the edge values, scaled to 16 bits.
func widen(a []uint8, w, h, r int) []uint16 {
	tmp := make([]uint32, w*h)
	for y := range h {
		row := a[y*w:][:w]
		out := tmp[y*w:][:w]
		at := func(x int) uint32 { return uint32(row[min(max(x, 0), w-1)]) }
		var s uint32
		for x := -r; x <= r; x++ {
			s += at(x)
		}
		for x := range w {
			out[x] = s
			s += at(x+r+1) - at(x-r)
		}
	}
	col := make([]uint64, w)
	rowAt := func(y int) []uint32 { return tmp[min(max(y, 0), h-1)*w:][:w] }
	for d := -r; d <= r; d++ {
		for x, v := range rowAt(d) {
			col[x] += uint64(v)
		}
	}
	n := uint64((2*r + 1) * (2*r + 1) * 255)
	m := make([]uint16, w*h)
	for y := range h {
		out := m[y*w:][:w]
		for x, v := range col {
			out[x] = uint16((v*65535 + n/2) / n)
		}
		add, sub := rowAt(y+r+1), rowAt(y-r)
		for x := range col {
			col[x] += uint64(add[x]) - uint64(sub[x])
		}
	}
	return m
}
