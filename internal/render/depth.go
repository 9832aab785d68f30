package render

import (
	"encoding/binary"
	"image"
	"math"
	"slices"
	"sort"
	"sync"

	"stillmotion/internal/pixel"
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
// prepared source's alpha channel. Land before a sky is drawn as two
// layers, the land over the sky with what the land uncovers filled in
// (bg): a sky is smooth, so its fill is convincing, and the sky's matte
// follows every mast and wire (see skyDetail). Other near layers are drawn
// as one stretched picture (see stretch), since a matte found by cues may
// miss part of a figure or subject, which two layers would show twice.
type layers struct {
	bg      []uint8   // the sky with the land filled in; nil for a stretch
	near    []uint8   // the land, premultiplied by its matte (see premultiplied)
	scratch sync.Pool // of *image.RGBA frames for the land
	// scratches is a pool of *layerScratch.
	scratches sync.Pool
	// landRows is, for land before a sky, the runs of texels of each row
	// of near that are not wholly clear.
	landRows [][]span
	// matte is a stretch's widened matte in 16 bits, one a texel: its
	// slope is often below a level of 8 bits a texel, where the steps of
	// 8 bits would fold the picture. extent is where it is not zero, in
	// texels.
	matte  []uint16
	extent image.Rectangle
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
	if d == SkyDepth {
		skyDetail(t, g, p)
	}
	a := make([]uint8, t.w*t.h)
	for y := range t.h {
		for x := range t.w {
			a[y*t.w+x] = t.pix[y*t.stride+4*x+3]
			t.pix[y*t.stride+4*x+3] = 255
		}
	}
	return a, d
}

// newLayers makes the layers of t for a move from the near layer's matte
// a (see separate), which goes into t's alpha. span is the most texels by
// which the two layers' windows place a pixel apart over the clip. A
// stretch keeps the pixels' order while the matte changes by less than
// 1/span a texel; a box of width 1.5 span bounds its slope by 1/(1.5 span)
// along the axes and by √2 times that along a diagonal.
func newLayers(t *texture, d Depth, a []uint8, span float64) *layers {
	l := &layers{}
	if d != SkyDepth {
		l.matte = widen(a, t.w, t.h, max(int(math.Ceil((1.5*span-1)/2)), 0))
		x0, y0, x1, y1 := t.w, t.h, 0, 0
		for i, v := range l.matte {
			a[i] = uint8((uint32(v) + 128) / 257)
			if v != 0 {
				x, y := i%t.w, i/t.w
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x+1), max(y1, y+1)
			}
		}
		if x1 > x0 {
			l.extent = image.Rectangle{image.Pt(x0, y0), image.Pt(x1, y1)}
		}
	}
	for y := range t.h {
		for x := range t.w {
			t.pix[y*t.stride+4*x+3] = a[y*t.w+x]
		}
	}
	if d == SkyDepth {
		l.bg = skyFill(t)
		l.near = premultiplied(t, l.bg)
		l.landRows = opaqueRows(l.near, t)
	}
	return l
}

// opaqueRows returns, for each row of the texels pix, its runs of texels
// with any alpha; runs fewer than runGap texels apart are joined.
func opaqueRows(pix []uint8, t *texture) [][]span {
	const runGap = 8
	rows := make([][]span, t.h)
	for y := range t.h {
		row := pix[y*t.stride:][:4*t.w]
		var runs []span
		for x := range t.w {
			if row[4*x+3] == 0 {
				continue
			}
			if n := len(runs); n > 0 && x-runs[n-1].b < runGap {
				runs[n-1].b = x + 1
			} else {
				runs = append(runs, span{x, x + 1})
			}
		}
		rows[y] = runs
	}
	return rows
}

