package portrait

import (
	"image"
	"math"
	"slices"

	"stillmotion/internal/face"
)

// frame is a face-aligned coordinate system in the source image: u runs
// along the mouth (or the eyes) from left to right, v downward across it,
// both in source pixels, from an origin o.
type frame struct {
	o      face.Point
	ex, ey face.Point // unit vectors of u and v
}

func (f frame) local(p face.Point) (u, v float64) {
	d := p.Sub(f.o)
	return d.X*f.ex.X + d.Y*f.ex.Y, d.X*f.ey.X + d.Y*f.ey.Y
}

func (f frame) point(u, v float64) face.Point {
	return face.Point{X: f.o.X + u*f.ex.X + v*f.ey.X, Y: f.o.Y + u*f.ex.Y + v*f.ey.Y}
}

// box returns the source pixels that the local rectangle [u0, u1] x [v0, v1]
// touches.
func (f frame) box(u0, u1, v0, v1 float64) image.Rectangle {
	x0, y0 := math.Inf(1), math.Inf(1)
	x1, y1 := math.Inf(-1), math.Inf(-1)
	for _, c := range [][2]float64{{u0, v0}, {u1, v0}, {u0, v1}, {u1, v1}} {
		p := f.point(c[0], c[1])
		x0, y0 = min(x0, p.X), min(y0, p.Y)
		x1, y1 = max(x1, p.X), max(y1, p.Y)
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1)))
}

// newFrame returns the frame with origin o whose u axis points from l to r.
func newFrame(o, l, r face.Point) frame {
	d := r.Sub(l)
	n := math.Hypot(d.X, d.Y)
	if n == 0 {
		d, n = face.Point{X: 1}, 1
	}
	ex := d.Mul(1 / n)
	return frame{o: o, ex: ex, ey: face.Point{X: -ex.Y, Y: ex.X}}
}

// mouth is what the animator knows of the mouth in the source image, found
// once from the landmarks and the pixels around them. Lengths are source
// pixels; v is measured from the line through the corners.
//
// The model: the split is the line where the lips part (the crease of a
// closed mouth, or the top of the lower lip when teeth show). Everything
// below it (lower lip, chin) moves with the jaw; everything above (upper
// lip, upper teeth) stays, rising a little as the mouth opens. The gap that
// opens between them is drawn as the inside of the mouth.
type mouth struct {
	f    frame
	a    float64 // half the mouth's width
	edge float64 // width of the lips' antialiased edges
	d    float64 // the eyes' distance, the face's scale

	split        [3]float64  // the split's v at u = a*x: split[0] + split[1]*x + split[2]*x*x
	rest         float64     // height of the opening the image shows at mid-mouth (teeth, dark)
	opening      [15]float64 // that opening's height along the mouth (see openingAt)
	upper, lower float64     // lip thicknesses at mid-mouth
	top          float64     // v of the upper lip's top edge at mid-mouth
	chin         float64     // v of the chin's lowest point

	lip, interior, teeth rgb
	realTeeth            bool // the image shows teeth, so none are drawn above the gap

	box image.Rectangle
}

// Proportions of the mouth model, in parts of the mouth's width W = 2a or
// of the eyes' distance D.
const (
	widest   = 0.26 // W: the opening at Open = 1, beyond the image's
	teethMax = 0.09 // W: the upper teeth's visible height
	chinDown = 0.72 // D: from the corners' line to the chin
	neckFade = 0.55 // D: below the chin over which the jaw's motion fades
	lipFade  = 0.3  // D: above the upper lip over which its rise fades
	// D: above and below the lips over which rounding's and stretching's
	// pull along the mouth fades; gently, or the cheeks would crease.
	narrowFade = 0.5
)

