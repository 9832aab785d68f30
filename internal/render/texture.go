package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
)

// texture is the prepared source: opaque RGBA texels covering the centre
// crop of the image at the resolution the shot needs, and for a zoom out a
// surround beyond the crop's edges.
type texture struct {
	pix    []uint8
	stride int
	w, h   int     // size in texels, surround included
	ox, oy float64 // texel position of the crop's top-left corner
	sx, sy float64 // the crop's size in texels
	// crop is the part of the input image the texels show (see
	// Renderer.SourcePoint).
	crop image.Rectangle
}

// newTexture crops src to the frame's aspect ratio around its centre and
// resamples the crop to zoom times the fw x fh frame, so that the most
// zoomed-in frame still samples about one texel per pixel. A crop smaller
// than that keeps its own size: enlarging it here would add texels but no
// detail, and every frame's work on the source (an animator's warp, the
// layers' samples) grows with the texels, while the camera's Catmull-Rom
// sampler enlarges it as well in one step instead of two. A surround of
// the given fraction of the crop's size is added on every side.
func newTexture(src image.Image, fw, fh int, zoom, surround float64) texture {
	tw := max(4, int(math.Round(float64(fw)*zoom))) // the sampler needs four texels
	th := max(4, int(math.Round(float64(fh)*zoom)))
	crop := cropRect(src.Bounds(), fw, fh)
	if crop.Dx() < tw && crop.Dy() < th {
		tw, th = max(4, crop.Dx()), max(4, crop.Dy())
	}

	// A source much larger than the texture is first halved with a box
	// filter (a mipmap level) as often as it stays at least the texture's
	// size: cheap, and it keeps fine detail from aliasing. The crop is
	// trimmed by at most 2^levels-1 pixels so that halving stays exact.
	levels := 0
	for crop.Dx()>>(levels+1) >= tw && crop.Dy()>>(levels+1) >= th {
		levels++
	}
	if levels > 0 {
		crop = trim(crop, 1<<levels)
	}
	img := flatten(src, crop)
	for range levels {
		img = halve(img)
	}
	if img.Rect.Dx() != tw || img.Rect.Dy() != th {
		dst := image.NewRGBA(image.Rect(0, 0, tw, th))
		xdraw.CatmullRom.Scale(dst, dst.Rect, img, img.Rect, xdraw.Src, nil)
		img = dst
	}

	t := texture{sx: float64(tw), sy: float64(th), crop: crop}
	if surround > 0 {
		mx := int(math.Ceil(float64(tw)*surround)) + 2
		my := int(math.Ceil(float64(th)*surround)) + 2
		img = extend(img, mx, my)
		t.ox, t.oy = float64(mx), float64(my)
	}
	t.pix, t.stride = img.Pix, img.Stride
	t.w, t.h = img.Rect.Dx(), img.Rect.Dy()
	return t
}

// cropRect returns the largest rectangle of b with the aspect ratio of a
// fw x fh frame, centred: the cover fit.
func cropRect(b image.Rectangle, fw, fh int) image.Rectangle {
	w, h := int64(b.Dx()), int64(b.Dy())
	if w*int64(fh) > h*int64(fw) {
		cw := max(1, int((2*h*int64(fw)+int64(fh))/(2*int64(fh))))
		x0 := b.Min.X + (int(w)-cw)/2
		return image.Rect(x0, b.Min.Y, x0+cw, b.Max.Y)
	}
	ch := max(1, int((2*w*int64(fh)+int64(fw))/(2*int64(fw))))
	y0 := b.Min.Y + (int(h)-ch)/2
	return image.Rect(b.Min.X, y0, b.Max.X, y0+ch)
}

// trim shrinks r about its centre to sides that are multiples of n.
func trim(r image.Rectangle, n int) image.Rectangle {
	dx, dy := r.Dx()%n, r.Dy()%n
	return image.Rect(r.Min.X+dx/2, r.Min.Y+dy/2, r.Max.X-(dx-dx/2), r.Max.Y-(dy-dy/2))
}

// flatten copies the r part of src into a new opaque RGBA image whose
// origin is (0, 0). Transparent parts are composited over white: a video
// has no alpha, and images with transparency are mostly made for white
// pages.
func flatten(src image.Image, r image.Rectangle) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	if o, ok := src.(interface{ Opaque() bool }); ok && o.Opaque() {
		draw.Draw(dst, dst.Rect, src, r.Min, draw.Src)
		return dst
	}
	draw.Draw(dst, dst.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Rect, src, r.Min, draw.Over)
	return dst
}

// halve returns src at half its size, each pixel the rounded mean of a
// 2x2 block. src's sides must be even.
func halve(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		r0 := src.Pix[2*y*src.Stride:][:8*w]
		r1 := src.Pix[(2*y+1)*src.Stride:][:8*w]
		out := dst.Pix[y*dst.Stride:][:4*w]
		for i := range out {
			j := i/4*8 + i%4
			out[i] = uint8((int(r0[j]) + int(r0[j+4]) + int(r1[j]) + int(r1[j+4]) + 2) >> 2)
		}
	}
	return dst
}

