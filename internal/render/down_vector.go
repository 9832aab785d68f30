//go:build goexperiment.simd && amd64

package render

import (
	"encoding/binary"
	"simd/archsimd"
	"unsafe"
)

var avx2 = archsimd.X86.AVX2()

// rgbaFromLanes picks, in each 128-bit half of the 16-bit lanes of two
// pixels (R, B, G, A each), the low bytes in the order R, G, B, A; the
// upper 8 bytes of each half are zeroed.
var rgbaFromLanes = [32]int8{
	0, 4, 2, 6, 8, 12, 10, 14, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 4, 2, 6, 8, 12, 10, 14, -1, -1, -1, -1, -1, -1, -1, -1,
}

// downVector does down's work four pixels at a time with AVX2, on as many
// pixels as it can in fours, and returns how many. The arithmetic is
// down's, lane for lane: 16-bit lanes that wrap as the uint64's lanes
// never carry, so the bytes are the same.
func downVector(out []uint8, r0, r1, r2, r3 []uint64, t *taps, opaque bool) int {
	n := len(out) / 4 &^ 3
	if !avx2 || n == 0 {
		return 0
	}
	lanes := func(r []uint64) []uint16 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(r))), 4*n)
	}
	l0, l1, l2, l3 := lanes(r0[:n]), lanes(r1[:n]), lanes(r2[:n]), lanes(r3[:n])
	w := func(v uint64) archsimd.Uint16x16 { return archsimd.BroadcastUint16x16(uint16(v)) }
	p0, p1, p2, p3 := w(t.pos[0]), w(t.pos[1]), w(t.pos[2]), w(t.pos[3])
	n0, n1, n2, n3 := w(t.neg[0]), w(t.neg[1]), w(t.neg[2]), w(t.neg[3])
	// The bias and the rounding half of apply, then its shift and mask;
	// then clampLanes: less hBias+vBias, clamped to 0..255.
	bias := w(vBias*cubicOne + 0x40)
	mask := w(0x1ff)
	off := archsimd.BroadcastInt16x16(hBias + vBias)
	zero, top := archsimd.BroadcastInt16x16(0), archsimd.BroadcastInt16x16(255)
	pick := archsimd.LoadInt8x32Slice(rgbaFromLanes[:])
	var alpha uint64
	if opaque {
		alpha = 0xff000000ff000000
	}
	le := binary.LittleEndian
	// The scalar code after this runs at full speed only once the upper
	// halves of the vector registers are cleared (else every SSE
	// instruction waits on them): a talking portrait's frames took 20 %
	// longer with this kernel until it did.
	defer archsimd.ClearAVXUpperBits()
	for x := 0; x < n; x += 4 {
		a := archsimd.LoadUint16x16Slice(l0[4*x : 4*x+16])
		b := archsimd.LoadUint16x16Slice(l1[4*x : 4*x+16])
		c := archsimd.LoadUint16x16Slice(l2[4*x : 4*x+16])
		d := archsimd.LoadUint16x16Slice(l3[4*x : 4*x+16])
		var v archsimd.Uint16x16
		if t.std {
			v = b.Mul(p1).Add(c.Mul(p2)).Add(bias).Sub(a.Mul(n0)).Sub(d.Mul(n3))
		} else {
			v = a.Mul(p0).Add(b.Mul(p1)).Add(c.Mul(p2)).Add(d.Mul(p3)).Add(bias)
			v = v.Sub(a.Mul(n0).Add(b.Mul(n1)).Add(c.Mul(n2)).Add(d.Mul(n3)))
		}
		v = v.ShiftAllRight(7).And(mask)
		q := v.AsInt16x16().Sub(off).Max(zero).Min(top)
		px := q.AsUint8x32().PermuteOrZeroGrouped(pick).AsUint64x4()
		le.PutUint64(out[4*x:4*x+8], px.GetLo().GetElem(0)|alpha)
		le.PutUint64(out[4*x+8:4*x+16], px.GetHi().GetElem(0)|alpha)
	}
	return n
}
