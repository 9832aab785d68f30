package ambience

import (
	"math"

	"stillmotion/internal/dsp"
)

// spectrum returns the power spectrum of s averaged over Hann-windowed
// frames of 4096 samples with half overlap; bin i is i·rate/4096 Hz.
func spectrum(s []int16) []float64 {
	const size = 4096
	power := make([]float64, size/2)
	buf := make([]complex128, size)
	for start := 0; start+size <= len(s); start += size / 2 {
		for i := range size {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/size)
			buf[i] = complex(w*float64(s[start+i])/32768, 0)
		}
		dsp.FFT(buf)
		for i := range power {
			power[i] += real(buf[i])*real(buf[i]) + imag(buf[i])*imag(buf[i])
		}
	}
	return power
}

// binHz is the width of a spectrum bin.
const binHz = float64(rate) / 4096

// centroid returns the spectral centroid of s in Hz, over 50 Hz–16 kHz.
func centroid(s []int16) float64 {
	p := spectrum(s)
	var num, den float64
	for i, v := range p {
		f := float64(i) * binHz
		if f < 50 || f > 16000 {
			continue
		}
		num += f * v
		den += v
	}
	return num / den
}

// bandShare returns the share of s's power (over 50 Hz–16 kHz) between lo
// and hi Hz.
func bandShare(s []int16, lo, hi float64) float64 {
	p := spectrum(s)
	var in, all float64
	for i, v := range p {
		f := float64(i) * binHz
		if f < 50 || f > 16000 {
			continue
		}
		all += v
		if f >= lo && f < hi {
			in += v
		}
	}
	return in / all
}

// maxAutocorr returns the largest normalized autocorrelation of s at lags
// from lo to hi samples: near 1 if s repeats itself with such a period.
func maxAutocorr(s []int16, lo, hi int) float64 {
	n := 1
	for n < 2*len(s) {
		n <<= 1
	}
	x := make([]complex128, n)
	for i, v := range s {
		x[i] = complex(float64(v), 0)
	}
	dsp.FFT(x)
	for i, v := range x {
		x[i] = complex(real(v)*real(v)+imag(v)*imag(v), 0)
	}
	dsp.FFT(x) // the power spectrum is real and even, so a forward FFT inverts it up to scale
	zero := real(x[0])
	best := 0.0
	for lag := lo; lag <= hi; lag++ {
		// Normalize by the overlap, so long lags are not favoured or penalized.
		r := real(x[lag]) / zero * float64(len(s)) / float64(len(s)-lag)
		best = max(best, r)
	}
	return best
}
