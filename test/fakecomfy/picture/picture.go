// Package picture draws the stand-in picture that the test fakes
// (fakecomfy, fakecog) animate for a text-to-video job, which has no input
// image: neither fake has a model that paints from words, so each draws a
// picture from the prompt and seed and hands it to stillmotion's built-in
// engine as the image-to-video path does with an uploaded one.
//
// The picture is deterministic: the same prompt, seed and size give the
// same pixels, and another prompt or seed gives other colours and shapes.
package picture

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
)

// MaxSide bounds the long side of the picture Fit sizes: the built-in
// engine renders at a few hundred pixels, so a larger picture only takes
// longer to draw and decode.
const MaxSide = 1024

// Fit returns the size to draw a picture of w×h at: the same shape, its
// long side at most MaxSide, each side at least 2. A size that is not one
// (a side below 1) gives 640×360, a 16:9 frame.
func Fit(w, h int) (int, int) {
	if w < 1 || h < 1 {
		return 640, 360
	}
	if long := max(w, h); long > MaxSide {
		w, h = int(math.Round(float64(w)*MaxSide/float64(long))), int(math.Round(float64(h)*MaxSide/float64(long)))
	}
	return max(w, 2), max(h, 2)
}

// Draw draws the picture for prompt and seed at w×h (each side at least
// 1): a smooth two-colour gradient at an angle, with a few soft discs of
// other colours on it, every choice taken from a hash of the prompt and
// the seed.
func Draw(prompt string, seed uint64, w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	f := fnv.New64a()
	f.Write([]byte(prompt))
	rng := rand.New(rand.NewPCG(f.Sum64(), seed))

	hue := rng.Float64()
	from := hsv(hue, 0.45+0.3*rng.Float64(), 0.85+0.15*rng.Float64())
	to := hsv(math.Mod(hue+0.25+0.25*rng.Float64(), 1), 0.55+0.3*rng.Float64(), 0.35+0.3*rng.Float64())
	angle := 2 * math.Pi * rng.Float64()
	dx, dy := math.Cos(angle), math.Sin(angle)

	type disc struct {
		x, y, r float64
		c       [3]float64
		a       float64
	}
	short := float64(min(w, h))
	discs := make([]disc, 3+rng.IntN(3))
	for i := range discs {
		discs[i] = disc{
			x: float64(w) * (0.1 + 0.8*rng.Float64()),
			y: float64(h) * (0.1 + 0.8*rng.Float64()),
			r: short * (0.12 + 0.22*rng.Float64()),
			c: hsv(rng.Float64(), 0.5+0.4*rng.Float64(), 0.6+0.4*rng.Float64()),
			a: 0.55 + 0.4*rng.Float64(),
		}
	}

	// The gradient runs along (dx, dy) from the frame's corner that is
	// furthest back to the one furthest ahead.
	lo := math.Min(0, dx*float64(w)) + math.Min(0, dy*float64(h))
	hi := math.Max(0, dx*float64(w)) + math.Max(0, dy*float64(h))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			px, py := float64(x)+0.5, float64(y)+0.5
			t := smooth((px*dx + py*dy - lo) / math.Max(hi-lo, 1))
			var c [3]float64
			for k := range c {
				c[k] = from[k] + (to[k]-from[k])*t
			}
			for _, d := range discs {
				dist := math.Hypot(px-d.x, py-d.y) / d.r
				if dist >= 1 {
					continue
				}
				a := d.a * smooth(1-dist) // soft edges
				for k := range c {
					c[k] += (d.c[k] - c[k]) * a
				}
			}
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = byte255(c[0]), byte255(c[1]), byte255(c[2]), 255
		}
	}
	return m
}

// PNG is Draw's picture as a PNG file.
func PNG(prompt string, seed uint64, w, h int) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, Draw(prompt, seed, w, h)); err != nil {
		panic(err) // encoding an RGBA image into memory does not fail
	}
	return b.Bytes()
}

// smooth is the smoothstep of t clamped to 0..1.
func smooth(t float64) float64 {
	t = math.Min(1, math.Max(0, t))
	return t * t * (3 - 2*t)
}

func byte255(v float64) uint8 { return uint8(math.Round(255 * math.Min(1, math.Max(0, v)))) }

// hsv returns the colour of hue, saturation and value (each 0..1) as
// RGB components in 0..1.
func hsv(h, s, v float64) [3]float64 {
	h = math.Mod(h, 1) * 6
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) {
	case 0:
		return [3]float64{v, t, p}
	case 1:
		return [3]float64{q, v, p}
	case 2:
		return [3]float64{p, v, t}
	case 3:
		return [3]float64{p, q, v}
	case 4:
		return [3]float64{t, p, v}
	}
	return [3]float64{v, p, q}
}
