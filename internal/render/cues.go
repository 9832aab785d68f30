package render

import "math"

// Without a face the near layer is found from cues on the reduced copy of
// the picture (see grid). A sky, a smooth region that is bright or blue
// and hangs from the top edge, is the far layer and whatever stands below
// it the near one. Otherwise the near layer is a salient subject: what
// cannot be reached from the border without crossing a change of colour
// (the minimum barrier distance) and whose colour is rare along the
// border. When neither is clear there is one layer: a wrong matte would
// tear the picture where a single layer only zooms. The sky is tried
// first: a subject against the sky is part of what stands before it, and
// the sky's edge is the more certain cut.

// cueMatte returns a coarse matte of the near layer, one value per cell of
// g, and what it is; NoDepth and nil when the cues are not sure.
func cueMatte(g *grid) ([]float32, Depth) {
	c := make([]float32, len(g.c))
	copy(c, g.c)
	// A little blur, so that noise and fine texture do not raise barriers.
	blur121(c, g.w, g.h)
	if m := skyMatte(g, c); m != nil {
		return m, SkyDepth
	}
	if m := subjectMatte(g, c); m != nil {
		return m, SubjectDepth
	}
	return nil, NoDepth
}

// Sky thresholds. A cell is sky-like when it is smooth (its texels' grey
// level varies by less than skyDev, and it differs from its neighbours by
// less than skyStep) and either blue (blue above red by skyBlue and not
// below green) or bright (grey above skyBright). The sky is the sky-like
// cells connected to the top row; it counts only when it covers at least
// skyTop of the top row and between skyMin and skyMax of the picture,
// mostly in its upper half, so that land (at least 1-skyMax) is left to
// stand before it, and at most skyFoot of the bottom row: a backdrop that
// surrounds a subject (a product on white) is not a sky.
const (
	skyDev    = 0.025
	skyStep   = 0.03
	skyBlue   = 0.04
	skyBright = 0.62
	skyTop    = 0.6
	skyMin    = 0.12
	skyMax    = 0.8
	skyFoot   = 0.5
)

// skyMatte returns the coarse matte of the land before the sky (1 on the
// land, 0 on the sky), or nil when there is no sky; c is the grid's
// colours, blurred.
func skyMatte(g *grid, c []float32) []float32 {
	w, h := g.w, g.h
	like := func(i int) bool {
		r, gr, b := c[3*i], c[3*i+1], c[3*i+2]
		l := 0.299*r + 0.587*gr + 0.114*b
		return g.dev[i] < skyDev && (b > r+skyBlue && b >= gr-0.02 || l > skyBright)
	}
	step := func(i, j int) float32 {
		return max(abs32(c[3*i]-c[3*j]), abs32(c[3*i+1]-c[3*j+1]), abs32(c[3*i+2]-c[3*j+2]))
	}
	sky := make([]bool, w*h)
	var queue []int
	for x := range w {
		if like(x) {
			sky[x] = true
			queue = append(queue, x)
		}
	}
	if float64(len(queue)) < skyTop*float64(w) {
		return nil
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		x := i % w
		for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
			if j < 0 || j >= w*h || (j == i-1 && x == 0) || (j == i+1 && x == w-1) || sky[j] {
				continue
			}
			if like(j) && step(i, j) < skyStep {
				sky[j] = true
				queue = append(queue, j)
			}
		}
	}
	// Small specks inside the sky (stars, a bird, a wisp of cloud) are
	// sky: only land connected to the other edges, or large, comes
	// forward.
	land := make([]bool, len(sky))
	for i := range sky {
		land[i] = !sky[i]
	}
	for _, comp := range components(land, w, h) {
		if !touchesSidesOrBottom(comp, w, h) && len(comp) < w*h/200 {
			for _, i := range comp {
				sky[i] = true
			}
		}
	}
	foot := 0
	for _, s := range sky[(h-1)*w:] {
		if s {
			foot++
		}
	}
	if float64(foot) > skyFoot*float64(w) {
		return nil
	}
	n, sy := 0, 0
	for i, s := range sky {
		if s {
			n++
			sy += i / w
		}
	}
	f := float64(n) / float64(w*h)
	if f < skyMin || f > skyMax || float64(sy)/float64(n) > 0.5*float64(h) {
		return nil
	}
	m := make([]float32, w*h)
	for i, s := range sky {
		if !s {
			m[i] = 1
		}
	}
	return soften(m, w, h)
}

