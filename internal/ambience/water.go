package ambience

import "math"

// sea is surf: brown noise whose level and brightness swell with each wave
// and a hiss of foam after each crest.
//
// Waves come one after another, every 6 to 12 s (5 to 9 in heavy surf),
// each with its own size. A wave builds slowly, breaks in about a third of
// a second, and washes out while the next one builds, so the swells
// overlap as they do on a beach; the foam hiss rises as a wave breaks and
// drains away more slowly. The clip starts at a random point of a wave,
// so even five seconds hear one move.
func sea(r *rng, out []float64, in Intensity) {
	type surge struct {
		start  int     // sample where the wave starts to build; may be before 0
		period float64 // seconds until the next wave starts
		size   float64
	}
	period := func() float64 { return in.pick(r.between(7, 12), r.between(6, 12), r.between(5, 9)) }
	// The waves of the clip and two before it, whose wash still sounds.
	first := period()
	at := -sec(first*r.float()) - sec(2*first)
	var waves []surge
	for at < len(out) {
		w := surge{at, period(), r.between(0.5, 1)}
		waves = append(waves, w)
		at += sec(w.period)
	}

	var b brown
	body := newSVF(400, 0.6)
	foamHP := newSVF(2500, 0.6)
	foamLP := newSVF(10000, 0.6)
	wash := newCurve(r, 0.4) // the foam's texture
	floor := in.pick(0.3, 0.2, 0.15)
	foamLevel := in.pick(0.25, 0.4, 0.55)
	var env, foam float64
	for i := range out {
		if i%ctl == 0 {
			env, foam = 0, 0
			for _, w := range waves {
				t := float64(i-w.start) / rate
				if t < 0 || t > 4*w.period {
					continue
				}
				e, f := wave(t, w.period)
				env += w.size * e
				foam += w.size * f
			}
			env = floor + (1-floor)*min(env, 1.2)
			body.set(250+1400*env*env, 0.6)
		}
		w := r.signed()
		l, _, _ := body.tick(b.tick(w))
		_, _, h := foamHP.tick(w)
		f, _, _ := foamLP.tick(h)
		out[i] = env*l + foamLevel*foam*(0.6+0.4*wash.next())*f
	}
}

// wave returns the level of a wave's body and of its foam t seconds after
// it starts to build, for a wave period seconds long. The wave builds
// until it breaks at 55% of its period, reaches its crest a third of a
// second later, and then decays through the next wave; the foam follows
// the break and lasts longer. Both are continuous, so nothing clicks.
func wave(t, period float64) (body, foam float64) {
	const rise = 0.35 // seconds from the break to the crest
	brk := 0.55 * period
	switch {
	case t < brk:
		q := t / brk
		body = 0.35 * q * q
	case t < brk+rise:
		q := (t - brk) / rise
		body = 0.35 + 0.65*q*q*(3-2*q)
	default:
		body = math.Exp(-(t - brk - rise) / (0.2 * period))
	}
	if t >= brk {
		d := t - brk
		foam = (1 - math.Exp(-d/0.25)) * math.Exp(-d/(0.25*period))
	}
	return body, foam
}

// stream is running water: a bed of band-passed noise that flutters,
// dense bubbles of many pitches, and for a waterfall or rapids a broad
// roar.
func stream(r *rng, out []float64, in Intensity) {
	bed := newSVF(in.pick(1600, 1100, 800), 0.7)
	flutter := newCurve(r, 0.05)
	roarLP := newOnePole(3500)
	var p pink
	roar := in.pick(0, 0.3, 1.2)
	for i := range out {
		w := r.signed()
		_, bp, _ := bed.tick(w)
		out[i] = 0.35*bp*(0.6+0.8*flutter.next()) + roar*roarLP.tick(p.tick(w))
	}
	perSecond := in.pick(120, 200, 300)
	lo, hi := in.pick(600, 400, 300), in.pick(2800, 2200, 1800)
	for at := r.wait(perSecond); at < len(out); at += r.wait(perSecond) {
		// Smaller bubbles ring higher and shorter; pick the size, derive both.
		size := r.float()
		f0 := lo * math.Pow(hi/lo, size)
		u := r.float()
		bubble(out[at:], f0, f0*r.between(1.1, 1.5), 0.003+0.012*(1-size), 0.04+0.25*u*u)
	}
}
