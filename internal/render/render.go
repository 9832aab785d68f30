// Package render is the built-in procedural renderer: it animates one still
// image with a camera move chosen from the prompt (see Plan) and draws the
// frames of the clip.
//
// Motion conventions. A frame shows a view window over the image, the
// centre crop of the image with the frame's aspect ratio. The window has a
// scale s (1 on frame 0, where the window is the whole crop; 2 would show
// half of it) and a centre (cx, cy) in crop coordinates, (0, 0) the
// top-left corner and (1, 1) the bottom-right. Moves are named for the
// camera: ZoomIn raises s, so content grows away from the frame's centre;
// ZoomOut lowers it below 1; PanRight moves the window right, so content
// moves left in the frame; PanLeft the reverse; TiltUp moves the window up,
// so content moves down in the frame; TiltDown the reverse. TruckLeft and
// TruckRight move the window like PanLeft and PanRight, PedestalUp and
// PedestalDown like TiltUp and TiltDown; with layers, the background
// behind the near layer slides only truckDepth as far (a travelling
// camera's parallax). DollyZoom raises the background's scale while the
// subject keeps scale 1: with layers, the near layer stays and the
// background layer zooms in; without them, the centre of the frame stays
// and the scale grows towards the edges (see warp).
//
// Frame 0 is always the identity view: the input image, cover-fitted to
// the frame. Static is truly static: every frame is frame 0. A locked-off
// camera is what the words that choose it ask for, a "breathing" zoom would
// read as drift, and other layers give such a shot its life.
//
// Beyond the camera, a Shot carries a look. A Style is painted once on the
// prepared source in New, so it costs nothing per frame and cannot
// flicker; with one, frame 0 is the styled input rather than the input
// itself. The grade (Light) grows in over the first second from the
// picture as it is, then holds or changes over the clip ("the sun sets");
// it is applied per frame, as are lightning Flashes and the
// Atmosphere (particles, fog, light rays, a lens flare, and the motion of
// water, sky, foliage and a figure's hair and clothes) are drawn on each
// frame after the camera; they fade in over the first half second, so
// frame 0 stays the picture. What of them belongs to the scene (foliage,
// the rays, the flare's light) is found once on the prepared source and
// drawn through each frame's view, so it stays in place as the camera
// moves.
//
// Depth. The moves with parallax (push in, pans and tilts, trucks and
// pedestals, orbits, dolly zoom) separate a near layer from the
// background with a soft matte that follows the picture's edges: the
// person whose face is Shot.Figure or, without one, a salient subject or
// the land below a sky, found from the picture itself; when the cues are
// unsure the picture stays one layer. New records which in Shot.Depth. A
// push in warps the picture, the near layer growing faster than the
// background; the other moves draw the near layer over a background
// whose part behind it is filled in (see depth.go and cues.go).
//
// Everything is deterministic: the seeded parts take Shot.Seed.
package render

import (
	"encoding/binary"
	"image"
	"math"
	"sync"

	"stillmotion/internal/splitmix"
)

// panLead is the part of the clip over which a pan or tilt reaches its
// full scale; the travel takes the whole clip. Scaling first keeps room for
// the window to travel and makes the end of the move a pure slide.
const panLead = 0.7

// Renderer draws the frames of a clip from one source image. It holds the
// prepared source and is read-only after New, so frames may be drawn
// concurrently.
type Renderer struct {
	fw, fh  int
	shot    Shot
	frames  int
	tex     texture
	anim    *animation  // set by Animate; see animate.go
	atmo    *atmosphere // nil without effects
	layers  *layers     // nil unless the move separates a near layer (see Shot.Depth)
	samples sync.Pool   // of *sampleScratch, see sample
	// steady is the grade of a light that does not change, once it has
	// grown in; nil without one.
	steady *lut
}

