package morph

import (
	"context"
	"image"
	"math"
	"slices"
)

// level is one pyramid level of a working copy: three channels per pixel
// (luma and two chroma differences at half weight, 0..1 scale), so that
// matching sees colour as well as shading but is led by the latter.
type level struct {
	w, h int
	pix  []float32
}

const nc = 3 // channels of a level

// shrink averages img down to a gw×gh working copy, each cell the mean of
// the pixels it covers, so that the copy does not alias.
func shrink(img *image.RGBA, gw, gh int) *level {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	l := &level{w: gw, h: gh, pix: make([]float32, nc*gw*gh)}
	sum := make([]float32, 3*gw)
	cnt := make([]float32, gw)
	for gy := range gh {
		clear(sum)
		clear(cnt)
		for y := gy * h / gh; y < max((gy+1)*h/gh, gy*h/gh+1); y++ {
			row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
			for gx := range gw {
				x1 := max((gx+1)*w/gw, gx*w/gw+1)
				var r, g, b float32
				for x := gx * w / gw; x < x1; x++ {
					p := row[4*x : 4*x+3 : 4*x+3]
					r += float32(p[0])
					g += float32(p[1])
					b += float32(p[2])
				}
				sum[3*gx] += r
				sum[3*gx+1] += g
				sum[3*gx+2] += b
				cnt[gx] += float32(x1 - gx*w/gw)
			}
		}
		for gx := range gw {
			k := 1 / (255 * cnt[gx])
			r, g, b := sum[3*gx]*k, sum[3*gx+1]*k, sum[3*gx+2]*k
			luma := 0.299*r + 0.587*g + 0.114*b
			o := nc * (gy*gw + gx)
			l.pix[o] = luma
			l.pix[o+1] = 0.5 * (b - luma)
			l.pix[o+2] = 0.5 * (r - luma)
		}
	}
	return l
}

// minLevel is the smallest short side of a pyramid level: a coarser one
// has too few pixels for a patch to mean anything.
const minLevel = 10

// pyramid returns l and its successive 2×2 reductions, finest first.
func pyramid(l *level) []*level {
	p := []*level{l}
	for min(l.w, l.h)/2 >= minLevel {
		w, h := (l.w+1)/2, (l.h+1)/2
		n := &level{w: w, h: h, pix: make([]float32, nc*w*h)}
		for y := range h {
			y0, y1 := 2*y, min(2*y+1, l.h-1)
			for x := range w {
				x0, x1 := 2*x, min(2*x+1, l.w-1)
				for c := range nc {
					n.pix[nc*(y*w+x)+c] = 0.25 * (l.pix[nc*(y0*l.w+x0)+c] + l.pix[nc*(y0*l.w+x1)+c] +
						l.pix[nc*(y1*l.w+x0)+c] + l.pix[nc*(y1*l.w+x1)+c])
				}
			}
		}
		p = append(p, n)
		l = n
	}
	return p
}

// flows returns the flows between the finest levels of pa and pb, A→B
// and B→A, (x, y) pairs in that level's pixels, and b's finest level
// with its colours mapped to a's (see photo).
func flows(ctx context.Context, pa, pb []*level, iters int) (fab, fba []float32, b0 *level, err error) {
	fit := identity
	top := len(pa) - 1
	for i := top; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		var cw, ch int
		if i < top {
			cw, ch = pa[i+1].w, pa[i+1].h
		}
		// The coarsest level is matched twice: its first fit of the
		// colours lets the second find matches that a change of
		// exposure hid from the first.
		rounds := 1
		if i == top && top > 0 {
			rounds = 2
		}
		prevAB, prevBA := fab, fba
		var a, b *level
		for range rounds {
			a, b = pa[i], fit.apply(pb[i])
			done := make(chan struct{})
			go func() {
				fab = step(a, b, prevAB, cw, ch, i, iters)
				close(done)
			}()
			fba = step(b, a, prevBA, cw, ch, i, iters)
			<-done
			if i > 0 {
				fit = photo(a, pb[i], fab, fba, fit)
			}
		}
		if i == 0 {
			b0 = b
		}
	}
	return fab, fba, b0, nil
}

