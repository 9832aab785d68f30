package ambience

import "math"

// room is the air of a quiet room: pink noise rolled off above about
// 4 kHz over a soft rumble below 60 Hz, drifting by a decibel or so. It has
// no hum (no 50 or 60 Hz tone), which would sound like a fault.
func room(r *rng, out []float64, in Intensity) {
	var p pink
	var b brown
	lp1, lp2 := newOnePole(4000), newOnePole(4000)
	low := newOnePole(60)
	drift := newCurve(r, 6)
	for i := range out {
		w := r.signed()
		air := lp2.tick(lp1.tick(p.tick(w)))
		out[i] = (0.9 + 0.2*drift.next()) * (air + 0.6*low.tick(b.tick(w)))
	}
}

// city is a street heard from the pavement: a low rumble of traffic and a
// murmur of the town, vehicles that pass (a band of noise that swells and
// fades over 3 to 8 s and drops in pitch as it goes by, with tyre hiss when
// close), and now and then a far-off horn.
func city(r *rng, out []float64, in Intensity) {
	var b brown
	var p pink
	rumble1, rumble2 := newOnePole(140), newOnePole(140)
	hubbub := newSVF(700, 0.5)
	drift := newCurve(r, 4)
	for i := range out {
		w := r.signed()
		_, m, _ := hubbub.tick(p.tick(w))
		out[i] = (0.7+0.6*drift.next())*rumble2.tick(rumble1.tick(b.tick(w))) + 0.12*m
	}

	perSecond := in.pick(0.2, 0.45, 0.9)
	// Start before the clip so it opens with traffic already passing.
	for at := -sec(6) + r.wait(perSecond); at < len(out); at += r.wait(perSecond) {
		passBy(r, out, at, sec(r.between(3, 8)), r.between(0.2, 1))
	}
	horns := in.pick(0.03, 0.07, 0.15)
	for at := r.wait(horns); at < len(out); at += r.wait(horns) {
		horn(r, out, at, r.between(0.03, 0.1))
	}
}

// passBy adds a vehicle passing over dur samples from start (which may be
// before 0) at a peak level of amp.
func passBy(r *rng, out []float64, start, dur int, amp float64) {
	var b brown
	f0 := r.between(250, 700)
	body := newSVF(f0, 0.9)
	tyres := newSVF(2000, 0.6)
	from, to := max(start, 0), min(start+dur, len(out))
	var env, tone float64
	for i := from; i < to; i++ {
		if (i-from)%ctl == 0 {
			u := float64(i-start) / float64(dur)
			x := (u - 0.5) * 8
			s := math.Sin(math.Pi * u)
			env = amp * s * s / (1 + x*x)
			// Doppler: a little higher while it comes, lower as it goes.
			tone = f0 * (1 - 0.08*math.Tanh(x))
			body.set(tone, 0.9)
		}
		w := r.signed()
		_, bp, _ := body.tick(0.5*b.tick(w) + 0.2*w)
		_, _, h := tyres.tick(w)
		out[i] += env * (bp + 0.25*env*h)
	}
}

// horn adds a far-off car horn at start: two notes a major third apart with
// a few harmonics, 0.2 to 0.6 s long, dulled by distance.
func horn(r *rng, out []float64, start int, amp float64) {
	f := r.between(330, 470)
	n := sec(r.between(0.2, 0.6))
	lp1, lp2 := newOnePole(1400), newOnePole(1400)
	attack, release := sec(0.02), sec(0.06)
	var p1, p2 float64
	for i := range min(n, len(out)-start) {
		e := 1.0
		if i < attack {
			e = float64(i) / float64(attack)
		}
		if left := n - i; left < release {
			e = float64(left) / float64(release)
		}
		var v float64
		for h := 1.0; h <= 4; h++ {
			v += (sine(wrap(p1*h)) + sine(wrap(p2*h))) / h
		}
		p1 = wrap(p1 + f/rate)
		p2 = wrap(p2 + 1.26*f/rate)
		out[start+i] += amp * e * lp2.tick(lp1.tick(v))
	}
}

