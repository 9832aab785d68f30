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

// animate finds the face that speaks in img, the input r renders, and
// attaches an animator to r: a mouth that says audio (nil without speech),
// and blinks, small head motion and breathing. Without a face the clip
// renders as it would anyway; with speech, the returned warnings say so.
func animate(r *render.Renderer, img image.Image, audio *speech.Audio, seed int64, frames int) ([]string, error) {
	faces, err := face.Detect(img)
	if err != nil {
		return nil, err
	}
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
		return nil, nil
	}
	if audio != nil {
		return []string{noFace}, nil
	}
	return nil, nil
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