// newMouth measures the mouth of f in src.
func newMouth(src *image.RGBA, f face.Face) *mouth {
	d := f.LeftEye.Dist(f.RightEye)
	o := f.MouthLeft.Mid(f.MouthRight)
	fr := newFrame(o, f.MouthLeft, f.MouthRight)
	// The corners can be a few pixels off; the eyes' line is steadier. Keep
	// the corners' angle only while it stays near the eyes'.
	eyes := newFrame(o, f.LeftEye, f.RightEye)
	if fr.ex.X*eyes.ex.X+fr.ex.Y*eyes.ex.Y < math.Cos(8*math.Pi/180) {
		fr = eyes
	}
	m := &mouth{f: fr, a: max(f.MouthLeft.Dist(f.MouthRight)/2, 2), d: max(d, 4)}
	m.edge = max(1, 0.012*m.a)
	_, vl := fr.local(f.MouthLeft)
	_, vr := fr.local(f.MouthRight)
	_, vTop := fr.local(f.LipTop)
	_, vBot := fr.local(f.LipBottom)
	if vBot-vTop < 0.2*m.a {
		// Lips too thin to be true: take average proportions.
		vTop, vBot = -0.3*m.a, 0.45*m.a
	}
	m.findSplit(src, vTop, vBot, vl, vr)

	c := m.split[0]
	m.upper = max(0.12*m.a, c-m.rest-vTop)
	m.lower = max(0.15*m.a, vBot-c)
	m.top = c - m.rest - m.upper
	m.chin = max(chinDown*m.d, c+m.lower+0.35*m.a)

	lip := sample(src, fr.point(0, m.top+m.upper/2).X, fr.point(0, m.top+m.upper/2).Y).
		mix(m.at(src, 0, c+m.lower/2), 0.5)
	m.lip = lip
	// The inside of a mouth is a deep, dark red; the tongue a lighter one.
	m.interior = rgb{lip[0] * 0.3, lip[1] * 0.13, lip[2] * 0.14}
	skin := m.at(src, -0.8*m.a, m.top-0.25*m.a).mix(m.at(src, 0.8*m.a, m.top-0.25*m.a), 0.5)
	// Teeth are ivory in the light that falls on the skin: brighter than
	// it, and less red, in about the ratios photographs show.
	m.teeth = rgb{min(skin[0]*1.05, 245), min(skin[1]*1.13, 238), min(skin[2]*1.18, 228)}
	if m.rest >= 2 {
		// Whatever shows between the lips sets the colours: teeth, or
		// the dark inside of an open mouth.
		seen := m.at(src, 0, c-m.rest/2)
		if seen.luma() > lip.luma() {
			m.teeth, m.realTeeth = seen, m.rest >= 0.5*teethMax*2*m.a
		} else {
			m.interior = seen.scale(0.85)
		}
	}

	maxDrop := widest * 2 * m.a
	m.box = fr.box(-2.4*m.a, 2.4*m.a, m.top-narrowFade*m.d-2, m.chin+neckFade*m.d+maxDrop+2)
	return m
}

// at samples src at the mouth's local (u, v).
func (m *mouth) at(src *image.RGBA, u, v float64) rgb {
	p := m.f.point(u, v)
	return sample(src, p.X, p.Y)
}

