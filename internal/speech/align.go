package speech

import (
	"math"
	"math/cmplx"
	"slices"
	"time"

	"stillmotion/internal/dsp"
)

// Alignment parameters. Frames are 25 ms every 10 ms, as speech recognizers
// use; cepstra come from a mel filterbank that stops at 7 kHz, below the
// Nyquist frequency of every synthesizer's output (16 kHz and up).
const (
	alHop     = 10 * time.Millisecond
	alWindow  = 25 * time.Millisecond
	alBands   = 24
	alCeps    = 9 // c0 (log energy) and c1..c8
	alLowHz   = 100
	alHighHz  = 7000
	alFloorDB = 60 // frames quieter than this below the loudest count as silence
)

// transfer moves a phone timeline from one recording of a text to another
// recording of the same text, by dynamic time warping of their cepstra.
//
// RHVoice prints no phone timings, so flite speaks the same (normalized)
// text with a voice of similar pitch, and its -psdur timeline is carried
// over to RHVoice's audio: ref and refRate are flite's samples, phones its
// timeline; dst and dstRate the audio to time. The cepstra are mean-normalized
// per recording, which removes most of the difference between two speakers'
// vocal tracts, and carry the frame energy, which pins pauses to pauses.
// Phone boundaries then move along the warping path; the first speech phone
// starts, and the last ends, where dst's speech does by its energy, since
// that is where the mouth must open and close.
//
// It returns a contiguous timeline starting at 0 and ending at dst's end.
func transfer(ref []float64, refRate float64, phones []Phone, dst []float64, dstRate float64) []Phone {
	a := cepstra(ref, refRate)
	b := cepstra(dst, dstRate)
	dstEnd := time.Duration(float64(len(dst)) / dstRate * float64(time.Second))
	if len(a) == 0 || len(b) == 0 || len(phones) == 0 {
		return scalePhones(phones, dstEnd)
	}
	at := warp(a, b) // at[i]: dst frame matched with ref frame i, fractional
	m := func(t time.Duration) time.Duration {
		f := float64(t) / float64(alHop)
		i := int(f)
		var x float64
		switch {
		case i >= len(at)-1:
			x = at[len(at)-1] + (f - float64(len(at)-1))
		default:
			x = at[i] + (f-float64(i))*(at[i+1]-at[i])
		}
		return min(dstEnd, max(0, time.Duration(x*float64(alHop))))
	}
	out := make([]Phone, len(phones))
	var prev time.Duration
	for i, p := range phones {
		end := max(prev, m(p.End))
		if i == len(phones)-1 {
			end = dstEnd
		}
		out[i] = Phone{Symbol: p.Symbol, Start: prev, End: end}
		prev = end
	}
	snapSpeech(out, dst, dstRate)
	return insertPauses(out, dst, dstRate)
}

// minPause is the shortest silence insertPauses takes for a pause: longer
// than a stop consonant's closure.
const minPause = 100 * time.Millisecond

// insertPauses adds the pauses that the audio x (at rate Hz) has and the
// timeline phones lacks: engines break phrases in different places, and
// where RHVoice pauses and flite did not, the warp stretches a phone over
// the silence. For each such silence within the speech, the phone boundary
// nearest to it moves into it, the phones between squeeze out of it, and a
// pause fills it.
func insertPauses(phones []Phone, x []float64, rate float64) []Phone {
	first, last := spoken(phones)
	if first < 0 {
		return phones
	}
	for _, sil := range silences(x, rate, phones[first].Start, phones[last].End) {
		s, e := sil[0], sil[1]
		// The boundary nearest the silence's middle splits the phones; if
		// a pause is next to it, that pause moves into the silence.
		mid := (s + e) / 2
		k := 0
		for i, p := range phones[:len(phones)-1] {
			if absDur(p.End-mid) < absDur(phones[k].End-mid) {
				k = i
			}
		}
		if phones[k].End < s-minPause || phones[k].End > e+minPause {
			continue
		}
		lo, hi := k+1, k+1 // phones[lo:hi] are replaced by the pause
		switch {
		case IsPause(phones[k].Symbol):
			lo = k
		case IsPause(phones[k+1].Symbol):
			hi = k + 2
		}
		before := squeeze(phones[:lo], s, true)
		after := squeeze(phones[hi:], e, false)
		if before == nil || after == nil {
			continue
		}
		out := make([]Phone, 0, len(phones)+1)
		out = append(out, before...)
		out = append(out, Phone{Symbol: "pau", Start: s, End: e})
		phones = append(out, after...)
	}
	return phones
}

