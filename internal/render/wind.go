package render

import (
	"encoding/binary"
	"image"
	"math"
	"sync"

	"stillmotion/internal/pixel"
	"stillmotion/internal/splitmix"
)

// wind moves the picture as a gusty wind would: foliage sways, and a
// figure's hair and clothes ripple. Both are displacements of the framed
// picture, computed on a coarse grid and applied in one pass.
type wind struct {
	fw, fh int
	g      *fog    // value noise for the gusts and phases
	dir    float64 // +1 or -1: the way the wind blows
	// mask is how much each k x k block of the texels is foliage, 0..1,
	// mw x mh; nil without foliage sway.
	mask    []float32
	matte   []float32 // the figure layer's matte, like mask; nil without layers
	mw, mh  int
	k       float64
	ox, oy  float64 // the texture's crop origin and size, in texels
	sx, sy  float64
	face    Box       // the figure's face; empty without hair and cloth
	scratch sync.Pool // of *[]uint8 copies of a frame
}

// windCell is the spacing of the displacement grid in pixels.
const windCell = 8

func newWind(t, scene *texture, sway bool, face Box, seed int64, fw, fh int) *wind {
	wd := &wind{fw: fw, fh: fh, g: newFog(seed^0x3717d, [3]float64{}), dir: 1,
		ox: t.ox, oy: t.oy, sx: t.sx, sy: t.sy, face: face}
	if splitmix.Mix(uint64(seed)^0xd1)&1 == 0 {
		wd.dir = -1
	}
	if sway {
		wd.mask, wd.mw, wd.mh, wd.k = foliage(scene)
		wd.matte = matte(t, int(wd.k))
	}
	return wd
}

// matte returns the mean alpha of each k x k block of t, 0..1, or nil if
// t is opaque: with layers, the alpha is the figure's matte (see
// newLayers), which the foliage sway must leave still.
func matte(t *texture, k int) []float32 {
	sw, sh := (t.w+k-1)/k, (t.h+k-1)/k
	m := make([]float32, sw*sh)
	n := make([]float32, sw*sh)
	opaque := true
	for y := range t.h {
		row := t.pix[y*t.stride:][:4*t.w]
		for x := range t.w {
			a := row[4*x+3]
			opaque = opaque && a == 255
			m[y/k*sw+x/k] += float32(a) / 255
			n[y/k*sw+x/k]++
		}
	}
	if opaque {
		return nil
	}
	for i := range m {
		m[i] /= n[i]
	}
	return m
}

// foliage returns a soft mask of the foliage in t: green-ish, textured
// blocks, at a resolution of about 180 rows, since a sway needs no more.
func foliage(t *texture) ([]float32, int, int, float64) {
	k := max(1, int(math.Round(t.sy/180)))
	small, sw, sh := reduce(&image.RGBA{Pix: t.pix, Stride: t.stride, Rect: image.Rect(0, 0, t.w, t.h)}, k)
	lum := make([]float32, sw*sh)
	for i := range lum {
		lum[i] = 0.299*small[3*i] + 0.587*small[3*i+1] + 0.114*small[3*i+2]
	}
	// Texture: the mean luma step to the neighbours. Leaves make many
	// small steps; a lawn far off or a painted wall few.
	tex := make([]float32, sw*sh)
	for y := range sh {
		for x := range sw {
			i := y*sw + x
			l := lum[i]
			tex[i] = abs32(lum[y*sw+min(x+1, sw-1)]-l) + abs32(lum[min(y+1, sh-1)*sw+x]-l)
		}
	}
	boxBlur(tex, sw, sh, 2)
	m := make([]float32, sw*sh)
	for i := range m {
		r, g, b := small[3*i], small[3*i+1], small[3*i+2]
		hi, lo := max(r, g, b), min(r, g, b)
		if hi-lo < 1 {
			continue
		}
		// The hue in degrees, from yellow-green to cyan-green.
		var hue float32
		switch hi {
		case r:
			hue = 60 * (g - b) / (hi - lo)
		case g:
			hue = 60 * (2 + (b-r)/(hi-lo))
		default:
			hue = 60 * (4 + (r-g)/(hi-lo))
		}
		green := smoothstep(45, 75, hue) * (1 - smoothstep(165, 195, hue))
		m[i] = green * smoothstep(0.1, 0.25, (hi-lo)/hi) * smoothstep(10, 30, hi) * smoothstep(2, 7, tex[i])
	}
	// Soft edges, and a filled interior where leaves leave gaps.
	boxBlur(m, sw, sh, 1)
	for i, v := range m {
		m[i] = smoothstep(0.08, 0.5, v)
	}
	boxBlur(m, sw, sh, 1)
	return m, sw, sh, float64(k)
}

