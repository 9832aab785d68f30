// Package splitmix turns a request's seed into the numbers a render draws: one
// mixing function, SplitMix64's, so that every package that draws from a
// seed (the camera's choices, the voice, the ambience) mixes it alike.
package splitmix

// golden is SplitMix64's increment, 2^64 divided by the golden ratio.
const golden = 0x9e3779b97f4a7c15

// Mix returns SplitMix64's output for the state x: x advanced by one step
// and finalized. Neighbouring inputs give unrelated outputs.
func Mix(x uint64) uint64 { return Finalize(x + golden) }

// Finalize is SplitMix64's finalizer alone, for a generator that advances
// its state itself.
func Finalize(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
