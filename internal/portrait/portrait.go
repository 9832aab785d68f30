// Package portrait brings a face in a still image to life: the mouth
// speaks in sync with speech, the eyes blink, the head sways and nods with
// the speech's stress, and the shoulders breathe.
//
// An Animator changes the renderer's prepared source image frame by frame
// (see render.Animator), before the camera frames it, so every change
// follows the camera's motion. The mouth is a warp of the lower face: the
// jaw drops the chin and the lower lip, the lips round, stretch and press,
// and the gap that opens is drawn as the inside of a mouth with a hint of
// teeth. Every length is a part of the face's own size, so the motion looks
// the same at 360p and 1080p. Everything is deterministic: the same inputs
// and seed give the same pixels.
//
// The mouth's shape over time comes from the speech's phones (visemes with
// co-articulation, leading the sound by Lead) or, for speech without phone
// timings, from its loudness; see Speech.Mouths.
package portrait

import (
	"image"
	"math"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

// Speech is the speech a portrait speaks.
type Speech struct {
	// Phones are the phones with their times relative to the start of
	// Samples. Without them the mouth follows the loudness.
	Phones []speech.Phone
	// Samples is the speech audio, mono, at Rate Hz.
	Samples []int16
	Rate    int
	// Start is where the speech starts in the video.
	Start time.Duration
}

// Options says what to animate.
type Options struct {
	Frames, FPS int
	// Seed chooses the blinks, the sway and the breathing's pace.
	Seed int64
	// Speech is what the mouth says; nil keeps the mouth still and
	// leaves the other motions of life.
	Speech *Speech
}

// pose is everything that moves on one frame.
type pose struct {
	mouth          Mouth
	blink          float64 // 0 open .. 1 shut
	roll           float64 // the head's rotation, radians
	shiftX, shiftY float64 // the head's shift, in face sizes
	breath         float64 // 0 .. 1: how far the shoulders have risen
}

// Animator animates one face in a renderer's prepared source. It
// implements render.Animator and is safe for concurrent use.
type Animator struct {
	poses  []pose
	mouth  *mouth
	eyes   [2]eye
	body   body
	bounds image.Rectangle
}

var _ render.Animator = (*Animator)(nil)

// New returns an Animator for the face f (in src's coordinates) in src,
// the pristine prepared source that Draw will be given. It reads src's
// pixels to find the lips' shape and colours.
func New(src *image.RGBA, f face.Face, opt Options) *Animator {
	frames, fps := max(opt.Frames, 1), max(opt.FPS, 1)
	a := &Animator{
		mouth: newMouth(src, f),
		body:  newBody(f, src.Rect),
	}
	d := f.LeftEye.Dist(f.RightEye)
	a.eyes[0] = newEye(f.LeftEye, d, f.LeftEye, f.RightEye)
	a.eyes[1] = newEye(f.RightEye, d, f.LeftEye, f.RightEye)

	var mouths []Mouth
	var env []float64
	if s := opt.Speech; s != nil {
		if s.Rate > 0 {
			env = envelope(s.Samples, s.Rate, s.Start, fps, frames)
		}
		mouths = s.Mouths(fps, frames)
	}
	seed := uint64(opt.Seed)
	a.poses = lifeTrack(frames, fps, seed, env)
	blinks := blinkTrack(frames, fps, seed)
	for i := range a.poses {
		a.poses[i].blink = blinks[i]
		if mouths != nil {
			a.poses[i].mouth = mouths[i]
		}
	}
	// Frame 0 is the image as it is.
	a.poses[0] = pose{}

	b := a.body.bounds().Union(a.mouth.box).Union(a.eyes[0].box).Union(a.eyes[1].box)
	a.bounds = b.Inset(-2).Intersect(src.Rect)
	return a
}

// Bounds implements render.Animator.
func (a *Animator) Bounds() image.Rectangle { return a.bounds }

// lerpGrid fills out with the displacement along a row of pixels between
// two rows of grid nodes, top and bot, at fy of the way down.
func lerpGrid(out, top, bot []float32, fy float32) {
	for c := 0; c*grid < len(out); c++ {
		t0 := top[c] + (bot[c]-top[c])*fy
		t1 := top[c+1] + (bot[c+1]-top[c+1])*fy
		d := (t1 - t0) / grid
		seg := out[c*grid : min((c+1)*grid, len(out))]
		for k := range seg {
			seg[k] = t0 + d*float32(k)
		}
	}
}

// grid is the spacing, in source pixels, at which the head's and the
// breath's displacement is computed; between, it is interpolated. Both
// change over a face's size, so the error is far below a pixel.
const grid = 8

// Draw implements render.Animator: it writes frame i's version of Bounds
// within clip into dst from src.
func (a *Animator) Draw(i int, src, dst *image.RGBA, clip image.Rectangle) {
	a.draw(&a.poses[min(max(i, 0), len(a.poses)-1)], src, dst, clip)
}

// draw writes Bounds within clip in pose p into dst from src. The grid
// of displacements stays anchored to Bounds, so a pixel comes out the
// same whatever the clip.
func (a *Animator) draw(p *pose, src, dst *image.RGBA, clip image.Rectangle) {
	b := a.bounds
	in := b.Intersect(clip)
	if in.Empty() {
		return
	}
	mp := a.mouth.pose(p.mouth)
	if mp.still() && p.blink == 0 && p.roll == 0 && p.shiftX == 0 && p.shiftY == 0 && p.breath == 0 {
		for y := in.Min.Y; y < in.Max.Y; y++ {
			o := src.PixOffset(in.Min.X, y)
			copy(dst.Pix[o:o+4*in.Dx()], src.Pix[o:o+4*in.Dx()])
		}
		return
	}

	// The body's displacement on a coarse grid over the bounds, without
	// (bx, by) and with (gx, gy) the mouth's smooth part: the cheeks and
	// the chin, which move with the lips and the jaw.
	gw, gh := b.Dx()/grid+2, b.Dy()/grid+2
	bx := make([]float32, gw*gh)
	by := make([]float32, gw*gh)
	gx := make([]float32, gw*gh)
	gy := make([]float32, gw*gh)
	var reach float64
	for r := range gh {
		for c := range gw {
			x, y := float64(b.Min.X+c*grid), float64(b.Min.Y+r*grid)
			dx, dy := a.body.displacement(p, x, y)
			k := r*gw + c
			bx[k], by[k] = float32(dx), float32(dy)
			reach = max(reach, math.Abs(dx), math.Abs(dy))
			cx, cy := a.mouth.shift(&mp, face.Point{X: x - dx, Y: y - dy})
			gx[k], gy[k] = float32(dx+cx), float32(dy+cy)
		}
	}
	// The mouth's and the eyes' regions, in destination pixels: where
	// their source regions land, give or take the body's largest shift.
	grow := int(math.Ceil(reach)) + 1
	mouthBox := image.Rectangle{}
	if !mp.still() {
		mouthBox = a.mouth.bandBox(&mp).Inset(-grow)
	}
	var eyeBox [2]image.Rectangle
	if p.blink > 0 {
		eyeBox = [2]image.Rectangle{a.eyes[0].box.Inset(-grow), a.eyes[1].box.Inset(-grow)}
	}

	w := b.Dx()
	dx := make([]float32, w)
	dy := make([]float32, w)
	// The grid's columns over the clip, and the clip's columns in dx, dy.
	c0, c1 := (in.Min.X-b.Min.X)/grid, (in.Max.X-1-b.Min.X)/grid+2
	k0, k1 := in.Min.X-b.Min.X, in.Max.X-b.Min.X
	ddx, ddy := dx[c0*grid:min((c1-1)*grid, w)], dy[c0*grid:min((c1-1)*grid, w)]
	for y := in.Min.Y; y < in.Max.Y; y++ {
		r := (y - b.Min.Y) / grid
		fy := float32((y-b.Min.Y)%grid) / grid
		lerpGrid(ddx, gx[r*gw+c0:r*gw+c1], gx[(r+1)*gw+c0:(r+1)*gw+c1], fy)
		lerpGrid(ddy, gy[r*gw+c0:r*gw+c1], gy[(r+1)*gw+c0:(r+1)*gw+c1], fy)
		warpRow(src, dst, y, in.Min.X, in.Max.X, dx[k0:k1], dy[k0:k1])
		if y >= mouthBox.Min.Y && y < mouthBox.Max.Y {
			// The mouth moves with the body alone: shade adds the jaw.
			lerpGrid(ddx, bx[r*gw+c0:r*gw+c1], bx[(r+1)*gw+c0:(r+1)*gw+c1], fy)
			lerpGrid(ddy, by[r*gw+c0:r*gw+c1], by[(r+1)*gw+c0:(r+1)*gw+c1], fy)
		}

		// The mouth and the eyes, where this row crosses them, move with
		// the body: each is posed at the source point the body brings here.
		for _, part := range []struct {
			box   image.Rectangle
			shade func(q face.Point) (rgb, bool)
		}{
			{mouthBox, func(q face.Point) (rgb, bool) { return a.mouth.shade(src, &mp, q) }},
			{eyeBox[0], func(q face.Point) (rgb, bool) { return a.eyes[0].shade(src, p.blink, q) }},
			{eyeBox[1], func(q face.Point) (rgb, bool) { return a.eyes[1].shade(src, p.blink, q) }},
		} {
			if y < part.box.Min.Y || y >= part.box.Max.Y {
				continue
			}
			for x := max(part.box.Min.X, in.Min.X); x < min(part.box.Max.X, in.Max.X); x++ {
				k := x - b.Min.X
				q := face.Point{X: float64(x) + 0.5 - float64(dx[k]), Y: float64(y) + 0.5 - float64(dy[k])}
				if c, ok := part.shade(q); ok {
					put(dst.Pix, dst.PixOffset(x, y), c)
				}
			}
		}
	}
}
