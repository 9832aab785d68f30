package render

import (
	"image"
	"math"
	"sync"
)

// Box is a rectangle in the frame, in the offsets from its centre that
// Point uses.
type Box struct{ Min, Max Point }

// Empty reports whether the box has no area.
func (b Box) Empty() bool { return b.Max.X <= b.Min.X || b.Max.Y <= b.Min.Y }

// bgDepth is how much of the camera's magnification the background layer
// of a push in gets: it grows as s^bgDepth while the figure grows as s, so
// the figure comes forward from what is behind it.
const bgDepth = 0.8

// truckDepth is how far the background of a truck or pedestal slides,
// relative to the figure in front of it.
const truckDepth = 0.5

// layers is a push in's depth: the figure (the person whose face is
// Shot.Figure) in front of a background whose part behind the figure is
// filled in. The figure's matte is the prepared source's alpha channel;
// the background is its own texture.
type layers struct {
	bg      []uint8   // texels like the source's, the figure filled in
	scratch sync.Pool // of *image.RGBA frames for the figure layer
}

// newLayers separates the figure from the background in t: a soft matte
// of a head around face and shoulders and a body below it, to the bottom
// of the picture, goes into the texels' alpha, and the background behind
// it is filled from around it.
func newLayers(t *texture, face Box) *layers {
	// The face box in texels.
	tx := func(x float64) float64 { return t.ox + (x+0.5)*t.sx }
	ty := func(y float64) float64 { return t.oy + (y+0.5)*t.sy }
	x0, x1, y0, y1 := tx(face.Min.X), tx(face.Max.X), ty(face.Min.Y), ty(face.Max.Y)
	fw, fh := x1-x0, y1-y0
	cx, cy := (x0+x1)/2, (y0+y1)/2
	// Head: an ellipse a little larger than the face, for hair and ears.
	hrx, hry := 0.75*fw, 0.8*fh
	// Body: a wide ellipse from the chin down, past the bottom edge.
	bcx, bcy := cx, cy+0.5*fh+1.6*fh
	brx, bry := 1.7*fw, 1.9*fh
	soft := 0.22 * fw // the width of the matte's edge
	alpha := func(x, y float64) float64 {
		dh := (math.Hypot((x-cx)/hrx, (y-cy)/hry) - 1) * min(hrx, hry)
		db := (math.Hypot((x-bcx)/brx, (y-bcy)/bry) - 1) * min(brx, bry)
		d := min(dh, db)
		return 1 - smooth01(d/soft+0.5)
	}
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		for x := range t.w {
			row[4*x+3] = uint8(math.Round(255 * alpha(float64(x)+0.5, float64(y)+0.5)))
		}
	}
	return &layers{bg: fill(t)}
}

