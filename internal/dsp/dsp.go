// Package dsp is the signal processing that speech alignment, the talking
// mouth and the tests of the soundtrack share: a fast Fourier transform
// and second-order Butterworth filters.
package dsp

import (
	"math"
	"math/cmplx"
	"sync"
)

// FFT computes the discrete Fourier transform of x in place; len(x) must
// be a power of two. Iterative radix-2 Cooley-Tukey.
func FFT(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	tw := twiddles(n)
	for size := 2; size <= n; size <<= 1 {
		half, stride := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				u, v := x[start+k], x[start+k+half]*tw[k*stride]
				x[start+k], x[start+k+half] = u+v, u-v
			}
		}
	}
}

var twiddleTables sync.Map // n int → []complex128

// twiddles returns exp(-2πik/n) for k < n/2, cached: callers use only one
// or two sizes.
func twiddles(n int) []complex128 {
	if t, ok := twiddleTables.Load(n); ok {
		return t.([]complex128)
	}
	t := make([]complex128, n/2)
	for k := range t {
		t[k] = cmplx.Exp(complex(0, -2*math.Pi*float64(k)/float64(n)))
	}
	actual, _ := twiddleTables.LoadOrStore(n, t)
	return actual.([]complex128)
}

// Butterworth filters x, sampled at rate Hz, in place with a second-order
// Butterworth high-pass (high) or low-pass filter at fc Hz (the biquad of
// RBJ's cookbook with Q = 1/√2).
func Butterworth(x []float64, rate, fc float64, high bool) {
	w := 2 * math.Pi * fc / rate
	alpha := math.Sin(w) / math.Sqrt2
	c := math.Cos(w)
	b0, b1, b2 := (1-c)/2, 1-c, (1-c)/2
	if high {
		b0, b1, b2 = (1+c)/2, -(1 + c), (1+c)/2
	}
	a0, a1, a2 := 1+alpha, -2*c, 1-alpha
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := (b0*v + b1*x1 + b2*x2 - a1*y1 - a2*y2) / a0
		x2, x1, y2, y1 = x1, v, y1, y
		x[i] = y
	}
}
