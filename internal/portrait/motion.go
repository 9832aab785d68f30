package portrait

import (
	"image"
	"math"

	"stillmotion/internal/face"
)

// body is the head and shoulders, for the small motions of life: the head
// turns and nods a little about the neck, and the shoulders rise and fall
// with the breath. Both are smooth displacement fields that fade to zero
// away from the person, so nothing tears.
type body struct {
	head   face.Point // centre of the head's ellipse
	rx, ry float64    // its radii
	pivot  face.Point // the neck, which the head turns about
	size   float64    // the face's size
	cx     float64    // the body's centre line
	chest  float64    // y of the shoulders' line
	bottom float64    // the source's bottom edge
	rise   float64    // the breath's height, in pixels
}

// Proportions of the body model, in face sizes (the detector's square) and
// the source's height.
const (
	breathHeight = 0.003 // of the source's height: how far the shoulders rise
	headTurn     = 0.006 // radians, the idle sway's roll
	headShift    = 0.006 // face sizes, the idle sway's shift
	nodDepth     = 0.012 // face sizes, the nod on stressed speech
	nodTurn      = 0.004 // radians, the roll that goes with it
)

func newBody(f face.Face, bounds image.Rectangle) body {
	s := f.Size
	return body{
		head:   face.Point{X: f.Center.X, Y: f.Center.Y - 0.08*s},
		rx:     0.68 * s,
		ry:     0.85 * s,
		pivot:  face.Point{X: f.Center.X, Y: f.Center.Y + 0.75*s},
		size:   s,
		cx:     f.Center.X,
		chest:  f.Center.Y + 1.0*s,
		bottom: float64(bounds.Max.Y),
		rise:   breathHeight * float64(bounds.Dy()),
	}
}

// bounds returns the source pixels the body's motion may move.
func (b *body) bounds() image.Rectangle {
	s := b.size
	r := image.Rect(int(b.head.X-1.4*b.rx), int(b.head.Y-1.4*b.ry), int(b.head.X+1.4*b.rx)+1, int(b.head.Y+1.4*b.ry)+1)
	chest := image.Rect(int(b.cx-2.1*s), int(b.chest-1.1*s), int(b.cx+2.1*s)+1, int(b.bottom)+1)
	return r.Union(chest)
}

// weights returns how much a point moves with the head and with the breath.
func (b *body) weights(x, y float64) (head, breath float64) {
	dx, dy := (x-b.head.X)/b.rx, (y-b.head.Y)/b.ry
	head = 1 - smoothstep(0.85, 1.35, math.Sqrt(dx*dx+dy*dy))
	side := 1 - smoothstep(1.2*b.size, 2.0*b.size, math.Abs(x-b.cx))
	if y >= b.chest {
		// The shoulders rise most; the chest below less.
		return head, side * (1 - 0.6*smoothstep(b.chest, b.bottom, y))
	}
	return head, side * max(head, smoothstep(b.chest-1.0*b.size, b.chest, y))
}

// displacement returns how far the point (x, y) moves in pose p.
func (b *body) displacement(p *pose, x, y float64) (dx, dy float64) {
	wh, wb := b.weights(x, y)
	if wh > 0 {
		// Rotation by p.roll about the pivot, and the shift.
		rx, ry := x-b.pivot.X, y-b.pivot.Y
		sin, cos := math.Sincos(p.roll)
		dx += wh * ((cos-1)*rx - sin*ry + p.shiftX*b.size)
		dy += wh * (sin*rx + (cos-1)*ry + p.shiftY*b.size)
	}
	dy -= wb * p.breath * b.rise
	return dx, dy
}

// lifeTrack returns the head's roll and shift and the breath on each frame,
// from the seed and the speech's loudness env (nil without speech). Every
// motion starts at zero on frame 0, so that frame 0 is the image itself.
func lifeTrack(frames, fps int, seed uint64, env []float64) []pose {
	rng := newRand(seed)
	// The idle sway: two slow sines per axis, with seeded periods and
	// phases, faded in over the first 1.5 s.
	type wave struct{ period, phase, amp float64 }
	waves := func() [2]wave {
		return [2]wave{
			{5 + 3*rng.float(), 2 * math.Pi * rng.float(), 0.65},
			{2.6 + 1.4*rng.float(), 2 * math.Pi * rng.float(), 0.35},
		}
	}
	roll, sx, sy := waves(), waves(), waves()
	breathPeriod := 3.8 + 0.8*rng.float()
	nodSide := 1.0
	if rng.float() < 0.5 {
		nodSide = -1
	}
	sway := func(w [2]wave, t float64) float64 {
		var v float64
		for _, w := range w {
			v += w.amp * (math.Sin(2*math.Pi*t/w.period+w.phase) - math.Sin(w.phase))
		}
		return v
	}

	// Stress: the loudness, followed with a fast attack and a slow release,
	// so the head dips on stressed syllables and settles in pauses.
	stress := make([]float64, frames)
	var st float64
	for i := range stress {
		e := 0.0
		if i < len(env) {
			e = env[i]
		}
		k := 0.35 // attack per frame
		if e < st {
			k = 0.08
		}
		st += k * (e - st)
		stress[i] = st
	}

	out := make([]pose, frames)
	for i := range out {
		t := float64(i) / float64(fps)
		in := smoothstep(0, 1.5, t)
		p := &out[i]
		p.roll = in*headTurn*sway(roll, t) + nodSide*nodTurn*stress[i]
		p.shiftX = in * headShift * sway(sx, t)
		p.shiftY = in*headShift*0.7*sway(sy, t) + nodDepth*stress[i]
		p.breath = (1 - math.Cos(2*math.Pi*t/breathPeriod)) / 2
	}
	return out
}

// blinkTrack returns the eyes' closure on each frame: a blink every 2 to 6
// seconds (the first after 0.8 to 3 s), each 100 to 150 ms long, closing
// faster than it opens. Each blink is timed so that a frame shows the eyes
// shut.
func blinkTrack(frames, fps int, seed uint64) []float64 {
	rng := newRand(seed ^ 0xb1b1)
	out := make([]float64, frames)
	dt := 1 / float64(fps)
	end := float64(frames) * dt
	for t := 0.8 + 2.2*rng.float(); t < end; t += 2 + 4*rng.float() {
		length := 0.1 + 0.05*rng.float()
		// Shut at a frame's time, 40% into the blink.
		shut := math.Round(t/dt) * dt
		start := shut - 0.4*length
		for i := max(0, int(start/dt)); i < frames; i++ {
			s := float64(i)*dt - start
			if s > length {
				break
			}
			var c float64
			switch {
			case s < 0:
				continue
			case s <= 0.4*length:
				c = smoothstep(0, 0.4*length, s)
			default:
				c = 1 - smoothstep(0.4*length, length, s)
			}
			out[i] = max(out[i], c)
		}
	}
	return out
}

// rand is a small deterministic generator (SplitMix64): the same seed gives
// the same life on every machine and Go release.
type rand struct{ x uint64 }

func newRand(seed uint64) *rand { return &rand{x: seed} }

// float returns a number in [0, 1).
func (r *rand) float() float64 {
	r.x += 0x9e3779b97f4a7c15
	z := r.x
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return float64((z^z>>31)>>11) / (1 << 53)
}
