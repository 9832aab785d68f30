package render

import (
	"image"
	"math"
	"strings"

	"stillmotion/internal/prompt"
	"stillmotion/internal/splitmix"
)

// Atmosphere is a set of effects drawn over the framed picture: particles
// in the air and fog; the life of water (a shimmer of the lower part of
// the frame), sky (a drift of its upper part), foliage (a sway in the
// wind) and a figure's hair and clothes; light rays that breathe; and a
// lens flare. They are seeded (Shot.Seed), fade in over the first frames
// so that frame 0 is still the picture, and are drawn in perspective:
// near particles are larger, brighter and faster, and what belongs to the
// scene (foliage, rays, the flare's light) moves with the camera.
type Atmosphere uint16

// The effects.
const (
	Rain Atmosphere = 1 << iota
	Snow
	Dust
	Embers
	Fireflies
	Petals
	Fog
	Rays       // light rays from the brightest part of the picture
	Water      // a shimmer of ripples over the lower part of the picture
	Clouds     // a slow drift of the sky in the upper part of the picture
	Sway       // foliage swaying in a gusty wind
	Hair       // a figure's hair and clothes moving in the wind (with Shot.Figure)
	Flare      // a lens flare from the brightest light
	numEffects = iota
)

// numParticles is how many of the effects are particles: the first ones.
const numParticles = 6

var effectNames = [...]string{"rain", "snow", "dust", "embers", "fireflies", "petals", "fog", "light rays", "water shimmer", "drifting clouds", "foliage sway", "hair and cloth in wind", "lens flare"}

// String returns the effects in words joined by "+", or "" for none.
func (a Atmosphere) String() string {
	var names []string
	for i := range numEffects {
		if a&(1<<i) != 0 {
			names = append(names, effectNames[i])
		}
	}
	return strings.Join(names, "+")
}

// promptEffects are the effects of the prompt's words.
var promptEffects = [numEffects]struct {
	said   prompt.Atmosphere
	effect Atmosphere
}{
	{prompt.Rain, Rain}, {prompt.Snow, Snow}, {prompt.Dust, Dust}, {prompt.Embers, Embers},
	{prompt.Fireflies, Fireflies}, {prompt.Petals, Petals}, {prompt.Fog, Fog}, {prompt.Rays, Rays},
	{prompt.Water, Water}, {prompt.Clouds, Clouds}, {prompt.Sway, Sway}, {prompt.Hair, Hair}, {prompt.Flare, Flare},
}

// PlanAtmosphere returns the effects the prompt asks for (sc.Atmosphere):
// "rain", "snow", "dust motes", "embers", "fireflies", "cherry blossoms",
// "fog", "haze", "god rays", "sunbeams", "lake", "sea", "clouds", "sky",
// "smoke", "wind", "trees", "meadow", "flowing hair", "lens flare",
// "anamorphic"... less those the prompt negates or the negative prompt
// names; a negative "particles" removes only the particles. Hair and cloth
// in wind are drawn only with a figure (Shot.Figure).
func PlanAtmosphere(sc *prompt.Scene) Atmosphere {
	var a Atmosphere
	for _, e := range promptEffects {
		if sc.Atmosphere.Has(e.said) {
			a |= e.effect
		}
	}
	return a
}

// particle kinds' looks: count per 1280x720 frame, radius and speed in
// pixels at 720p for the nearest particle, colour, opacity.
type kind struct {
	count  int
	radius float64
	vx, vy float64 // pixels per frame at depth 1
	sway   float64 // amplitude of sideways sway, pixels
	streak float64 // length of a streak along the velocity, in frames
	col    [3]float64
	alpha  float64
	glow   bool // additive, flickering light
}

var kinds = [numParticles]kind{
	{count: 1500, radius: 1.1, vx: -2.5, vy: 28, streak: 0.9, col: [3]float64{215, 225, 240}, alpha: 0.45},
	{count: 1000, radius: 3.6, vx: 0.4, vy: 2.4, sway: 6, col: [3]float64{250, 250, 255}, alpha: 0.9},
	{count: 600, radius: 1.7, vx: 0.35, vy: -0.12, sway: 3, col: [3]float64{255, 236, 200}, alpha: 0.55, glow: true},
	{count: 350, radius: 2.3, vx: 0.6, vy: -3.4, sway: 5, col: [3]float64{255, 140, 40}, alpha: 1, glow: true},
	{count: 130, radius: 3.4, vx: 0.3, vy: -0.2, sway: 14, col: [3]float64{200, 255, 90}, alpha: 1, glow: true},
	{count: 260, radius: 4.6, vx: 1.4, vy: 2.2, sway: 10, col: [3]float64{255, 190, 205}, alpha: 0.9},
}

