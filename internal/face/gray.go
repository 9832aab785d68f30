package face

import (
	"image"
	"image/color"
)

// gray is an 8-bit luma image with its origin at (0, 0), one byte a pixel,
// rows packed.
type gray struct {
	pix  []uint8
	w, h int
}

// workingSide is the short side detection works at. Detection time grows
// with the pixel count, and a face that fills a tenth of a 640-pixel side is
// still 64 pixels across, plenty for the cascades; larger images are
// reduced first, so the result does not depend on the input's resolution.
const workingSide = 640

// grayOf returns the luma of img reduced by an integer factor k so that its
// short side is at most workingSide (each pixel the mean of a k x k block),
// and k. Transparent pixels are taken over white, as the renderer shows
// them.
func grayOf(img image.Image) (*gray, int) {
	b := img.Bounds()
	k := max(1, (min(b.Dx(), b.Dy())+workingSide-1)/workingSide)
	g := &gray{w: b.Dx() / k, h: b.Dy() / k}
	g.pix = make([]uint8, g.w*g.h)
	sum := make([]uint32, g.w)
	for y := range g.h {
		clear(sum)
		for dy := range k {
			sy := b.Min.Y + y*k + dy
			lumaRow(img, b.Min.X, sy, g.w*k, k, sum)
		}
		n := uint32(k * k)
		row := g.pix[y*g.w:][:g.w]
		for x := range row {
			row[x] = uint8((sum[x] + n/2) / n)
		}
	}
	return g, k
}

// lumaRow adds the luma (Rec. 601, 0..255) of the w pixels of row y of img
// from x0 into sum, k neighbouring pixels into each element.
func lumaRow(img image.Image, x0, y, w, k int, sum []uint32) {
	switch m := img.(type) {
	case *image.RGBA:
		p := m.Pix[m.PixOffset(x0, y):][:4*w]
		for x := range w {
			q := p[4*x : 4*x+4 : 4*x+4]
			// Premultiplied: add what white shows through.
			sum[x/k] += luma(uint32(q[0])+255-uint32(q[3]), uint32(q[1])+255-uint32(q[3]), uint32(q[2])+255-uint32(q[3]))
		}
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(x0, y):][:4*w]
		for x := range w {
			q := p[4*x : 4*x+4 : 4*x+4]
			a := uint32(q[3])
			over := func(c uint8) uint32 { return (uint32(c)*a + 255*(255-a) + 127) / 255 }
			sum[x/k] += luma(over(q[0]), over(q[1]), over(q[2]))
		}
	case *image.YCbCr:
		for x := range w {
			sum[x/k] += uint32(m.Y[m.YOffset(x0+x, y)])
		}
	case *image.Gray:
		p := m.Pix[m.PixOffset(x0, y):][:w]
		for x := range w {
			sum[x/k] += uint32(p[x])
		}
	default:
		for x := range w {
			r, g, b, a := img.At(x0+x, y).RGBA()
			c := color.RGBA64{R: uint16(r + 0xffff - a), G: uint16(g + 0xffff - a), B: uint16(b + 0xffff - a)}
			sum[x/k] += luma(uint32(c.R>>8), uint32(c.G>>8), uint32(c.B>>8))
		}
	}
}

// luma returns the Rec. 601 luma of 8-bit R, G, B, rounded.
func luma(r, g, b uint32) uint32 {
	return (19595*r + 38470*g + 7471*b + 1<<15) >> 16
}
