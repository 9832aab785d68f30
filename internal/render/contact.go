package render

import (
	"image"
	"image/draw"
)

// SheetGap is the white gap, in pixels, between the tiles of a contact
// sheet.
const SheetGap = 4

// SheetFrames returns the n frames a contact sheet of a clip of the given
// length shows: evenly spaced from the first frame to the last. n is
// limited to 1..frames.
func SheetFrames(n, frames int) []int {
	frames = max(frames, 1)
	n = min(max(n, 1), frames)
	out := make([]int, n)
	for k := range n {
		if n > 1 {
			out[k] = (k*(frames-1) + (n-1)/2) / (n - 1)
		}
	}
	return out
}

// SheetColumns returns how many tiles wide a contact sheet of n frames is:
// up to three per row.
func SheetColumns(n int) int { return min(max(n, 1), 3) }

// Clip draws the frames of a clip: a Renderer, or shots cut together.
type Clip interface {
	// Frame draws frame i into dst, which is the clip's size.
	Frame(i int, dst *image.RGBA)
	// Size returns the frame's width and height.
	Size() (w, h int)
}

// Size returns the frame's width and height.
func (r *Renderer) Size() (w, h int) { return r.fw, r.fh }

// ContactSheet draws the given frames of r into a grid of
// SheetColumns(len(frames)) columns, row by row, separated by SheetGap
// white pixels. Each tile is a whole frame, drawn by r.Frame, so the sheet
// shows exactly what the video does; frames larger than 640 pixels on the
// short side are reduced by an integer factor (a box filter) to keep the
// sheet a reasonable size.
func ContactSheet(r Clip, frames []int) *image.RGBA {
	fw, fh := r.Size()
	k := max(1, (min(fw, fh)+639)/640)
	tw, th := fw/k, fh/k
	cols := SheetColumns(len(frames))
	rows := (len(frames) + cols - 1) / cols
	out := image.NewRGBA(image.Rect(0, 0, cols*(tw+SheetGap)-SheetGap, rows*(th+SheetGap)-SheetGap))
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	full := image.NewRGBA(image.Rect(0, 0, fw, fh))
	for n, i := range frames {
		r.Frame(i, full)
		at := image.Pt(n%cols*(tw+SheetGap), n/cols*(th+SheetGap))
		for y := range th {
			row := out.Pix[out.PixOffset(at.X, at.Y+y):]
			for x := range tw {
				var acc [3]int
				for dy := range k {
					p := full.Pix[full.PixOffset(x*k, y*k+dy):]
					for dx := range k {
						for c := range 3 {
							acc[c] += int(p[4*dx+c])
						}
					}
				}
				for c := range 3 {
					row[4*x+c] = uint8((acc[c] + k*k/2) / (k * k))
				}
				row[4*x+3] = 255
			}
		}
	}
	return out
}