// step computes the flow from a to b at pyramid level lvl, from the flow
// f of the cw×ch level above it, or from scratch at the coarsest level
// (f nil).
func step(a, b *level, f []float32, cw, ch, lvl, iters int) []float32 {
	if f == nil {
		f = search(a, b)
	} else {
		// The coarser field, carried up and made sub-pixel here, is what
		// patch matching departs from only for a clearly better match.
		f = upsample(f, cw, ch, a.w, a.h)
		refine(a, b, f, 1, iters)
		prior := slices.Clone(f)
		for pass := range 2 {
			patchMatch(a, b, f, prior, lvl, pass)
		}
	}
	f = median3(f, a.w, a.h)
	warps := 2
	if lvl == 0 {
		warps = 3
	}
	refine(a, b, f, warps, iters)
	return f
}

// gains maps the colours of one picture to another's, channel by
// channel: v ↦ g·v + o.
type gains struct{ g, o [nc]float32 }

var identity = gains{g: [nc]float32{1, 1, 1}}

// apply returns l with its colours mapped back by the inverse of k, or l
// itself for the identity.
func (k gains) apply(l *level) *level {
	if k == identity {
		return l
	}
	out := &level{w: l.w, h: l.h, pix: make([]float32, len(l.pix))}
	for i, v := range l.pix {
		c := i % nc
		out.pix[i] = (v - k.o[c]) / k.g[c]
	}
	return out
}

// Photometric fit. Two pictures of one scene may differ in exposure or
// white balance, which patch costs and brightness constancy would read as
// a mismatch. After each pyramid level the colours of b at the matches
// that pass the forward–backward check are fitted, per channel, as a
// linear function of a's; the finer levels then match a against b mapped
// back by that function. Where too little passes the check (unrelated
// pictures) the previous fit stands.
const (
	minFit  = 0.1 // share of the pixels that must pass the check
	maxGain = 2   // the largest gain (and the least, 1/maxGain) believed
)

// photo fits the colours of b (unmapped) at the matches of the flow f
// from a to b that agree with the flow g from b to a.
func photo(a, b *level, f, g []float32, prev gains) gains {
	w, h := a.w, a.h
	var sw float64
	var sa, sb, saa, sbb [nc]float64
	var pb [nc]float32
	var pg [2]float32
	for y := range h {
		for x := range w {
			i := y*w + x
			qx, qy := float32(x)+f[2*i], float32(y)+f[2*i+1]
			if qx < 0 || qy < 0 || qx > float32(w-1) || qy > float32(h-1) {
				continue
			}
			sample(g, w, h, 2, qx, qy, pg[:])
			wt := float64(ramp(hypot(f[2*i]+pg[0], f[2*i+1]+pg[1]), fbTol))
			if wt == 0 {
				continue
			}
			sample(b.pix, w, h, nc, qx, qy, pb[:])
			sw += wt
			for c := range nc {
				va, vb := float64(a.pix[nc*i+c]), float64(pb[c])
				sa[c] += wt * va
				sb[c] += wt * vb
				saa[c] += wt * va * va
				sbb[c] += wt * vb * vb
			}
		}
	}
	if sw < minFit*float64(w*h) {
		return prev
	}
	var k gains
	for c := range nc {
		ma, mb := sa[c]/sw, sb[c]/sw
		va, vb := saa[c]/sw-ma*ma, sbb[c]/sw-mb*mb
		gc := 1.0
		if va > minSpread*minSpread {
			// The ratio of the spreads, not a regression slope, which
			// the residual misalignment of a coarse level would flatten.
			gc = min(max(math.Sqrt(max(vb, 0)/va), 1/maxGain), maxGain)
		}
		k.g[c], k.o[c] = float32(gc), float32(mb-gc*ma)
	}
	return k
}

// minSpread is the least standard deviation of a channel over the
// matches for its gain to be fitted (the chroma of a grey picture hardly
// varies); below it only the offset is.
const minSpread = 0.02

// Patch matching compares 3×3 samples two pixels apart (a 5×5
// footprint), sampling b bilinearly so that sub-pixel offsets found by
// the coarser levels are judged fairly.
const (
	patchStep = 2
	// outPenalty is added to the cost of a match outside the other
	// picture, which is compared against its smeared edge.
	outPenalty = 0.1
	// movePenalty per pixel of offset breaks ties of the coarsest
	// level's search in flat regions toward small motion.
	movePenalty = 0.0005
	// priorPenalty per pixel of departure from the smooth flow keeps
	// patch matching from moving a pixel to a look-alike patch (repeated
	// texture, an edge, a flat region) for a small gain: only a clearly
	// better match overrides the smooth field.
	priorPenalty = 0.02
	maxSearch    = 12
)

