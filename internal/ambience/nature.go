package ambience

import "math"

// forest is wind in the leaves: noise between about 2 and 8 kHz that
// rustles (a fast flutter) and swells with gusts, over a little low wind.
// Plan brings birds into a forest by day as a layer of their own.
func forest(r *rng, out []float64, in Intensity) {
	gust := newCurve(r, 2.5)
	flutter := newCurve(r, 0.07)
	hp, lp := newSVF(2200, 0.6), newSVF(8000, 0.6)
	low := newSVF(300, 0.7)
	var p pink
	for i := range out {
		w := r.signed()
		g := gust.next()
		g = 0.2 + 0.8*g*g
		_, _, h := hp.tick(w)
		l, _, _ := lp.tick(h)
		lo, _, _ := low.tick(p.tick(w))
		out[i] = g * (0.5*l*(0.6+0.8*flutter.next()) + 0.3*lo)
	}
}

// birds is songbirds over faint outdoor air (so the gaps between calls
// are not dead silence). Two or three species sing, each with its own song
// drawn from the seed: a pitch between 2 and 5 kHz, notes of 40 to 160 ms
// that sweep up or down and may trill, one to six notes a call, a call
// every few seconds (light) to twice a second (heavy: a dawn chorus), near
// or far.
func birds(r *rng, out []float64, in Intensity) {
	var p pink
	lp := newOnePole(3000)
	for i := range out {
		out[i] = 0.01 * lp.tick(p.tick(r.signed()))
	}
	for range 2 + r.intn(2) {
		singer(r, out, in.pick(0.12, 0.25, 0.5))
	}
}

// singer adds the calls of one bird species, about perSecond calls a
// second.
func singer(r *rng, out []float64, perSecond float64) {
	f0 := r.between(2000, 5000)
	noteLen := r.between(0.04, 0.16)
	sweep := r.between(0.6, 1.7)
	trill, depth := r.between(15, 50), 0.0
	if r.float() < 0.5 {
		depth = r.between(0.01, 0.06)
	}
	notes := 1 + r.intn(6)
	gap := r.between(0.02, 0.1)
	step := r.between(0.9, 1.1) // how each note's pitch follows the last
	level := r.between(0.3, 0.8)
	for at := r.wait(perSecond); at < len(out); at += r.wait(perSecond) {
		f, k := f0*r.between(0.95, 1.05), at
		loud := level * r.between(0.6, 1)
		for range notes {
			n := sec(noteLen * r.between(0.85, 1.15))
			note(out[min(k, len(out)):], n, f, f*sweep, trill, depth, loud)
			k += n + sec(gap)
			f *= step
		}
	}
}

// note adds a whistled note n samples long gliding from f0 to f1 Hz, with
// a vibrato of depth (a fraction of the pitch) at trill Hz, in a sin²
// envelope.
func note(out []float64, n int, f0, f1, trill, depth, amp float64) {
	var phase, vib float64
	for i := range min(n, len(out)) {
		u := float64(i) / float64(n)
		s := sine(0.5 * u) // sin(π·u)
		f := (f0 + (f1-f0)*u) * (1 + depth*sine(vib))
		out[i] += amp * s * s * (sine(phase) + 0.1*sine(wrap(2*phase)))
		phase = wrap(phase + f/rate)
		vib = wrap(vib + trill/rate)
	}
}

// night is crickets over still air. Each cricket chirps on its own pitch
// (3.8 to 5.2 kHz) and rhythm: two to five pulses of 12 to 25 ms a chirp,
// a chirp every 0.35 to 1.1 s, and now and then it falls silent for a
// while. Nearer ones are louder.
func night(r *rng, out []float64, in Intensity) {
	var p pink
	lp1, lp2 := newOnePole(700), newOnePole(700)
	for i := range out {
		out[i] = 0.15 * lp2.tick(lp1.tick(p.tick(r.signed())))
	}
	for range int(in.pick(2, 4, 7)) {
		cricket(r, out, r.between(0.1, 0.6))
	}
}

// cricket adds one cricket at level.
func cricket(r *rng, out []float64, level float64) {
	f := r.between(3800, 5200)
	period := r.between(0.35, 1.1)
	pulses := 2 + r.intn(4)
	pulseLen, pulseGap := sec(r.between(0.012, 0.025)), sec(r.between(0.01, 0.02))
	mood := newCurve(r, 4) // whether it is singing
	var phase float64
	for at := r.intn(sec(period)); at < len(out); at += sec(period * r.between(0.92, 1.08)) {
		m := mood.next()
		mood.skip(sec(period) - 1)
		if m < 0.2 {
			continue
		}
		k := at
		for range pulses {
			for i := range min(pulseLen, len(out)-k) {
				s := sine(0.5 * float64(i) / float64(pulseLen))
				out[k+i] += level * s * s * sine(phase)
				phase = wrap(phase + f/rate)
			}
			k += pulseLen + pulseGap
			if k >= len(out) {
				break
			}
		}
	}
}

// fire is a low roar that flickers, a faint hiss, and crackles: sharp
// clicks of a fraction of a millisecond to two, in bursts (a log catching),
// with now and then a pop that rings for a few milliseconds.
func fire(r *rng, out []float64, in Intensity) {
	var b brown
	roar := newSVF(in.pick(250, 380, 600), 0.6)
	hiss := newSVF(3000, 0.6)
	flicker := newCurve(r, 0.15)
	slow := newCurve(r, 2)
	body := in.pick(0.8, 1, 1.3)
	for i := range out {
		w := r.signed()
		f := 0.6 + 0.8*flicker.next()
		l, _, _ := roar.tick(b.tick(w))
		_, _, h := hiss.tick(w)
		out[i] = (body*l*(0.7+0.6*slow.next()) + 0.03*h) * f
	}

	base := in.pick(12, 25, 50)
	burst := newCurve(r, 0.7)
	for at := 0; ; {
		v := burst.next()
		gap := r.wait(base * (0.3 + 3*v*v*v))
		burst.skip(gap - 1)
		if at += gap; at >= len(out) {
			break
		}
		u := r.float()
		amp := 0.3 + 2.5*u*u*u
		if r.float() < 0.15 {
			pop(r, out[at:], amp)
			continue
		}
		tau := r.between(0.0002, 0.002)
		decay := math.Exp(-1 / (rate * tau))
		var prev float64
		e := amp
		for i := range min(sec(6*tau), len(out)-at) {
			w := r.signed()
			out[at+i] += e * (w - prev) // differenced noise: a sharp click
			prev = w
			e *= decay
		}
	}
}

// pop adds a ringing pop: a burst of noise through a resonant band-pass at
// 0.8 to 2.5 kHz, dying over about 30 ms.
func pop(r *rng, out []float64, amp float64) {
	f := newSVF(r.between(800, 2500), 4)
	tau := r.between(0.003, 0.008)
	decay := math.Exp(-1 / (rate * tau))
	e := amp
	for i := range min(sec(6*tau+0.01), len(out)) {
		_, bp, _ := f.tick(e * r.signed())
		out[i] += 2 * bp
		e *= decay
	}
}