// particles is a seeded set of particles of one kind: their start in
// [0, 1)², depth and phase.
type particles struct {
	k                kind
	x, y, z, ph, frq []float64
}

func newParticles(e int, seed int64, scale float64) *particles {
	k := kinds[e]
	n := int(float64(k.count) * scale)
	p := &particles{k: k}
	x := splitmix.Mix(uint64(seed) ^ uint64(e+1)*0x9e37)
	next := func() float64 {
		x = splitmix.Mix(x)
		return float64(x>>11) / (1 << 53)
	}
	for range n {
		p.x = append(p.x, next())
		p.y = append(p.y, next())
		// Depth 0.25 (near) .. 1 (far): 1/z is size and speed.
		p.z = append(p.z, 0.25+0.75*math.Sqrt(next()))
		p.ph = append(p.ph, 2*math.Pi*next())
		p.frq = append(p.frq, 0.5+next())
	}
	return p
}

// draw draws the particles as they are on frame f into the w x h top-left
// of dst, with opacity scaled by fade.
func (p *particles) draw(dst *image.RGBA, w, h int, f, fade float64) {
	u := float64(h) / 720 // pixels per 720p pixel
	k := p.k
	for i := range p.x {
		near := 1 / p.z[i] // 1..4
		sz := near / 2
		vx, vy := k.vx*u*sz, k.vy*u*sz
		sw := k.sway * u * sz * math.Sin(f*0.06*p.frq[i]+p.ph[i])
		// Positions wrap over the frame plus a margin, so particles leave
		// at one edge and come back at the other.
		mx, my := 0.1*float64(w), 0.1*float64(h)
		x := wrap(p.x[i]*(float64(w)+2*mx)+vx*f+sw, float64(w)+2*mx) - mx
		y := wrap(p.y[i]*(float64(h)+2*my)+vy*f, float64(h)+2*my) - my
		a := k.alpha * fade * min(1, 0.35+0.65*sz)
		if k.glow {
			a *= 0.55 + 0.45*math.Sin(f*0.15*p.frq[i]+p.ph[i])
		}
		r := k.radius * u * sz
		if k.streak > 0 {
			// A streak: discs along the path of the last part of a frame.
			lx, ly := vx*k.streak, vy*k.streak
			streak(dst, w, h, x, y, lx, ly, max(1, int(math.Hypot(lx, ly))), r, k.col, a)
			continue
		}
		splat(dst, w, h, x, y, r, k.col, a, k.glow)
		if k.glow {
			splat(dst, w, h, x, y, 3*r, k.col, 0.25*a, true)
		}
	}
}

func wrap(v, n float64) float64 {
	v = math.Mod(v, n)
	if v < 0 {
		v += n
	}
	return v
}

// splat blends a soft disc of radius r (at least a pixel) centred at (x,
// y) into dst: over the picture, or added to it for light.
func splat(dst *image.RGBA, w, h int, x, y, r float64, col [3]float64, a float64, add bool) {
	r = max(r, 0.7)
	x0, x1 := max(int(x-r-1), 0), min(int(x+r+1), w-1)
	y0, y1 := max(int(y-r-1), 0), min(int(y+r+1), h-1)
	// Pixels beyond the rim are skipped before the square root: a pixel
	// just inside this bound and beyond the rim gets a coverage of zero,
	// as it did before the bound.
	rim := (r + 0.5) * (r + 0.5) * (1 + 1e-9)
	for py := y0; py <= y1; py++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+py):]
		dy := float64(py) + 0.5 - y
		for px := x0; px <= x1; px++ {
			dx := float64(px) + 0.5 - x
			if dx*dx+dy*dy > rim {
				continue
			}
			d := math.Hypot(dx, dy)
			cov := min(max(r+0.5-d, 0), 1)
			if cov <= 0 {
				continue
			}
			// A soft falloff towards the rim.
			cov *= 1 - 0.5*(d/(r+0.5))*(d/(r+0.5))
			k := a * cov
			q := row[4*px : 4*px+3 : 4*px+3]
			for c := range 3 {
				v := float64(q[c])
				if add {
					v += col[c] * k
				} else {
					v += (col[c] - v) * k
				}
				q[c] = uint8(min(v+0.5, 255))
			}
		}
	}
}

