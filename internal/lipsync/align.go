package lipsync

import (
	"math"
	"slices"

	"stillmotion/internal/face"
)

// affine maps (x, y) to (m[0]x + m[1]y + m[2], m[3]x + m[4]y + m[5]).
type affine [6]float64

// identity is the affine map that changes nothing.
var identity = affine{1, 0, 0, 0, 1, 0}

func (m affine) apply(p face.Point) face.Point {
	return face.Point{X: m[0]*p.X + m[1]*p.Y + m[2], Y: m[3]*p.X + m[4]*p.Y + m[5]}
}

// then returns the map that applies m, then n.
func (m affine) then(n affine) affine {
	return affine{
		n[0]*m[0] + n[1]*m[3], n[0]*m[1] + n[1]*m[4], n[0]*m[2] + n[1]*m[5] + n[2],
		n[3]*m[0] + n[4]*m[3], n[3]*m[1] + n[4]*m[4], n[3]*m[2] + n[4]*m[5] + n[5],
	}
}

// inverse returns the map that undoes m, which must not be singular.
func (m affine) inverse() affine {
	det := m[0]*m[4] - m[1]*m[3]
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return affine{a, b, -(a*m[2] + b*m[5]), d, e, -(d*m[2] + e*m[5])}
}

// scale returns the map's mean scale factor (the square root of the
// area's change).
func (m affine) scale() float64 { return math.Sqrt(math.Abs(m[0]*m[4] - m[1]*m[3])) }

// scaling returns the map (x, y) → (sx·x, sy·y).
func scaling(sx, sy float64) affine { return affine{sx, 0, 0, 0, sy, 0} }

// translation returns the map p → p + t.
func translation(t face.Point) affine { return affine{1, 0, t.X, 0, 1, t.Y} }

// fitSimilarity returns the similarity (rotation, uniform scale and shift)
// that maps the points from onto to best in the least-squares sense, each
// pair counted with its weight.
func fitSimilarity(from, to []face.Point, weights []float64) affine {
	var sw float64
	var mf, mt face.Point
	for i := range from {
		w := weights[i]
		sw += w
		mf, mt = mf.Add(from[i].Mul(w)), mt.Add(to[i].Mul(w))
	}
	mf, mt = mf.Mul(1/sw), mt.Mul(1/sw)
	var sa, sb, sn float64
	for i := range from {
		p, q, w := from[i].Sub(mf), to[i].Sub(mt), weights[i]
		sa += w * (p.X*q.X + p.Y*q.Y)
		sb += w * (p.X*q.Y - p.Y*q.X)
		sn += w * (p.X*p.X + p.Y*p.Y)
	}
	if sn == 0 {
		return translation(mt.Sub(mf))
	}
	a, b := sa/sn, sb/sn
	return affine{a, -b, mt.X - (a*mf.X - b*mf.Y), b, a, mt.Y - (b*mf.X + a*mf.Y)}
}

// landmarks returns the points of f that a similarity between two faces is
// fitted to, and their weights: the pupils, which the detector finds best,
// and the mouth corners, which fix the face's scale and roll below them.
func landmarks(f face.Face) ([]face.Point, []float64) {
	return []face.Point{f.LeftEye, f.RightEye, f.MouthLeft, f.MouthRight}, []float64{2, 2, 1, 1}
}

// plane is a grey image in floating point, slightly blurred, in the
// coordinates of package face: pixel (i, j) covers [i, i+1) x [j, j+1).
type plane struct {
	w, h int
	pix  []float32
}