// New prepares src for frames of fw x fh. The source is converted once to
// opaque RGBA (transparent parts over white), cover-fitted and
// centre-cropped to the frame's aspect ratio, and reduced to the
// resolution the most zoomed-in frame needs, so that zooming never softens
// the picture: an image larger than that is reduced with a box-filter
// mipmap and Catmull-Rom; a smaller one is kept at its own size, and the
// camera's sampler enlarges it as it frames it. For a
// zoom out the crop is surrounded with a mirrored, blurred extension of
// itself, so that the widening view never shows empty pixels.
func New(src image.Image, fw, fh int, shot Shot, frames int) *Renderer {
	fw, fh = max(fw, 2), max(fh, 2)
	if src.Bounds().Empty() {
		// An empty image gives white frames rather than transparent ones.
		src = &image.RGBA{Pix: []uint8{255, 255, 255, 255}, Stride: 4, Rect: image.Rect(0, 0, 1, 1)}
	}
	zoom, surround := 1.0, 0.0
	switch a := shot.amount(); shot.Move {
	case ZoomIn, PanLeft, PanRight, TiltUp, TiltDown, WhipLeft, WhipRight, OrbitLeft, OrbitRight,
		TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom:
		zoom = 1 + a
	case ZoomOut:
		// At scale 1/(1+a) the view is 1+a times the crop: a/2 beyond
		// each edge.
		surround = a / 2
	}
	zoom *= 1 + 2.5*shot.Shake
	r := &Renderer{
		fw:     fw,
		fh:     fh,
		shot:   shot,
		frames: max(frames, 1),
		tex:    newTexture(src, fw, fh, zoom, surround),
	}
	t := &r.tex
	// The layers are found on the picture itself, before a style or
	// grade changes it; the shot says what was separated, for its
	// description.
	var matte []uint8
	if layered(shot.Move) && !shot.Flat {
		matte, r.shot.Depth = separate(t, shot)
	}
	// What the atmosphere finds in the picture (a flare's light, foliage)
	// is found before a style or grade recolours it too.
	scene := t
	if shot.Atmosphere&(Flare|Sway) != 0 && shot.Style != NoStyle {
		c := *t
		c.pix = append([]uint8(nil), t.pix...)
		scene = &c
	}
	stylize(shot.Style, t.pix, t.stride, t.w, t.h, min(t.sx, t.sy)/1000)
	// The grade is applied per frame: it grows in from the picture as it
	// is (see light); once grown, a steady one is this one table.
	r.steady = steadyGrade(shot.Light)
	if matte != nil {
		// After the style, which writes opaque alpha.
		r.layers = newLayers(t, r.shot.Depth, matte, r.layerSpan())
	}
	r.atmo = newAtmosphere(shot, fw, fh, t, scene)
	return r
}

// meanColour returns the mean colour of the texels, from a sparse sample.
func meanColour(t *texture) [3]float64 {
	var m [3]float64
	n := 0
	for y := 0; y < t.h; y += 7 {
		for x := 0; x < t.w; x += 7 {
			p := t.pix[y*t.stride+4*x:]
			for c := range 3 {
				m[c] += float64(p[c])
			}
			n++
		}
	}
	for c := range 3 {
		m[c] /= float64(max(n, 1))
	}
	return m
}

// light returns the per-frame colour transform of the clip's frame i, or
// nil when frame i needs none.
func (r *Renderer) light(i int) *lut {
	return lightAt(&r.shot, r.steady, max(r.frames, r.shot.Clock.Total), i, i)
}

// lightAt returns shot's colour transform of frame i of a clip of frames
// frames, steady its grade once grown in (nil without one), or nil when
// frame i needs none. The grade has grown for age frames.
func lightAt(shot *Shot, steady *lut, frames, i, age int) *lut {
	l := shot.Light
	flash := 0.0
	for _, f := range shot.Flashes {
		if k := i - f.Frame; k >= 0 && k < len(flashCurve) {
			flash = max(flash, flashCurve[k]*min(max(f.Strength, 0), 1))
		}
	}
	if l.From == 0 && l.To == 0 && flash == 0 {
		return nil
	}
	grow := smooth01(float64(age) / gradeGrowth)
	if steady != nil && flash == 0 && grow >= 1 {
		return steady
	}
	g := l.From.grading()
	if l.From != l.To {
		t := 0.0
		if frames > 1 {
			t = float64(min(max(i, 0), frames-1)) / float64(frames-1)
		}
		g = lerpGrading(g, l.To.grading(), EaseInOut.at(t))
	}
	if grow < 1 {
		g = lerpGrading(neutral, g, grow)
	}
	return g.build(0.75 * flash)
}

