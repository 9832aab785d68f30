package speech

import (
	"math"
	"sync"
)

// Resampler parameters. The filter is a Kaiser-windowed sinc with its cutoff
// at 90% of the lower Nyquist frequency; at 16→48 kHz that keeps speech flat
// to about 6.5 kHz and puts the images above 8 kHz some 80 dB down.
const (
	rsZeroCrossings = 20   // sinc zero crossings on each side of the center
	rsCutoff        = 0.9  // cutoff as a fraction of the lower Nyquist frequency
	rsBeta          = 8.0  // Kaiser window shape: about 80 dB stopband
	rsPhases        = 2048 // filter phases per input sample; the nearest is used
)

// resample converts x from inRate to outRate with a windowed-sinc filter. The
// rates need not be integers or in a rational ratio: synthesis uses a
// fractional inRate to shift a voice's pitch (see voice.scale). Samples
// outside x count as zero.
func resample(x []float64, inRate, outRate float64) []float64 {
	if inRate == outRate {
		return append([]float64(nil), x...)
	}
	ratio := outRate / inRate
	n := int(math.Round(float64(len(x)) * ratio))
	out := make([]float64, n)
	k := kernelFor(math.Min(1, ratio) * rsCutoff)
	taps, w := k.taps, k.half
	step := inRate / outRate
	for j := range out {
		t := float64(j) * step
		i0 := int(t)
		p := int((t-float64(i0))*rsPhases + 0.5)
		h := k.h[p*taps : (p+1)*taps]
		base := i0 - w + 1
		var sum float64
		if base >= 0 && base+taps <= len(x) {
			for i, c := range x[base : base+taps] {
				sum += c * h[i]
			}
		} else {
			for i := range taps {
				if q := base + i; q >= 0 && q < len(x) {
					sum += x[q] * h[i]
				}
			}
		}
		out[j] = sum
	}
	return out
}

// kernel is a polyphase table of a low-pass filter: row p holds the taps for
// an output that falls p/rsPhases of an input sample after the center sample.
type kernel struct {
	half int // taps on each side of the center, in input samples
	taps int // 2*half
	h    []float64
}

var kernels sync.Map // cutoff float64 → *kernel

// kernelFor returns the table for a cutoff given as a fraction of the input
// Nyquist frequency. Tables are cached: only a few cutoffs are ever used.
func kernelFor(cutoff float64) *kernel {
	if k, ok := kernels.Load(cutoff); ok {
		return k.(*kernel)
	}
	half := int(math.Ceil(rsZeroCrossings / cutoff))
	k := &kernel{half: half, taps: 2 * half}
	k.h = make([]float64, (rsPhases+1)*k.taps)
	norm := besselI0(rsBeta)
	for p := 0; p <= rsPhases; p++ {
		row := k.h[p*k.taps : (p+1)*k.taps]
		frac := float64(p) / rsPhases
		var sum float64
		for i := range row {
			u := float64(i-half+1) - frac // distance from the output position
			v := u / float64(half)
			if v <= -1 || v >= 1 {
				continue
			}
			row[i] = cutoff * sinc(cutoff*u) * besselI0(rsBeta*math.Sqrt(1-v*v)) / norm
			sum += row[i]
		}
		// Unity gain at DC for every phase, so a constant stays constant.
		for i := range row {
			row[i] /= sum
		}
	}
	actual, _ := kernels.LoadOrStore(cutoff, k)
	return actual.(*kernel)
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series, which converges quickly for the arguments a Kaiser window uses.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