// cost is the mean absolute difference, over the patch and channels, of
// the patch of a at (x, y) and that of b at (x+u, y+v).
func cost(a, b *level, x, y int, u, v float32) float32 {
	bx, by := float32(x)+u, float32(y)+v
	const p = patchStep
	if x >= p && y >= p && x < a.w-p && y < a.h-p &&
		bx >= p && by >= p && bx < float32(b.w-1-p) && by < float32(b.h-1-p) {
		// The whole patch is inside both pictures: every sample of b
		// has the same bilinear weights.
		ix, iy := int(bx), int(by)
		fx, fy := bx-float32(ix), by-float32(iy)
		w00, w01, w10, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
		var s float32
		for oy := -p; oy <= p; oy += p {
			for ox := -p; ox <= p; ox += p {
				ia := nc * ((y+oy)*a.w + x + ox)
				ib := nc * ((iy+oy)*b.w + ix + ox)
				pa := a.pix[ia : ia+nc : ia+nc]
				q0 := b.pix[ib : ib+2*nc : ib+2*nc]
				q1 := b.pix[ib+nc*b.w : ib+nc*b.w+2*nc : ib+nc*b.w+2*nc]
				for c := range nc {
					s += abs32(pa[c] - (w00*q0[c] + w01*q0[c+nc] + w10*q1[c] + w11*q1[c+nc]))
				}
			}
		}
		return s / (9 * nc)
	}
	var pen float32
	if bx < -0.5 || by < -0.5 || bx > float32(b.w)-0.5 || by > float32(b.h)-0.5 {
		pen = outPenalty
	}
	var s float32
	var pb [nc]float32
	for oy := -p; oy <= p; oy += p {
		for ox := -p; ox <= p; ox += p {
			ia := nc * (clampi(y+oy, a.h)*a.w + clampi(x+ox, a.w))
			sample(b.pix, b.w, b.h, nc, bx+float32(ox), by+float32(oy), pb[:])
			pa := a.pix[ia : ia+nc : ia+nc]
			s += abs32(pa[0]-pb[0]) + abs32(pa[1]-pb[1]) + abs32(pa[2]-pb[2])
		}
	}
	return s/(9*nc) + pen
}

// search is the coarsest level's exhaustive block search, at whole-pixel
// offsets within about a third of the level's long side, but no more
// than maxSearch pixels (a very long, thin picture has a large coarsest
// level).
func search(a, b *level) []float32 {
	r := min(max(2, int(math.Round(0.35*float64(max(a.w, a.h))))), maxSearch)
	f := make([]float32, 2*a.w*a.h)
	for y := range a.h {
		for x := range a.w {
			best, bx, by := float32(math.MaxFloat32), 0, 0
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					c := cost(a, b, x, y, float32(dx), float32(dy)) + movePenalty*float32(abs(dx)+abs(dy))
					if c < best {
						best, bx, by = c, dx, dy
					}
				}
			}
			f[2*(y*a.w+x)], f[2*(y*a.w+x)+1] = float32(bx), float32(by)
		}
	}
	return f
}

// patchMatch improves f in place by one PatchMatch pass: each pixel tries
// the offsets of the neighbours already visited in this pass, then
// random steps from its best in a shrinking window, each judged by its
// cost plus its departure from prior. Even passes scan forward, odd ones
// backward. The random steps come from a hash of the position, so the
// result is the same on every run.
func patchMatch(a, b *level, f, prior []float32, lvl, pass int) {
	w, h := a.w, a.h
	step, x0, y0 := 1, 0, 0
	if pass%2 == 1 {
		step, x0, y0 = -1, w-1, h-1
	}
	for j := range h {
		y := y0 + step*j
		for i := range w {
			x := x0 + step*i
			k := 2 * (y*w + x)
			pu, pv := prior[k], prior[k+1]
			score := func(u, v float32) float32 {
				return cost(a, b, x, y, u, v) + priorPenalty*(abs32(u-pu)+abs32(v-pv))
			}
			bu, bv := f[k], f[k+1]
			best := score(bu, bv)
			try := func(u, v float32) {
				if c := score(u, v); c < best {
					best, bu, bv = c, u, v
				}
			}
			if px := x - step; px >= 0 && px < w {
				try(f[k-2*step], f[k-2*step+1])
			}
			if py := y - step; py >= 0 && py < h {
				try(f[k-2*step*w], f[k-2*step*w+1])
			}
			for n, r := 0, 4; r >= 1; n, r = n+1, r/2 {
				hsh := hash(uint32(x), uint32(y), uint32(lvl<<8|pass<<4|n))
				du := int(hsh%uint32(2*r+1)) - r
				dv := int((hsh>>16)%uint32(2*r+1)) - r
				try(bu+float32(du), bv+float32(dv))
			}
			f[k], f[k+1] = bu, bv
		}
	}
}