// steadyGrade is the table of a light that does not change, once grown
// in; nil for one that changes or none.
func steadyGrade(l Light) *lut {
	if l.From == l.To && l.From != 0 {
		return l.From.grading().build(0)
	}
	return nil
}

// gradeGrowth is how many frames (a second) a grade takes to grow in from
// the picture as it is: frame 0 is the input image, as image_url is "the
// first frame of the video".
const gradeGrowth = 24

// Shot returns the shot the renderer draws.
func (r *Renderer) Shot() Shot { return r.shot }

// view returns the camera on frame i: the window's scale and centre.
func (r *Renderer) view(i int) (s, cx, cy float64) {
	return r.viewAt(float64(min(max(i, 0), r.frames-1)))
}

// Whip pans travel over this part of the clip, centred on its middle.
const whipSpan = 0.16

// viewAt returns the camera at frame f, which may fall between frames.
func (r *Renderer) viewAt(f float64) (s, cx, cy float64) {
	t := 0.0
	if r.frames > 1 {
		t = min(max(f, 0), float64(r.frames-1)) / float64(r.frames-1)
	}
	s, cx, cy = r.move(t)
	if r.shot.Shake > 0 {
		// The wander fades in over the first half second, so frame 0 is
		// still the input, and the window is enlarged by what it needs
		// to stay inside the picture.
		env := smooth01(f / 12)
		a := r.shot.Shake * env
		dx, dy := r.wander(f)
		s *= 1 + 2.5*r.shot.Shake*env
		cx += a * dx / s
		cy += a * dy / s
	}
	return s, cx, cy
}

func smooth01(x float64) float64 {
	x = min(max(x, 0), 1)
	return x * x * (3 - 2*x)
}

// wander returns a handheld camera's offset at frame f: sums of slow sines
// at seeded frequencies (0.2 to 1.4 Hz at 24 fps) and phases, each in
// about [-1, 1].
func (r *Renderer) wander(f float64) (dx, dy float64) {
	x := splitmix.Mix(uint64(r.shot.Seed) ^ 0x5eed)
	next := func() float64 {
		x = splitmix.Mix(x)
		return float64(x>>11) / (1 << 53)
	}
	for k := range 3 {
		amp := []float64{0.6, 0.3, 0.15}[k]
		fx, fy := 0.2+0.4*float64(k)+0.3*next(), 0.2+0.4*float64(k)+0.3*next()
		px, py := 2*math.Pi*next(), 2*math.Pi*next()
		dx += amp * math.Sin(2*math.Pi*fx*f/24+px)
		dy += amp * math.Sin(2*math.Pi*fy*f/24+py)
	}
	return dx, dy
}

// move returns the camera move's window at the clip's progress t.
func (r *Renderer) move(t float64) (s, cx, cy float64) {
	e := r.shot.Ease.at(t)
	// Scale changes geometrically so that a zoom's speed looks even.
	full := 1 + r.shot.amount()
	switch r.shot.Move {
	case ZoomIn:
		s = math.Pow(full, e)
		// The window drifts towards the subject as far as the margin
		// the zoom has gained allows.
		m := 0.5 - 0.5/s
		return s, 0.5 + min(max(r.shot.Subject.X, -m), m), 0.5 + min(max(r.shot.Subject.Y, -m), m)
	case ZoomOut:
		return math.Pow(full, -e), 0.5, 0.5
	case WhipLeft, WhipRight:
		s = math.Pow(full, EaseInOut.at(t/(0.5-whipSpan/2)))
		// A whip is a fast ease in-out from the centre to the edge of the
		// margin the scale has gained.
		w := EaseInOut.at((t - (0.5 - whipSpan/2)) / whipSpan)
		d := min((1-1/full)/2, (1-1/s)/2) * w
		if r.shot.Move == WhipLeft {
			return s, 0.5 - d, 0.5
		}
		return s, 0.5 + d, 0.5
	case DollyZoom:
		// The background's scale; the subject's stays 1 (see composite
		// and warp).
		return math.Pow(full, e), 0.5, 0.5
	case PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown:
		s = math.Pow(full, r.shot.Ease.at(t/panLead))
		// The window's centre travels to the edge of the margin the full
		// scale leaves. Since the scale leads and 1-full^-e is concave in
		// e, the window stays inside the image; min guards the rounding.
		d := min((1-1/full)/2*e, (1-1/s)/2)
		cx, cy = 0.5, 0.5
		switch r.shot.Move {
		case PanLeft, OrbitRight, TruckLeft:
			cx -= d
		case PanRight, OrbitLeft, TruckRight:
			cx += d
		case TiltUp, PedestalUp:
			cy -= d
		case TiltDown, PedestalDown:
			cy += d
		}
		return s, cx, cy
	}
	return 1, 0.5, 0.5
}