// squeeze makes the phones end by t (atEnd) or start from t (!atEnd):
// those that cross t shrink in proportion into the space left between t and
// the last boundary that stays. It returns nil if there is no room.
func squeeze(phones []Phone, t time.Duration, atEnd bool) []Phone {
	out := slices.Clone(phones)
	if atEnd {
		// Phones ending after t, from index j on, go into [out[j].Start, t].
		j := len(out)
		for j > 0 && out[j-1].End > t {
			j--
		}
		if j == len(out) {
			return out
		}
		lo := out[j].Start
		if lo >= t {
			return nil
		}
		span := out[len(out)-1].End - lo
		for i := j; i < len(out); i++ {
			out[i].Start = lo + time.Duration(float64(phones[i].Start-lo)/float64(span)*float64(t-lo))
			out[i].End = lo + time.Duration(float64(phones[i].End-lo)/float64(span)*float64(t-lo))
		}
		out[len(out)-1].End = t
		return out
	}
	j := -1
	for j+1 < len(out) && out[j+1].Start < t {
		j++
	}
	if j < 0 {
		return out
	}
	hi := out[j].End
	if hi <= t {
		return nil
	}
	span := hi - out[0].Start
	for i := 0; i <= j; i++ {
		out[i].Start = hi - time.Duration(float64(hi-phones[i].Start)/float64(span)*float64(hi-t))
		out[i].End = hi - time.Duration(float64(hi-phones[i].End)/float64(span)*float64(hi-t))
	}
	out[0].Start = t
	return out
}

// silences returns the stretches of at least minPause within [from, to] in
// which x (at rate Hz) stays 40 dB below its loudest, in 10 ms frames.
func silences(x []float64, rate float64, from, to time.Duration) [][2]time.Duration {
	hop := max(1, int(rate*alHop.Seconds()))
	var energy []float64
	loudest := 0.0
	for s := 0; s+hop <= len(x); s += hop {
		var e float64
		for _, v := range x[s : s+hop] {
			e += v * v
		}
		energy = append(energy, e)
		loudest = math.Max(loudest, e)
	}
	var out [][2]time.Duration
	start := -1
	for k := 0; k <= len(energy); k++ {
		quiet := k < len(energy) && energy[k] < loudest*1e-4
		switch {
		case quiet && start < 0:
			start = k
		case !quiet && start >= 0:
			s, e := time.Duration(start)*alHop, time.Duration(k)*alHop
			if e-s >= minPause && s > from && e < to {
				out = append(out, [2]time.Duration{s, e})
			}
			start = -1
		}
	}
	return out
}

// scalePhones stretches a timeline linearly to end at end: the fallback when
// there is nothing to align.
func scalePhones(phones []Phone, end time.Duration) []Phone {
	if len(phones) == 0 {
		return nil
	}
	total := phones[len(phones)-1].End
	out := make([]Phone, len(phones))
	for i, p := range phones {
		p.Start = time.Duration(float64(p.Start) / float64(max(total, 1)) * float64(end))
		p.End = time.Duration(float64(p.End) / float64(max(total, 1)) * float64(end))
		out[i] = p
	}
	return out
}