// streak blends n soft discs of radius r along the path from (x, y) back
// by (lx, ly) into dst, the one at t = s/n of the way with opacity
// a(1-0.6t): as splat would one after another, but in one pass, each
// pixel taking once what all the discs covering it let through (the
// product), and rounded once.
func streak(dst *image.RGBA, w, h int, x, y, lx, ly float64, n int, r float64, col [3]float64, a float64) {
	r = max(r, 0.7)
	rr := r + 0.5
	rim := rr * rr * (1 + 1e-9)
	inv2 := 1 / (rr * rr)
	fn := float64(n)
	step := 1 / fn
	last := (fn - 1) / fn // t of the last disc
	y0 := max(int(min(y, y-ly*last)-r-1), 0)
	y1 := min(int(max(y, y-ly*last)+r+1), h-1)
	for py := y0; py <= y1; py++ {
		dy0 := float64(py) + 0.5 - y
		// The discs whose centres lie within the rim of this row.
		s0, s1 := 0, n-1
		if math.Abs(ly) > 1e-9 {
			ta, tb := (dy0-rr)/-ly, (dy0+rr)/-ly
			if ta > tb {
				ta, tb = tb, ta
			}
			s0, s1 = max(s0, int(math.Floor(ta*fn))), min(s1, int(math.Ceil(tb*fn)))
		}
		if s0 > s1 {
			continue
		}
		xa, xb := x-lx*float64(s0)/fn, x-lx*float64(s1)/fn
		x0 := max(int(min(xa, xb)-r-1), 0)
		x1 := min(int(max(xa, xb)+r+1), w-1)
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+py):]
		for px := x0; px <= x1; px++ {
			dx0 := float64(px) + 0.5 - x
			through := 1.0
			for s := s0; s <= s1; s++ {
				t := float64(s) * step
				dx, dy := dx0+lx*t, dy0+ly*t
				d2 := dx*dx + dy*dy
				if d2 > rim {
					continue
				}
				d := math.Sqrt(d2)
				cov := min(max(rr-d, 0), 1) * (1 - 0.5*d2*inv2)
				through *= 1 - a*(1-0.6*t)*cov
			}
			if through == 1 {
				continue
			}
			q := row[4*px : 4*px+3 : 4*px+3]
			for c := range 3 {
				v := col[c] + (float64(q[c])-col[c])*through
				q[c] = uint8(min(max(v+0.5, 0), 255))
			}
		}
	}
}

// fog is a drifting, low-frequency veil, denser low in the frame.
type fog struct {
	grid   []float64 // value noise, gw x gh cells
	gw, gh int
	col    [3]float64
}

func newFog(seed int64, col [3]float64) *fog {
	g := &fog{gw: 24, gh: 10, col: col}
	x := splitmix.Mix(uint64(seed) ^ 0xf09)
	for range g.gw * g.gh {
		x = splitmix.Mix(x)
		g.grid = append(g.grid, float64(x>>11)/(1<<53))
	}
	return g
}

// draw veils the w x h top-left of dst as on frame f, with strength
// scaled by fade.
func (g *fog) draw(dst *image.RGBA, w, h int, f, fade float64) {
	// The veil's opacity is computed on a coarse grid of 16-pixel cells
	// and interpolated, which is smooth enough for fog and cheap.
	const cell = 16
	cw, ch := w/cell+2, h/cell+2
	op := make([]float64, cw*ch)
	drift := f * 0.004 // cells of noise per frame
	for j := range ch {
		yf := float64(j*cell) / float64(h)
		height := 0.35 + 0.65*smooth01((yf-0.2)/0.8) // denser low down
		for i := range cw {
			xf := float64(i*cell)/float64(w)*float64(g.gw-2) + drift
			n := g.noise(xf, yf*float64(g.gh-2)+0.3*math.Sin(drift))
			n = 0.6*n + 0.4*g.noise(2.1*xf+5+drift, 2.1*yf*float64(g.gh-2)+3)
			op[j*cw+i] = fade * 0.42 * height * (0.45 + 0.75*n)
		}
	}
	ci := [3]int32{int32(g.col[0]), int32(g.col[1]), int32(g.col[2])}
	for y := range h {
		j, fy := y/cell, float64(y%cell)/cell
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for x := range w {
			i, fx := x/cell, float64(x%cell)/cell
			a := (op[j*cw+i]*(1-fx)+op[j*cw+i+1]*fx)*(1-fy) + (op[(j+1)*cw+i]*(1-fx)+op[(j+1)*cw+i+1]*fx)*fy
			k := int32(a * 256)
			q := row[4*x : 4*x+3 : 4*x+3]
			for c := range 3 {
				v := int32(q[c])
				q[c] = uint8(v + ((ci[c]-v)*k)>>8)
			}
		}
	}
}

