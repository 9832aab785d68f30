package render

import (
	"encoding/binary"
	"image"

	"stillmotion/internal/pixel"
)

// The camera samples the prepared source with a Catmull-Rom kernel, which
// keeps more fine detail between texels than bilinear blending: at a
// half-texel offset, where a pan or zoom leaves many samples, bilinear
// blending keeps 71% of the contrast of detail four texels across and
// this kernel 88%, so a moving picture is sharper and does not pulse in
// sharpness as the offset changes. The arithmetic is in integers, so the
// same request gives the same bytes on every machine.
//
// Samples are computed on all four channels of a pixel at once, in the
// 16-bit lanes of a uint64 (see pixel.Spread). The kernel has negative lobes,
// so each sum is formed as its positive terms plus a bias minus its
// negative terms; the bias keeps every lane non-negative and below 2^16
// throughout, so no lane borrows from or carries into another.

// cubicOne is a whole kernel weight: weights are in 1/128ths and the four
// of a sample sum to exactly 128.
const cubicOne = 128

const (
	// After filtering across, a lane holds the value plus hBias, in 9
	// bits: values overshoot 0..255 by at most about 40.
	hBias = 64
	// After filtering down, the value plus hBias plus vBias, which two
	// overshoots in a row need.
	vBias   = 32
	lanes9  = 0x01ff01ff01ff01ff
	lanes64 = 0x0040004000400040 // half a weight's unit, for rounding
)

// cubicTaps returns the first of four consecutive texels and their
// weights for the Catmull-Rom sample at the texel coordinate p, where
// texel i's centre is at i. Taps beyond an edge are merged into the edge
// texel, so that base stays within 0..n-4 (n must be at least 4).
func cubicTaps(p float64, n int) (base int, wt [4]int32) {
	if !(p > 0) { // also NaN
		p = 0
	}
	p = min(p, float64(n-1))
	i := int(p)
	f := p - float64(i)
	f2, f3 := f*f, f*f*f
	k := [4]float64{
		(-f3 + 2*f2 - f) / 2,
		(3*f3 - 5*f2 + 2) / 2,
		(-3*f3 + 4*f2 + f) / 2,
		(f3 - f2) / 2,
	}
	var q [4]int32
	sum := int32(0)
	for j := range 4 {
		q[j] = int32(roundHalfUp(k[j] * cubicOne))
		sum += q[j]
	}
	if f < 0.5 {
		q[1] += cubicOne - sum // the rounding goes to the largest weight
	} else {
		q[2] += cubicOne - sum
	}
	base = min(max(i-1, 0), n-4)
	for j := range 4 {
		wt[min(max(i-1+j, 0), n-1)-base] += q[j]
	}
	return base, wt
}

func roundHalfUp(v float64) float64 {
	if v < 0 {
		return -float64(int64(-v + 0.5))
	}
	return float64(int64(v + 0.5))
}

// taps is a sample's four weights split by sign: pos[j]-neg[j] is tap
// j's weight. Away from the edges the signs are always -, +, +, -
// (std), which apply computes with half the multiplications.
type taps struct {
	pos, neg [4]uint64
	std      bool
}

func newTaps(wt [4]int32) taps {
	var t taps
	for j, v := range wt {
		if v >= 0 {
			t.pos[j] = uint64(v)
		} else {
			t.neg[j] = uint64(-v)
		}
	}
	t.std = t.pos[0] == 0 && t.neg[1] == 0 && t.neg[2] == 0 && t.pos[3] == 0
	return t
}

// apply returns the lanes of the weighted sum of a, b, c and d plus bias
// (in every lane, in units of cubicOne), divided by cubicOne and rounded.
func (t *taps) apply(a, b, c, d, bias uint64) uint64 {
	var v uint64
	if t.std {
		v = b*t.pos[1] + c*t.pos[2] + bias - a*t.neg[0] - d*t.neg[3]
	} else {
		v = a*t.pos[0] + b*t.pos[1] + c*t.pos[2] + d*t.pos[3] + bias
		v -= a*t.neg[0] + b*t.neg[1] + c*t.neg[2] + d*t.neg[3]
	}
	return (v + lanes64) >> 7 & lanes9
}

// sampleScratch is what a call of sample works in, kept for the next.
type sampleScratch struct {
	xo   []int
	xt   []taps
	ring [8][]uint64
	done [8][]bool // by block of spanBlock columns: filtered across
}

// spanBlock is how many columns of a texel row are filtered across at a
// time when only parts of a frame are drawn.
const spanBlock = 32

