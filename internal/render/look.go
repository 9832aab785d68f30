package render

import (
	"image"
	"strings"
)

// Look draws a shot's looks over frames another drawer makes (a
// transition's morph between two pictures): the style, painted on the
// pictures before they are drawn; the grade, growing in from the picture
// as it is and changing over the clip; lightning flashes; and the
// atmosphere that needs nothing found in a picture: particles (rain, snow,
// dust, embers, fireflies, petals) and fog. What the renderer finds in its
// one picture (water, sky, foliage, a figure's hair, light rays, a flare)
// has no single picture to be found in here, and is left out of Shot.
// The looks grow in over the first second and out over the last, so that
// the first frame is the first picture and the last the last one (but for
// a style, which is painted on both).
type Look struct {
	shot   Shot
	frames int
	atmo   *atmosphere
	steady *lut
}

// lookEffects are the effects a Look draws.
const lookEffects = Rain | Snow | Dust | Embers | Fireflies | Petals | Fog

// NewLook prepares shot's looks for frames fw x fh frames; first is the
// clip's first picture, whose colours the fog takes.
func NewLook(shot Shot, first *image.RGBA, fw, fh, frames int) *Look {
	shot.Atmosphere &= lookEffects
	l := &Look{shot: shot, frames: max(frames, 1), steady: steadyGrade(shot.Light)}
	b := first.Rect
	t := &texture{pix: first.Pix[first.PixOffset(b.Min.X, b.Min.Y):], stride: first.Stride, w: b.Dx(), h: b.Dy()}
	l.atmo = newAtmosphere(l.shot, fw, fh, t, t)
	return l
}

// Shot returns the shot whose looks l draws: its atmosphere only what a
// Look draws.
func (l *Look) Shot() Shot { return l.shot }

// Stylize paints the style on a picture, as the renderer does on its
// source: frame 0 is the styled picture.
func (l *Look) Stylize(img *image.RGBA) {
	b := img.Rect
	stylize(l.shot.Style, img.Pix[img.PixOffset(b.Min.X, b.Min.Y):], img.Stride, b.Dx(), b.Dy(), float64(min(b.Dx(), b.Dy()))/1000)
}

// Draw draws the looks of frame i over dst, a whole frame.
func (l *Look) Draw(i int, dst *image.RGBA) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	i = min(max(i, 0), l.frames-1)
	age := min(i, l.frames-1-i) // from the nearer end
	if l.atmo != nil {
		c := view{1, 0.5, 0.5}
		l.atmo.drawFaded(dst, w, h, i, smooth01(float64(age)/12), scene{c, c})
	}
	if lut := lightAt(&l.shot, l.steady, l.frames, i, age); lut != nil {
		for y := range h {
			lut.apply(dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w])
		}
	}
}

// Looks describes the looks of s for a plan, "" without any: its style,
// light, atmosphere and lightning, as Description says them.
func (s Shot) Looks() string {
	d := s
	d.Move, d.Reason, d.Depth, d.Flat, d.Shake = Static, "", NoDepth, false, 0
	_, looks, _ := strings.Cut(d.Description(), "; ")
	return looks
}