// median3 returns f with each component replaced by its 3×3 median,
// which removes isolated wrong matches but keeps motion edges.
func median3(f []float32, w, h int) []float32 {
	out := make([]float32, len(f))
	var win [9]float32
	for y := range h {
		for x := range w {
			for c := range 2 {
				n := 0
				for yy := max(y-1, 0); yy <= min(y+1, h-1); yy++ {
					for xx := max(x-1, 0); xx <= min(x+1, w-1); xx++ {
						win[n] = f[2*(yy*w+xx)+c]
						n++
					}
				}
				s := win[:n]
				slices.Sort(s)
				out[2*(y*w+x)+c] = s[n/2]
			}
		}
	}
	return out
}

// upsample returns the flow f of a w×h level carried to a finer nw×nh
// level: sampled bilinearly and scaled by the change in size.
func upsample(f []float32, w, h, nw, nh int) []float32 {
	out := make([]float32, 2*nw*nh)
	kx, ky := float32(w)/float32(nw), float32(h)/float32(nh)
	var v [2]float32
	for y := range nh {
		for x := range nw {
			sample(f, w, h, 2, (float32(x)+0.5)*kx-0.5, (float32(y)+0.5)*ky-0.5, v[:])
			out[2*(y*nw+x)] = v[0] / kx
			out[2*(y*nw+x)+1] = v[1] / ky
		}
	}
	return out
}

// Horn–Schunck refinement. The data term is the linearised brightness
// constancy of all channels, with a robust (Charbonnier) weight so that
// occlusions and unmatched content do not drag the field; the smoothness
// term is quadratic. Each warp re-linearises about the current field.
const (
	hsAlpha2 = 0.0015 // smoothness weight per neighbour
	hsEps2   = 0.03 * 0.03
)

// refine improves the flow f from a to b in place.
func refine(a, b *level, f []float32, warps, iters int) {
	w, h := a.w, a.h
	ga, gb := gradient(a), gradient(b)
	n := w * h
	sys := make([]float32, 5*n) // j11, j12, j22, b1, b2
	f0 := make([]float32, 2*n)
	var pb [nc]float32
	var pg [2 * nc]float32
	for range warps {
		copy(f0, f)
		for y := range h {
			for x := range w {
				i := y*w + x
				s := sys[5*i : 5*i+5 : 5*i+5]
				qx, qy := float32(x)+f0[2*i], float32(y)+f0[2*i+1]
				if qx < -0.5 || qy < -0.5 || qx > float32(w)-0.5 || qy > float32(h)-0.5 {
					// No data outside b: the field there follows its
					// neighbours.
					clear(s)
					continue
				}
				sample(b.pix, w, h, nc, qx, qy, pb[:])
				sample(gb, w, h, 2*nc, qx, qy, pg[:])
				var j11, j12, j22, b1, b2, r2 float32
				for c := range nc {
					it := pb[c] - a.pix[nc*i+c]
					gx := 0.5 * (pg[2*c] + ga[2*nc*i+2*c])
					gy := 0.5 * (pg[2*c+1] + ga[2*nc*i+2*c+1])
					j11 += gx * gx
					j12 += gx * gy
					j22 += gy * gy
					b1 += gx * it
					b2 += gy * it
					r2 += it * it
				}
				wd := 1 / float32(math.Sqrt(float64(1+r2/hsEps2)))
				s[0], s[1], s[2], s[3], s[4] = wd*j11, wd*j12, wd*j22, wd*b1, wd*b2
			}
		}
		for range iters {
			for y := range h {
				for x := range w {
					i := y*w + x
					var su, sv, cnt float32
					if x > 0 {
						su, sv, cnt = su+f[2*i-2], sv+f[2*i-1], cnt+1
					}
					if x < w-1 {
						su, sv, cnt = su+f[2*i+2], sv+f[2*i+3], cnt+1
					}
					if y > 0 {
						su, sv, cnt = su+f[2*(i-w)], sv+f[2*(i-w)+1], cnt+1
					}
					if y < h-1 {
						su, sv, cnt = su+f[2*(i+w)], sv+f[2*(i+w)+1], cnt+1
					}
					al := hsAlpha2 * cnt
					s := sys[5*i : 5*i+5 : 5*i+5]
					// Solve (J + al·I) d = al·(mean − f0) − b for the
					// change d from f0.
					ru := al*(su/cnt-f0[2*i]) - s[3]
					rv := al*(sv/cnt-f0[2*i+1]) - s[4]
					m11, m12, m22 := s[0]+al, s[1], s[2]+al
					det := m11*m22 - m12*m12
					f[2*i] = f0[2*i] + (m22*ru-m12*rv)/det
					f[2*i+1] = f0[2*i+1] + (m11*rv-m12*ru)/det
				}
			}
		}
	}
}