// Subject thresholds. A cell's saliency is the larger of two cues mapped
// to [0, 1]: its colour's distance from the border's colours (Mahalanobis,
// from salDist0 to salDist1 standard deviations) and its minimum barrier
// distance to the border (from salBar0 to salBar1, summed over the three
// colour channels). The subject is the cells above a half. It counts only
// when it covers between subjectMin and subjectMax of the picture, most of
// it in one piece (subjectOne), touches at most subjectEdge of the top,
// left and right edges (the bottom may be the ground it stands on), and
// the saliency inside and outside it are clearly apart (mean above
// salIn, mean below salOut): noise, texture and uniform pictures fail
// one of these.
const (
	salDist0, salDist1 = 2.5, 6
	salBar0, salBar1   = 0.12, 0.4
	subjectMin         = 0.03
	subjectMax         = 0.5
	subjectOne         = 0.7
	subjectEdge        = 0.15
	salIn, salOut      = 0.7, 0.12
)

// subjectMatte returns the coarse matte of a salient subject, or nil when
// there is none; c is the grid's colours, blurred.
func subjectMatte(g *grid, c []float32) []float32 {
	sal := saliency(g, c)
	w, h := g.w, g.h
	fg := make([]bool, w*h)
	n := 0
	var in, out float64
	for i, s := range sal {
		if s > 0.5 {
			fg[i] = true
			n++
			in += float64(s)
		} else {
			out += float64(s)
		}
	}
	f := float64(n) / float64(w*h)
	if f < subjectMin || f > subjectMax {
		return nil
	}
	if in/float64(n) < salIn || out/float64(w*h-n) > salOut {
		return nil
	}
	edge := 0
	for x := range w {
		if fg[x] {
			edge++
		}
	}
	for y := range h {
		if fg[y*w] {
			edge++
		}
		if fg[y*w+w-1] {
			edge++
		}
	}
	if float64(edge) > subjectEdge*float64(w+2*h) {
		return nil
	}
	comps := components(fg, w, h)
	big := 0
	for _, comp := range comps {
		big = max(big, len(comp))
	}
	if float64(big) < subjectOne*float64(n) {
		return nil
	}
	// Specks apart from the subject stay behind.
	m := make([]float32, w*h)
	for _, comp := range comps {
		if len(comp) >= big/10 {
			for _, i := range comp {
				m[i] = 1
			}
		}
	}
	return soften(m, w, h)
}

// saliency returns each cell's saliency in [0, 1] (see subjectMatte).
func saliency(g *grid, c []float32) []float32 {
	w, h := g.w, g.h
	// Opponent channels: grey, red-green, yellow-blue.
	planes := [3][]float32{make([]float32, w*h), make([]float32, w*h), make([]float32, w*h)}
	for i := range w * h {
		r, gr, b := c[3*i], c[3*i+1], c[3*i+2]
		planes[0][i] = (r + gr + b) / 3
		planes[1][i] = r - gr
		planes[2][i] = (r+gr)/2 - b
	}
	bar := make([]float32, w*h)
	for _, p := range planes {
		for i, d := range barrier(p, w, h) {
			bar[i] += d
		}
	}
	dist := borderDistance(planes, w, h)
	s := make([]float32, w*h)
	for i := range s {
		// The ground prior: lower is nearer, a little.
		y := float32(i/w) / float32(max(h-1, 1))
		s[i] = max(smoothstep(salDist0, salDist1, dist[i]), smoothstep(salBar0, salBar1, bar[i])) * (0.95 + 0.1*y)
	}
	return s
}

