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
// so content moves down in the frame; TiltDown the reverse.
//
// Frame 0 is always the identity view: the input image, cover-fitted to
// the frame. Static is truly static: every frame is frame 0. A locked-off
// camera is what the words that choose it ask for, a "breathing" zoom would
// read as drift, and other layers give such a shot its life.
package render

import (
	"encoding/binary"
	"image"
	"math"
)

// panLead is the part of the clip over which a pan or tilt reaches its
// full scale; the travel takes the whole clip. Scaling first keeps room for
// the window to travel and makes the end of the move a pure slide.
const panLead = 0.7

// Renderer draws the frames of a clip from one source image. It holds the
// prepared source and is read-only after New, so frames may be drawn
// concurrently.
type Renderer struct {
	fw, fh int
	shot   Shot
	frames int
	tex    texture
	anim   *animation // set by Animate; see animate.go
}

// New prepares src for frames of fw x fh. The source is converted once to
// opaque RGBA (transparent parts over white), cover-fitted and
// centre-cropped to the frame's aspect ratio, and resampled to the
// resolution the most zoomed-in frame needs, so that zooming never softens
// the picture: an image larger than that is reduced with a box-filter
// mipmap and Catmull-Rom, a smaller one enlarged with Catmull-Rom. For a
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
	case ZoomIn, PanLeft, PanRight, TiltUp, TiltDown:
		zoom = 1 + a
	case ZoomOut:
		// At scale 1/(1+a) the view is 1+a times the crop: a/2 beyond
		// each edge.
		surround = a / 2
	}
	return &Renderer{
		fw:     fw,
		fh:     fh,
		shot:   shot,
		frames: max(frames, 1),
		tex:    newTexture(src, fw, fh, zoom, surround),
	}
}

// Shot returns the shot the renderer draws.
func (r *Renderer) Shot() Shot { return r.shot }

// view returns the camera on frame i: the window's scale and centre.
func (r *Renderer) view(i int) (s, cx, cy float64) {
	t := 0.0
	if r.frames > 1 {
		t = float64(min(max(i, 0), r.frames-1)) / float64(r.frames-1)
	}
	e := r.shot.Ease.at(t)
	// Scale changes geometrically so that a zoom's speed looks even.
	full := 1 + r.shot.amount()
	switch r.shot.Move {
	case ZoomIn:
		return math.Pow(full, e), 0.5, 0.5
	case ZoomOut:
		return math.Pow(full, -e), 0.5, 0.5
	case PanLeft, PanRight, TiltUp, TiltDown:
		s = math.Pow(full, r.shot.Ease.at(t/panLead))
		// The window's centre travels to the edge of the margin the full
		// scale leaves. Since the scale leads and 1-full^-e is concave in
		// e, the window stays inside the image; min guards the rounding.
		d := min((1-1/full)/2*e, (1-1/s)/2)
		cx, cy = 0.5, 0.5
		switch r.shot.Move {
		case PanLeft:
			cx -= d
		case PanRight:
			cx += d
		case TiltUp:
			cy -= d
		case TiltDown:
			cy += d
		}
		return s, cx, cy
	}
	return 1, 0.5, 0.5
}

// Frame draws frame i (0 <= i < frames; others are clamped) into dst,
// which should be fw x fh; a larger dst is drawn in its top-left part, a
// smaller one gets what fits. Each pixel is sampled bilinearly from the
// prepared source in fixed point with 1/256-pixel precision, so motion is
// smooth at any speed. Frame is safe for concurrent use with distinct dst.
func (r *Renderer) Frame(i int, dst *image.RGBA) {
	s, cx, cy := r.view(i)
	t := &r.tex
	pix := t.pix
	if r.anim != nil {
		var done func()
		pix, done = r.anim.frame(min(max(i, 0), r.frames-1))
		defer done()
	}
	w, h := min(r.fw, dst.Rect.Dx()), min(r.fh, dst.Rect.Dy())
	if w <= 0 || h <= 0 {
		return
	}
	if s == 1 && cx == 0.5 && cy == 0.5 && t.sx == float64(r.fw) && t.sy == float64(r.fh) {
		// The identity on a frame-sized texture (static, or frame 0 of a
		// zoom out): every sample falls on a texel, so copy.
		x0, y0 := int(t.ox), int(t.oy)
		for y := range h {
			copy(dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w], pix[(y0+y)*t.stride+4*x0:][:4*w])
		}
		return
	}

	// Texel columns and weights are the same on every row.
	xo := make([]int, w)
	xw := make([]uint64, w)
	for x := range w {
		u := cx + ((float64(x)+0.5)/float64(r.fw)-0.5)/s
		i, f := split(t.ox+u*t.sx-0.5, t.w)
		xo[x], xw[x] = 4*i, f
	}
	for y := range h {
		v := cy + ((float64(y)+0.5)/float64(r.fh)-0.5)/s
		j, g := split(t.oy+v*t.sy-0.5, t.h)
		row0 := pix[j*t.stride:][:4*t.w]
		row1 := pix[(j+1)*t.stride:][:4*t.w]
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		lerpRow(out, row0, row1, xo, xw, g)
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

// Bilinear blending works on all four channels of a pixel at once: spread
// puts R, B, G and A in 16-bit lanes of a uint64, where a product with a
// weight of at most 256 and a sum of two such products cannot carry into
// the next lane.
const (
	laneMask = 0x00ff00ff00ff00ff
	laneHalf = 0x0080008000800080
)

func spread(p uint32) uint64 {
	return uint64(p&0x00ff00ff) | uint64(p>>8&0x00ff00ff)<<32
}

func pack(v uint64) uint32 {
	return uint32(v)&0x00ff00ff | uint32(v>>32)&0x00ff00ff<<8
}

// lerpRow fills out with bilinear samples between texel rows row0 and
// row1, whose vertical weight is g.
func lerpRow(out, row0, row1 []uint8, xo []int, xw []uint64, g uint64) {
	le := binary.LittleEndian
	for x, o := range xo {
		a := row0[o : o+8 : o+8]
		b := row1[o : o+8 : o+8]
		f := xw[x]
		top := (spread(le.Uint32(a[0:4]))*(256-f) + spread(le.Uint32(a[4:8]))*f + laneHalf) >> 8 & laneMask
		bot := (spread(le.Uint32(b[0:4]))*(256-f) + spread(le.Uint32(b[4:8]))*f + laneHalf) >> 8 & laneMask
		v := (top*(256-g) + bot*g + laneHalf) >> 8 & laneMask
		le.PutUint32(out[4*x:4*x+4], pack(v))
	}
}
