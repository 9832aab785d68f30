package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"sync"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/morph"
	"stillmotion/internal/pixel"
	"stillmotion/internal/render"
)

// A transition (pixverse/v5/transition) goes from image_url, its first
// frame, to tail_image_url, its last: a beat on the first picture, a
// morph that carries matched structure to where the last picture has it
// and dissolves only what has no counterpart (package morph), and a beat
// on the last. The tail is fitted to the first picture's frame (scaled to
// cover it and cropped about the centre). The camera moves as the prompt
// asks, one continuous move over the whole clip that starts on the first
// picture's framing and comes back to rest on the last's, so both ends
// are the pictures themselves. Speech is a voice-over: a face changing
// into another has no one mouth to move.

// holdShare is the part of the clip held on each picture.
const holdShare = 0.08

// noMouth is the warning for speech over a transition.
const noMouth = "a transition's speech is a voice-over: the mouth is not animated"

// transitionClip draws a transition's frames.
type transitionClip struct {
	m              *morph.Morph
	look           *render.Look
	fw, fh, frames int
	cam            camera
	bufs           sync.Pool // of *image.RGBA, for frames the camera moves over
}

var _ render.Clip = (*transitionClip)(nil)

func (c *transitionClip) Size() (int, int) { return c.fw, c.fh }

// at returns the morph's time at frame i: 0 through the first beat, 1
// through the last.
func (c *transitionClip) at(i int) float64 {
	if c.frames <= 1 {
		return 1
	}
	u := float64(i) / float64(c.frames-1)
	return min(max((u-holdShare)/(1-2*holdShare), 0), 1)
}

func (c *transitionClip) Frame(i int, dst *image.RGBA) {
	u := 0.0
	if c.frames > 1 {
		u = float64(min(max(i, 0), c.frames-1)) / float64(c.frames-1)
	}
	defer c.look.Draw(i, dst)
	s, dx, dy := c.cam.at(u)
	if s == 1 && dx == 0 && dy == 0 {
		c.m.Frame(c.at(i), dst)
		return
	}
	buf, _ := c.bufs.Get().(*image.RGBA)
	if buf == nil {
		buf = image.NewRGBA(image.Rect(0, 0, c.fw, c.fh))
	}
	defer c.bufs.Put(buf)
	c.m.Frame(c.at(i), buf)
	// The view: the frame scaled by s about its centre, shifted by (dx,
	// dy) frame widths and heights, which the margin s leaves room for.
	fw, fh := float64(c.fw), float64(c.fh)
	view(dst, buf, s, fw/2*(1-s)-dx*fw*s, fh/2*(1-s)-dy*fh*s)
}

// view draws src scaled by s (at least 1) and moved by (tx, ty) pixels
// into dst, the same size, bilinearly: dst's pixel (x, y) shows src at
// ((x+0.5-tx)/s-0.5, (y+0.5-ty)/s-0.5). The axes are separable, so the
// columns' taps are found once per frame.
func view(dst, src *image.RGBA, s, tx, ty float64) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tap := func(p float64, n int) (int, uint64) {
		p = min(max(p, 0), float64(n-1))
		i := min(int(p), n-2)
		return i, uint64((p-float64(i))*256 + 0.5)
	}
	xs := make([]int, w)
	fx := make([]uint64, w)
	for x := range w {
		xs[x], fx[x] = tap((float64(x)+0.5-tx)/s-0.5, w)
	}
	for y := range h {
		j, fy := tap((float64(y)+0.5-ty)/s-0.5, h)
		above := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+j):]
		below := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+j+1):]
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for x := range w {
			o := 4 * xs[x]
			binary.LittleEndian.PutUint32(out[4*x:], pixel.Bilinear(above[o:o+8], below[o:o+8], fx[x], fy))
		}
	}
}

// camera is a move over a whole transition that starts and ends at rest
// on the frame: a scale and a shift that rise and fall as sin(πu).
type camera struct {
	zoom   float64 // the scale's rise at the middle
	dx, dy float64 // the shift at the middle, in frame sides
	move   render.Move
}