// barrier returns the minimum barrier distance of each cell to the border
// over the plane v: the least, over paths to the border, of the range of v
// along the path, approximated by three raster scans (Zhang et al., 2015).
func barrier(v []float32, w, h int) []float32 {
	d := make([]float32, w*h)
	hi := make([]float32, w*h)
	lo := make([]float32, w*h)
	copy(hi, v)
	copy(lo, v)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			d[y*w+x] = float32(math.Inf(1))
		}
	}
	relax := func(i, j int) {
		u, l := max(hi[j], v[i]), min(lo[j], v[i])
		if u-l < d[i] {
			d[i], hi[i], lo[i] = u-l, u, l
		}
	}
	for pass := range 3 {
		if pass%2 == 0 {
			for y := 1; y < h-1; y++ {
				for x := 1; x < w-1; x++ {
					i := y*w + x
					relax(i, i-1)
					relax(i, i-w)
				}
			}
		} else {
			for y := h - 2; y >= 1; y-- {
				for x := w - 2; x >= 1; x-- {
					i := y*w + x
					relax(i, i+1)
					relax(i, i+w)
				}
			}
		}
	}
	return d
}

// borderDistance returns each cell's colour distance from the border's:
// the Mahalanobis distance from the colours of a band along each edge,
// the mean of the three smallest, so that a subject reaching one edge does
// not make that edge's colours background.
func borderDistance(planes [3][]float32, w, h int) []float32 {
	b := max(1, min(w, h)/20)
	sides := [4]func(x, y int) bool{
		func(x, y int) bool { return y < b },
		func(x, y int) bool { return y >= h-b },
		func(x, y int) bool { return x < b },
		func(x, y int) bool { return x >= w-b },
	}
	var d [4][]float32
	for k, in := range sides {
		var mu [3]float64
		var cov [3][3]float64
		n := 0.0
		for y := range h {
			for x := range w {
				if !in(x, y) {
					continue
				}
				i := y*w + x
				for a := range 3 {
					mu[a] += float64(planes[a][i])
				}
				n++
			}
		}
		for a := range 3 {
			mu[a] /= n
		}
		for y := range h {
			for x := range w {
				if !in(x, y) {
					continue
				}
				i := y*w + x
				for a := range 3 {
					for c := range 3 {
						cov[a][c] += (float64(planes[a][i]) - mu[a]) * (float64(planes[c][i]) - mu[c]) / n
					}
				}
			}
		}
		// The floor keeps a uniform border from making every small
		// difference a large distance: 0.03 is about 8 levels.
		for a := range 3 {
			cov[a][a] += 0.03 * 0.03
		}
		inv := invert3(cov)
		d[k] = make([]float32, w*h)
		for i := range w * h {
			var v [3]float64
			for a := range 3 {
				v[a] = float64(planes[a][i]) - mu[a]
			}
			var q float64
			for a := range 3 {
				for c := range 3 {
					q += v[a] * inv[a][c] * v[c]
				}
			}
			d[k][i] = float32(math.Sqrt(max(q, 0)))
		}
	}
	out := make([]float32, w*h)
	for i := range out {
		s, m := float32(0), float32(0)
		for k := range 4 {
			s += d[k][i]
			m = max(m, d[k][i])
		}
		out[i] = (s - m) / 3
	}
	return out
}

// invert3 returns the inverse of a symmetric positive definite 3x3 matrix.
func invert3(m [3][3]float64) [3][3]float64 {
	var r [3][3]float64
	r[0][0] = m[1][1]*m[2][2] - m[1][2]*m[2][1]
	r[0][1] = m[0][2]*m[2][1] - m[0][1]*m[2][2]
	r[0][2] = m[0][1]*m[1][2] - m[0][2]*m[1][1]
	r[1][0] = m[1][2]*m[2][0] - m[1][0]*m[2][2]
	r[1][1] = m[0][0]*m[2][2] - m[0][2]*m[2][0]
	r[1][2] = m[0][2]*m[1][0] - m[0][0]*m[1][2]
	r[2][0] = m[1][0]*m[2][1] - m[1][1]*m[2][0]
	r[2][1] = m[0][1]*m[2][0] - m[0][0]*m[2][1]
	r[2][2] = m[0][0]*m[1][1] - m[0][1]*m[1][0]
	det := m[0][0]*r[0][0] + m[0][1]*r[1][0] + m[0][2]*r[2][0]
	for i := range 3 {
		for j := range 3 {
			r[i][j] /= det
		}
	}
	return r
}

