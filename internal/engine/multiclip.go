package engine

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"math"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/render"
)

// A multi-clip (v5.5's generate_multi_clip_switch) is the same picture cut
// into several shots that go from wide to close, each with its own move.
// The first shot is the whole picture, so frame 0 is still the image; the
// later ones are crops around the subject (the face, else the centre),
// each drawn by its own renderer. Cuts fall while the camera moves: only
// the first shot eases in and only the last eases out. The looks (grade,
// weather, flashes) run on the clip's clock across the cuts (see
// render.Clock), as they would in one scene.

// framing is one shot's framing: the part of the wide view it shows.
type framing struct {
	name  string
	scale float64 // the crop's side as a part of the wide view's
}

// The framings.
var (
	wideShot        = framing{"wide", 1}
	mediumShot      = framing{"medium", 0.72}
	mediumCloseShot = framing{"medium close", 0.6}
	closeShot       = framing{"close", 0.5}
)

// The framings and lengths (in parts of the clip) of the shots, by count.
// The first is longest, to settle in.
var (
	framings = map[int][]framing{3: {wideShot, mediumShot, closeShot}, 4: {wideShot, mediumShot, mediumCloseShot, closeShot}}
	shares   = map[int][]float64{3: {0.4, 0.3, 0.3}, 4: {0.3, 0.25, 0.25, 0.2}}
)

// shotCount is how many shots a clip of d seconds is cut into: no shot is
// shorter than a second and a half.
func shotCount(seconds int) int {
	if seconds >= 10 {
		return 4
	}
	return 3
}

// laterMoves are the moves a later shot may have, drawn by the seed; a
// close shot pushes in.
var laterMoves = []render.Move{render.PanLeft, render.PanRight, render.TruckLeft, render.TruckRight,
	render.OrbitLeft, render.OrbitRight, render.PedestalUp, render.TiltDown}

// multiClip plans and prepares the shots of req's clip of frames frames of
// fw x fh from img, whose faces are faces.
func multiClip(ctx context.Context, req *generation.Request, img image.Image, faces []face.Face, fw, fh, frames int) ([]cut, error) {
	n := shotCount(req.Duration)
	wide := coverRect(img.Bounds(), fw, fh)
	cx, cy := subjectCentre(img.Bounds(), faces, wide)
	pick := uint64(req.Seed) // the seed picks the later shots' moves
	var cuts []cut
	start := 0
	prev := render.Static
	for k := range n {
		if err := ctx.Err(); err != nil {
			return nil, fault.Wrap(fault.Cancelled, "preparing the shots was cancelled", err)
		}
		length := int(math.Round(shares[n][k] * float64(frames)))
		if k == n-1 {
			length = frames - start
		}
		f := framings[n][k]
		src, shifted := img, faces
		if k > 0 {
			src, shifted = crop(img, faces, frameAt(wide, f.scale, cx, cy))
		}
		shot := planShot(req, length, hint(src, shifted, fw, fh))
		switch {
		case k == 0 && shot.Move != render.Static:
			shot.Ease = render.EaseIn // moving when it cuts
		case k > 0:
			if f == closeShot {
				shot.Move = render.ZoomIn
			} else {
				i := (pick + uint64(3*k)) % uint64(len(laterMoves))
				if shot.Move = laterMoves[i]; shot.Move == prev {
					shot.Move = laterMoves[(i+1)%uint64(len(laterMoves))]
				}
			}
			shot.Amount, shot.Reason = 0, "multi-clip"
			shot.Ease = render.Linear
			if k == n-1 {
				shot.Ease = render.EaseOut
			}
		}
		prev = shot.Move
		shot.Clock = render.Clock{Start: start, Total: frames}
		r := render.New(src, fw, fh, shot, length)
		// Life (blinks, breath) but no speech: v5.5 has none.
		animate(r, shifted, nil, req.Seed+int64(k), length)
		cuts = append(cuts, newCut(r, start, length, f.name))
		start += length
	}
	return cuts, nil
}

// coverRect is the part of b a w x h frame shows when it covers b: the
// largest centred rectangle of the frame's shape.
func coverRect(b image.Rectangle, w, h int) image.Rectangle {
	bw, bh := float64(b.Dx()), float64(b.Dy())
	cw, ch := bw, bw*float64(h)/float64(w)
	if ch > bh {
		cw, ch = bh*float64(w)/float64(h), bh
	}
	x0 := float64(b.Min.X) + (bw-cw)/2
	y0 := float64(b.Min.Y) + (bh-ch)/2
	return image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x0+cw)), int(math.Round(y0+ch)))
}

// subjectCentre is where the closer shots centre: the first face inside
// the wide view, else the view's centre.
func subjectCentre(b image.Rectangle, faces []face.Face, wide image.Rectangle) (float64, float64) {
	for _, f := range faces {
		if inside(f, wide) {
			return (f.LeftEye.X + f.RightEye.X + f.MouthLeft.X + f.MouthRight.X) / 4,
				(f.LeftEye.Y + f.RightEye.Y + f.MouthLeft.Y + f.MouthRight.Y) / 4
		}
	}
	return float64(wide.Min.X+wide.Max.X) / 2, float64(wide.Min.Y+wide.Max.Y) / 2
}

// frameAt is the part of wide scaled by s around (cx, cy), kept inside
// wide.
func frameAt(wide image.Rectangle, s, cx, cy float64) image.Rectangle {
	w, h := float64(wide.Dx())*s, float64(wide.Dy())*s
	x0 := min(max(cx-w/2, float64(wide.Min.X)), float64(wide.Max.X)-w)
	y0 := min(max(cy-h/2, float64(wide.Min.Y)), float64(wide.Max.Y)-h)
	return image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x0+w)), int(math.Round(y0+h)))
}

// crop copies the part r of img into a new image at the origin and moves
// the faces with it.
func crop(img image.Image, faces []face.Face, r image.Rectangle) (image.Image, []face.Face) {
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Rect, img, r.Min, draw.Src)
	moved := make([]face.Face, 0, len(faces))
	off := face.Point{X: float64(r.Min.X), Y: float64(r.Min.Y)}
	for _, f := range faces {
		moved = append(moved, f.Map(func(p face.Point) face.Point { return p.Sub(off) }))
	}
	return dst, moved
}

// describeCuts is for tests and logs: the cuts' framings and moves.
func describeCuts(cuts []cut) string {
	s := ""
	for i, c := range cuts {
		if i > 0 {
			s += " | "
		}
		s += fmt.Sprintf("%s %s %d+%d", c.framing, c.draw.(*render.Renderer).Shot().Move, c.start, c.frames)
	}
	return s
}
