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
