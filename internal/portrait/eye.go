package portrait

import (
	"image"
	"math"

	"stillmotion/internal/face"
)

// eye is one eye in the source image, for blinking. Lengths are source
// pixels in the eye's frame, whose origin is the pupil.
type eye struct {
	f        frame
	a        float64 // half the width of the eye's opening
	up, down float64 // the upper and lower lid's distance from the pupil, mid-eye
	skin     float64 // height of the skin above the upper lid that stretches to cover the eye
	box      image.Rectangle
}

// newEye places an eye at pupil p, for a face whose eyes are d apart and
// whose eye line runs along ex (from the face's left eye to its right).
// The opening's size follows average proportions.
func newEye(p face.Point, d float64, l, r face.Point) eye {
	e := eye{f: newFrame(p, l, r), a: 0.24 * d, up: 0.1 * d, down: 0.07 * d, skin: 0.15 * d}
	e.box = e.f.box(-e.a-1, e.a+1, -e.up-e.skin-1, e.down+1)
	return e
}

// shade returns the colour at source point q with the upper lid closed by
// b (0 open, 1 shut), and false where the blink changes nothing. The lid
// is the skin above the eye stretched down over it: the lashes at its
// edge come down with it.
func (e *eye) shade(src *image.RGBA, b float64, q face.Point) (rgb, bool) {
	u, v := e.f.local(q)
	x := u / e.a
	if x <= -1 || x >= 1 {
		return rgb{}, false
	}
	h := math.Sqrt(1 - x*x)
	top := -(e.up + e.skin) * math.Sqrt(h)
	lid := -e.up * h
	low := e.down * h
	edge := lid + b*(low-lid)
	if v < top || v > low || v > edge+0.5 {
		return rgb{}, false
	}
	vs := top + (v-top)*(lid-top)/(edge-top)
	c := e.at(src, u, vs)
	// Stretched, the skin's texture would show; the closed lid is
	// evened toward the skin above it, except along the lashes.
	lid0 := e.at(src, u, top-0.3*e.skin)
	c = c.mix(lid0, 0.4*b*smoothstep(top, top+0.4*(lid-top), vs)*(1-smoothstep(lid-0.5*e.up, lid, vs)))
	if cover := edge - v + 0.5; cover < 1 {
		c = e.at(src, u, v).mix(c, cover)
	}
	return c, true
}

func (e *eye) at(src *image.RGBA, u, v float64) rgb {
	p := e.f.point(u, v)
	return sample(src, p.X, p.Y)
}