// spoken returns the indices of the first and last phones that are not
// pauses, or -1 and -1.
func spoken(phones []Phone) (first, last int) {
	first, last = -1, -1
	for i, p := range phones {
		if !IsPause(p.Symbol) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// snapSpeech moves the start of the first speech phone and the end of the
// last to where x (at rate Hz) turns loud and quiet, when that is within
// 150 ms of where the warp put them: the warp matches two speakers' breaths
// and releases only roughly, and the mouth must open and close with the
// sound.
func snapSpeech(phones []Phone, x []float64, rate float64) {
	first, last := spoken(phones)
	if first < 0 {
		return
	}
	start, end, ok := speechSpan(x, rate)
	if !ok {
		return
	}
	const near = 150 * time.Millisecond
	if first > 0 && absDur(start-phones[first].Start) <= near &&
		start > phones[first-1].Start && start < phones[first].End {
		phones[first].Start, phones[first-1].End = start, start
	}
	if last < len(phones)-1 && absDur(end-phones[last].End) <= near &&
		end > phones[last].Start && end < phones[last+1].End {
		phones[last].End, phones[last+1].Start = end, end
	}
}

// speechSpan returns where the sound in x (at rate Hz) starts and ends: the
// first and last 5 ms windows, stepped by 2.5 ms, within 40 dB of the
// loudest.
func speechSpan(x []float64, rate float64) (start, end time.Duration, ok bool) {
	win := max(1, int(rate*0.005))
	step := max(1, win/2)
	var energy []float64
	loudest := 0.0
	for s := 0; s+win <= len(x); s += step {
		var e float64
		for _, v := range x[s : s+win] {
			e += v * v
		}
		energy = append(energy, e)
		loudest = math.Max(loudest, e)
	}
	if loudest == 0 {
		return 0, 0, false
	}
	on, off := -1, -1
	for k, e := range energy {
		if e >= loudest*1e-4 {
			if on < 0 {
				on = k
			}
			off = k
		}
	}
	at := func(sample int) time.Duration { return time.Duration(float64(sample) / rate * float64(time.Second)) }
	return at(on*step + win/2), at(off*step + win/2), true
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// warp aligns the frame sequences a and b by dynamic time warping with the
// symmetric step pattern (a diagonal step costs twice the distance, so
// stretching is not favoured), within a band around the diagonal, from the
// first frames to the last. It returns for every frame of a the mean index of
// the frames of b it is matched with.
func warp(a, b [][]float64) []float64 {
	n, m := len(a), len(b)
	// Band: a quarter of the longer sequence, and at least half a second,
	// around the straight line from (0, 0) to (n-1, m-1).
	band := max(n, m)/4 + 50
	lo := make([]int, n)
	hi := make([]int, n)
	for i := range n {
		c := 0
		if n > 1 {
			c = i * (m - 1) / (n - 1)
		}
		lo[i], hi[i] = max(0, c-band), min(m-1, c+band)
	}
	inf := math.Inf(1)
	// Rows of cumulative cost and back pointers within the band.
	cost := make([][]float64, n)
	from := make([][]uint8, n) // 0: diagonal, 1: from i-1, 2: from j-1
	for i := range n {
		cost[i] = make([]float64, hi[i]-lo[i]+1)
		from[i] = make([]uint8, hi[i]-lo[i]+1)
		for j := lo[i]; j <= hi[i]; j++ {
			d := dist(a[i], b[j])
			best, step := inf, uint8(0)
			if i == 0 && j == 0 {
				best = d
			}
			if i > 0 && j > 0 && j-1 >= lo[i-1] && j-1 <= hi[i-1] {
				if c := cost[i-1][j-1-lo[i-1]] + 2*d; c < best {
					best, step = c, 0
				}
			}
			if i > 0 && j >= lo[i-1] && j <= hi[i-1] {
				if c := cost[i-1][j-lo[i-1]] + d; c < best {
					best, step = c, 1
				}
			}
			if j > lo[i] {
				if c := cost[i][j-1-lo[i]] + d; c < best {
					best, step = c, 2
				}
			}
			cost[i][j-lo[i]], from[i][j-lo[i]] = best, step
		}
	}
	sum := make([]float64, n)
	cnt := make([]float64, n)
	i, j := n-1, m-1
	for {
		sum[i] += float64(j)
		cnt[i]++
		if i == 0 && j == 0 {
			break
		}
		switch from[i][j-lo[i]] {
		case 0:
			i, j = i-1, j-1
		case 1:
			i--
		default:
			j--
		}
		if i < 0 || j < lo[max(i, 0)] {
			break // cannot happen: every banded cell is reachable
		}
	}
	at := make([]float64, n)
	for i := range at {
		if cnt[i] > 0 {
			at[i] = sum[i] / cnt[i]
		} else if i > 0 {
			at[i] = at[i-1]
		}
	}
	return at
}

// dist is the distance of two cepstral frames: Euclidean over c1..c8, which
// carry the vocal tract's shape (higher ones carry more of the speaker), and
// the energy c0 in dB, weighted down since two recordings' dynamics differ.
// Weights tuned on pairs of flite voices (TestTransferFlite).
func dist(x, y []float64) float64 {
	d0 := (x[0] - y[0]) * 0.1
	s := d0 * d0
	for k := 1; k < len(x); k++ {
		d := x[k] - y[k]
		s += d * d
	}
	return math.Sqrt(s)
}

// cepstra returns the mel-frequency cepstra of x (at rate Hz), one frame per
// alHop: c0 is the frame's energy in dB relative to the loudest frame,
// floored at -alFloorDB; c1..c8 are the usual cepstral coefficients with
// their mean over the recording's non-silent frames removed.
func cepstra(x []float64, rate float64) [][]float64 {
	hop := int(math.Round(rate * alHop.Seconds()))
	win := int(math.Round(rate * alWindow.Seconds()))
	if hop <= 0 || len(x) < win {
		return nil
	}
	nfft := 1
	for nfft < win {
		nfft *= 2
	}
	window := make([]float64, win)
	for i := range window {
		window[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(win-1))
	}
	bank := melBank(nfft, rate)
	frames := (len(x)-win)/hop + 1
	out := make([][]float64, frames)
	// Two frames at a time: frame f in the real part and f+1 in the
	// imaginary part of one complex FFT, separated by symmetry after.
	buf := make([]complex128, nfft)
	power := [2][]float64{make([]float64, nfft/2+1), make([]float64, nfft/2+1)}
	dct := make([]float64, alCeps*alBands)
	for k := range alCeps {
		for b := range alBands {
			dct[k*alBands+b] = math.Cos(math.Pi*float64(k)*(float64(b)+0.5)/alBands) * math.Sqrt(2.0/alBands)
		}
	}
	load := func(f int, im bool) {
		if f >= frames {
			return
		}
		prev := 0.0
		if f*hop > 0 {
			prev = x[f*hop-1]
		}
		for i, v := range x[f*hop : f*hop+win] {
			w := (v - 0.97*prev) * window[i] // pre-emphasis
			if im {
				buf[i] = complex(real(buf[i]), w)
			} else {
				buf[i] = complex(w, 0)
			}
			prev = v
		}
	}
	logE := make([]float64, alBands)
	for f := 0; f < frames; f += 2 {
		clear(buf)
		load(f, false)
		load(f+1, true)
		dsp.FFT(buf)
		for k := 0; k <= nfft/2; k++ {
			z, zc := buf[k], cmplx.Conj(buf[(nfft-k)%nfft])
			a, b := (z+zc)*0.5, (z-zc)*complex(0, -0.5)
			power[0][k] = real(a)*real(a) + imag(a)*imag(a)
			power[1][k] = real(b)*real(b) + imag(b)*imag(b)
		}
		for h := range 2 {
			if f+h >= frames {
				break
			}
			var total float64
			for b, filt := range bank {
				var e float64
				for k, w := range filt.w {
					e += w * power[h][filt.lo+k]
				}
				total += e
				logE[b] = math.Log(e + 1e-10)
			}
			c := make([]float64, alCeps)
			for k := 1; k < alCeps; k++ {
				var s float64
				for b, v := range logE {
					s += v * dct[k*alBands+b]
				}
				c[k] = s
			}
			c[0] = 10 * math.Log10(total+1e-10)
			out[f+h] = c
		}
	}
	loudest := math.Inf(-1)
	for _, c := range out {
		loudest = math.Max(loudest, c[0])
	}
	mean := make([]float64, alCeps)
	var n float64
	for _, c := range out {
		c[0] = math.Max(c[0]-loudest, -alFloorDB)
		if c[0] > -alFloorDB/2 {
			for k := 1; k < alCeps; k++ {
				mean[k] += c[k]
			}
			n++
		}
	}
	if n > 0 {
		for _, c := range out {
			for k := 1; k < alCeps; k++ {
				c[k] -= mean[k] / n
			}
		}
	}
	return out
}

// filter is one triangular mel filter over FFT bins lo, lo+1, ...
type filter struct {
	lo int
	w  []float64
}

// melBank returns alBands triangular filters, evenly spaced in mel from
// alLowHz to alHighHz, for an nfft-point FFT at rate Hz.
func melBank(nfft int, rate float64) []filter {
	mel := func(f float64) float64 { return 1127 * math.Log(1+f/700) }
	hz := func(m float64) float64 { return 700 * (math.Exp(m/1127) - 1) }
	lo, hi := mel(alLowHz), mel(math.Min(alHighHz, rate/2))
	edges := make([]float64, alBands+2) // in FFT bins, fractional
	for i := range edges {
		edges[i] = hz(lo+(hi-lo)*float64(i)/float64(alBands+1)) * float64(nfft) / rate
	}
	bank := make([]filter, alBands)
	for b := range bank {
		l, c, r := edges[b], edges[b+1], edges[b+2]
		first := int(math.Ceil(l))
		var w []float64
		for k := first; float64(k) < r && k <= nfft/2; k++ {
			x := float64(k)
			if x <= c {
				w = append(w, (x-l)/(c-l))
			} else {
				w = append(w, (r-x)/(r-c))
			}
		}
		bank[b] = filter{lo: first, w: w}
	}
	return bank
}