// crowd is the babble of people talking: a murmur of the many far away
// (band-passed pink noise, fluttering at about syllable rate) and a few
// nearer talkers, each a buzz at a speaking pitch shaped by two moving
// formants into vowel-like syllables, in spurts and pauses. It has the
// rhythm and colour of speech and no words.
func crowd(r *rng, out []float64, in Intensity) {
	var p pink
	bed := newSVF(900, 0.5)
	am := newCurve(r, 0.12)
	swell := newCurve(r, 3)
	murmur := in.pick(0.25, 0.4, 0.9)
	for i := range out {
		_, bp, _ := bed.tick(p.tick(r.signed()))
		out[i] = murmur * bp * (0.7 + 0.6*am.next()) * (0.8 + 0.4*swell.next())
	}
	for range int(in.pick(3, 5, 6)) {
		talker(r, out, r.between(0.25, 1))
	}
}

// vowels are (F1, F2) formant pairs in Hz, roughly those of English
// vowels, for talker's syllables.
var vowels = [][2]float64{
	{730, 1090}, {660, 1720}, {530, 1840}, {390, 1990}, {270, 2290},
	{570, 840}, {440, 1020}, {300, 870}, {640, 1190}, {490, 1350},
}

// talker adds one voice babbling at level: spurts of syllables of 120 to
// 280 ms separated by pauses, on a pitch that wanders and falls through
// each spurt.
func talker(r *rng, out []float64, level float64) {
	f0 := r.between(90, 150)
	if r.float() < 0.5 {
		f0 = r.between(170, 250)
	}
	f1, f2 := newSVF(500, 5), newSVF(1500, 8)
	sibilance := newSVF(5000, 1.5)
	glottal := newOnePole(900)
	intonation := newCurve(r, 0.35)
	t1, t2 := 500.0, 1500.0 // the formants now, gliding to each vowel's
	at := -r.intn(sec(2))
	for at < len(out) {
		spurt := sec(r.between(0.8, 3.5))
		end := at + spurt
		var phase float64
		for at < end {
			syl := sec(r.between(0.12, 0.28))
			v := vowels[r.intn(len(vowels))]
			loud := level * r.between(0.5, 1)
			// Some syllables open with a fricative: a short hiss, as of "s" or
			// "sh", which gives babble its edge.
			hiss := 0
			if r.float() < 0.3 {
				hiss = sec(r.between(0.03, 0.07))
				sibilance.set(r.between(3500, 6500), 1.5)
			}
			for i := range syl {
				k := at + i
				if k >= len(out) {
					return
				}
				if i%ctl == 0 {
					// Glide into the vowel rather than jump.
					t1 += (v[0] - t1) * 0.35
					t2 += (v[1] - t2) * 0.35
					f1.set(t1, 5)
					f2.set(t2, 8)
				}
				decline := 1 - 0.15*float64(k-(end-spurt))/float64(spurt)
				pitch := f0 * decline * (0.88 + 0.24*intonation.next())
				phase = wrap(phase + pitch/rate)
				w := r.signed()
				src := glottal.tick(2*phase-1) + 0.05*w
				s := sine(0.5 * float64(i) / float64(syl)) // sin(π·u): the syllable's arch
				_, a, _ := f1.tick(src)
				_, b, _ := f2.tick(src)
				v := s * (a + 0.6*b)
				if i < hiss {
					h := sine(0.5 * float64(i) / float64(hiss))
					_, f, _ := sibilance.tick(w)
					v += 1.5 * h * f
				}
				if k >= 0 {
					out[k] += loud * v
				}
			}
			at += syl + sec(r.between(0, 0.06))
		}
		at += sec(r.between(0.3, 2.5))
	}
}
