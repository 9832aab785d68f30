package render

import (
	"encoding/binary"
	"image"
	"math"

	"stillmotion/internal/pixel"
	"stillmotion/internal/splitmix"
)

// rays are light rays from the brightest part of the picture: its bright
// parts smeared towards that light, as light scattered by air. They belong
// to the scene, so they are found once on the prepared source and drawn
// through each frame's view; over time the shafts breathe and drift, as
// slowly moving noise around the light modulates them.
type rays struct {
	fw, fh int
	rgb    []float32 // the rays, sw x sh blocks of k x k texels
	sw, sh int
	k      float64
	lx, ly float64 // the light, in blocks
	ox, oy float64 // the texture's crop origin and size, in texels
	sx, sy float64
	knots  [2][]float64 // two periodic noises over the angle around the light
	ph     float64
}

// rayCell is the spacing in pixels of the grid the rays are sampled on
// each frame; they are smooth enough to interpolate between.
const rayCell = 6

// rayBins is how finely the angle around the light is modulated.
const rayBins = 512

func newRays(t *texture, seed int64, fw, fh int) *rays {
	// The work is done on a copy reduced by k, since rays are soft.
	unit := min(t.sx, t.sy) / 1000
	k := max(1, int(math.Round(4*unit)))
	small, sw, sh := reduce(&image.RGBA{Pix: t.pix, Stride: t.stride, Rect: image.Rect(0, 0, t.w, t.h)}, k)
	lum := make([]float32, sw*sh)
	for i := range lum {
		lum[i] = (0.299*small[3*i] + 0.587*small[3*i+1] + 0.114*small[3*i+2]) / 255
	}
	blurred := append([]float32(nil), lum...)
	boxBlur(blurred, sw, sh, max(1, sw/40))
	// The light: the brightest point of the upper two thirds.
	sx, sy, best := sw/2, 0, float32(-1)
	for y := range sh * 2 / 3 {
		for x := range sw {
			if v := blurred[y*sw+x] - 0.1*float32(y)/float32(sh); v > best {
				best, sx, sy = v, x, y
			}
		}
	}
	rgb := make([]float32, 3*sw*sh)
	const taps = 40
	for y := range sh {
		for x := range sw {
			var acc [3]float32
			wsum := float32(0)
			for n := range taps {
				t := float32(n) / taps * 0.6
				px := int(float32(x) + (float32(sx)-float32(x))*t)
				py := int(float32(y) + (float32(sy)-float32(y))*t)
				i := py*sw + px
				m := smoothstep(0.65, 1, lum[i])
				decay := 1 - t
				for c := range 3 {
					acc[c] += small[3*i+c] * m * decay
				}
				wsum += decay
			}
			for c := range 3 {
				rgb[3*(y*sw+x)+c] = acc[c] / wsum
			}
		}
	}
	r := &rays{fw: fw, fh: fh, rgb: rgb, sw: sw, sh: sh, k: float64(k),
		lx: float64(sx), ly: float64(sy), ox: t.ox, oy: t.oy, sx: t.sx, sy: t.sy}
	x := splitmix.Mix(uint64(seed) ^ 0x4a75)
	next := func() float64 {
		x = splitmix.Mix(x)
		return float64(x>>11) / (1 << 53)
	}
	for i, n := range []int{11, 29} {
		for range n {
			r.knots[i] = append(r.knots[i], next())
		}
	}
	r.ph = 2 * math.Pi * next()
	return r
}

// ring samples the periodic noise ks at x (in knots), smoothly.
func ring(ks []float64, x float64) float64 {
	x = wrap(x, float64(len(ks)))
	i := int(x)
	f := smooth01(x - float64(i))
	return ks[i%len(ks)]*(1-f) + ks[(i+1)%len(ks)]*f
}

// draw adds the rays as on frame f to the w x h top-left of dst, seen
// through the view c and scaled by fade.
func (r *rays) draw(dst *image.RGBA, w, h int, f, fade float64, c view) {
	t := f / 24
	// The modulation around the light: coarse shafts drifting one way
	// and finer ones the other, over a slow breath of the whole.
	var mod [rayBins]float64
	breath := 1 + 0.15*math.Sin(2*math.Pi*t/5+r.ph)
	for b := range mod {
		a := float64(b) / rayBins
		n := 0.65*ring(r.knots[0], a*11+0.08*t) + 0.35*ring(r.knots[1], a*29-0.15*t)
		mod[b] = 0.6 * fade * breath * (0.3 + 1.4*n)
	}
	const cell = rayCell
	cols, rows := w/cell+2, h/cell+2
	// The light to add at each node, R, G and B in the 16-bit lanes of a
	// uint64 (see pixel.Spread), at most 255 each.
	node := make([]uint64, cols*rows)
	for j := range rows {
		for i := range cols {
			u, v := c.crop(float64(i*cell)+0.5, float64(j*cell)+0.5, r.fw, r.fh)
			x := (r.ox+u*r.sx)/r.k - 0.5
			y := (r.oy+v*r.sy)/r.k - 0.5
			if x < -1 || y < -1 || x > float64(r.sw) || y > float64(r.sh) {
				continue
			}
			p := sampleSmall(r.rgb, r.sw, r.sh, x, y)
			if p[0]+p[1]+p[2] < 0.05 {
				continue
			}
			b := int((math.Atan2(y-r.ly, x-r.lx)/(2*math.Pi) + 0.5) * rayBins)
			m := mod[min(max(b, 0), rayBins-1)]
			var n uint64
			for ch, sh := range [3]int{0, 32, 16} {
				n |= uint64(min(float64(p[ch])*m+0.5, 255)) << sh
			}
			node[j*cols+i] = n
		}
	}
	var wt [cell]uint64 // the weight of a span's right node at each pixel
	for q := range wt {
		wt[q] = uint64(q * 256 / cell)
	}
	rd := make([]uint64, cols)
	const bit8 = 0x0001000100010001
	for y := range h {
		j, fy := y/cell, uint64(y%cell*256/cell)
		a, b := node[j*cols:][:cols], node[(j+1)*cols:][:cols]
		for i := range rd {
			rd[i] = pixel.Lerp(a[i], b[i], fy)
		}
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for i := 0; i*cell < w; i++ {
			n0, n1 := rd[i], rd[i+1]
			if n0|n1 == 0 {
				continue
			}
			for x := i * cell; x < min((i+1)*cell, w); x++ {
				k := wt[x-i*cell]
				q := out[4*x : 4*x+4 : 4*x+4]
				v := pixel.At(q) + pixel.Lerp(n0, n1, k)
				// Saturate: a lane that reached 256 becomes 255.
				v = (v | (v>>8&bit8)*0xff) & pixel.Mask
				binary.LittleEndian.PutUint32(q, pixel.Pack(v))
			}
		}
	}
}
