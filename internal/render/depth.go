package render

import (
	"encoding/binary"
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
// of a push in gets: it grows as s^bgDepth while the near layer grows as
// s, so the near layer comes forward from what is behind it.
const bgDepth = 0.8

// truckDepth is how far the background of a truck or pedestal slides,
// relative to the near layer in front of it.
const truckDepth = 0.5

// layers is a move's depth: a near layer (a figure, a subject, or the
// land below a sky) in front of a far one. The near layer's matte is the
// prepared source's alpha channel. For the moves that uncover what is
// behind the near layer the far layer is its own texture, with the near
// layer filled in; a push in uncovers nothing, so it needs none (see
// stretch).
type layers struct {
	bg      []uint8   // texels like the source's, the near layer filled in; nil for a push in
	scratch sync.Pool // of *image.RGBA frames for the near layer
}

// separate finds the near layer of t for the shot and reports what it
// is: the figure whose face is shot.Figure, or else what the cues find
// (see cueMatte). It returns the near layer's matte, one alpha a texel,
// or nil and NoDepth when there is nothing to separate. It runs on the
// picture as it is, before a style or grade changes its colours, so that
// the layers follow what the picture shows.
func separate(t *texture, shot Shot) ([]uint8, Depth) {
	g := newGrid(t)
	var p []float32
	var d Depth
	r := 4 // the guided filter's radius in cells: about 3% of the short side
	if !shot.Figure.Empty() {
		p = figureMatte(t, g, shot.Figure)
		d = FigureDepth
	} else if p, d = cueMatte(g); d == NoDepth {
		return nil, NoDepth
	}
	refine(t, g, p, r)
	a := make([]uint8, t.w*t.h)
	for y := range t.h {
		for x := range t.w {
			a[y*t.w+x] = t.pix[y*t.stride+4*x+3]
			t.pix[y*t.stride+4*x+3] = 255
		}
	}
	return a, d
}

// newLayers makes the layers of t for the shot's move from the near
// layer's matte a (see separate), which goes into t's alpha.
func newLayers(t *texture, shot Shot, a []uint8) *layers {
	if shot.Move == ZoomIn {
		// A push in stretches the picture between the layers'
		// positions, which differ by up to D texels (see stretch). The
		// stretch keeps the pixels' order while the matte changes by
		// less than 1/D a texel; a box of width 1.5 D bounds its slope
		// by 1/(1.5 D) along the axes and by √2 times that along a
		// diagonal.
		full := (1 + shot.amount()) * (1 + 2.5*shot.Shake)
		span := max(t.sx, t.sy) * (math.Pow(full, -bgDepth) - 1/full)
		if rad := int(math.Ceil((1.5*span - 1) / 2)); rad > 0 {
			box(a, t.w, t.h, rad)
		}
	}
	for y := range t.h {
		for x := range t.w {
			t.pix[y*t.stride+4*x+3] = a[y*t.w+x]
		}
	}
	l := &layers{}
	if shot.Move != ZoomIn {
		// What the near layer uncovers is filled in.
		l.bg = fill(t)
	}
	return l
}

// figureMatte returns the coarse matte of the person whose face is the
// box face, one value per cell of g: a head around the face and a body
// below it, to the bottom of the picture, with soft edges for the guided
// filter to move onto the person's outline.
func figureMatte(t *texture, g *grid, face Box) []float32 {
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
	soft := 0.22 * fw // the width of the coarse matte's edge
	m := make([]float32, g.w*g.h)
	k := float64(g.k)
	for j := range g.h {
		for i := range g.w {
			x, y := (float64(i)+0.5)*k, (float64(j)+0.5)*k
			dh := (math.Hypot((x-cx)/hrx, (y-cy)/hry) - 1) * min(hrx, hry)
			db := (math.Hypot((x-bcx)/brx, (y-bcy)/bry) - 1) * min(brx, bry)
			m[j*g.w+i] = float32(1 - smooth01(min(dh, db)/soft+0.5))
		}
	}
	return m
}

// fill returns a copy of t's texels in which the near layer (alpha) is
// replaced by the background around it, by push-pull interpolation: the
// known texels are averaged down a pyramid and the holes filled from the
// coarsest level that knows them. The pyramid starts at half the
// texture's size: a fill is smooth, and most texels are known and kept.
// Where the matte is soft the near layer's colours in t are unmixed from
// the fill's.
func fill(t *texture) []uint8 {
	w, h := t.w, t.h
	// known is how far a texel is known background: where the matte is
	// nearly zero, outside its soft edge.
	var knownLUT, mixLUT [256]float32
	for a := range 256 {
		knownLUT[a] = 1 - smoothstep(0.02, 0.2, float32(a)/255)
		mixLUT[a] = smoothstep(0.02, 0.3, float32(a)/255)
	}
	known := func(a uint8) float32 { return knownLUT[a] }
	type level struct {
		c    []float32 // 3 per texel, premultiplied by weight
		wt   []float32
		w, h int
	}
	nw, nh := (w+1)/2, (h+1)/2
	l1 := level{c: make([]float32, 3*nw*nh), wt: make([]float32, nw*nh), w: nw, h: nh}
	for y := range h {
		row := t.pix[y*t.stride:][:4*w]
		cells := (y / 2) * nw
		for x := range w {
			k := known(row[4*x+3])
			j := cells + x/2
			l1.wt[j] += k
			for c := range 3 {
				l1.c[3*j+c] += float32(row[4*x+c]) * k
			}
		}
	}
	pyr := []level{l1}
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
	// up reads the level of size cw x ch, one step coarser than the
	// point (x, y), bilinearly, so that the fill is smooth rather than
	// made of its blocks.
	up := func(col []float32, cw, ch, x, y int) [3]float32 {
		u := min(max((float32(x)+0.5)/2-0.5, 0), float32(cw-1))
		v := min(max((float32(y)+0.5)/2-0.5, 0), float32(ch-1))
		x0, y0 := int(u), int(v)
		x1, y1 := min(x0+1, cw-1), min(y0+1, ch-1)
		fx, fy := u-float32(x0), v-float32(y0)
		var o [3]float32
		for c := range 3 {
			top := col[3*(y0*cw+x0)+c]*(1-fx) + col[3*(y0*cw+x1)+c]*fx
			bot := col[3*(y1*cw+x0)+c]*(1-fx) + col[3*(y1*cw+x1)+c]*fx
			o[c] = top*(1-fy) + bot*fy
		}
		return o
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
		cw, ch := pyr[li+1].w, pyr[li+1].h
		for y := range p.h {
			for x := range p.w {
				i := y*p.w + x
				k := min(p.wt[i], 1)
				if k == 1 {
					// Known: most of the picture, and cheap.
					for c := range 3 {
						out[3*i+c] = p.c[3*i+c] / p.wt[i]
					}
					continue
				}
				u := up(col, cw, ch, x, y)
				for c := range 3 {
					own := float32(0)
					if p.wt[i] > 0 {
						own = p.c[3*i+c] / p.wt[i]
					}
					out[3*i+c] = own*k + u[c]*(1-k)
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
			if row[4*x+3] == 0 {
				row[4*x+3] = 255
				continue // the background itself
			}
			a := float32(row[4*x+3]) / 255
			m := mixLUT[row[4*x+3]]
			k := known(row[4*x+3])
			u := up(col, nw, nh, x, y)
			src := t.pix[y*t.stride+4*x:][:3]
			for c := range 3 {
				own := float32(row[4*x+c])
				b := own*(1-m) + (own*k+u[c]*(1-k))*m
				row[4*x+c] = unit8(b / 255)
				// Where the matte is soft the near layer's colour is
				// unmixed from the background's, so that over the
				// fill it still gives the picture: a F + (1-a) B = I.
				// The fill then holds none of the near layer's
				// colour, which would show as a halo once the layers
				// part.
				if a < 1 {
					f := (own - (1-a)*b) / a
					src[c] = unit8(f / 255)
				}
			}
			row[4*x+3] = 255
		}
	}
	return bg
}

// layered reports whether a move separates a near layer from the
// background (see newLayers).
func layered(m Move) bool {
	switch m {
	case ZoomIn, PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom:
		return true
	}
	return false
}

// composite draws the two layers: the background, magnified less than
// the near layer on a push in, sliding less on a pan or tilt and more on
// an orbit, and the near layer, sampled from pix with its matte in alpha.
// A push in is a stretch (see stretch); the other moves draw the
// background into dst and the near layer over it.
func (r *Renderer) composite(s, cx, cy float64, pix []uint8, dst *image.RGBA, w, h int) {
	// The background's window is larger than the near layer's; its
	// centre is kept as far inside the picture as that leaves room for,
	// so that it never reaches past an edge.
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
	if r.layers.bg == nil {
		r.stretch(s, cx, cy, sb, bx, by, pix, dst, w, h)
		return
	}
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

// stretch draws a push in's two layers as one warped picture: each pixel
// is sampled once, at the point between where the near layer's window (s,
// cx, cy) and the background's (sb, bx, by) put it, weighted by the matte
// at the near layer's point. Inside the near layer the picture grows at
// the camera's rate, outside at the background's, and across the matte's
// soft edge it stretches between them. Blending two offset copies instead
// would show an object that the soft edge crosses twice. The near layer
// grows faster, so along any line from the centre of the zoom its points
// move outwards more than the background's: the stretch keeps the order
// of the pixels and never folds where the near layer holds the centre of
// the zoom. Off the centre its edge nearer the centre moves outwards
// faster than what is behind it; there newLayers has made the matte
// change slowly enough for its order to hold too. Both windows lie inside
// the picture, and so does every point between them.
func (r *Renderer) stretch(s, cx, cy, sb, bx, by float64, pix []uint8, dst *image.RGBA, w, h int) {
	t := &r.tex
	le := binary.LittleEndian
	fw, fh := float64(r.fw), float64(r.fh)
	// Texel columns of both windows, the same on every row, and their
	// bilinear pairs for the pixels wholly inside or outside the matte.
	xf, xb := make([]float64, w), make([]float64, w)
	of, wf := make([]int, w), make([]uint64, w)
	ob, wb := make([]int, w), make([]uint64, w)
	for x := range w {
		u := (float64(x)+0.5)/fw - 0.5
		xf[x] = t.ox + (cx+u/s)*t.sx - 0.5
		xb[x] = t.ox + (bx+u/sb)*t.sx - 0.5
		of[x], wf[x] = split(xf[x], t.w)
		ob[x], wb[x] = split(xb[x], t.w)
	}
	for y := range h {
		v := (float64(y)+0.5)/fh - 0.5
		yf := t.oy + (cy+v/s)*t.sy - 0.5
		yb := t.oy + (by+v/sb)*t.sy - 0.5
		jf, gf := split(yf, t.h)
		jb, gb := split(yb, t.h)
		a0 := pix[jf*t.stride:][:4*t.w]
		a1 := pix[(jf+1)*t.stride:][:4*t.w]
		b0 := pix[jb*t.stride:][:4*t.w]
		b1 := pix[(jb+1)*t.stride:][:4*t.w]
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for x := range w {
			// The matte at the near layer's point, 0..255*65536.
			o, f := 4*of[x], wf[x]
			top := uint64(a0[o+3])*(256-f) + uint64(a0[o+7])*f
			bot := uint64(a1[o+3])*(256-f) + uint64(a1[o+7])*f
			// Wholly outside or inside the matte the sample comes
			// from the preloaded rows of the background's or the near
			// layer's window.
			r0, r1, g := a0, a1, gf
			switch m := top*(256-gf) + bot*gf; m {
			case 0:
				r0, r1, g = b0, b1, gb
				o, f = 4*ob[x], wb[x]
			case 255 * 65536:
			default:
				k := float64(m) / (255 * 65536)
				i, f := split(xb[x]+(xf[x]-xb[x])*k, t.w)
				j, g := split(yb+(yf-yb)*k, t.h)
				le.PutUint32(out[4*x:4*x+4], bilerp(pix, t.stride, i, f, j, g)|0xff000000)
				continue
			}
			p, q := r0[o:o+8:o+8], r1[o:o+8:o+8]
			pt := (spread(le.Uint32(p[0:4]))*(256-f) + spread(le.Uint32(p[4:8]))*f + laneHalf) >> 8 & laneMask
			pb := (spread(le.Uint32(q[0:4]))*(256-f) + spread(le.Uint32(q[4:8]))*f + laneHalf) >> 8 & laneMask
			le.PutUint32(out[4*x:4*x+4], pack((pt*(256-g)+pb*g+laneHalf)>>8&laneMask)|0xff000000)
		}
	}
}

// bilerp returns the bilinear sample of the texels pix (rows stride
// bytes apart) at (i+f/256, j+g/256).
func bilerp(pix []uint8, stride, i int, f uint64, j int, g uint64) uint32 {
	le := binary.LittleEndian
	p := pix[j*stride+4*i:][:8:8]
	q := pix[(j+1)*stride+4*i:][:8:8]
	top := (spread(le.Uint32(p[0:4]))*(256-f) + spread(le.Uint32(p[4:8]))*f + laneHalf) >> 8 & laneMask
	bot := (spread(le.Uint32(q[0:4]))*(256-f) + spread(le.Uint32(q[4:8]))*f + laneHalf) >> 8 & laneMask
	return pack((top*(256-g) + bot*g + laneHalf) >> 8 & laneMask)
}