// findSplit looks along columns across the middle of the mouth for where
// the lips part: a run of teeth (bright, not red) or darkness between the
// lips, whose bottom is the top of the lower lip; or, for closed lips, the
// darkest row, the crease. A parabola through those points and the corners
// is the split. A second look along the split, out to the corners, measures
// the opening the image shows above it.
func (m *mouth) findSplit(src *image.RGBA, vTop, vBot, vl, vr float64) {
	h := vBot - vTop
	// column returns the redness (R-G) and luma on rows v0, v0+1, ... v1
	// at u, each the mean of three neighbouring columns.
	column := func(u, v0, v1 float64) (red, lum []float64) {
		for v := v0; v <= v1; v++ {
			c := m.at(src, u-1, v).mix(m.at(src, u+1, v), 0.5).mix(m.at(src, u, v), 1.0/3)
			red, lum = append(red, c[0]-c[1]), append(lum, c.luma())
		}
		return red, lum
	}
	// The lower lip's body, mid-mouth, sets what lip looks like.
	var reds, lums []float64
	for _, u := range []float64{-0.2 * m.a, 0, 0.2 * m.a} {
		r, l := column(u, vTop+0.65*h, vTop+0.92*h)
		reds, lums = append(reds, r...), append(lums, l...)
	}
	redL, lumL := median(reds), median(lums)
	teeth := func(red, lum float64) bool { return lum > lumL+12 && red < 0.55*redL }
	dark := func(red, lum float64) bool { return lum < 0.6*lumL }
	notLip := func(red, lum float64) bool { return teeth(red, lum) || dark(red, lum) }
	// longest returns the longest run of rows that are not lip, as its
	// length and the index of its last row, and whether any is teeth.
	longest := func(red, lum []float64) (best, end int, white bool) {
		run, w := 0, false
		end = -1
		for i := range red {
			if !notLip(red[i], lum[i]) {
				run, w = 0, false
				continue
			}
			run++
			w = w || teeth(red[i], lum[i])
			if run > best {
				best, end, white = run, i, w
			}
		}
		return best, end, white
	}

	var us, vs, ws []float64
	minRun := max(2, 0.05*m.a)
	runs := 0 // columns where the lips are apart
	for k := -4; k <= 4; k++ {
		u := float64(k) / 4 * 0.55 * m.a
		w0 := vTop + math.Round(0.2*h)
		red, lum := column(u, w0, vTop+math.Round(0.75*h))
		var split float64
		// A dark run must be tall to be an open mouth rather than the
		// crease between closed lips.
		if n, end, white := longest(red, lum); float64(n) >= minRun && (white || float64(n) >= 0.25*h) {
			split = w0 + float64(end) + 0.5
			runs++
		} else {
			// The crease: the darkest row, smoothed; the first of equals.
			bi, bl := -1, math.Inf(1)
			for i := 1; i+1 < len(lum); i++ {
				if l := (lum[i-1] + 2*lum[i] + lum[i+1]) / 4; l < bl-0.5 {
					bi, bl = i, l
				}
			}
			if bi < 0 {
				continue
			}
			split = w0 + float64(bi)
		}
		us, vs, ws = append(us, u/m.a), append(vs, split), append(ws, 1)
	}
	// The corners anchor the ends.
	us, vs, ws = append(us, -1, 1), append(vs, vl, vr), append(ws, 3, 3)
	m.split = fitParabola(us, vs, ws)
	if c := m.split[0]; len(us) < 6 || c < vTop+0.15*h || c > vBot-0.15*h {
		// No clear evidence: the split sits where it does on average,
		// and the lips are closed.
		c := vTop + 0.42*h
		m.split = [3]float64{c, (vr - vl) / 2, (vl+vr)/2 - c}
		return
	}
	if runs < 5 {
		// Mostly a crease: the lips are closed.
		return
	}

	// The opening at rest, column by column along the split: the run of
	// teeth or darkness that ends at it. Teeth toward the corners are in
	// shadow, so here anything that is not red enough for lip counts.
	open := func(red, lum float64) bool { return red < 0.6*redL || lum < 0.6*lumL }
	tol := max(2, math.Round(0.12*h))
	var raw [len(m.opening)]float64
	for k := range raw {
		x := float64(k-len(raw)/2) / float64(len(raw)/2+1)
		s := m.splitAt(x * m.a)
		red, lum := column(x*m.a, s-math.Round(0.45*h), s+0.5)
		best, run := 0, 0
		for i := range red {
			if !open(red[i], lum[i]) {
				run = 0
				continue
			}
			run++
			if float64(len(red)-1-i) <= tol {
				best = max(best, run)
			}
		}
		if float64(best) >= minRun {
			raw[k] = float64(best)
		}
	}
	// A median of three steadies the columns; the middle's value is the
	// opening at rest.
	c := len(raw) / 2
	m.rest = median(raw[c-1 : c+2])
	for k := range m.opening {
		m.opening[k] = median(raw[max(0, k-1):min(len(raw), k+2)])
		// Closing the lips must cover the opening, so a column that
		// measures less than the middle's outline is raised to it.
		x := float64(k-c) / float64(c+1)
		m.opening[k] = max(m.opening[k], 0.9*m.rest*(1-x*x))
	}
}

// openingAt returns the height of the opening the image shows at u,
// interpolated between the measured columns and 0 at the corners.
func (m *mouth) openingAt(u float64) float64 {
	n := len(m.opening)
	// Column k is at x = (k-n/2)/(n/2+1); the corners at k = -1 and n.
	f := u/m.a*float64(n/2+1) + float64(n/2)
	if f <= -1 || f >= float64(n) {
		return 0
	}
	k := int(math.Floor(f))
	t := f - float64(k)
	at := func(k int) float64 {
		if k < 0 || k >= n {
			return 0
		}
		return m.opening[k]
	}
	return at(k)*(1-t) + at(k+1)*t
}

