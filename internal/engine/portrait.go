package engine

import (
	"image"

	"stillmotion/internal/face"
	"stillmotion/internal/portrait"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

// noFace is the warning for speech without a face to say it.
const noFace = "no face found in the image; the speech plays without a talking mouth"

// animate takes the first of faces (found in the input r renders) that
// the crop keeps as the one that speaks, and attaches an animator to r: a
// mouth that says audio (nil without speech), and blinks, small head
// motion and breathing. Without a face the clip renders as it would
// anyway; with speech, the returned warnings say so.
func animate(r *render.Renderer, faces []face.Face, audio *speech.Audio, seed int64, frames int) []string {
	src := r.Source()
	for _, f := range faces {
		f = f.Map(func(p face.Point) face.Point {
			x, y := r.SourcePoint(p.X, p.Y)
			return face.Point{X: x, Y: y}
		})
		if !inside(f, src.Rect) {
			// The crop to the frame's shape cut this face off.
			continue
		}
		opt := portrait.Options{Frames: frames, FPS: FPS, Seed: seed}
		if audio != nil {
			opt.Speech = &portrait.Speech{Phones: audio.Phones, Samples: audio.Samples, Rate: speech.SampleRate, Start: speech.Lead}
		}
		r.Animate(portrait.New(src, f, opt))
		return nil
	}
	if audio != nil {
		return []string{noFace}
	}
	return nil
}

// hint returns what the planner should know of the image: the centre of
// its first face, if the crop to the frame's shape keeps one, or else
// whether it is a wide scene.
func hint(img image.Image, faces []face.Face, fw, fh int) render.Hint {
	for _, f := range faces {
		x := (f.LeftEye.X + f.RightEye.X + f.MouthLeft.X + f.MouthRight.X) / 4
		y := (f.LeftEye.Y + f.RightEye.Y + f.MouthLeft.Y + f.MouthRight.Y) / 4
		p := render.FramePoint(img.Bounds(), fw, fh, x, y)
		if p.X > -0.4 && p.X < 0.4 && p.Y > -0.4 && p.Y < 0.4 {
			// The face from brow to chin and cheek to cheek, in eye
			// distances from the eyes and mouth.
			e := f.LeftEye.Dist(f.RightEye)
			eyes := (f.LeftEye.Y + f.RightEye.Y) / 2
			mouth := (f.MouthLeft.Y + f.MouthRight.Y) / 2
			box := render.Box{
				Min: render.FramePoint(img.Bounds(), fw, fh, x-1.05*e, eyes-0.9*e),
				Max: render.FramePoint(img.Bounds(), fw, fh, x+1.05*e, mouth+0.75*e),
			}
			return render.Hint{Face: true, Subject: p, FaceBox: box}
		}
	}
	b := img.Bounds()
	return render.Hint{Wide: render.IsWide(b.Dx(), b.Dy())}
}

// inside reports whether f's eyes and mouth lie well inside r.
func inside(f face.Face, r image.Rectangle) bool {
	m := f.LeftEye.Dist(f.RightEye) / 2
	for _, p := range []face.Point{f.LeftEye, f.RightEye, f.MouthLeft, f.MouthRight, f.LipBottom} {
		if p.X < float64(r.Min.X)+m || p.X > float64(r.Max.X)-m || p.Y < float64(r.Min.Y)+m || p.Y > float64(r.Max.Y)-m {
			return false
		}
	}
	return true
}