// extend returns src with a surround of mx pixels left and right and my
// above and below, for zooming out beyond the image. The surround mirrors
// the image at its edges, so it continues it without a seam, and fades with
// distance into a blurred, slightly darker copy, so that it reads as an
// out-of-focus continuation instead of a reflection. No pixel of it is
// darker than the darkest pixel of src times 0.9, so it is never black
// where the image is not.
func extend(src *image.RGBA, mx, my int) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	W, H := w+2*mx, h+2*my
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	for y := range H {
		srow := src.Pix[reflect(y-my, h)*src.Stride:]
		drow := dst.Pix[y*dst.Stride:]
		for x := range W {
			sx := 4 * reflect(x-mx, w)
			copy(drow[4*x:4*x+4], srow[sx:sx+4])
		}
	}

	// The blur works on a copy reduced by k, a block about 1/90 of the
	// short side, so its look does not depend on the resolution.
	k := max(2, int(math.Round(float64(min(w, h))/90)))
	small, sw, sh := reduce(dst, k)
	for range 10 {
		blur121(small, sw, sh)
	}

	// The sharp mirror shows only over a short ramp, enough to hide the
	// seam; further out a mirrored shape would catch the eye.
	ramp := 2 * float64(k)
	for y := range H {
		dy := float64(max(my-y, y-(my+h-1), 0)) / ramp
		for x := range W {
			dx := float64(max(mx-x, x-(mx+w-1), 0)) / ramp
			if dx == 0 && dy == 0 {
				continue // inside the image: keep it exactly
			}
			d := min(math.Hypot(dx, dy), 1)
			a := d * d * (3 - 2*d)
			dark := 1 - 0.1*a
			b := sampleSmall(small, sw, sh, (float64(x)+0.5)/float64(k)-0.5, (float64(y)+0.5)/float64(k)-0.5)
			p := dst.Pix[y*dst.Stride+4*x:][:3]
			for c := range 3 {
				v := (float64(p[c])*(1-a) + float64(b[c])*a) * dark
				p[c] = uint8(min(255, math.Round(v)))
			}
		}
	}
	return dst
}

// reflect maps i into [0, n) by mirroring about the edges, repeating the
// edge pixel (…2 1 0 | 0 1 2 … n-1 | n-1 n-2…).
func reflect(i, n int) int {
	for i < 0 || i >= n {
		if i < 0 {
			i = -i - 1
		} else {
			i = 2*n - i - 1
		}
	}
	return i
}

// reduce returns the mean of each k x k block of src (blocks at the right
// and bottom edges may be smaller) as RGB floats, and the reduced size.
func reduce(src *image.RGBA, k int) ([]float32, int, int) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	sw, sh := (w+k-1)/k, (h+k-1)/k
	sum := make([]float32, 3*sw*sh)
	n := make([]float32, sw*sh)
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			i := y/k*sw + x/k
			sum[3*i] += float32(row[4*x])
			sum[3*i+1] += float32(row[4*x+1])
			sum[3*i+2] += float32(row[4*x+2])
			n[i]++
		}
	}
	for i := range n {
		sum[3*i] /= n[i]
		sum[3*i+1] /= n[i]
		sum[3*i+2] /= n[i]
	}
	return sum, sw, sh
}

// blur121 filters an RGB float image in place with the [1 2 1]/4 kernel
// along both axes, repeating the edge values.
func blur121(p []float32, w, h int) {
	tmp := make([]float32, len(p))
	for y := range h {
		for x := range w {
			l, r := max(x-1, 0), min(x+1, w-1)
			for c := range 3 {
				i := 3*(y*w) + c
				tmp[i+3*x] = (p[i+3*l] + 2*p[i+3*x] + p[i+3*r]) / 4
			}
		}
	}
	for y := range h {
		u, d := max(y-1, 0), min(y+1, h-1)
		for i := 3 * y * w; i < 3*(y+1)*w; i++ {
			p[i] = (tmp[i-3*w*(y-u)] + 2*tmp[i] + tmp[i+3*w*(d-y)]) / 4
		}
	}
}

// sampleSmall samples the reduced RGB image bilinearly at (x, y), clamping
// at the edges.
func sampleSmall(p []float32, w, h int, x, y float64) [3]float32 {
	x = min(max(x, 0), float64(w-1))
	y = min(max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	var out [3]float32
	for c := range 3 {
		top := p[3*(y0*w+x0)+c]*(1-fx) + p[3*(y0*w+x1)+c]*fx
		bot := p[3*(y1*w+x0)+c]*(1-fx) + p[3*(y1*w+x1)+c]*fx
		out[c] = top*(1-fy) + bot*fy
	}
	return out
}