// splitAt returns the split's v at u.
func (m *mouth) splitAt(u float64) float64 {
	x := min(max(u/m.a, -1), 1)
	return m.split[0] + m.split[1]*x + m.split[2]*x*x
}

// fitParabola fits y = c0 + c1*x + c2*x² to the weighted points by least
// squares.
func fitParabola(xs, ys, ws []float64) [3]float64 {
	var a [3][4]float64
	for i, x := range xs {
		p := [3]float64{1, x, x * x}
		for r := range 3 {
			for c := range 3 {
				a[r][c] += ws[i] * p[r] * p[c]
			}
			a[r][3] += ws[i] * p[r] * ys[i]
		}
	}
	// Gaussian elimination with partial pivoting.
	for c := range 3 {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		if a[c][c] == 0 {
			return [3]float64{}
		}
		for r := range 3 {
			if r == c {
				continue
			}
			k := a[r][c] / a[c][c]
			for j := c; j < 4; j++ {
				a[r][j] -= k * a[c][j]
			}
		}
	}
	return [3]float64{a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]}
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

// mouthPose is a Mouth turned into lengths for one frame.
type mouthPose struct {
	drop    float64     // the lower lip's drop at mid-mouth
	close   float64     // part of the opening the image shows that the lips close (0..1)
	chin    float64     // the chin's drop
	lift    float64     // the upper lip's rise at mid-mouth
	narrow  float64     // relative narrowing of the lips (negative widens)
	power   float64     // exponent of the opening's outline: lower is rounder
	press   float64     // relative thinning of pressed lips
	teeth   float64     // height of drawn upper teeth (clipped to the gap)
	lowTeet float64     // height of drawn lower teeth
	bite    float64     // part of the gap the upper teeth fill
	prof    [65]float64 // the opening's outline (see profile)
}

// pose turns a mouth shape into lengths.
func (m *mouth) pose(s Mouth) mouthPose {
	w := 2 * m.a
	drop := s.Open * widest * w
	p := mouthPose{
		drop:   drop,
		lift:   0.12 * drop,
		chin:   0.8 * drop,
		narrow: 0.28*s.Round - 0.1*s.Stretch,
		power:  0.75 - 0.25*s.Round + 0.35*s.Stretch,
		press:  0.22 * s.Press,
		bite:   s.Bite,
		// Closed lips cover the teeth an open mouth shows; on an F the
		// lower lip rises to the upper teeth.
		close: min(1, max(s.Press, 0.5*s.Bite)),
	}
	if !m.realTeeth {
		p.teeth = max(0, teethMax*w-m.rest) * (1 - 0.5*s.Round)
	}
	for k := range p.prof {
		x := float64(k) / float64(len(p.prof)-1)
		p.prof[k] = math.Pow(1-x*x, p.power)
	}
	p.lowTeet = 0.02 * w * smoothstep(0.7, 1, s.Open) * (1 - 0.6*s.Round)
	return p
}

// still reports whether p leaves the mouth as the image shows it.
func (p mouthPose) still() bool {
	return p.drop < 1e-3 && p.close < 1e-3 && p.narrow == 0 && p.press == 0
}

// profile is the opening's height along the mouth, 1 at the middle and 0
// at the corners, x = u/a: (1-x²)^power, from a table made once a frame.
func (p *mouthPose) profile(x float64) float64 {
	f := math.Abs(x) * float64(len(p.prof)-1)
	if f >= float64(len(p.prof)-1) {
		return 0
	}
	k := int(f)
	return p.prof[k] + (p.prof[k+1]-p.prof[k])*(f-float64(k))
}

// lipReach is how far along the mouth, in half-widths from its middle,
// shade draws: beyond it the lips neither part nor press, and the mouth's
// motion is a smooth shift (see shift).
const lipReach = 1.5

