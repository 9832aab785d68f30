package render

import "testing"

// TestClampLanes checks the four-lane clamp against one lane at a time,
// for every lane value the filter can leave, in every lane.
func TestClampLanes(t *testing.T) {
	for l := range uint64(512) {
		for lane := range 4 {
			other := uint64(200) // a neighbour in range, which must not change
			v := other * 0x0001000100010001
			v = v&^(0x1ff<<(16*lane)) | l<<(16*lane)
			got := clampLanes(v)
			want := uint64(min(max(int(l)-(hBias+vBias), 0), 255))
			if g := got >> (16 * lane) & 0xffff; g != want {
				t.Fatalf("lane %d value %d: got %d, want %d", lane, l, g, want)
			}
			for k := range 4 {
				if k != lane && got>>(16*k)&0xffff != other-(hBias+vBias) {
					t.Fatalf("lane %d value %d changed lane %d to %d", lane, l, k, got>>(16*k)&0xffff)
				}
			}
		}
	}
}
