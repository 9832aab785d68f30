package render

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"stillmotion/internal/pixel"
)

// TestDownLanes checks down, whose bulk runs on vector instructions when
// built with GOEXPERIMENT=simd, against its arithmetic one pixel at a
// time: the same bytes for random rows from across, at every phase of the
// kernel, opaque or not, at widths that leave every remainder.
func TestDownLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// row returns n pixels' lanes as across leaves them: each channel
	// plus hBias, overshooting 0..255 by up to 40 either way.
	row := func(n int) []uint64 {
		r := make([]uint64, n)
		for i := range r {
			var v uint64
			for l := range 4 {
				v |= uint64(hBias-40+rng.IntN(256+80)) << (16 * l)
			}
			r[i] = v
		}
		return r
	}
	for _, n := range []int{1, 3, 4, 5, 17, 64, 1283} {
		r0, r1, r2, r3 := row(n), row(n), row(n), row(n)
		for k := range 65 {
			p := float64(k)/16 - 0.5 // every phase, and the edge's merged taps
			_, wt := cubicTaps(p+1, 8)
			tp := newTaps(wt)
			for _, opaque := range []bool{true, false} {
				got := make([]uint8, 4*n)
				down(got, r0, r1, r2, r3, tp, opaque)
				want := make([]uint8, 4*n)
				for x := range n {
					v := clampLanes(tp.apply(r0[x], r1[x], r2[x], r3[x], vBias*cubicOne*0x0001000100010001))
					px := pixel.Pack(v)
					if opaque {
						px |= 0xff000000
					}
					binary.LittleEndian.PutUint32(want[4*x:], px)
				}
				for x := range n {
					if string(got[4*x:4*x+4]) != string(want[4*x:4*x+4]) {
						t.Fatalf("width %d, phase %v (std %v), opaque %v: pixel %d is %v, want %v", n, p, tp.std, opaque, x, got[4*x:4*x+4], want[4*x:4*x+4])
					}
				}
			}
		}
	}
}

// BenchmarkDown filters a 1280-pixel row down (GOEXPERIMENT=simd for the
// vector instructions).
func BenchmarkDown(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]uint64, 4)
	for k := range rows {
		rows[k] = make([]uint64, 1280)
		for i := range rows[k] {
			rows[k][i] = uint64(rng.IntN(300)) * 0x0001000100010001
		}
	}
	_, wt := cubicTaps(3.3, 8)
	tp := newTaps(wt)
	out := make([]uint8, 4*1280)
	for b.Loop() {
		down(out, rows[0], rows[1], rows[2], rows[3], tp, true)
	}
}