// gradient returns the central-difference gradient of each channel of l,
// (x, y) pairs per channel.
func gradient(l *level) []float32 {
	w, h := l.w, l.h
	g := make([]float32, 2*nc*w*h)
	for y := range h {
		ym, yp := max(y-1, 0), min(y+1, h-1)
		for x := range w {
			xm, xp := max(x-1, 0), min(x+1, w-1)
			i := y*w + x
			for c := range nc {
				g[2*nc*i+2*c] = 0.5 * (l.pix[nc*(y*w+xp)+c] - l.pix[nc*(y*w+xm)+c])
				g[2*nc*i+2*c+1] = 0.5 * (l.pix[nc*(yp*w+x)+c] - l.pix[nc*(ym*w+x)+c])
			}
		}
	}
	return g
}

// sample puts into out the bilinear sample at (x, y) of the k-channel
// w×h field f, clamped to its edges.
func sample(f []float32, w, h, k int, x, y float32, out []float32) {
	x = min(max(x, 0), float32(w-1))
	y = min(max(y, 0), float32(h-1))
	x0, y0 := min(int(x), w-2), min(int(y), h-2)
	x0, y0 = max(x0, 0), max(y0, 0)
	fx, fy := x-float32(x0), y-float32(y0)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	i00, i01 := k*(y0*w+x0), k*(y0*w+x1)
	i10, i11 := k*(y1*w+x0), k*(y1*w+x1)
	for c := range k {
		top := f[i00+c] + fx*(f[i01+c]-f[i00+c])
		bot := f[i10+c] + fx*(f[i11+c]-f[i10+c])
		out[c] = top + fy*(bot-top)
	}
}

// conf is the reliability of a flow field: c per pixel, 0..1, and which
// pixels' matches fall inside the other picture.
type conf struct {
	c      []float32
	inside []bool
}

// Confidence thresholds, at the working resolution: a match is fully
// trusted below the first value and not at all above twice it.
const (
	fbTol   = 0.75 // forward–backward disagreement, pixels…
	fbRel   = 0.05 // …plus this share of the motion
	costTol = 0.04 // mean absolute difference of 5×5 neighbourhoods
)

// confidence rates the flow f from a to b, given the flow g from b to a.
func confidence(a, b *level, f, g []float32) conf {
	w, h := a.w, a.h
	n := w * h
	res := make([]float32, n)
	c := conf{c: make([]float32, n), inside: make([]bool, n)}
	var pb [nc]float32
	var pg [2]float32
	for y := range h {
		for x := range w {
			i := y*w + x
			qx, qy := float32(x)+f[2*i], float32(y)+f[2*i+1]
			sample(b.pix, w, h, nc, qx, qy, pb[:])
			for k := range nc {
				res[i] += abs32(pb[k] - a.pix[nc*i+k])
			}
			res[i] /= nc
			if qx < -0.5 || qy < -0.5 || qx > float32(w)-0.5 || qy > float32(h)-0.5 {
				continue
			}
			c.inside[i] = true
			sample(g, w, h, 2, qx, qy, pg[:])
			ex, ey := f[2*i]+pg[0], f[2*i+1]+pg[1]
			c.c[i] = ramp(hypot(ex, ey), fbTol+fbRel*hypot(f[2*i], f[2*i+1]))
		}
	}
	res = boxBlur(boxBlur(res, w, h), w, h)
	for i := range n {
		c.c[i] *= ramp(res[i], costTol)
	}
	// Pixels whose match lies outside the other picture cannot be
	// checked; they take the confidence of the pixels around them, so
	// that the edge of a matched scene slides out of the frame rather
	// than dissolving.
	mask := make([]float32, n)
	for i, in := range c.inside {
		if in {
			mask[i] = 1
		}
	}
	filled := pushPull(c.c, mask, w, h, 1, false)
	for i, in := range c.inside {
		if !in {
			c.c[i] = filled[i]
		}
	}
	c.c = boxBlur(c.c, w, h)
	return c
}