// A span is the columns [a, b) of a row of a frame.
type span struct{ a, b int }

// cover lists, for each row of a frame, the spans of it that a sampler
// draws, sorted and disjoint; the rest of the row is left as it is.
type cover [][]span

// sample draws the view of scale s centred on (cx, cy) from the texels pix
// into the top-left w x h of dst: all of it, or where a non-nil need says;
// opaque sets alpha to 255, else it is sampled with the rest. It is
// separable: each texel row the view needs is filtered across once, into
// a ring of rows, and the output rows are filtered down from four of them.
func (r *Renderer) sample(s, cx, cy float64, pix []uint8, dst *image.RGBA, w, h int, need cover, opaque bool) {
	t := &r.tex
	if s == 1 && cx == 0.5 && cy == 0.5 && t.sx == float64(r.fw) && t.sy == float64(r.fh) {
		// The identity on a frame-sized texture (static, or frame 0 of a
		// zoom out): every sample falls on a texel, so copy.
		x0, y0 := int(t.ox), int(t.oy)
		for y := range h {
			out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
			in := pix[(y0+y)*t.stride+4*x0:][:4*w]
			spans := []span{{0, w}}
			if need != nil {
				spans = need[y]
			}
			for _, sp := range spans {
				copy(out[4*sp.a:4*sp.b], in[4*sp.a:4*sp.b])
				for x := sp.a; opaque && x < sp.b; x++ {
					out[4*x+3] = 255
				}
			}
		}
		return
	}

	// Texel columns and weights are the same on every row.
	sc, _ := r.samples.Get().(*sampleScratch)
	if sc == nil || len(sc.xo) < w {
		sc = &sampleScratch{xo: make([]int, w), xt: make([]taps, w)}
		for k := range sc.ring {
			sc.ring[k] = make([]uint64, w)
			sc.done[k] = make([]bool, (w+spanBlock-1)/spanBlock)
		}
	}
	defer r.samples.Put(sc)
	xo, xt := sc.xo[:w], sc.xt[:w]
	for x := range w {
		u := cx + ((float64(x)+0.5)/float64(r.fw)-0.5)/s
		base, wt := cubicTaps(t.ox+u*t.sx-0.5, t.w)
		xo[x], xt[x] = 4*base, newTaps(wt)
	}
	// The ring holds filtered rows by texel row: a view's rows advance
	// by at most a few texels, so the four a row needs are always among
	// the last eight filtered. Drawing parts of rows, a texel row is
	// filtered by blocks of columns as rows come to need them.
	tag := [8]int{-1, -1, -1, -1, -1, -1, -1, -1}
	var spans []span
	row := func(j int) []uint64 {
		k := j & 7
		src := pix[j*t.stride:][:4*t.w]
		if need == nil {
			if tag[k] != j {
				across(sc.ring[k][:w], src, xo, xt)
				tag[k] = j
			}
			return sc.ring[k][:w]
		}
		done := sc.done[k][:(w+spanBlock-1)/spanBlock]
		if tag[k] != j {
			clear(done)
			tag[k] = j
		}
		for _, sp := range spans {
			for b := sp.a / spanBlock; b*spanBlock < sp.b; b++ {
				if !done[b] {
					a, e := b*spanBlock, min((b+1)*spanBlock, w)
					across(sc.ring[k][a:e], src, xo[a:e], xt[a:e])
					done[b] = true
				}
			}
		}
		return sc.ring[k][:w]
	}
	for y := range h {
		if need != nil {
			if spans = need[y]; len(spans) == 0 {
				continue
			}
		}
		v := cy + ((float64(y)+0.5)/float64(r.fh)-0.5)/s
		j, wt := cubicTaps(t.oy+v*t.sy-0.5, t.h)
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		r0, r1, r2, r3 := row(j), row(j+1), row(j+2), row(j+3)
		if need == nil {
			down(out, r0, r1, r2, r3, newTaps(wt), opaque)
			continue
		}
		tp := newTaps(wt)
		for _, sp := range spans {
			a, b := sp.a, sp.b
			down(out[4*a:4*b], r0[a:b], r1[a:b], r2[a:b], r3[a:b], tp, opaque)
		}
	}
}

// across filters one texel row at the columns xo (byte offsets of the
// first of four texels) with the taps xt, into the 9-bit lanes of dst:
// each channel's value plus hBias.
func across(dst []uint64, src []uint8, xo []int, xt []taps) {
	const bias = hBias * cubicOne * 0x0001000100010001
	dst = dst[:len(xo)]
	for x, o := range xo {
		p := src[o : o+16 : o+16]
		dst[x] = xt[x].apply(pixel.At(p[0:4]), pixel.At(p[4:8]), pixel.At(p[8:12]), pixel.At(p[12:16]), bias)
	}
}