// layerSpan returns the most texels by which the layers' windows place a
// pixel of the frame apart over the clip: a corner's, since both windows
// map the frame affinely.
func (r *Renderer) layerSpan() float64 {
	t := &r.tex
	span := 0.0
	for i := range r.frames {
		s, cx, cy := r.view(i)
		fg, bg := windows(r.shot.Move, s, cx, cy)
		for _, u := range [2]float64{-0.5, 0.5} {
			for _, v := range [2]float64{-0.5, 0.5} {
				dx := (fg.cx + u/fg.s - bg.cx - u/bg.s) * t.sx
				dy := (fg.cy + v/fg.s - bg.cy - v/bg.s) * t.sy
				span = max(span, math.Hypot(dx, dy))
			}
		}
	}
	return span
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

// layered reports whether a move separates a near layer from the
// background (see newLayers).
func layered(m Move) bool {
	switch m {
	case ZoomIn, PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom:
		return true
	}
	return false
}

// composite draws the two layers of the frame whose camera is (s, cx,
// cy) (see windows): as one stretched picture (see stretch), or the sky,
// filled in, and the land over it.
func (r *Renderer) composite(s, cx, cy float64, pix []uint8, dst *image.RGBA, w, h int) {
	fg, bg := windows(r.shot.Move, s, cx, cy)
	if r.layers.bg == nil {
		r.stretch(fg.s, fg.cx, fg.cy, bg.s, bg.cx, bg.cy, pix, dst, w, h)
		return
	}
	near, _ := r.layers.scratch.Get().(*image.RGBA)
	if near == nil || near.Rect.Dx() < w || near.Rect.Dy() < h {
		near = image.NewRGBA(image.Rect(0, 0, r.fw, r.fh))
	}
	defer r.layers.scratch.Put(near)
	st, _ := r.layers.scratches.Get().(*layerScratch)
	if st == nil {
		st = new(layerScratch)
	}
	defer r.layers.scratches.Put(st)
	land := st.landCover(r, fg, w, h)
	r.sample(fg.s, fg.cx, fg.cy, r.layers.near, near, w, h, land, false)
	// The sky is sampled only where the land does not hide it.
	sky := r.newSmoothView(bg.s, bg.cx, bg.cy, r.layers.bg, w)
	le := binary.LittleEndian
	for y := range h {
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		f := near.Pix[y*near.Stride:][:4*w]
		sky.row(y)
		// Where the land was not sampled it is clear: the sky alone.
		next := 0
		for _, sp := range land[y] {
			sky.fill(out[4*next:], next, sp.a)
			for x := 4 * sp.a; x < 4*sp.b; x += 4 {
				// Most of the land is wholly opaque or wholly clear,
				// where the blend reduces to a copy.
				switch fv := le.Uint32(f[x : x+4]); {
				case fv>>24 == 255:
					le.PutUint32(out[x:x+4], fv)
				case fv == 0:
					le.PutUint32(out[x:x+4], sky.at(x/4)|0xff000000)
				default:
					le.PutUint32(out[x:x+4], pixel.Over(fv, sky.at(x/4)))
				}
			}
			next = sp.b
		}
		sky.fill(out[4*next:], next, w)
	}
}

// stretch draws the two layers as one warped picture: each pixel is
// sampled once, at the point between where the near layer's window (s,
// cx, cy) and the background's (sb, bx, by) put it, weighted by the matte
// at the near layer's point. Inside the near layer the picture moves with
// the near layer, outside with the background, and across the matte's
// soft edge it stretches between them, so what the near layer uncovers is
// the background drawn out towards it. Blending two offset copies instead
// (a near layer over an inpainted background) shows twice whatever the
// matte misses, such as a mast too thin for it. Where the near layer
// moves towards what is behind it, the picture is squeezed; newLayers has
// made the matte change slowly enough for the pixels to keep their order
// (see layerSpan). Both windows lie inside the picture, and so does every
// point between them. The pixels wholly of one layer, most of the frame,
// are drawn with the sharp sampler; those in the soft edge, sampled each
// at its own point, are blended bilinearly.
func (r *Renderer) stretch(s, cx, cy, sb, bx, by float64, pix []uint8, dst *image.RGBA, w, h int) {
	t := &r.tex
	le := binary.LittleEndian
	fw, fh := float64(r.fw), float64(r.fh)
	nb := r.layers.reach(s, cx, cy, t, r.fw, r.fh).Intersect(image.Rect(0, 0, w, h))
	if nb.Empty() {
		r.sample(sb, bx, by, pix, dst, w, h, nil, true)
		return
	}
	st, _ := r.layers.scratches.Get().(*layerScratch)
	if st == nil {
		st = new(layerScratch)
	}
	defer r.layers.scratches.Put(st)

	// The matte at each pixel of the near layer's reach, at the near
	// layer's point: 0..65535*65536.
	xf, xb := grow(&st.xf, w), grow(&st.xb, w)
	of, wf := grow(&st.of, w), grow(&st.wf, w)
	for x := range w {
		u := (float64(x)+0.5)/fw - 0.5
		xf[x] = t.ox + (cx+u/s)*t.sx - 0.5
		xb[x] = t.ox + (bx+u/sb)*t.sx - 0.5
		of[x], wf[x] = split(xf[x], t.w)
	}
	nw := nb.Dx()
	mt := grow(&st.matte, nw*nb.Dy())
	for y := nb.Min.Y; y < nb.Max.Y; y++ {
		v := (float64(y)+0.5)/fh - 0.5
		jf, gf := split(t.oy+(cy+v/s)*t.sy-0.5, t.h)
		m0 := r.layers.matte[jf*t.w:][:t.w]
		m1 := r.layers.matte[(jf+1)*t.w:][:t.w]
		row := mt[(y-nb.Min.Y)*nw:][:nw]
		for x := nb.Min.X; x < nb.Max.X; x++ {
			i, f := of[x], wf[x]
			top := uint64(m0[i])*(256-f) + uint64(m0[i+1])*f
			bot := uint64(m1[i])*(256-f) + uint64(m1[i+1])*f
			row[x-nb.Min.X] = uint32(top*(256-gf) + bot*gf)
		}
	}

	// Pixels wholly outside or inside the matte are the background's
	// and the near layer's views, drawn with the sharp sampler, each only
	// where it shows: the near layer over its reach.
	bgNeed, nearNeed := st.covers(mt, nb, w, h)
	r.sample(sb, bx, by, pix, dst, w, h, bgNeed, true)
	sub := dst.SubImage(nb.Add(dst.Rect.Min)).(*image.RGBA)
	r.sample(s, cx+float64(nb.Min.X)/(fw*s), cy+float64(nb.Min.Y)/(fh*s), pix, sub, nw, nb.Dy(), nearNeed, true)

	// The soft edge between, a quarter of a portrait's frame: each
	// pixel's point between the windows in fixed point, 1/256 texel, as
	// the bilinear weights are.
	pb, pd := grow(&st.pb, w), grow(&st.pd, w)
	for x := range w {
		pb[x] = fixed(xb[x])
		pd[x] = fixed(xf[x]) - pb[x]
	}
	for y := nb.Min.Y; y < nb.Max.Y; y++ {
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		v := (float64(y)+0.5)/fh - 0.5
		qb := fixed(t.oy + (by+v/sb)*t.sy - 0.5)
		qd := fixed(t.oy+(cy+v/s)*t.sy-0.5) - qb
		pb, pd := pb[nb.Min.X:nb.Max.X], pd[nb.Min.X:nb.Max.X]
		for k, m := range mt[(y-nb.Min.Y)*nw:][:nw] {
			if m == 0 || m == 65535*65536 {
				continue
			}
			f := int64(m >> 16) // 0..65535 of the way to the near layer
			i, fi := splitFixed(pb[k]+(pd[k]*f+1<<15)>>16, t.w)
			j, g := splitFixed(qb+(qd*f+1<<15)>>16, t.h)
			x := nb.Min.X + k
			le.PutUint32(out[4*x:4*x+4], bilerp(pix, t.stride, i, fi, j, g)|0xff000000)
		}
	}
}

// fixed returns the texel coordinate p in 1/256 texel, rounded.
func fixed(p float64) int64 { return int64(math.Floor(p*256 + 0.5)) }

// splitFixed is split for a coordinate in 1/256 texel.
func splitFixed(p int64, n int) (int, uint64) {
	if p <= 0 {
		return 0, 0
	}
	if p >= int64(n-1)<<8 {
		return n - 2, 256
	}
	return int(p >> 8), uint64(p & 255)
}

// layerScratch is what a call of stretch or composite works in, kept for
// the next.
type layerScratch struct {
	// stretch's: each column's texel coordinates in the two windows and
	// its bilinear pair in the near one, the matte over the near layer's
	// reach, and where each layer is sampled.
	xf, xb   []float64
	pb, pd   []int64
	of       []int
	wf       []uint64
	matte    []uint32
	bg, near cover
	// landCover's: the land's cover, each column's first tap, the runs
	// of a row's texel rows.
	land   cover
	base   []int
	texels []span
	// spans holds the spans of the covers above.
	spans []span
}

// covers returns where stretch draws the background (where the matte mt
// over the frame's part nb is zero, and everywhere outside nb) and the
// near layer (where the matte is whole, in nb's coordinates).
func (st *layerScratch) covers(mt []uint32, nb image.Rectangle, w, h int) (bg, near cover) {
	const whole = 65535 * 65536
	nw := nb.Dx()
	bg, near = grow(&st.bg, h), grow(&st.near, nb.Dy())
	all := st.spans[:0]
	full := []span{{0, w}}
	for y := range h {
		if y < nb.Min.Y || y >= nb.Max.Y {
			bg[y] = full
		}
	}
	for y := nb.Min.Y; y < nb.Max.Y; y++ {
		row := mt[(y-nb.Min.Y)*nw:][:nw]
		// The runs of whole matte, in nb's columns.
		start := len(all)
		for x := 0; x < nw; {
			if row[x] != whole {
				x++
				continue
			}
			a := x
			for x < nw && row[x] == whole {
				x++
			}
			all = append(all, span{a, x})
		}
		near[y-nb.Min.Y] = all[start:len(all):len(all)]
		// The runs of no matte, in the frame's, joined to the columns
		// either side of nb.
		start = len(all)
		for x := 0; x < nw; {
			if row[x] != 0 {
				x++
				continue
			}
			a := x
			for x < nw && row[x] == 0 {
				x++
			}
			all = append(all, span{a + nb.Min.X, x + nb.Min.X})
		}
		runs := all[start:len(all):len(all)]
		switch {
		case nb.Min.X > 0 && len(runs) > 0 && runs[0].a == nb.Min.X:
			runs[0].a = 0
		case nb.Min.X > 0:
			all = append(all, span{0, nb.Min.X})
			copy(all[start+1:], all[start:len(all)-1])
			all[start] = span{0, nb.Min.X}
		}
		if n := len(all); nb.Max.X < w && n > start && all[n-1].b == nb.Max.X {
			all[n-1].b = w
		} else if nb.Max.X < w {
			all = append(all, span{nb.Max.X, w})
		}
		bg[y] = all[start:len(all):len(all)]
	}
	st.spans = all
	return bg, near
}

// landCover returns where the land of the view v has any alpha: in each
// row of the frame, the columns whose Catmull-Rom taps (see sample) reach
// a texel with alpha in any of the rows the row's taps reach. Elsewhere
// the sampled land is wholly clear, all four channels zero.
func (st *layerScratch) landCover(r *Renderer, v view, w, h int) cover {
	t := &r.tex
	need := grow(&st.land, h)
	base := grow(&st.base, w)
	for x := range w {
		u := v.cx + ((float64(x)+0.5)/float64(r.fw)-0.5)/v.s
		base[x], _ = cubicTaps(t.ox+u*t.sx-0.5, t.w)
	}
	all := st.spans[:0]
	for y := range h {
		j, _ := cubicTaps(t.oy+(v.cy+((float64(y)+0.5)/float64(r.fh)-0.5)/v.s)*t.sy-0.5, t.h)
		// The columns reaching each run of the four texel rows, in the
		// order of the runs' starts, joined where they touch.
		texels := st.texels[:0]
		for _, row := range r.layers.landRows[j : j+4] {
			texels = append(texels, row...)
		}
		slices.SortFunc(texels, func(p, q span) int { return p.a - q.a })
		st.texels = texels
		start := len(all)
		for _, e := range texels {
			// Taps base..base+3 reach [e.a, e.b); base grows with x.
			a := sort.Search(w, func(x int) bool { return base[x]+3 >= e.a })
			b := sort.Search(w, func(x int) bool { return base[x] >= e.b })
			if b <= a {
				continue
			}
			if n := len(all); n > start && all[n-1].b >= a {
				all[n-1].b = max(all[n-1].b, b)
				continue
			}
			all = append(all, span{a, b})
		}
		need[y] = all[start:len(all):len(all)]
	}
	st.spans = all
	return need
}

// grow returns (*p)[:n], reallocating *p if it is shorter.
func grow[S ~[]E, E any](p *S, n int) S {
	if cap(*p) < n {
		*p = make(S, n)
	}
	return (*p)[:n]
}

// reach returns the part of a frame drawn with the near layer's window
// (s, cx, cy) where the matte is not zero: its extent in texels, widened
// by a texel for the bilinear reading of the matte, in frame pixels.
func (l *layers) reach(s, cx, cy float64, t *texture, fw, fh int) image.Rectangle {
	if l.extent.Empty() {
		return image.Rectangle{}
	}
	at := func(tx, ty float64) (float64, float64) {
		u, v := (tx-t.ox)/t.sx, (ty-t.oy)/t.sy
		return ((u-cx)*s + 0.5) * float64(fw), ((v-cy)*s + 0.5) * float64(fh)
	}
	e := l.extent
	x0, y0 := at(float64(e.Min.X)-1.5, float64(e.Min.Y)-1.5)
	x1, y1 := at(float64(e.Max.X)+1.5, float64(e.Max.Y)+1.5)
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1)))
}

