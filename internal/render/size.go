package render

import "image"

// FramePoint returns where the point (x, y) of an image with bounds b
// (continuous coordinates: pixel (i, j) spans [i, i+1) x [j, j+1)) falls in
// a fw x fh frame on frame 0, as its offset from the frame's centre in
// fractions of the frame's width and height: (-0.5, -0.5) is the top-left
// corner. Points the crop to the frame's shape cuts off fall outside
// ±0.5.
func FramePoint(b image.Rectangle, fw, fh int, x, y float64) Point {
	c := cropRect(b, max(fw, 2), max(fh, 2))
	if c.Empty() {
		return Point{}
	}
	return Point{(x-float64(c.Min.X))/float64(c.Dx()) - 0.5, (y-float64(c.Min.Y))/float64(c.Dy()) - 0.5}
}

// FrameSize returns the output frame size for a w x h input: the short side
// is short (360, 540, 720 or 1080), the aspect ratio is the input's clamped
// to 9:16..16:9, and both sides are rounded to the nearest even number, as
// H.264 with 4:2:0 chroma requires. A degenerate input (w or h < 1) is
// treated as square.
func FrameSize(w, h, short int) (fw, fh int) {
	if w < 1 || h < 1 {
		w, h = 1, 1
	}
	// Clamp the aspect ratio with integer cross-multiplication so that the
	// limits come out exact (720p at 16:9 is 1280x720, not 1279x720).
	switch {
	case int64(w)*9 > int64(h)*16:
		w, h = 16, 9
	case int64(w)*16 < int64(h)*9:
		w, h = 9, 16
	}
	short = even(int64(short), 1)
	if w >= h {
		return even(int64(short)*int64(w), int64(h)), short
	}
	return short, even(int64(short)*int64(h), int64(w))
}

// even returns num/den rounded to the nearest even integer (halves round
// up), and at least 2.
func even(num, den int64) int {
	n := int((num + den) / (2 * den) * 2)
	return max(n, 2)
}