// ramp is 1 for v ≤ tol, 0 for v ≥ 2·tol and linear between.
func ramp(v, tol float32) float32 {
	return min(max(2-v/tol, 0), 1)
}

// settle returns the flow to draw with: f where it is reliable, and a
// fill of the reliable flow around it where it is not (see pushPull); a
// final 3×3 blur softens the seams between the two.
func settle(f []float32, c conf, w, h int) []float32 {
	wt := make([]float32, w*h)
	for i, in := range c.inside {
		if in {
			wt[i] = c.c[i]
		}
	}
	fill := pushPull(f, wt, w, h, 2, true)
	out := make([]float32, len(f))
	for i, ci := range c.c {
		for k := range 2 {
			out[2*i+k] = ci*f[2*i+k] + (1-ci)*fill[2*i+k]
		}
	}
	u, v := make([]float32, w*h), make([]float32, w*h)
	for i := range w * h {
		u[i], v[i] = out[2*i], out[2*i+1]
	}
	u, v = boxBlur(u, w, h), boxBlur(v, w, h)
	for i := range w * h {
		out[2*i], out[2*i+1] = u[i], v[i]
	}
	return out
}

// pushPull fills the k-channel w×h field v where its weights wt (0..1)
// are low, from the weighted means of ever larger blocks around it: each
// level is wt·v + (1−wt)·(the next coarser level), where a block's weight
// is the mean of its cells' weights. Above the coarsest level lies zero if
// shrink is set, so that a region with no reliable value anywhere near
// fills with zero; otherwise the coarsest level's mean.
func pushPull(v, wt []float32, w, h, k int, shrink bool) []float32 {
	out := make([]float32, len(v))
	if w == 1 && h == 1 {
		for c := range k {
			if shrink {
				out[c] = wt[0] * v[c]
			} else {
				out[c] = v[c]
			}
		}
		return out
	}
	cw, ch := (w+1)/2, (h+1)/2
	cv := make([]float32, k*cw*ch)
	cwt := make([]float32, cw*ch)
	for y := range ch {
		for x := range cw {
			var sw, cnt float32
			var sv [2]float32
			for yy := 2 * y; yy < min(2*y+2, h); yy++ {
				for xx := 2 * x; xx < min(2*x+2, w); xx++ {
					i := yy*w + xx
					sw += wt[i]
					cnt++
					for c := range k {
						sv[c] += wt[i] * v[k*i+c]
					}
				}
			}
			j := y*cw + x
			cwt[j] = sw / cnt
			if sw > 0 {
				for c := range k {
					cv[k*j+c] = sv[c] / sw
				}
			}
		}
	}
	coarse := pushPull(cv, cwt, cw, ch, k, shrink)
	var up [2]float32
	for y := range h {
		for x := range w {
			i := y*w + x
			sample(coarse, cw, ch, k, (float32(x)-0.5)/2, (float32(y)-0.5)/2, up[:])
			for c := range k {
				out[k*i+c] = wt[i]*v[k*i+c] + (1-wt[i])*up[c]
			}
		}
	}
	return out
}

// boxBlur returns the 3×3 mean of the w×h field v, clamped at the edges.
func boxBlur(v []float32, w, h int) []float32 {
	tmp := make([]float32, len(v))
	for y := range h {
		r := v[y*w : y*w+w]
		for x := range w {
			tmp[y*w+x] = (r[max(x-1, 0)] + r[x] + r[min(x+1, w-1)]) / 3
		}
	}
	out := make([]float32, len(v))
	for y := range h {
		ym, yp := max(y-1, 0), min(y+1, h-1)
		for x := range w {
			out[y*w+x] = (tmp[ym*w+x] + tmp[y*w+x] + tmp[yp*w+x]) / 3
		}
	}
	return out
}

func hash(x, y, z uint32) uint32 {
	h := x*0x9e3779b1 ^ y*0x85ebca77 ^ z*0xc2b2ae3d
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	h *= 0x297a2d39
	h ^= h >> 15
	return h
}

func hypot(x, y float32) float32 { return float32(math.Sqrt(float64(x*x + y*y))) }

func clampi(v, n int) int { return min(max(v, 0), n-1) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