// bilerp returns the bilinear sample of the texels pix (rows stride
// bytes apart) at (i+f/256, j+g/256).
func bilerp(pix []uint8, stride, i int, f uint64, j int, g uint64) uint32 {
	return pixel.Bilinear(pix[j*stride+4*i:][:8:8], pix[(j+1)*stride+4*i:][:8:8], f, g)
}

// premultiplied returns the land of t ready to be drawn over the sky bg:
// each texel's colour less what of the sky its matte lets through, that
// is its own colour times its matte, so that the land drawn over the sky
// gives the picture again where the layers have not moved apart (frame 0),
// and a texel that is part mast and part sky lays down just the mast.
// Sampled premultiplied, colour and matte blend together between texels.
// The matte is raised where the picture cannot be made with it.
func premultiplied(t *texture, bg []uint8) []uint8 {
	near := make([]uint8, len(t.pix))
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		under := bg[y*t.stride:][:4*t.w]
		out := near[y*t.stride:][:4*t.w]
		for x := range t.w {
			// The matte, raised where it lets through more of the sky
			// than the picture has (a texel darker than that much sky,
			// or brighter than the rest can make it): there the land is
			// more opaque than the matte says.
			a := int32(row[4*x+3])
			for c := range 3 {
				p, b := int32(row[4*x+c]), int32(under[4*x+c])
				if p < b {
					a = max(a, (255*(b-p)+b-1)/b)
				} else if p > b {
					a = max(a, (255*(p-b)+254-b)/(255-b))
				}
			}
			for c := range 3 {
				p, b := int32(row[4*x+c]), int32(under[4*x+c])
				out[4*x+c] = uint8(min(max(p-((255-a)*b+127)/255, 0), a))
			}
			out[4*x+3] = uint8(a)
		}
	}
	return near
}
