package portrait

import (
	"encoding/binary"
	"image"
	"math"

	"stillmotion/internal/pixel"
)

// rgb is a colour with float channels on the 0..255 scale.
type rgb [3]float64

func (c rgb) scale(k float64) rgb { return rgb{c[0] * k, c[1] * k, c[2] * k} }

func (c rgb) luma() float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// mix returns c*(1-t) + d*t.
func (c rgb) mix(d rgb, t float64) rgb {
	return rgb{c[0] + (d[0]-c[0])*t, c[1] + (d[1]-c[1])*t, c[2] + (d[2]-c[2])*t}
}

// sample returns the colour of src at (x, y), bilinearly interpolated.
// Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1) and
// its centre is at (i+0.5, j+0.5). Positions beyond the edges take the
// edge's colour.
func sample(src *image.RGBA, x, y float64) rgb { return Sample(src, x, y) }

// Sample returns the colour of src at (x, y), as sample does, for the
// re-voicing of videos, which poses the same mouth over other frames.
func Sample(src *image.RGBA, x, y float64) [3]float64 {
	r := src.Rect
	fx := min(max(x-0.5, float64(r.Min.X)), float64(r.Max.X-1))
	fy := min(max(y-0.5, float64(r.Min.Y)), float64(r.Max.Y-1))
	x0, y0 := int(fx), int(fy)
	x1, y1 := min(x0+1, r.Max.X-1), min(y0+1, r.Max.Y-1)
	tx, ty := fx-float64(x0), fy-float64(y0)
	p00 := src.Pix[src.PixOffset(x0, y0):]
	p10 := src.Pix[src.PixOffset(x1, y0):]
	p01 := src.Pix[src.PixOffset(x0, y1):]
	p11 := src.Pix[src.PixOffset(x1, y1):]
	var c [3]float64
	for k := range 3 {
		top := float64(p00[k]) + (float64(p10[k])-float64(p00[k]))*tx
		bot := float64(p01[k]) + (float64(p11[k])-float64(p01[k]))*tx
		c[k] = top + (bot-top)*ty
	}
	return c
}

// put writes c, rounded and clamped, as an opaque pixel at dst's offset o.
func put(dst []uint8, o int, c rgb) {
	for k := range 3 {
		dst[o+k] = uint8(min(255, max(0, math.Round(c[k]))))
	}
	dst[o+3] = 255
}

// warpRow fills row y of dst from x0 to x1 (exclusive) with src sampled at
// (x+0.5-dx[x-x0], y+0.5-dy[x-x0]): each pixel shows the source point that
// the displacement moved there, bilinearly interpolated in 1/256-pixel
// fixed point (as the renderer's camera does), or copied where the
// displacement is zero. src must be opaque and at least 2x2.
func warpRow(src, dst *image.RGBA, y, x0, x1 int, dx, dy []float32) {
	const bias = 1 << 12 // keeps coordinates positive, so truncation floors
	r := src.Rect
	le := binary.LittleEndian
	stride := src.Stride
	pix := src.Pix
	out := dst.Pix[dst.PixOffset(x0, y):][:4*(x1-x0)]
	row := pix[src.PixOffset(x0, y):][:4*(x1-x0)]
	dx, dy = dx[:x1-x0], dy[:x1-x0]
	for i := range dx {
		o := 4 * i
		ddx, ddy := dx[i], dy[i]
		if ddx == 0 && ddy == 0 {
			copy(out[o:o+4], row[o:o+4])
			continue
		}
		fy := int((float32(y+bias)-ddy)*256+0.5) - bias*256
		iy, wy := fy>>8, uint64(fy&255)
		if iy < r.Min.Y {
			iy, wy = r.Min.Y, 0
		} else if iy > r.Max.Y-2 {
			iy, wy = r.Max.Y-2, 256
		}
		if ddx == 0 {
			// Vertical only (the breath): two taps.
			a := pix[(iy-r.Min.Y)*stride+(x0+i-r.Min.X)*4:]
			b := a[stride : stride+4]
			le.PutUint32(out[o:o+4], pixel.Pack(pixel.Lerp(pixel.At(a[0:4]), pixel.At(b), wy)))
			continue
		}
		fx := int((float32(x0+i+bias)-ddx)*256+0.5) - bias*256
		ix, wx := fx>>8, uint64(fx&255)
		if ix < r.Min.X {
			ix, wx = r.Min.X, 0
		} else if ix > r.Max.X-2 {
			ix, wx = r.Max.X-2, 256
		}
		a := pix[(iy-r.Min.Y)*stride+(ix-r.Min.X)*4:]
		b := a[stride : stride+8]
		le.PutUint32(out[o:o+4], pixel.Bilinear(a[0:8], b, wx, wy))
	}
}

// smoothstep is 0 below e0, 1 above e1 and a smooth cubic between.
func smoothstep(e0, e1, x float64) float64 {
	t := min(max((x-e0)/(e1-e0), 0), 1)
	return t * t * (3 - 2*t)
}