// components returns the 4-connected components of the set cells, each
// as its cell indices, in the order of their first cell.
func components(set []bool, w, h int) [][]int {
	seen := make([]bool, len(set))
	var out [][]int
	for s := range set {
		if !set[s] || seen[s] {
			continue
		}
		comp := []int{s}
		seen[s] = true
		for k := 0; k < len(comp); k++ {
			i := comp[k]
			x := i % w
			for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
				if j < 0 || j >= w*h || (j == i-1 && x == 0) || (j == i+1 && x == w-1) || !set[j] || seen[j] {
					continue
				}
				seen[j] = true
				comp = append(comp, j)
			}
		}
		out = append(out, comp)
	}
	return out
}

// touchesSidesOrBottom reports whether a component reaches the left,
// right or bottom edge.
func touchesSidesOrBottom(comp []int, w, h int) bool {
	for _, i := range comp {
		if x, y := i%w, i/w; x == 0 || x == w-1 || y == h-1 {
			return true
		}
	}
	return false
}

// soften blurs a hard mask of cells so that the coarse matte has a ramp
// for the guided filter to move onto the edges.
func soften(m []float32, w, h int) []float32 {
	return boxMean(boxMean(m, w, h, 1), w, h, 1)
}

func abs32(v float32) float32 { return max(v, -v) }

// skyDetail adds to the land's matte in t's alpha what stands in the sky
// too thin for the grid to see (masts, wires, a rocket's nose): every
// texel whose colour differs from the sky's colour around it by more than
// the sky's own variation. p is the coarse matte, 0 on the sky.
func skyDetail(t *texture, g *grid, p []float32) {
	w, h := g.w, g.h
	// The sky's colour over the whole grid, spread from the sure sky's
	// cells, and how much its grey level varies within a cell.
	col := make([]float32, 3*w*h)
	wt := make([]float32, w*h)
	dev, n := 0.0, 0
	for i := range wt {
		if p[i] < 0.1 && g.dev[i] < skyDev {
			wt[i] = 1
			copy(col[3*i:3*i+3], g.c[3*i:3*i+3])
			dev += float64(g.dev[i])
			n++
		}
	}
	if n == 0 {
		return
	}
	sky := pushPull(col, wt, w, h)
	// Differences within tau are the sky's own grain; from 2 tau a texel
	// is wholly something standing in it.
	tau := float32(max(3*dev/float64(n), 0.03)) * 255
	cells := newCellReader(w, h, g.k, t.w)
	q := make([]uint8, t.w*t.h)
	for y := range t.h {
		cells.row(y)
		row := t.pix[y*t.stride:][:4*t.w]
		for x := range t.w {
			d := float32(0)
			for c := range 3 {
				d = max(d, abs32(float32(row[4*x+c])-255*cells.at(sky, c, x)))
			}
			q[y*t.w+x] = max(row[4*x+3], unit8(smoothstep(tau, 2*tau, d)))
		}
	}
	// Soft edges of a texel or two.
	box(q, t.w, t.h, 1)
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		for x, v := range q[y*t.w:][:t.w] {
			row[4*x+3] = v
		}
	}
}

// pushPull returns the colours col (3 a cell of a w x h grid) where their
// weights wt are 1, and elsewhere colours spread smoothly from them: the
// known cells are averaged down a pyramid and the unknown filled from the
// coarsest level that knows them.
func pushPull(col, wt []float32, w, h int) []float32 {
	if w <= 1 && h <= 1 {
		out := make([]float32, 3)
		for c := range 3 {
			out[c] = col[c] / max(wt[0], 1e-6)
		}
		return out
	}
	nw, nh := (w+1)/2, (h+1)/2
	nc, nwt := make([]float32, 3*nw*nh), make([]float32, nw*nh)
	for y := range h {
		for x := range w {
			i, j := y*w+x, (y/2)*nw+x/2
			nwt[j] += wt[i]
			for c := range 3 {
				nc[3*j+c] += col[3*i+c] * wt[i]
			}
		}
	}
	for j := range nwt {
		if nwt[j] > 0 {
			for c := range 3 {
				nc[3*j+c] /= nwt[j]
			}
			nwt[j] = min(nwt[j], 1)
		}
	}
	coarse := pushPull(nc, nwt, nw, nh)
	// The coarse level is read bilinearly, so that the filled parts are
	// smooth rather than blocks.
	at := func(n, m int) (int, int, float32) {
		p := min(max((float32(n)+0.5)/2-0.5, 0), float32(m-1))
		i := int(p)
		return i, min(i+1, m-1), p - float32(i)
	}
	out := make([]float32, 3*w*h)
	for y := range h {
		j0, j1, fy := at(y, nh)
		for x := range w {
			i0, i1, fx := at(x, nw)
			i := y*w + x
			k := min(wt[i], 1)
			for c := range 3 {
				v := (coarse[3*(j0*nw+i0)+c]*(1-fx)+coarse[3*(j0*nw+i1)+c]*fx)*(1-fy) +
					(coarse[3*(j1*nw+i0)+c]*(1-fx)+coarse[3*(j1*nw+i1)+c]*fx)*fy
				out[3*i+c] = col[3*i+c]*k + v*(1-k)
			}
		}
	}
	return out
}

