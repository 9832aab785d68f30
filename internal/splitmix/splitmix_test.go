package splitmix

import "testing"

// TestMix checks Mix against SplitMix64's published first outputs for the
// state 0 (the reference C implementation's next()).
func TestMix(t *testing.T) {
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := Mix(uint64(i) * golden); got != want {
			t.Errorf("output %d = %#x, want %#x", i, got, want)
		}
	}
}