// noise samples the value noise at (x, y) in cells, smoothly, wrapping.
func (g *fog) noise(x, y float64) float64 {
	x, y = wrap(x, float64(g.gw)), wrap(y, float64(g.gh))
	x0, y0 := int(x), int(y)
	fx, fy := smooth01(x-float64(x0)), smooth01(y-float64(y0))
	at := func(i, j int) float64 { return g.grid[(j%g.gh)*g.gw+i%g.gw] }
	return (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
}

// atmosphere is the prepared effects of a renderer.
type atmosphere struct {
	parts  []*particles
	fog    *fog
	water  *fog   // the phases of the ripples in grid[:4]; nil without
	clouds *fog   // the noise that moves the sky; nil without
	wind   *wind  // foliage sway and hair and cloth; nil without
	rays   *rays  // nil without
	flare  *flare // nil without
}

// newAtmosphere prepares the effects of shot for fw x fh frames of the
// prepared source t; the fog takes the colour of the picture's bright sky,
// lightened. Hair and cloth need the shot's figure.
func newAtmosphere(shot Shot, fw, fh int, t, scene *texture) *atmosphere {
	a := shot.Atmosphere
	if shot.Figure.Empty() {
		a &^= Hair
	}
	if a == 0 {
		return nil
	}
	seed := shot.Seed
	at := &atmosphere{}
	scale := float64(fw*fh) / (1280 * 720)
	for e := range numParticles {
		if a&(1<<e) != 0 {
			at.parts = append(at.parts, newParticles(e, seed, scale))
		}
	}
	if a&Fog != 0 {
		mean := meanColour(t)
		var col [3]float64
		for c := range 3 {
			col[c] = 0.45*mean[c] + 0.55*215
		}
		at.fog = newFog(seed, col)
	}
	if a&Water != 0 {
		at.water = newFog(seed^0x3a7e, [3]float64{})
	}
	if a&Clouds != 0 {
		at.clouds = newFog(seed^0xc10d, [3]float64{})
	}
	if a&(Sway|Hair) != 0 {
		var face Box
		if a&Hair != 0 {
			face = shot.Figure
		}
		at.wind = newWind(t, scene, a&Sway != 0, face, seed, fw, fh)
	}
	if a&Rays != 0 {
		at.rays = newRays(t, seed, fw, fh)
	}
	if a&Flare != 0 {
		at.flare = newFlare(scene, seed, fw, fh)
	}
	return at
}

// draw draws frame i's effects, seen through the frame's views sc; they
// fade in over the first half second.
func (at *atmosphere) draw(dst *image.RGBA, w, h, i int, sc scene) {
	at.drawFaded(dst, w, h, i, smooth01(float64(i)/12), sc)
}

// drawFaded draws as draw, at the strength fade in 0..1.
func (at *atmosphere) drawFaded(dst *image.RGBA, w, h, i int, fade float64, sc scene) {
	f := float64(i)
	if fade == 0 {
		return
	}
	// The picture moves before anything is drawn over it, and light
	// scatters in the air before fog and particles veil it; a flare is
	// in the lens, over everything.
	if at.water != nil {
		shimmer(at.water, dst, w, h, f, fade)
	}
	if at.clouds != nil {
		drift(at.clouds, dst, w, h, f, fade)
	}
	if at.wind != nil {
		at.wind.draw(dst, w, h, f, fade, sc)
	}
	if at.rays != nil {
		at.rays.draw(dst, w, h, f, fade, sc.bg)
	}
	if at.fog != nil {
		at.fog.draw(dst, w, h, f, fade)
	}
	for _, p := range at.parts {
		p.draw(dst, w, h, f, fade)
	}
	if at.flare != nil {
		at.flare.draw(dst, w, h, f, fade, sc.bg)
	}
}

// The water shimmer covers the picture below waterTop (a fraction of its
// height), fully below waterTop+waterSoft; the cloud drift covers it above
// skyBottom, fully above skyBottom-skySoft.
const (
	waterTop, waterSoft = 0.55, 0.2
	skyBottom, skySoft  = 0.55, 0.25
)

// shimmer displaces the rows of the lower part of the w x h top-left of dst
// sideways as on frame f: each row by a sum of two travelling sines of
// seeded phases, up to about 1.5 pixels at 720p and more for rows lower
// (nearer) in the frame, as ripples on water break up what it reflects.
// A whole row moves together, so it costs a copy and a blend per pixel.
func shimmer(g *fog, dst *image.RGBA, w, h int, f, fade float64) {
	u := float64(h) / 720
	tmp := make([]uint8, 4*w)
	for y := int(waterTop * float64(h)); y < h; y++ {
		v := float64(y) / float64(h)
		m := smooth01((v - waterTop) / waterSoft)
		if m == 0 {
			continue
		}
		// Wavelengths grow towards the bottom of the frame, as nearer
		// ripples look larger.
		py := float64(y) / u / (1 + 2*v)
		dx := fade * m * u * (1 + v) * (0.55*math.Sin(py*0.9+f*0.21+2*math.Pi*g.grid[0]) +
			0.45*math.Sin(py*0.37-f*0.13+2*math.Pi*g.grid[1]))
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		copy(tmp, row)
		shiftRow(row, tmp, w, func(int) float64 { return dx })
	}
}

// drift moves the sky, the upper part of the w x h top-left of dst, as on
// frame f: each pixel is displaced sideways by a smooth noise that
// travels across the frame, up to about 4 pixels at 720p, so clouds and
// smoke seem to roll and drift while the picture's edges stay put. Sharp
// detail (a tower's girders, a roof line) is not sky: where a 16-pixel
// cell's mean luma step is large the displacement fades out, so such
// things stand still. The displacement is computed every 16 pixels and
// interpolated.
func drift(g *fog, dst *image.RGBA, w, h int, f, fade float64) {
	const cell = 16
	u := float64(h) / 720
	rows := int(skyBottom * float64(h))
	cols, crow := w/cell+2, rows/cell+2
	// still[j*cols+i] is how much the detail around the grid point
	// (i, j)*cell holds the picture still, 0..1.
	still := make([]float64, cols*crow)
	for j := range crow {
		for i := range cols {
			var sum, n float64
			for y := max(j*cell-cell/2, 0); y < min(j*cell+cell/2, h-1); y += 2 {
				row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):]
				below := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y+1):]
				for x := max(i*cell-cell/2, 0); x < min(i*cell+cell/2, w-1); x++ {
					l := int(row[4*x+1])
					sum += math.Abs(float64(int(row[4*x+5])-l)) + math.Abs(float64(int(below[4*x+1])-l))
					n++
				}
			}
			if n > 0 {
				still[j*cols+i] = smooth01((sum/n - 6) / 14)
			}
		}
	}
	d := make([]float64, cols)
	tmp := make([]uint8, 4*w)
	for y := range rows {
		v := float64(y) / float64(h)
		m := 1 - smooth01((v-(skyBottom-skySoft))/skySoft)
		if m == 0 {
			continue
		}
		j, fy := y/cell, float64(y%cell)/cell
		for i := range cols {
			x := float64(i*cell) / float64(w) * 6
			n := g.noise(x-f*0.012, v*4) + 0.5*g.noise(2*x-f*0.02+7, v*8+3)
			hold := still[j*cols+i]*(1-fy) + still[(j+1)*cols+i]*fy
			d[i] = fade * m * (1 - hold) * 4 * u * (n/1.5*2 - 1)
		}
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		copy(tmp, row)
		shiftRow(row, tmp, w, func(x int) float64 {
			i, t := x/cell, float64(x%cell)/cell
			return d[i]*(1-t) + d[i+1]*t
		})
	}
}

// shiftRow fills out with the pixels of src, w wide, sampled at x+dx(x)
// with linear interpolation, clamped at the row's ends.
func shiftRow(out, src []uint8, w int, dx func(x int) float64) {
	for x := range w {
		p := min(max(float64(x)+dx(x), 0), float64(w-1))
		i := min(int(p), w-2)
		if w < 2 {
			return
		}
		k := int32((p - float64(i)) * 256)
		a, b := src[4*i:4*i+3:4*i+3], src[4*i+4:4*i+7:4*i+7]
		for c := range 3 {
			out[4*x+c] = uint8(int32(a[c]) + ((int32(b[c])-int32(a[c]))*k+128)>>8)
		}
	}
}