func (c camera) at(u float64) (s, dx, dy float64) {
	b := math.Sin(math.Pi * min(max(u, 0), 1))
	return 1 + c.zoom*b, c.dx * b, c.dy * b
}

// cameraFor turns a planned move into a transition's camera: a zoom in
// rises and falls back, a pan or tilt drifts and returns within the margin
// its zoom gives; a zoom out, which would show beyond the pictures, and
// the other moves keep the camera still.
func cameraFor(shot render.Shot) camera {
	a := 0.6 * shot.Move.DefaultAmount()
	if shot.Amount > 0 {
		a = 0.6 * shot.Amount
	}
	c := camera{move: shot.Move}
	switch shot.Move {
	case render.ZoomIn, render.DollyZoom:
		c.zoom = a
	case render.PanLeft, render.TruckLeft, render.OrbitLeft, render.WhipLeft:
		c.zoom, c.dx = a, -a/3
	case render.PanRight, render.TruckRight, render.OrbitRight, render.WhipRight:
		c.zoom, c.dx = a, a/3
	case render.TiltUp, render.PedestalUp:
		c.zoom, c.dy = a, -a/3
	case render.TiltDown, render.PedestalDown:
		c.zoom, c.dy = a, a/3
	default:
		c.move = render.Static
	}
	return c
}

func (c camera) String() string {
	if c.move == render.Static {
		return "still camera"
	}
	return c.move.String() + " and back"
}

// prepareTransition prepares a transition's clip: both pictures loaded and
// fitted to the first one's frame, their correspondence, the camera, and
// the speech. progress gets 0.1 at the end.
func (b *Builtin) prepareTransition(ctx context.Context, req *generation.Request, first, last generation.Input, progress func(float64), tm *Timings) (*clip, error) {
	t0 := time.Now()
	a, err := b.load(ctx, req, generation.FieldImage, first)
	if err != nil {
		return nil, err
	}
	z, err := b.load(ctx, req, generation.FieldTailImage, last)
	if err != nil {
		return nil, err
	}
	tm.Intake = time.Since(t0)
	progress(0.03)

	c := &clip{frames: req.Duration * FPS}
	bounds := a.Bounds()
	c.fw, c.fh = render.FrameSize(bounds.Dx(), bounds.Dy(), req.ShortSide())
	if req.Speech != "" {
		t1 := time.Now()
		if c.audio, c.voice, err = speak(ctx, b.Speech, req, time.Duration(req.Duration)*time.Second); err != nil {
			return nil, err
		}
		tm.Speech = time.Since(t1)
		c.warnings = append(c.warnings, noMouth)
	}
	t2 := time.Now()
	faces, err := face.Detect(a)
	if err != nil {
		return nil, err
	}
	shot := planShot(req, c.frames, hint(a, faces, c.fw, c.fh))
	// The correspondence is found on the pictures as they are, the style
	// painted after: it would read as differences where there are none.
	from, to := morph.Fit(a, c.fw, c.fh), morph.Fit(z, c.fw, c.fh)
	m, err := morph.New(ctx, from, to, morph.Options{})
	if err != nil {
		return nil, err
	}
	look := render.NewLook(shot, from, c.fw, c.fh, c.frames)
	if shot.Style != render.NoStyle {
		look.Stylize(from)
		look.Stylize(to)
	}
	cam := cameraFor(shot)
	tm.Face = time.Since(t2)
	tc := &transitionClip{m: m, look: look, fw: c.fw, fh: c.fh, frames: c.frames, cam: cam}
	plan := fmt.Sprintf("transition: morph, %.0f%% of the picture matched (dissolve where nothing matches); %s", 100*m.Matched(), cam)
	if looks := look.Shot().Looks(); looks != "" {
		plan += "; " + looks
	}
	c.cuts = []cut{{draw: tc, frames: c.frames, framing: "wide", plan: plan}}
	if req.Understands() {
		c.understood = read(req).String()
	}
	progress(0.1)
	return c, nil
}