// Frame draws frame i (0 <= i < frames; others are clamped) into dst,
// which should be fw x fh; a larger dst is drawn in its top-left part, a
// smaller one gets what fits. Each pixel is sampled from the prepared
// source with a Catmull-Rom kernel weighted by its exact position (see
// sample.go), so motion is smooth at any speed and stays sharp. Frame is safe for concurrent use with distinct dst.
func (r *Renderer) Frame(i int, dst *image.RGBA) {
	s, cx, cy := r.view(i)
	pix := r.tex.pix
	if r.anim != nil {
		var done func()
		pix, done = r.anim.frame(min(max(i, 0), r.frames-1), r.footprint(i, s, cx, cy))
		defer done()
	}
	w, h := min(r.fw, dst.Rect.Dx()), min(r.fh, dst.Rect.Dy())
	if w <= 0 || h <= 0 {
		return
	}
	if k := r.blurSamples(i); k > 1 {
		r.blurred(i, k, pix, dst, w, h)
	} else if r.layers != nil {
		r.composite(s, cx, cy, pix, dst, w, h)
	} else if r.shot.Move == DollyZoom {
		r.warp(s, pix, dst, w, h)
	} else {
		r.sample(s, cx, cy, pix, dst, w, h, nil, true)
	}
	// The looks run on the clip's clock, which a cut shot starts into.
	i = min(max(i, 0), r.frames-1) + r.shot.Clock.Start
	if r.atmo != nil {
		r.atmo.draw(dst, w, h, i, r.scene(s, cx, cy))
	}
	if l := r.light(i); l != nil {
		for y := range h {
			l.apply(dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w])
		}
	}
}

// footprint returns the texels that drawing frame i, whose camera is (s,
// cx, cy), reads from the source: an animator need redraw no others. A
// push in ends on a part of the source, and a pan never shows all of it.
func (r *Renderer) footprint(i int, s, cx, cy float64) image.Rectangle {
	all := image.Rect(0, 0, r.tex.w, r.tex.h)
	if r.blurSamples(i) > 1 || (r.layers == nil && r.shot.Move == DollyZoom) || (r.layers != nil && r.layers.bg != nil) {
		return all
	}
	t := &r.tex
	// at returns the texels a window of scale s centred on (cx, cy)
	// reads: the Catmull-Rom taps reach a texel before and two after
	// the sample's, the bilinear ones one after.
	at := func(s, cx, cy float64) image.Rectangle {
		x0, x1 := t.ox+(cx-0.5/s)*t.sx-0.5, t.ox+(cx+0.5/s)*t.sx-0.5
		y0, y1 := t.oy+(cy-0.5/s)*t.sy-0.5, t.oy+(cy+0.5/s)*t.sy-0.5
		return image.Rect(int(math.Floor(x0))-2, int(math.Floor(y0))-2, int(math.Ceil(x1))+3, int(math.Ceil(y1))+3)
	}
	if r.layers == nil {
		return at(s, cx, cy).Intersect(all)
	}
	// A stretch samples each window and points between them.
	fg, bg := windows(r.shot.Move, s, cx, cy)
	return at(fg.s, fg.cx, fg.cy).Union(at(bg.s, bg.cx, bg.cy)).Intersect(all)
}

