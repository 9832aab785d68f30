package lipsync

import (
	"image"
	"math"
	"sync"

	"stillmotion/internal/face"
	"stillmotion/internal/portrait"
)

// lowerFace is the lower face of the reference frame (the frame where the
// mouth is most closed), which is posed with each frame's mouth shape by
// the talking portraits' mouth warp and pasted over the frame's own lower
// face, moved, turned and scaled to where the track puts it there. So the
// old speech's mouth is covered, and the new one drawn, in one step.
type lowerFace struct {
	ref  *image.RGBA
	warp *portrait.MouthWarp
	// patch is the pixels of ref that pasting reads: where the mask is
	// above zero, and all that the warp writes.
	patch image.Rectangle
	// The mask, in the mouth's frame: o the mouth's middle, ex along the
	// eyes' line and ey down the face; a superellipse of half-width u and
	// half-height v around vc, fading out over the next part feather of
	// its size.
	o, ex, ey   face.Point
	u, v, vc    float64
	feather     float64
	ring        []face.Point // points of ref in the mask's fade, for matching colour
	buffers     sync.Pool    // *image.RGBA over patch: ref's pixels, the posed mouth drawn in
	maskSupport image.Rectangle
}

// Proportions of the mask, in eye distances D: from below the nose to
// below the chin (the portrait model puts the chin 0.72 D below the mouth
// corners' line), and across the cheeks beyond the mouth corners, which the
// lips' stretching and rounding pull on. The fade is wide, so that the
// seam, where the reference's skin meets the frame's, does not show.
const (
	maskTop     = 0.34 // D above the corners' line
	maskBottom  = 0.88 // D below it
	maskHalf    = 0.76 // D each side of the middle, at least 1.5 mouth half-widths
	maskFeather = 0.28 // D
)

