package ambience

import "math"

// The recipes below add a layer's sound into out, at an arbitrary level:
// Render sets each layer's loudness afterwards. Filters whose cutoff moves
// are retuned every ctl samples, fast enough for any motion here and much
// cheaper than every sample.
const ctl = 32

// rain is a hiss of countless far drops plus near drops of every size.
//
// The hiss is white noise band-limited to about 1–9 kHz (more body in
// heavy rain) with a fast random flutter, so it is not a steady hiss.
// Drops come as a Poisson stream, each a short burst of noise (1–4 ms)
// with an amplitude from a steep power law (most faint, a few loud),
// through one of three broad band-passes that wander slowly in pitch, so
// no two drops sound alike. A sparser stream of near drops rings: a
// decaying tone that glides upwards, like the bubble a drop traps when it
// lands in water.
func rain(r *rng, out []float64, in Intensity) {
	hiss := in.pick(0.5, 0.45, 0.4)
	hp := newSVF(in.pick(1400, 1000, 600), 0.6)
	lp := newSVF(9000, 0.6)
	flutter := newCurve(r, 0.03)
	for i := range out {
		_, _, h := hp.tick(r.signed())
		l, _, _ := lp.tick(h)
		out[i] = hiss * l * (0.75 + 0.5*flutter.next())
	}

	perSecond := in.pick(400, 1200, 3000)
	type bank struct {
		f          *svf
		pitch      *curve
		lo, hi     float64 // range of the wandering centre, Hz
		env, decay float64 // current burst level and its per-sample decay
		next       int     // sample of the next drop
	}
	banks := []*bank{
		{lo: 1200, hi: 2500},
		{lo: 2500, hi: 5000},
		{lo: 4500, hi: 9000},
	}
	for _, b := range banks {
		b.f = newSVF(b.lo, 1.2)
		b.pitch = newCurve(r, 1.5)
		b.next = r.wait(perSecond / 3)
	}
	for i := range out {
		for _, b := range banks {
			if i%ctl == 0 {
				b.f.set(b.lo+(b.hi-b.lo)*b.pitch.next(), 1.2)
				b.pitch.skip(ctl - 1)
			}
			if i == b.next {
				u := r.float()
				b.env += 0.2 + 2.5*u*u*u*u
				b.decay = math.Exp(-1 / (rate * r.between(0.0006, 0.0025)))
				b.next += r.wait(perSecond / 3)
			}
			if b.env < 1e-4 {
				continue
			}
			_, bp, _ := b.f.tick(b.env * r.signed())
			out[i] += bp
			b.env *= b.decay
		}
	}

	near := in.pick(6, 14, 30)
	for at := r.wait(near); at < len(out); at += r.wait(near) {
		f0 := r.between(1200, 3500)
		u := r.float()
		bubble(out[at:], f0, f0*r.between(1.2, 1.8), r.between(0.004, 0.012), 0.1+0.6*u*u)
	}
}

// bubble adds a decaying tone that glides from f0 to f1 Hz: the ring of a
// bubble (in rain drops and streams), which rises as the bubble shrinks.
// It lasts four time constants tau, in seconds.
func bubble(out []float64, f0, f1, tau, amp float64) {
	n := min(len(out), sec(4*tau))
	decay := math.Exp(-1 / (rate * tau))
	// The frequency approaches f1 exponentially, most of the way in one tau.
	glide := 1 - decay
	f := f0
	phase, env := 0.0, amp
	attack := sec(0.0005)
	for i := range n {
		a := env
		if i < attack {
			a *= float64(i) / float64(attack)
		}
		out[i] += a * sine(phase)
		phase = wrap(phase + f/rate)
		f += (f1 - f) * glide
		env *= decay
	}
}

// wind is noise heard through moving air: pink noise through a band-pass
// whose centre and level follow slow gusts, with a rumble under it. A
// heavy wind also howls: a narrow band that rises in pitch as a gust
// peaks.
func wind(r *rng, out []float64, in Intensity) {
	gust := newCurve(r, in.pick(3.5, 2.6, 1.8))
	swell := newCurve(r, 8)
	var p pink
	var b brown
	body := newSVF(400, 0.8)
	howl := newSVF(600, 9)
	rumble := newOnePole(120)
	howling := in.pick(0, 0.12, 0.35)
	var g, s float64
	for i := range out {
		if i%ctl == 0 {
			g, s = gust.next(), swell.next()
			gust.skip(ctl - 1)
			swell.skip(ctl - 1)
			// Gusts are peaky: the cube keeps the lulls long and the peaks
			// short; the slow swell makes some gusts stronger than others.
			g = 0.1 + 0.9*g*g*g*(0.4+0.6*s)
			body.set(180+in.pick(400, 650, 900)*g, 0.8)
			howl.set(in.pick(350, 420, 480)+500*g, 9)
		}
		w := r.signed()
		_, bp, _ := body.tick(p.tick(w))
		_, hb, _ := howl.tick(w)
		out[i] = g*bp + howling*g*g*hb + 0.8*g*rumble.tick(b.tick(w))
	}
}

// thunder adds a thunderclap that starts exactly at out[0]: a crack, then a
// rumble. The crack is a train of three to six broadband bursts over the
// first 350 ms (the channel's segments, nearest first), each starting in a
// fraction of a millisecond, duller and quieter the farther away. The
// rumble is brown noise below about 250 Hz that swells after a delay of
// 0.05–0.55 s (farther is later) and rolls away over 2 to 4 s, its level
// tumbling with the echoes.
func thunder(r *rng, out []float64, strength float64) {
	s := strength
	crack := 10.0
	crackLP := newSVF(1500+9000*s*s, 0.7)
	bursts := 3 + r.intn(4)
	type burst struct {
		at        int
		amp, tau  float64
		attackLen int
	}
	var bs []burst
	for k := range bursts {
		at := 0
		if k > 0 {
			at = sec(r.between(0.02, 0.35))
		}
		amp := 1.0
		if k > 0 {
			amp = r.between(0.25, 0.8)
		}
		// Even a far crack is heard: what distance takes is mostly treble.
		amp *= 0.6 + 0.4*s
		bs = append(bs, burst{at, amp, r.between(0.02, 0.08), sec(r.between(0.0003, 0.0015))})
	}
	n := min(len(out), sec(0.8))
	for i := range n {
		var e float64
		for _, b := range bs {
			t := i - b.at
			if t < 0 || t > sec(6*b.tau) {
				continue
			}
			a := b.amp * math.Exp(-float64(t)/(rate*b.tau))
			if t < b.attackLen {
				a *= float64(t) / float64(b.attackLen)
			}
			e += a
		}
		l, _, _ := crackLP.tick(e * r.signed())
		out[i] += crack * l
	}

	delay := sec(0.05 + 0.5*(1-s))
	length := r.between(2, 4)
	tau := length / 3
	roll := newCurve(r, 0.22)
	var b brown
	lp := newSVF(140+120*s, 0.6)
	mid := newSVF(380, 1.5)
	level := 3.5 * (0.4 + 0.6*s)
	n = min(len(out)-delay, sec(length))
	for i := range max(n, 0) {
		t := float64(i) / rate
		env := (1 - math.Exp(-t/0.12)) * math.Exp(-t/tau)
		if end := length - t; end < 0.3 {
			env *= end / 0.3 // no cut at the end
		}
		env *= 0.45 + 0.55*roll.next()
		w := r.signed()
		l, _, _ := lp.tick(b.tick(w))
		_, m, _ := mid.tick(w)
		out[delay+i] += level * env * (l + 0.08*m)
	}
}