// at returns the value of m, a mask like wd.mask, at the crop point
// (u, v), bilinearly.
func (wd *wind) at(m []float32, u, v float64) float64 {
	x := (wd.ox+u*wd.sx)/wd.k - 0.5
	y := (wd.oy+v*wd.sy)/wd.k - 0.5
	x = min(max(x, 0), float64(wd.mw-1))
	y = min(max(y, 0), float64(wd.mh-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, wd.mw-1), min(y0+1, wd.mh-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	top := m[y0*wd.mw+x0]*(1-fx) + m[y0*wd.mw+x1]*fx
	bot := m[y1*wd.mw+x0]*(1-fx) + m[y1*wd.mw+x1]*fx
	return float64(top*(1-fy) + bot*fy)
}

// gust returns the strength of the wind at the crop point (u, v) at t
// seconds, about 0.3..1.2: a noise that travels across the picture the
// way the wind blows, so gusts sweep over the scene.
func (wd *wind) gust(u, v, t float64) float64 {
	n := wd.g.noise(4*u-0.45*t*wd.dir+5, 3*v+2)
	return 0.3 + 0.9*smooth01(1.5*n-0.25)
}

// sway returns the sideways displacement of foliage at the crop point
// (u, v) at t seconds, in 720p pixels: a lean with the gusts and two
// slower and quicker swings whose phases vary smoothly over the scene, so
// that neighbouring leaves move together and separate trees apart. Wind
// pushes foliage sideways; leaving out the small vertical part halves the
// cost of moving the pixels.
func (wd *wind) sway(u, v, t float64) float64 {
	ph := 2 * math.Pi * wd.g.noise(7*u+13, 5*v+3)
	a := 2.5 * wd.gust(u, v, t)
	return a * (0.4*wd.dir + 0.45*math.Sin(2*math.Pi*0.37*t+ph) + 0.2*math.Sin(2*math.Pi*1.3*t+2*ph))
}

// figure returns the displacement of hair and clothes at the crop point
// (u, v) at t seconds, in 720p pixels, or zeros on and near the face. In
// face units (the face box spans -1..1 both ways), hair is a band around
// the top and sides of the face and clothes are the body from below the
// neck; both ripple with waves that travel down and across them.
func (wd *wind) figure(u, v, t float64) (dx, dy float64) {
	f := wd.face
	hw, hh := (f.Max.X-f.Min.X)/2, (f.Max.Y-f.Min.Y)/2
	ex := (u - 0.5 - (f.Min.X+f.Max.X)/2) / hw
	ey := (v - 0.5 - (f.Min.Y+f.Max.Y)/2) / hh
	// Hair: outside the face box, inside a head-sized ellipse, and above
	// the jaw.
	out := math.Hypot(max(math.Abs(ex)-1, 0), max(math.Abs(ey)-1, 0))
	wh := smooth01(out/0.3) * (1 - smooth01((math.Hypot(ex/2, (ey+0.2)/1.7)-0.85)/0.3)) * (1 - smooth01((ey-0.4)/0.6))
	// Clothes: from the shoulders down, as wide as shoulders.
	wc := smooth01((ey-1.9)/0.6) * (1 - smooth01((math.Abs(ex)-2.4)/0.8))
	if wh == 0 && wc == 0 {
		return 0, 0
	}
	ph := 2 * math.Pi * wd.g.grid[3]
	g := wd.gust(0.5, 0.5, t)
	if wh > 0 {
		a := 3 * g * wh
		dx += a * wd.dir * (0.45 + 0.55*math.Sin(2*math.Pi*0.7*t-1.8*ey+ph))
		dy += 0.4 * a * math.Sin(2*math.Pi*0.9*t-1.5*ex*wd.dir+ph)
	}
	if wc > 0 {
		// Clothes ripple sideways only, which is cheaper to draw (see
		// draw) and reads the same at this size.
		a := 1.6 * g * wc
		dx += a * (0.7*math.Sin(2*math.Pi*0.55*t-1.2*ey+0.7*ex+ph) + 0.3*math.Sin(2*math.Pi*0.9*t+0.9*ex-1.6*ey+2*ph))
	}
	return dx, dy
}

// draw displaces the w x h top-left of dst as on frame f, with the
// displacement scaled by fade: foliage by the background's view, so the
// sway stays on the leaves as the camera moves, and hair and clothes by
// the figure's. Pixels the wind leaves still keep their values exactly,
// and so do those in the face box.
func (wd *wind) draw(dst *image.RGBA, w, h int, f, fade float64, sc scene) {
	const cell = windCell
	u := float64(wd.fh) / 720 * fade // pixels per 720p pixel, faded
	t := f / 24
	cols, rows := w/cell+2, h/cell+2
	// The wind varies slowly over the scene: it is computed on a grid
	// step times coarser and interpolated.
	const step = 4
	gw := cols/step + 2
	var sway []float64
	if wd.mask != nil {
		sway = make([]float64, gw*(rows/step+2))
		for j := range rows/step + 2 {
			for i := range gw {
				cu, cv := sc.bg.crop(float64(i*step*cell)+0.5, float64(j*step*cell)+0.5, wd.fw, wd.fh)
				sway[j*gw+i] = wd.sway(cu, cv, t)
			}
		}
	}
	// The part of the frame the hair and clothes can reach: 3.3 face
	// half-widths either side of the face and from 2.7 half-heights above
	// its centre down (see figure).
	bx0, bx1, by0 := math.Inf(1), math.Inf(-1), math.Inf(1)
	if f := wd.face; !f.Empty() {
		mx, my := (f.Min.X+f.Max.X)/2+0.5, (f.Min.Y+f.Max.Y)/2+0.5
		hw, hh := (f.Max.X-f.Min.X)/2, (f.Max.Y-f.Min.Y)/2
		bx0, by0 = sc.fg.frame(mx-3.3*hw, my-2.7*hh, wd.fw, wd.fh)
		bx1, _ = sc.fg.frame(mx+3.3*hw, my, wd.fw, wd.fh)
		bx0, bx1, by0 = bx0-cell, bx1+cell, by0-cell
	}
	d := make([]int32, 2*cols*rows) // dx, dy in 1/256 pixel
	moved := false
	ylo, yhi := h, -1 // the rows displaced
	for j := range rows {
		for i := range cols {
			x, y := float64(i*cell)+0.5, float64(j*cell)+0.5
			var dx, dy float64
			if wd.mask != nil {
				cu, cv := sc.bg.crop(x, y, wd.fw, wd.fh)
				m := wd.at(wd.mask, cu, cv)
				if m > 0.004 && wd.matte != nil {
					// Foliage behind the figure moves; the figure does
					// not, to the last level, where its soft matte is
					// nearly whole.
					fu, fv := sc.fg.crop(x, y, wd.fw, wd.fh)
					m *= 1 - smooth01((wd.at(wd.matte, fu, fv)-0.1)/0.8)
				}
				if m > 0.004 {
					a, b := sway[(j/step)*gw+i/step:], sway[(j/step+1)*gw+i/step:]
					fx, fy := float64(i%step)/step, float64(j%step)/step
					dx = m * ((a[0]*(1-fx)+a[1]*fx)*(1-fy) + (b[0]*(1-fx)+b[1]*fx)*fy)
				}
			}
			if !wd.face.Empty() && x >= bx0 && x <= bx1 && y >= by0 {
				cu, cv := sc.fg.crop(x, y, wd.fw, wd.fh)
				hx, hy := wd.figure(cu, cv, t)
				dx, dy = dx+hx, dy+hy
			}
			k := 2 * (j*cols + i)
			d[k], d[k+1] = int32(math.Round(256*u*dx)), int32(math.Round(256*u*dy))
			if d[k] != 0 || d[k+1] != 0 {
				moved = true
				reach := int(abs32(float32(d[k+1]))/256) + 2
				ylo, yhi = min(ylo, (j-1)*cell-reach), max(yhi, (j+1)*cell+reach)
			}
		}
	}
	if !moved || w < 2 || h < 2 {
		return
	}
	// The face box in pixels, a pixel larger all round: never displaced.
	fx0, fy0, fx1, fy1 := w, h, -1, -1
	if !wd.face.Empty() {
		ax, ay := sc.fg.frame(wd.face.Min.X+0.5, wd.face.Min.Y+0.5, wd.fw, wd.fh)
		bx, by := sc.fg.frame(wd.face.Max.X+0.5, wd.face.Max.Y+0.5, wd.fw, wd.fh)
		fx0, fy0, fx1, fy1 = int(math.Floor(ax))-1, int(math.Floor(ay))-1, int(math.Ceil(bx))+1, int(math.Ceil(by))+1
	}

	buf, _ := wd.scratch.Get().(*[]uint8)
	if buf == nil || len(*buf) < 4*w*h {
		b := make([]uint8, 4*w*h)
		buf = &b
	}
	defer wd.scratch.Put(buf)
	src := (*buf)[:4*w*h]
	ylo, yhi = max(ylo, 0), min(yhi, h-1)
	for y := ylo; y <= yhi; y++ {
		copy(src[4*w*y:4*w*(y+1)], dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w])
	}
	le := binary.LittleEndian
	rd := make([]int32, 2*cols)
	for y := max(ylo, 0); y <= min(yhi, h-1); y++ {
		j, fy := y/cell, int32(y%cell)
		a, b := d[2*j*cols:][:2*cols], d[2*(j+1)*cols:][:2*cols]
		for i := range rd {
			rd[i] = a[i] + (b[i]-a[i])*fy/cell
		}
		out := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		inFace := y >= fy0 && y <= fy1
		for i := 0; i*cell < w; i++ {
			dx0, dy0, dx1, dy1 := rd[2*i], rd[2*i+1], rd[2*i+2], rd[2*i+3]
			if dx0|dy0|dx1|dy1 == 0 {
				continue
			}
			x0, x1 := i*cell, min((i+1)*cell, w)
			face := inFace && x0 <= fx1 && x1 > fx0
			// The sampled position in 1/65536 pixel, stepped along the
			// span; cell divides 256, so the steps are exact.
			px, sx := int64(x0)<<16+int64(dx0)<<8, 1<<16+int64(dx1-dx0)<<8/cell
			py, sy := int64(y)<<16+int64(dy0)<<8, int64(dy1-dy0)<<8/cell
			n := int64(x1 - x0 - 1)
			lim := [2]int64{int64(w-1) << 16, int64(h-1) << 16}
			if face || min(px, px+n*sx) < 0 || max(px, px+n*sx) >= lim[0] || min(py, py+n*sy) < 0 || max(py, py+n*sy) >= lim[1] {
				// Near an edge or the face: clamp, and skip the face.
				for x := x0; x < x1; x, px, py = x+1, px+sx, py+sy {
					if face && y >= fy0 && y <= fy1 && x >= fx0 && x <= fx1 {
						continue
					}
					ix, kx := clampTap(int32(px>>8), w)
					iy, ky := clampTap(int32(py>>8), h)
					le.PutUint32(out[4*x:4*x+4], bilerp(src, 4*w, ix, kx, iy, ky))
				}
				continue
			}
			if dy0|dy1 == 0 {
				// Sideways only, as foliage sways: blend along the row.
				row := src[4*w*y : 4*w*(y+1)]
				for x := x0; x < x1; x, px = x+1, px+sx {
					o := 4 * int(px>>16)
					p := row[o : o+8 : o+8]
					kx := uint64(px >> 8 & 255)
					le.PutUint32(out[4*x:4*x+4], pixel.Pack(pixel.Lerp(pixel.At(p[0:]), pixel.At(p[4:]), kx)))
				}
				continue
			}
			for x := x0; x < x1; x, px, py = x+1, px+sx, py+sy {
				o := 4 * (int(py>>16)*w + int(px>>16))
				p := src[o : o+4*w+8 : o+4*w+8]
				kx, ky := uint64(px>>8&255), uint64(py>>8&255)
				le.PutUint32(out[4*x:4*x+4], pixel.Bilinear(p[0:8], p[4*w:4*w+8], kx, ky))
			}
		}
	}
}

// clampTap splits the position p, in 1/256 pixel, into the first of two
// neighbouring pixels in 0..n-2 and the weight of the second, 0..256.
func clampTap(p int32, n int) (int, uint64) {
	if p <= 0 {
		return 0, 0
	}
	i := int(p >> 8)
	if i >= n-1 {
		return n - 2, 256
	}
	return i, uint64(p & 255)
}
