package morph

import (
	"encoding/binary"
	"image"

	"stillmotion/internal/pixel"
)

// fixedPoint is the number of iterations that find the point which lands
// on a given pixel at time τ; each divides the error by about τ times the
// flow's gradient (a tenth for a 10% zoom), so three are plenty where the
// motion is smooth.
const fixedPoint = 3

// offsets fills rows lo..hi of the grid with, for each grid cell p, the
// offsets (in the pictures' pixels) from p to the point of A and the
// point of B that are at p at time tau: x_a = p − τ·F_ab(x_a) and
// x_b = p − (1−τ)·F_ba(x_b), solved by fixed-point iteration.
func (m *Morph) offsets(grid []float32, tau float32, lo, hi int) {
	gw, gh := m.gw, m.gh
	var v [2]float32
	for y := lo; y < hi; y++ {
		for x := range gw {
			px, py := float32(x), float32(y)
			o := grid[4*(y*gw+x) : 4*(y*gw+x)+4 : 4*(y*gw+x)+4]
			for side, f := range [2][]float32{m.fab, m.fba} {
				k := tau
				if side == 1 {
					k = 1 - tau
				}
				qx, qy := px, py
				for range fixedPoint {
					sample(f, gw, gh, 2, qx, qy, v[:])
					qx, qy = px-k*v[0], py-k*v[1]
				}
				o[2*side] = (qx - px) * m.sx
				o[2*side+1] = (qy - py) * m.sy
			}
		}
	}
}

// edgeFade is how far, in pixels, a sample may lie outside its picture
// before its weight in the blend falls to zero: where the point of one
// picture that belongs at a pixel has left that picture's frame, the
// pixel shows the other picture's point alone.
const edgeFade = 2

// draw draws rows lo..hi of the frame at time tau into dst, from the
// grid's offsets.
func (m *Morph) draw(dst *image.RGBA, grid []float32, tau float32, lo, hi int) {
	w, h, gw := m.w, m.h, m.gw
	row := make([]float32, 4*gw) // the grid's offsets interpolated to one row
	ft := uint64(tau*256 + 0.5)  // B's weight where both samples are inside
	for y := lo; y < hi; y++ {
		g0, fy := int(m.rowIdx[y]), m.rowFr[y]
		r0, r1 := grid[4*g0*gw:4*(g0+1)*gw], grid[4*(g0+1)*gw:4*(g0+2)*gw]
		for i := range row {
			row[i] = r0[i] + fy*(r1[i]-r0[i])
		}
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):]
		for x := range w {
			c, fx := int(m.colIdx[x]), m.colFr[x]
			p, q := row[4*c:4*c+4:4*c+4], row[4*c+4:4*c+8:4*c+8]
			ax := float32(x) + p[0] + fx*(q[0]-p[0])
			ay := float32(y) + p[1] + fx*(q[1]-p[1])
			bx := float32(x) + p[2] + fx*(q[2]-p[2])
			by := float32(y) + p[3] + fx*(q[3]-p[3])
			pa, va := bilinear(m.a, ax, ay, w, h)
			pb, vb := bilinear(m.b, bx, by, w, h)
			f := ft
			if va < 1 || vb < 1 {
				wa, wb := (1-tau)*va, tau*vb
				if s := wa + wb; s > 1e-4 {
					f = uint64(wb/s*256 + 0.5)
				}
			}
			px := pixel.Pack(pixel.Lerp(pa, pb, f))
			binary.LittleEndian.PutUint32(out[4*x:4*x+4], px)
		}
	}
}

// bilinear returns the bilinear sample of img (w×h, at least 2×2) at
// (x, y), clamped to its edges, spread (see pixel.Spread), and a weight,
// 0..1, that falls from 1 at the edge to 0 at edgeFade pixels beyond it.
func bilinear(img *image.RGBA, x, y float32, w, h int) (uint64, float32) {
	mx, my := float32(w-1), float32(h-1)
	v := float32(1)
	if !(x >= 0 && y >= 0 && x < mx && y < my) {
		out := max(-x, x-mx, 0) + max(-y, y-my, 0)
		v = max(1-out/edgeFade, 0)
		x = min(max(x, 0), mx)
		y = min(max(y, 0), my)
	}
	x0, y0 := min(int(x), w-2), min(int(y), h-2)
	fx := uint64((x-float32(x0))*256 + 0.5)
	fy := uint64((y-float32(y0))*256 + 0.5)
	i := y0*img.Stride + 4*x0 // Pix starts at Rect.Min
	p := img.Pix[i : i+8 : i+8]
	q := img.Pix[i+img.Stride : i+img.Stride+8 : i+img.Stride+8]
	top := pixel.Lerp(pixel.At(p[0:4]), pixel.At(p[4:8]), fx)
	bot := pixel.Lerp(pixel.At(q[0:4]), pixel.At(q[4:8]), fx)
	return pixel.Lerp(top, bot, fy), v
}
