package pixel

import "testing"

// TestBilinear checks the lane arithmetic against one channel at a time,
// for extreme and mixed pixels and weights.
func TestBilinear(t *testing.T) {
	pixels := [][4]uint8{{0, 0, 0, 0}, {255, 255, 255, 255}, {255, 0, 128, 7}, {1, 254, 3, 250}, {90, 17, 200, 255}}
	for _, a := range pixels {
		for _, b := range pixels {
			for _, fx := range []uint64{0, 1, 77, 128, 255, 256} {
				for _, fy := range []uint64{0, 3, 128, 256} {
					p := []uint8{a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]}
					q := []uint8{b[0], b[1], b[2], b[3], a[0], a[1], a[2], a[3]}
					got := Bilinear(p, q, fx, fy)
					for c := range 4 {
						lerp := func(u, v, f uint64) uint64 { return (u*(256-f) + v*f + 128) >> 8 }
						top := lerp(uint64(a[c]), uint64(b[c]), fx)
						bot := lerp(uint64(b[c]), uint64(a[c]), fx)
						if want := lerp(top, bot, fy); uint64(got>>(8*c)&0xff) != want {
							t.Fatalf("%v %v fx %d fy %d channel %d: %d, want %d", a, b, fx, fy, c, got>>(8*c)&0xff, want)
						}
					}
				}
			}
		}
	}
}

// TestOver compares Over with the blend channel by channel, for every
// alpha and every pair of channel values, in every channel.
func TestOver(t *testing.T) {
	for a := range uint32(256) {
		for fc := range uint32(256) {
			for bc := range uint32(256) {
				want := min(fc+((255-a)*bc+127)/255, 255)
				for c := range 3 {
					f := a<<24 | fc<<(8*c) | (255-fc)<<(8*((c+1)%3))
					b := bc<<(8*c) | (255-bc)<<(8*((c+1)%3)) | (255-a)<<24
					got := Over(f, b)
					if got>>24 != 255 {
						t.Fatalf("alpha %d: result alpha %d, want 255", a, got>>24)
					}
					if g := got >> (8 * c) & 0xff; g != want {
						t.Fatalf("alpha %d, f %d, b %d, channel %d: %d, want %d", a, fc, bc, c, g, want)
					}
				}
			}
		}
	}
}
