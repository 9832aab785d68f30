package dsp

import (
	"math"
	"math/cmplx"
	"testing"
)

func TestFFT(t *testing.T) {
	// Against the direct DFT.
	x := make([]complex128, 64)
	for i := range x {
		x[i] = complex(math.Sin(float64(i)*0.3)+0.5*math.Cos(float64(i*i)*0.01), float64(i%5))
	}
	want := make([]complex128, len(x))
	for k := range want {
		for n, v := range x {
			want[k] += v * cmplx.Exp(complex(0, -2*math.Pi*float64(k*n)/float64(len(x))))
		}
	}
	FFT(x)
	for k := range x {
		if cmplx.Abs(x[k]-want[k]) > 1e-9 {
			t.Fatalf("bin %d = %v, want %v", k, x[k], want[k])
		}
	}
}

// TestButterworth checks the filters' gain: about 1 in the pass band,
// -3 dB at the corner, and little in the stop band.
func TestButterworth(t *testing.T) {
	gain := func(f, fc float64, high bool) float64 {
		x := make([]float64, 48000)
		for i := range x {
			x[i] = math.Sin(2 * math.Pi * f * float64(i) / 48000)
		}
		Butterworth(x, 48000, fc, high)
		var e float64
		for _, v := range x[24000:] {
			e += v * v
		}
		return math.Sqrt(e / 12000)
	}
	for _, tt := range []struct {
		f, fc  float64
		high   bool
		lo, hi float64
	}{
		{100, 1000, false, 0.98, 1.01},
		{1000, 1000, false, 0.69, 0.73},
		{8000, 1000, false, 0, 0.03},
		{8000, 1000, true, 0.98, 1.01},
		{1000, 1000, true, 0.69, 0.73},
		{100, 1000, true, 0, 0.02},
	} {
		if g := gain(tt.f, tt.fc, tt.high); g < tt.lo || g > tt.hi {
			t.Errorf("%g Hz through a %g Hz filter (high %v): gain %.3f, want %g..%g", tt.f, tt.fc, tt.high, g, tt.lo, tt.hi)
		}
	}
}