// bandEnd returns how far down (in v) shade draws the mouth in pose p.
// Below it only the chin moves, with the jaw (see shift).
func (m *mouth) bandEnd(p *mouthPose) float64 {
	return m.split[0] + m.lower + 0.3*m.a + max(p.drop, 0) + 0.15*m.d
}

// bandBox returns the source pixels that shade may draw in pose p.
func (m *mouth) bandBox(p *mouthPose) image.Rectangle {
	return m.f.box(-lipReach*m.a-1, lipReach*m.a+1, m.top-lipFade*m.d-1, m.bandEnd(p)+1)
}

// chinWidth is how much of the jaw's drop the lower face takes at x = u/a
// along the mouth: all of it across the chin, none beyond the jaw's sides.
func chinWidth(x float64) float64 { return 1 - smoothstep(1.0, 2.3, math.Abs(x)) }

// neck is how much of the jaw's drop the lower face takes at v: all of it
// down to the chin, fading out below.
func (m *mouth) neck(v float64) float64 {
	return 1 - smoothstep(m.chin, m.chin+neckFade*m.d, v)
}

// narrowed returns the u of the source point that rounding or stretching
// brings to (u, v): the lips move along the mouth, most at the lips and
// not at all beyond the cheeks, or above and below the mouth.
func (m *mouth) narrowed(p *mouthPose, u, v float64) float64 {
	if p.narrow == 0 {
		return u
	}
	band := (1 - smoothstep(0, narrowFade*m.d, m.top-v)) * (1 - smoothstep(0, narrowFade*m.d, v-(m.split[0]+max(p.drop, 0)+m.lower)))
	return u * (1 + p.narrow*band*(1-smoothstep(1.0, 2.2, math.Abs(u)/m.a)))
}

// shift returns how far the face at source point q moves in pose p where
// shade does not draw it (beside the lips and below bandEnd), in source
// coordinates: the cheeks as the lips round or stretch, and the chin with
// the jaw. It is smooth, so it can be sampled on a coarse grid; beside the
// lips it agrees with shade.
func (m *mouth) shift(p *mouthPose, q face.Point) (dx, dy float64) {
	if p.chin == 0 && p.narrow == 0 {
		return 0, 0
	}
	u, v := m.f.local(q)
	x := u / m.a
	if math.Abs(x) >= 2.3 {
		return 0, 0
	}
	du := u - m.narrowed(p, u, v)
	j := m.splitAt(u)
	dv := p.chin * chinWidth(x) * smoothstep(j, j+m.lower+0.3*m.a, v) * m.neck(v)
	return du*m.f.ex.X + dv*m.f.ey.X, du*m.f.ex.Y + dv*m.f.ey.Y
}

