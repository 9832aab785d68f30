package portrait

import (
	"image"

	"stillmotion/internal/face"
)

// MouthWarp poses the mouth of one face in one image: the mouth of an
// Animator without the head's, the eyes' and the breath's motions, for
// callers that place the face themselves, such as lip-sync of a video,
// which poses the mouth of one frame and pastes it into every other. It is
// safe for concurrent use.
type MouthWarp struct {
	a *Animator
}

// NewMouthWarp measures the mouth of the face f (in src's coordinates) in
// src, the image that Draw will be given. The zero Mouth is the mouth as
// src shows it.
func NewMouthWarp(src *image.RGBA, f face.Face) *MouthWarp {
	a := &Animator{mouth: newMouth(src, f), body: newBody(f, src.Rect)}
	a.bounds = a.mouth.box.Inset(-2).Intersect(src.Rect)
	return &MouthWarp{a: a}
}

// Bounds returns the pixels that Draw writes: all that any mouth shape
// changes (the lips, the cheeks beside them and the chin, down to where
// the jaw's motion fades out).
func (w *MouthWarp) Bounds() image.Rectangle { return w.a.bounds }

// Draw writes Bounds of src, with the mouth in shape m, into dst. dst must
// contain Bounds; it need not be src's size.
func (w *MouthWarp) Draw(m Mouth, src, dst *image.RGBA) {
	if mp := w.a.mouth.pose(m); mp.still() {
		b := w.a.bounds
		for y := b.Min.Y; y < b.Max.Y; y++ {
			copy(dst.Pix[dst.PixOffset(b.Min.X, y):][:4*b.Dx()], src.Pix[src.PixOffset(b.Min.X, y):][:4*b.Dx()])
		}
		return
	}
	w.a.draw(&pose{mouth: m}, src, dst, w.a.bounds)
}