// skyFill returns a copy of t's texels in which the land (alpha) is
// replaced by the sky's colour there: the mean colour of the clear sky in
// each cell of a grid about gridSide cells on the short side, spread over
// the land (see pushPull) and read bilinearly. A sky is smooth, so this
// is what stands behind the land; and wherever the matte is more than a
// trace the texel takes the sky's colour, so nothing of a see-through
// mast is left behind in the sky.
func skyFill(t *texture) []uint8 {
	k := max(1, int(math.Round(float64(min(t.w, t.h))/gridSide)))
	w, h := (t.w+k-1)/k, (t.h+k-1)/k
	col := make([]float32, 3*w*h)
	wt := make([]float32, w*h)
	n := make([]float32, w*h)
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		for x := range t.w {
			i := y/k*w + x/k
			n[i]++
			if row[4*x+3] < 8 {
				wt[i]++
				for c := range 3 {
					col[3*i+c] += float32(row[4*x+c]) / 255
				}
			}
		}
	}
	for i := range wt {
		if wt[i] > 0 {
			for c := range 3 {
				col[3*i+c] /= wt[i]
			}
			wt[i] /= n[i]
		}
	}
	sky := pushPull(col, wt, w, h)
	bg := make([]uint8, len(t.pix))
	copy(bg, t.pix)
	cells := newCellReader(w, h, k, t.w)
	for y := range t.h {
		cells.row(y)
		row := bg[y*t.stride:][:4*t.w]
		for x := range t.w {
			m := smoothstep(0, 0.1, float32(row[4*x+3])/255)
			row[4*x+3] = 255
			if m == 0 {
				continue
			}
			for c := range 3 {
				row[4*x+c] = unit8(float32(row[4*x+c])/255*(1-m) + cells.at(sky, c, x)*m)
			}
		}
	}
	return bg
}

// cellReader reads a colour field of w x h cells of k x k texels (3
// values a cell) at texels, bilinearly between the cells' centres and
// clamped at the edges. The columns' cells and weights are worked out
// once; row sets the row that at reads.
type cellReader struct {
	w, h   int
	k      float32
	i0, i1 []int // each texel column's two cells
	fx     []float32
	j0, j1 int // the current row's two cells
	fy     float32
}

func newCellReader(w, h, k, texels int) *cellReader {
	r := &cellReader{w: w, h: h, k: float32(k), i0: make([]int, texels), i1: make([]int, texels), fx: make([]float32, texels)}
	for x := range texels {
		u := min(max((float32(x)+0.5)/r.k-0.5, 0), float32(w-1))
		i := min(int(u), max(w-2, 0))
		r.i0[x], r.i1[x], r.fx[x] = i, min(i+1, w-1), u-float32(i)
	}
	return r
}

// row makes at read texel row y.
func (r *cellReader) row(y int) {
	v := min(max((float32(y)+0.5)/r.k-0.5, 0), float32(r.h-1))
	r.j0 = min(int(v), max(r.h-2, 0))
	r.fy = v - float32(r.j0)
	r.j1 = min(r.j0+1, r.h-1)
}

// at returns channel c of the field f at texel column x of the row.
func (r *cellReader) at(f []float32, c, x int) float32 {
	i0, i1, fx, w := r.i0[x], r.i1[x], r.fx[x], r.w
	return (f[3*(r.j0*w+i0)+c]*(1-fx)+f[3*(r.j0*w+i1)+c]*fx)*(1-r.fy) +
		(f[3*(r.j1*w+i0)+c]*(1-fx)+f[3*(r.j1*w+i1)+c]*fx)*r.fy
}