// planeOf returns the luma rows pix (w x h, packed) blurred by a 3x3
// binomial kernel, which makes image gradients smooth enough for
// Lucas-Kanade to converge from a few pixels away.
func planeOf(pix []byte, w, h int) *plane {
	tmp := make([]float32, w*h)
	for y := range h {
		row := pix[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := range w {
			l, r := row[max(x-1, 0)], row[min(x+1, w-1)]
			out[x] = (float32(l) + 2*float32(row[x]) + float32(r)) / 4
		}
	}
	p := &plane{w: w, h: h, pix: make([]float32, w*h)}
	for y := range h {
		up, down := tmp[max(y-1, 0)*w:][:w], tmp[min(y+1, h-1)*w:][:w]
		mid, out := tmp[y*w:][:w], p.pix[y*w:][:w]
		for x := range w {
			out[x] = (up[x] + 2*mid[x] + down[x]) / 4
		}
	}
	return p
}

// half returns p reduced to half its size, each pixel the mean of four.
func (p *plane) half() *plane {
	h := &plane{w: max(p.w/2, 1), h: max(p.h/2, 1)}
	h.pix = make([]float32, h.w*h.h)
	for y := range h.h {
		y0, y1 := min(2*y, p.h-1), min(2*y+1, p.h-1)
		for x := range h.w {
			x0, x1 := min(2*x, p.w-1), min(2*x+1, p.w-1)
			h.pix[y*h.w+x] = (p.pix[y0*p.w+x0] + p.pix[y0*p.w+x1] + p.pix[y1*p.w+x0] + p.pix[y1*p.w+x1]) / 4
		}
	}
	return h
}

// at returns p at (x, y), bilinearly interpolated, and false outside the
// pixel centres' hull.
func (p *plane) at(x, y float64) (float32, bool) {
	fx, fy := x-0.5, y-0.5
	if fx < 0 || fy < 0 || fx > float64(p.w-1) || fy > float64(p.h-1) {
		return 0, false
	}
	x0, y0 := min(int(fx), p.w-2), min(int(fy), p.h-2)
	if p.w < 2 || p.h < 2 {
		return p.pix[0], true
	}
	tx, ty := float32(fx-float64(x0)), float32(fy-float64(y0))
	r0 := p.pix[y0*p.w+x0:]
	r1 := p.pix[(y0+1)*p.w+x0:]
	top := r0[0] + (r0[1]-r0[0])*tx
	bot := r1[0] + (r1[1]-r1[0])*tx
	return top + (bot-top)*ty, true
}

// pyramid is a plane and its halvings, finest first.
type pyramid []*plane

// levels is the number of pyramid levels the tracker uses: three allow
// motion of some eight pixels a frame, far more than a face moves.
const levels = 3

func pyramidOf(pix []byte, w, h int) pyramid {
	p := pyramid{planeOf(pix, w, h)}
	for len(p) < levels && p[len(p)-1].w >= 32 && p[len(p)-1].h >= 32 {
		p = append(p, p[len(p)-1].half())
	}
	return p
}

// templateLevel is a template's samples on one pyramid level: positions
// relative to the template's centre, in the level's pixels, the values
// there and their steepest-descent images for the similarity's parameters
// (Baker and Matthews, "Lucas-Kanade 20 years on", 2004).
type templateLevel struct {
	x, y []float32
	v    []float32
	sd   [][4]float32
}

// template is a patch of one frame that the tracker finds in the others:
// the upper face, from the brows to below the nose, which moves with the
// head but not with the jaw.
type template struct {
	c      face.Point // the centre, in the frame's pixels
	levels []templateLevel
}

// maxSamples bounds a template level's samples; beyond it they are spaced
// out, which costs little accuracy, as the face's own detail is coarse.
const maxSamples = 6000

// newTemplate samples the region of the face f in the frame p: across the
// eyes from 1.05 eye distances left of their midpoint to as far right,
// from 0.5 above the eyes' line to 0.62 below it (the mouth is about one
// eye distance down, and moves).
func newTemplate(p pyramid, f face.Face) *template {
	d := f.LeftEye.Dist(f.RightEye)
	ex := f.RightEye.Sub(f.LeftEye).Mul(1 / d)
	ey := face.Point{X: -ex.Y, Y: ex.X}
	o := f.LeftEye.Mid(f.RightEye)
	u0, u1, v0, v1 := -1.05*d, 1.05*d, -0.5*d, 0.62*d
	t := &template{c: o.Add(ey.Mul((v0 + v1) / 2))}
	for l, pl := range p {
		k := math.Ldexp(1, -l) // level pixels per frame pixel
		area := (u1 - u0) * (v1 - v0) * k * k
		step := max(1, math.Sqrt(area/maxSamples)) / k // in frame pixels
		var tl templateLevel
		for v := v0; v <= v1; v += step {
			for u := u0; u <= u1; u += step {
				q := o.Add(ex.Mul(u)).Add(ey.Mul(v))
				x, y := q.X*k, q.Y*k
				c, ok := pl.at(x, y)
				l, ok1 := pl.at(x-1, y)
				r, ok2 := pl.at(x+1, y)
				up, ok3 := pl.at(x, y-1)
				dn, ok4 := pl.at(x, y+1)
				if !ok || !ok1 || !ok2 || !ok3 || !ok4 {
					continue
				}
				gx, gy := (r-l)/2, (dn-up)/2
				rx, ry := float32((q.X-t.c.X)*k), float32((q.Y-t.c.Y)*k)
				tl.x, tl.y, tl.v = append(tl.x, rx), append(tl.y, ry), append(tl.v, c)
				tl.sd = append(tl.sd, [4]float32{gx*rx + gy*ry, -gx*ry + gy*rx, gx, gy})
			}
		}
		t.levels = append(t.levels, tl)
	}
	return t
}

// align finds the template in the frame p, starting from the map guess
// from the template's frame to p's (a similarity), by inverse
// compositional Lucas-Kanade from the coarsest level to the finest. Each
// iteration normalizes the frame's samples to the template's mean and
// contrast, so lighting that changes does not pull, and weighs residuals
// by Huber's function, so that blinks and hands do not either. It
// returns the map and the normalized cross-correlation of the template
// with the frame there (1 for a perfect match).
func (t *template) align(p pyramid, guess affine) (affine, float64) {
	// a maps template-relative points (frame pixels) into p's frame.
	a := translation(t.c).then(guess)
	n := min(len(p), len(t.levels))
	var ncc float64
	for l := n - 1; l >= 0; l-- {
		k := math.Ldexp(1, -l)
		al := a
		al[2], al[5] = a[2]*k, a[5]*k
		iters := 12
		if l == 0 {
			iters = 8
		}
		al, ncc = t.levels[l].align(p[l], al, iters)
		a = al
		a[2], a[5] = al[2]/k, al[5]/k
	}
	return translation(face.Point{X: -t.c.X, Y: -t.c.Y}).then(a), ncc
}

// align runs Lucas-Kanade on one level; a maps the level's template
// positions into pl.
func (tl *templateLevel) align(pl *plane, a affine, iters int) (affine, float64) {
	nPts := len(tl.v)
	if nPts < 16 {
		return a, 0
	}
	vals := make([]float32, nPts)
	valid := make([]bool, nPts)
	every := max(1, nPts/1000)
	res := make([]float64, 0, nPts/every+1)
	var ncc float64
	for it := 0; it <= iters; it++ {
		// Sample the frame where the template's points land.
		var mI, mT float64
		cnt := 0
		for i := range nPts {
			x, y := float64(tl.x[i]), float64(tl.y[i])
			v, ok := pl.at(a[0]*x+a[1]*y+a[2], a[3]*x+a[4]*y+a[5])
			vals[i], valid[i] = v, ok
			if ok {
				mI += float64(v)
				mT += float64(tl.v[i])
				cnt++
			}
		}
		if cnt < nPts/3 {
			return a, 0 // mostly outside the frame
		}
		mI /= float64(cnt)
		mT /= float64(cnt)
		var sI, sT, sIT float64
		for i := range nPts {
			if valid[i] {
				di, dt := float64(vals[i])-mI, float64(tl.v[i])-mT
				sI += di * di
				sT += dt * dt
				sIT += di * dt
			}
		}
		if sI == 0 || sT == 0 {
			return a, 0
		}
		ncc = sIT / math.Sqrt(sI*sT)
		if it == iters {
			break
		}
		g := math.Sqrt(sT / sI) // the frame's contrast in the template's
		// The residuals' spread, from their median absolute value over a
		// thousand of them, which is plenty for a scale.
		res = res[:0]
		for i := 0; i < nPts; i += every {
			if valid[i] {
				e := (float64(vals[i])-mI)*g - (float64(tl.v[i]) - mT)
				res = append(res, math.Abs(e))
			}
		}
		sigma := 1.4826*median(res) + 1e-3
		huber := 1.345 * sigma
		var h [4][4]float64
		var b [4]float64
		for i := range nPts {
			if !valid[i] {
				continue
			}
			e := (float64(vals[i])-mI)*g - (float64(tl.v[i]) - mT)
			w := 1.0
			if ae := math.Abs(e); ae > huber {
				w = huber / ae
			}
			sd := &tl.sd[i]
			for r := range 4 {
				wr := w * float64(sd[r])
				b[r] += wr * e
				for c := r; c < 4; c++ {
					h[r][c] += wr * float64(sd[c])
				}
			}
		}
		for r := range 4 {
			for c := range r {
				h[r][c] = h[c][r]
			}
		}
		dp, ok := solve4(h, b)
		if !ok {
			break
		}
		// Inverse composition: a ← a ∘ W(dp)⁻¹.
		w := affine{1 + dp[0], -dp[1], dp[2], dp[1], 1 + dp[0], dp[3]}
		a = w.inverse().then(a)
		if math.Abs(dp[2]) < 0.005 && math.Abs(dp[3]) < 0.005 && math.Abs(dp[0]) < 1e-5 && math.Abs(dp[1]) < 1e-5 {
			iters = it + 1 // one more pass measures the match
		}
	}
	return a, ncc
}

// solve4 solves h·x = b by Gaussian elimination with partial pivoting.
func solve4(h [4][4]float64, b [4]float64) ([4]float64, bool) {
	var m [4][5]float64
	for r := range 4 {
		copy(m[r][:4], h[r][:])
		m[r][4] = b[r]
	}
	for c := range 4 {
		p := c
		for r := c + 1; r < 4; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return [4]float64{}, false
		}
		m[c], m[p] = m[p], m[c]
		for r := range 4 {
			if r == c {
				continue
			}
			k := m[r][c] / m[c][c]
			for j := c; j < 5; j++ {
				m[r][j] -= k * m[c][j]
			}
		}
	}
	var x [4]float64
	for r := range 4 {
		x[r] = m[r][4] / m[r][r]
	}
	return x, true
}

// median returns the median of x, reordering it; 0 for none.
func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	slices.Sort(x)
	return x[len(x)/2]
}