// shade returns the colour of the posed mouth at source point q (the
// point after the head's motion), and false when q is outside the lips'
// reach, where warping the source by shift shows it.
func (m *mouth) shade(src *image.RGBA, p *mouthPose, q face.Point) (rgb, bool) {
	u, v := m.f.local(q)
	a := m.a
	if math.Abs(u) > lipReach*a || v < m.top-lipFade*m.d || v > m.bandEnd(p) {
		return rgb{}, false
	}
	us := m.narrowed(p, u, v)
	x := us / a
	j := m.splitAt(us)

	// Pressed lips are thinner: content near the split moves toward it.
	if p.press > 0 {
		t := m.upper
		if v > j {
			t = m.lower
		}
		w := (1 - smoothstep(0.6, 1.6, math.Abs(v-j)/t)) * (1 - smoothstep(0.8, 1.3, math.Abs(x)))
		v = j + (v-j)*(1+p.press*w)
	}

	// How far the lips' edges move at this point along the mouth: apart
	// as the mouth opens, toward each other as it closes.
	var lowLip, upLip float64
	if p.drop > 0 {
		pr := p.profile(x) * (1 - p.close)
		lowLip, upLip = p.drop*pr, p.lift*pr
	}
	if p.close > 0 {
		// The lips meet over the opening, the lower lip rising most; a
		// little more than the opening, so no sliver of teeth stays.
		o := m.openingAt(us) * p.close
		lowLip -= 0.8 * o
		upLip -= 0.35 * o
	}
	chinW := chinWidth(x)
	lowerEnd := j + m.lower + 0.3*a
	// below is the drop at v of a point of the lower face.
	below := func(v float64) float64 {
		s := smoothstep(j, lowerEnd, v)
		return lowLip*(1-s) + p.chin*chinW*s*m.neck(v)
	}
	// above is the rise of a point of the upper lip.
	above := func(v float64) float64 {
		return upLip * smoothstep(m.top-lipFade*m.d, m.top, v)
	}
	vl := v - lowLip
	for range 2 {
		vl = v - below(max(vl, j))
	}
	if lowLip < 0 {
		// Rising over the teeth, the lip's edge is its own.
		lowLip = 0
	}
	vu := v + upLip
	for range 2 {
		vu = v + above(min(vu, j))
	}
	// The lower lip's edge row is often a blend with what was above it
	// (teeth): as the lip drops, its edge is taken from a little below.
	jl := j + m.edge*min(1, lowLip/(3*m.edge))
	// Coverage of the pixel by the lower and the upper lip, antialiased
	// over m.edge; the lower lip is in front where they overlap.
	inL := min(max((vl-jl)/m.edge+0.5, 0), 1)
	inU := min(max((j-vu)/m.edge+0.5, 0), 1-inL)
	if inL == 1 {
		return m.at(src, us, vl), true
	}
	if inU == 1 {
		return m.at(src, us, vu), true
	}
	var c rgb
	if inL > 0 {
		c = m.at(src, us, max(vl, jl+0.01)).scale(inL)
	}
	if inU > 0 {
		u := m.at(src, us, min(vu, j-0.01))
		for k := range c {
			c[k] += u[k] * inU
		}
	}
	if in := 1 - inL - inU; in > 0 {
		top := j - upLip
		gap := max(lowLip+upLip, 1e-6)
		g := m.inside(p, x, min(max((v-top)/gap, 0), 1), gap)
		for k := range c {
			c[k] += g[k] * in
		}
	}
	return c, true
}

// toothGap returns the distance, along the mouth in parts of its half
// width, from x to the nearest gap between two upper teeth: between the
// central incisors, then after the laterals, the canines and the premolars,
// in the proportions of an average adult's teeth and mouth.
func toothGap(x float64) float64 {
	x = math.Abs(x)
	d := x
	for _, g := range []float64{0.34, 0.6, 0.88} {
		d = min(d, math.Abs(x-g))
	}
	return d
}

// inside returns the colour of the open mouth at x = u/a along it and f
// (0 at the upper lip, 1 at the lower) across the gap of height gap.
func (m *mouth) inside(p *mouthPose, x, f, gap float64) rgb {
	// Shadow under the upper lip and teeth, the tongue lower down and in
	// the middle, and the corners darker.
	c := m.interior.scale(0.6 + 0.4*smoothstep(0, 0.6, f))
	tongue := rgb{m.lip[0] * 0.55, m.lip[1] * 0.3, m.lip[2] * 0.3}
	c = c.mix(tongue, 0.55*smoothstep(0.5, 1, f)*(1-x*x))
	c = c.scale(1 - 0.45*x*x)
	teeth := max(p.teeth, p.bite*gap) * math.Sqrt(max(0, 1-x*x))
	if teeth > 0 {
		// Upper teeth: each edge a little rounded, so the band's lower
		// edge dips between teeth, with a faint line at each gap, in
		// shadow under the lip and toward the corners.
		g := toothGap(x)
		w := max(0.02, m.edge/m.a) // a gap line's half width, in parts of a
		teeth *= 1 - 0.12*(1-smoothstep(0, 3*w, g))
		if y := f * gap; y < teeth+0.5 {
			shade := (0.7 + 0.3*(1-x*x)) * (0.85 + 0.15*smoothstep(0, 0.35*teeth, y))
			shade *= 1 - 0.18*(1-smoothstep(0, w, g))
			c = c.mix(m.teeth.scale(shade), min(1, teeth+0.5-y))
		}
	}
	if lt := p.lowTeet * max(0, 1-2*x*x); lt > 0 {
		// A hint of the lower teeth behind the lower lip.
		if y := (1 - f) * gap; y < lt+0.5 {
			c = c.mix(m.teeth.scale(0.55), min(1, lt+0.5-y)*0.5)
		}
	}
	return c
}