// newLowerFace prepares the lower face of the face f in ref.
func newLowerFace(ref *image.RGBA, f face.Face) *lowerFace {
	d := f.LeftEye.Dist(f.RightEye)
	ex := f.RightEye.Sub(f.LeftEye).Mul(1 / d)
	lf := &lowerFace{
		ref:  ref,
		warp: portrait.NewMouthWarp(ref, f),
		o:    f.MouthLeft.Mid(f.MouthRight),
		ex:   ex,
		ey:   face.Point{X: -ex.Y, Y: ex.X},
		u:    max(maskHalf*d, 0.75*f.MouthLeft.Dist(f.MouthRight)),
		v:    (maskTop + maskBottom) / 2 * d,
		vc:   (maskBottom - maskTop) / 2 * d,
	}
	lf.feather = maskFeather * d / min(lf.u, lf.v)
	// The mask's support, in ref's pixels.
	k := 1 + lf.feather
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [][2]float64{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
		p := lf.point(c[0]*k*lf.u, lf.vc+c[1]*k*lf.v)
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	lf.maskSupport = image.Rect(int(math.Floor(x0))-1, int(math.Floor(y0))-1, int(math.Ceil(x1))+1, int(math.Ceil(y1))+1)
	lf.patch = lf.maskSupport.Union(lf.warp.Bounds()).Intersect(ref.Rect)
	for v := -k; v <= k; v += 0.08 {
		for u := -k; u <= k; u += 0.08 {
			p := lf.point(u*lf.u, lf.vc+v*lf.v)
			if a := lf.alpha(p); a > 0.15 && a < 0.85 && inside(p, ref.Rect) {
				lf.ring = append(lf.ring, p)
			}
		}
	}
	lf.buffers.New = func() any {
		b := image.NewRGBA(lf.patch)
		for y := lf.patch.Min.Y; y < lf.patch.Max.Y; y++ {
			copy(b.Pix[b.PixOffset(lf.patch.Min.X, y):][:4*lf.patch.Dx()], ref.Pix[ref.PixOffset(lf.patch.Min.X, y):])
		}
		return b
	}
	return lf
}

// point returns the point of ref at (u, v) in the mouth's frame.
func (lf *lowerFace) point(u, v float64) face.Point {
	return lf.o.Add(lf.ex.Mul(u)).Add(lf.ey.Mul(v))
}

// alpha returns the mask at the point p of ref: 1 over the lower face, 0
// outside it, and a smooth fade between.
func (lf *lowerFace) alpha(p face.Point) float64 {
	d := p.Sub(lf.o)
	x := (d.X*lf.ex.X + d.Y*lf.ex.Y) / lf.u
	y := ((d.X*lf.ey.X + d.Y*lf.ey.Y) - lf.vc) / lf.v
	x2, y2 := x*x, y*y
	r4 := x2*x2 + y2*y2
	if r4 <= 1 {
		return 1
	}
	e := 1 + lf.feather
	if r4 >= e*e*e*e {
		return 0
	}
	r := math.Sqrt(math.Sqrt(r4))
	return 1 - smoothstep(1, e, r)
}

// draw pastes the lower face, posed in m, into dst through toFrame, the
// map from ref's pixels to dst's, at weight (0 to 1). dst holds the frame
// on entry; outside the mask it is left as it is, to the bit.
func (lf *lowerFace) draw(dst *image.RGBA, toFrame affine, m portrait.Mouth, weight float64) {
	if weight <= 0 {
		return
	}
	patch := lf.buffers.Get().(*image.RGBA)
	defer lf.buffers.Put(patch)
	lf.warp.Draw(m, lf.ref, patch)
	gain := lf.gain(dst, toFrame)

	// The destination pixels the mask can reach.
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	r := lf.maskSupport
	for _, c := range []face.Point{{X: float64(r.Min.X), Y: float64(r.Min.Y)}, {X: float64(r.Max.X), Y: float64(r.Min.Y)},
		{X: float64(r.Min.X), Y: float64(r.Max.Y)}, {X: float64(r.Max.X), Y: float64(r.Max.Y)}} {
		p := toFrame.apply(c)
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	box := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(dst.Rect)
	back := toFrame.inverse()
	for y := box.Min.Y; y < box.Max.Y; y++ {
		q := back.apply(face.Point{X: float64(box.Min.X) + 0.5, Y: float64(y) + 0.5})
		for x := box.Min.X; x < box.Max.X; x, q.X, q.Y = x+1, q.X+back[0], q.Y+back[3] {
			a := lf.alpha(q) * weight
			if a <= 0 {
				continue
			}
			c := sample(patch, q.X, q.Y)
			o := dst.PixOffset(x, y)
			px := dst.Pix[o : o+4 : o+4]
			for k := range 3 {
				v := float64(px[k])*(1-a) + c[k]*gain[k]*a
				px[k] = uint8(min(255, max(0, math.Round(v))))
			}
		}
	}
}

// gain returns the ratio, per channel, of the frame's colour to the
// reference's over the mask's fade: the light on the face changes over a
// video (a lamp, the sun, the camera's exposure), and the pasted lower face
// must match the frame's.
func (lf *lowerFace) gain(dst *image.RGBA, toFrame affine) [3]float64 {
	var sf, sr [3]float64
	for _, p := range lf.ring {
		q := toFrame.apply(p)
		if !inside(q, dst.Rect) {
			continue
		}
		f := sample(dst, q.X, q.Y)
		c := sample(lf.ref, p.X, p.Y)
		for k := range 3 {
			sf[k] += f[k]
			sr[k] += c[k]
		}
	}
	g := [3]float64{1, 1, 1}
	for k := range 3 {
		if sr[k] > 0 && sf[k] > 0 {
			g[k] = min(max(sf[k]/sr[k], 0.8), 1.25)
		}
	}
	return g
}

// sample returns the colour of img at (x, y), bilinearly interpolated,
// as the talking portraits sample it.
func sample(img *image.RGBA, x, y float64) [3]float64 { return portrait.Sample(img, x, y) }

// smoothstep is 0 below e0, 1 above e1 and a smooth cubic between.
func smoothstep(e0, e1, x float64) float64 {
	t := min(max((x-e0)/(e1-e0), 0), 1)
	return t * t * (3 - 2*t)
}

// inside reports whether p lies in r.
func inside(p face.Point, r image.Rectangle) bool {
	return p.X >= float64(r.Min.X) && p.Y >= float64(r.Min.Y) && p.X < float64(r.Max.X) && p.Y < float64(r.Max.Y)
}