// down filters four rows from across into out with the taps t, clamping
// to bytes; alpha is 255 if opaque.
func down(out []uint8, r0, r1, r2, r3 []uint64, t taps, opaque bool) {
	const bias = vBias * cubicOne * 0x0001000100010001
	le := binary.LittleEndian
	var alpha uint32
	if opaque {
		alpha = 0xff000000
	}
	n := len(out) / 4
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	// Vector instructions, where built in and present, take what they
	// can; the same lanes, so the same bytes.
	for x := downVector(out, r0, r1, r2, r3, &t, opaque); x < n; x++ {
		v := clampLanes(t.apply(r0[x], r1[x], r2[x], r3[x], bias))
		le.PutUint32(out[4*x:4*x+4], pixel.Pack(v)|alpha)
	}
}

// clampLanes returns the lanes of v (9-bit values, each the channel plus
// hBias+vBias) less that offset and clamped to 0..255, all lanes at once:
// a guard bit above each lane shows which went below zero, and adding
// 0x7f00 carries into it those above 255.
func clampLanes(v uint64) uint64 {
	const (
		ones  = 0x0001000100010001
		guard = 0x8000 * ones
		low15 = 0x7fff * ones
	)
	z := (v | guard) - (hBias+vBias)*ones
	v = z & low15 & ((z >> 15 & ones) * 0xffff) // below zero: 0
	over := ((v + 0x7f00*ones) >> 15 & ones) * 0xff
	return (v | over) & pixel.Mask
}

// smoothView samples a view like sample but blends bilinearly: for a
// layer without fine detail (a filled-in sky), where the cubic kernel
// would cost three times as much for no difference. Each row blends the
// two texel rows it falls between once, down, over the texels the view
// spans; pixels are then blended across from that one at a time, so a
// caller draws only those that show.
type smoothView struct {
	r     *Renderer
	s, cy float64
	pix   []uint8
	xo    []int    // each pixel's left texel, less lo
	xw    []uint64 // and the weight of the one to its right
	lo    int      // the first texel column the view spans
	down  []uint64 // the row's texels lo.. blended down, spread
}

// newSmoothView prepares the view of scale s centred on (cx, cy) of the
// texels pix for frames w pixels wide.
func (r *Renderer) newSmoothView(s, cx, cy float64, pix []uint8, w int) *smoothView {
	t := &r.tex
	v := &smoothView{r: r, s: s, cy: cy, pix: pix, xo: make([]int, w), xw: make([]uint64, w)}
	for x := range w {
		u := cx + ((float64(x)+0.5)/float64(r.fw)-0.5)/s
		v.xo[x], v.xw[x] = split(t.ox+u*t.sx-0.5, t.w)
	}
	// The texel columns grow with x; the last pixel reads two.
	v.lo = v.xo[0]
	for x := range v.xo {
		v.xo[x] -= v.lo
	}
	v.down = make([]uint64, v.xo[w-1]+2)
	return v
}

// row moves the view to the frame's row y.
func (v *smoothView) row(y int) {
	t := &v.r.tex
	j, g := split(t.oy+(v.cy+((float64(y)+0.5)/float64(v.r.fh)-0.5)/v.s)*t.sy-0.5, t.h)
	row0 := v.pix[j*t.stride+4*v.lo:][:4*len(v.down)]
	row1 := v.pix[(j+1)*t.stride+4*v.lo:][:4*len(v.down)]
	for i := range v.down {
		v.down[i] = pixel.Lerp(pixel.At(row0[4*i:4*i+4]), pixel.At(row1[4*i:4*i+4]), g)
	}
}

// at returns the pixel x of the row.
func (v *smoothView) at(x int) uint32 {
	i := v.xo[x]
	return pixel.Pack(pixel.Lerp(v.down[i], v.down[i+1], v.xw[x]))
}

// fill writes the pixels x0..x1-1 of the row into out, which holds the
// row's pixels from x0 on, opaque.
func (v *smoothView) fill(out []uint8, x0, x1 int) {
	le := binary.LittleEndian
	down := v.down
	xo, xw := v.xo[x0:x1], v.xw[x0:x1]
	out = out[:4*len(xo)]
	for k, i := range xo {
		le.PutUint32(out[4*k:4*k+4], pixel.Pack(pixel.Lerp(down[i], down[i+1], xw[k]))|0xff000000)
	}
}