// blurSamples returns how many views a motion-blurred frame i averages:
// one for most frames, and for the fast frames of a whip pan enough that
// the views lie at most about two pixels apart over a half-frame shutter.
func (r *Renderer) blurSamples(i int) int {
	if r.shot.Move != WhipLeft && r.shot.Move != WhipRight {
		return 1
	}
	_, x0, _ := r.viewAt(float64(i) - 0.25)
	_, x1, _ := r.viewAt(float64(i) + 0.25)
	return min(1+int(math.Abs(x1-x0)*float64(r.fw)/2), 16)
}

// blurred draws frame i as the mean of k views spread over the half of the
// frame's interval around it: a 180° shutter.
func (r *Renderer) blurred(i, k int, pix []uint8, dst *image.RGBA, w, h int) {
	acc := make([]uint16, 4*w*h)
	tmp := image.NewRGBA(image.Rect(0, 0, w, h))
	for n := range k {
		s, cx, cy := r.viewAt(float64(i) - 0.25 + 0.5*(float64(n)+0.5)/float64(k))
		r.sample(s, cx, cy, pix, tmp, w, h, nil, true)
		for j, v := range tmp.Pix {
			acc[j] += uint16(v)
		}
	}
	half := uint16(k / 2)
	for y := range h {
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for x := range out {
			out[x] = uint8((acc[y*4*w+x] + half) / uint16(k))
		}
	}
}

// Without a figure, a dolly zoom holds the centre of the picture and zooms
// the part around it: the scale grows from 1 inside dollyInner to s beyond
// dollyOuter, in radii where 1 is half the frame's width.
const dollyInner, dollyOuter = 0.3, 0.9

// warp draws the view of a dolly zoom without a figure: the frame's centre
// at scale 1 and its outer part at scale s, blended smoothly between, from
// the texels pix into the top-left w x h of dst. The scale grows outwards
// slowly enough that the mapping keeps its order, so nothing folds over,
// and every sample falls inside the picture.
func (r *Renderer) warp(s float64, pix []uint8, dst *image.RGBA, w, h int) {
	t := &r.tex
	le := binary.LittleEndian
	fw, fh := float64(r.fw), float64(r.fh)
	ramp := 1 / (dollyOuter - dollyInner)
	// at returns the texel the frame's pixel (x, y) samples.
	at := func(x, y float64) (float64, float64) {
		dx, dy := x+0.5-fw/2, y+0.5-fh/2
		rx, ry := 2*dx/fw, 2*dy/fw // radii in half the frame's width
		k := 1 + (s-1)*smooth01((math.Sqrt(rx*rx+ry*ry)-dollyInner)*ramp)
		return t.ox + (0.5+dx/k/fw)*t.sx - 0.5, t.oy + (0.5+dy/k/fh)*t.sy - 0.5
	}
	// The mapping is smooth: it is computed every span pixels along a
	// row and interpolated between.
	const span = 8
	for y := range h {
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for x0 := 0; x0 < w; x0 += span {
			ua, va := at(float64(x0), float64(y))
			ub, vb := at(float64(x0+span), float64(y))
			for x := x0; x < min(x0+span, w); x++ {
				q := float64(x-x0) / span
				i, f := split(ua+(ub-ua)*q, t.w)
				j, g := split(va+(vb-va)*q, t.h)
				le.PutUint32(out[4*x:4*x+4], bilerp(pix, t.stride, i, f, j, g))
			}
		}
	}
}

// split splits the texel coordinate p into the index of the left (or top)
// texel of a bilinear pair and the weight of the other one, 0..256,
// clamping at the edges of a texture n texels wide.
func split(p float64, n int) (int, uint64) {
	if !(p > 0) {
		return 0, 0
	}
	if p >= float64(n-1) {
		return n - 2, 256
	}
	i := int(p)
	return i, uint64((p-float64(i))*256 + 0.5)
}
