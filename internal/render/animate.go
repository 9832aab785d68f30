package render

import (
	"image"
	"sync"
)

// Animator changes part of the prepared source image over time, before
// the camera frames it, so that whatever it moves (a talking mouth, a
// blink) follows the camera's motion. It is the one hook other packages
// have into the renderer; see Renderer.Animate.
//
// Implementations must be safe for concurrent use (frames are drawn in
// parallel) and deterministic: the same i must give the same pixels.
type Animator interface {
	// Bounds returns the part of the source the animator may change, in
	// the source's coordinates: the union over all frames.
	Bounds() image.Rectangle
	// Draw writes frame i's version of every pixel of Bounds within clip
	// (the texels the camera reads on frame i) into dst, reading the
	// pristine source src. dst has src's bounds; its pixels inside Bounds
	// may hold an earlier frame's version, and those outside are src's and
	// must be left alone. A pixel must come out the same whatever the clip.
	Draw(i int, src, dst *image.RGBA, clip image.Rectangle)
}

// animation is an attached Animator with the scratch copies of the source
// that frames are drawn from.
type animation struct {
	a       Animator
	src     *image.RGBA
	bounds  image.Rectangle
	scratch sync.Pool // of *image.RGBA copies of src
}

// Source returns the prepared source that the camera samples: the input
// image flattened, cropped to the frame's aspect ratio, resampled to the
// resolution the shot needs and, for a zoom out, surrounded (see New).
// SourcePoint maps the input image's coordinates into it. The image is
// shared with the renderer and must not be modified.
func (r *Renderer) Source() *image.RGBA {
	t := &r.tex
	return &image.RGBA{Pix: t.pix, Stride: t.stride, Rect: image.Rect(0, 0, t.w, t.h)}
}

// SourcePoint maps the point (x, y) in the input image given to New
// (continuous coordinates: pixel (i, j) spans [i, i+1) x [j, j+1)) to the
// same point in Source. Points outside the crop map outside the crop's
// texels, possibly outside Source.
func (r *Renderer) SourcePoint(x, y float64) (sx, sy float64) {
	t := &r.tex
	c := t.crop
	if c.Empty() {
		return t.ox, t.oy
	}
	return t.ox + (x-float64(c.Min.X))*t.sx/float64(c.Dx()),
		t.oy + (y-float64(c.Min.Y))*t.sy/float64(c.Dy())
}

// Animate attaches a, which changes the source before each frame is
// framed; nil detaches it. Call it before drawing frames, not while they
// are drawn. Each frame then draws from a scratch copy of the source in
// which only a.Bounds() is redrawn, so frames still render concurrently,
// and a renderer without an animator costs nothing extra.
func (r *Renderer) Animate(a Animator) {
	if a == nil {
		r.anim = nil
		return
	}
	src := r.Source()
	r.anim = &animation{a: a, src: src, bounds: a.Bounds().Intersect(src.Rect)}
	r.anim.scratch.New = func() any {
		c := *src
		c.Pix = append([]uint8(nil), src.Pix...)
		return &c
	}
}

// frame returns the texels of frame i with the animator's changes within
// clip, and a function to call when they are no longer needed.
func (an *animation) frame(i int, clip image.Rectangle) ([]uint8, func()) {
	if an.bounds.Intersect(clip).Empty() {
		return an.src.Pix, func() {}
	}
	s := an.scratch.Get().(*image.RGBA)
	an.a.Draw(i, an.src, s, clip)
	return s.Pix, func() { an.scratch.Put(s) }
}