// fill returns a copy of t's texels in which the figure (alpha) is
// replaced by the background around it, by push-pull interpolation: the
// known texels are averaged down a pyramid and the holes filled from the
// coarsest level that knows them. Where the matte is soft the copy blends
// the two, so that with the figure over it frame 0 is still the picture.
func fill(t *texture) []uint8 {
	w, h := t.w, t.h
	// Level 0: colour times weight, and the weight; known where the
	// matte is well below a half.
	type level struct {
		c    []float32 // 3 per texel, premultiplied by weight
		wt   []float32
		w, h int
	}
	l0 := level{c: make([]float32, 3*w*h), wt: make([]float32, w*h), w: w, h: h}
	for y := range h {
		row := t.pix[y*t.stride:][:4*w]
		for x := range w {
			k := 1 - smoothstep(0.05, 0.45, float32(row[4*x+3])/255)
			i := y*w + x
			l0.wt[i] = k
			for c := range 3 {
				l0.c[3*i+c] = float32(row[4*x+c]) * k
			}
		}
	}
	pyr := []level{l0}
	for p := pyr[0]; p.w > 1 || p.h > 1; p = pyr[len(pyr)-1] {
		nw, nh := (p.w+1)/2, (p.h+1)/2
		n := level{c: make([]float32, 3*nw*nh), wt: make([]float32, nw*nh), w: nw, h: nh}
		for y := range p.h {
			for x := range p.w {
				i, j := y*p.w+x, (y/2)*nw+x/2
				n.wt[j] += p.wt[i]
				for c := range 3 {
					n.c[3*j+c] += p.c[3*i+c]
				}
			}
		}
		pyr = append(pyr, n)
	}
	// Pull: from the coarsest level down, each texel's colour is its own
	// mean where it is well known, blended towards the coarser level's
	// where it is not.
	top := pyr[len(pyr)-1]
	col := make([]float32, 3)
	for c := range 3 {
		col[c] = top.c[c] / max(top.wt[0], 1e-6)
	}
	for li := len(pyr) - 2; li >= 0; li-- {
		p := pyr[li]
		out := make([]float32, 3*p.w*p.h)
		cw := pyr[li+1].w
		for y := range p.h {
			for x := range p.w {
				i, j := y*p.w+x, (y/2)*cw+x/2
				k := min(p.wt[i], 1)
				for c := range 3 {
					own := float32(0)
					if p.wt[i] > 0 {
						own = p.c[3*i+c] / p.wt[i]
					}
					out[3*i+c] = own*k + col[3*j+c]*(1-k)
				}
			}
		}
		col = out
	}
	bg := make([]uint8, len(t.pix))
	copy(bg, t.pix)
	for y := range h {
		row := bg[y*t.stride:][:4*w]
		for x := range w {
			m := smoothstep(0.4, 1, float32(row[4*x+3])/255)
			i := y*w + x
			for c := range 3 {
				row[4*x+c] = unit8((float32(row[4*x+c])*(1-m) + col[3*i+c]*m) / 255)
			}
			row[4*x+3] = 255
		}
	}
	return bg
}

// layered reports whether a move separates a figure from the background.
func layered(m Move) bool {
	switch m {
	case ZoomIn, PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom:
		return true
	}
	return false
}

// composite draws the two layers: the background into dst, magnified less
// than the figure on a push in, sliding less on a pan or tilt and more on
// an orbit, then the figure, sampled from pix with its matte in alpha,
// over it.
func (r *Renderer) composite(s, cx, cy float64, pix []uint8, dst *image.RGBA, w, h int) {
	// The background's window is larger than the figure's; its centre is
	// kept as far inside the picture as that leaves room for, so that it
	// never reaches past an edge.
	sb, bx, by := math.Pow(s, bgDepth), cx, cy
	switch r.shot.Move {
	case PanLeft, PanRight, TiltUp, TiltDown:
		// The background is further away: it slides less.
		sb = s
		bx, by = 0.5+(cx-0.5)*bgDepth, 0.5+(cy-0.5)*bgDepth
	case TruckLeft, TruckRight, PedestalUp, PedestalDown:
		// The camera travels: the background, further away, slides much
		// less than the figure.
		sb = s
		bx, by = 0.5+(cx-0.5)*truckDepth, 0.5+(cy-0.5)*truckDepth
	case DollyZoom:
		// The figure keeps its size and place; the background zooms in.
		sb, bx, by = s, 0.5, 0.5
		s, cx, cy = 1, 0.5, 0.5
	case OrbitLeft, OrbitRight:
		// Circling the subject: the background slides the whole way
		// while the subject stays nearly where it is.
		sb = s
		cx = 0.5 - (cx-0.5)*0.15
	}
	m := 0.5 - 0.5/sb
	bx, by = 0.5+min(max(bx-0.5, -m), m), 0.5+min(max(by-0.5, -m), m)
	r.sample(sb, bx, by, r.layers.bg, dst, w, h)
	fg, _ := r.layers.scratch.Get().(*image.RGBA)
	if fg == nil || fg.Rect.Dx() < w || fg.Rect.Dy() < h {
		fg = image.NewRGBA(image.Rect(0, 0, r.fw, r.fh))
	}
	defer r.layers.scratch.Put(fg)
	r.sample(s, cx, cy, pix, fg, w, h)
	for y := range h {
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		f := fg.Pix[y*fg.Stride:][:4*w]
		for x := 0; x < 4*w; x += 4 {
			a := int32(f[x+3])
			for c := range 3 {
				b := int32(out[x+c])
				out[x+c] = uint8(b + ((int32(f[x+c])-b)*a+127)/255)
			}
			out[x+3] = 255
		}
	}
}
