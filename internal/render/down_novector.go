//go:build !(goexperiment.simd && amd64)

package render

// downVector is down's vector part: none in this build (see
// down_vector.go, built with GOEXPERIMENT=simd on amd64).
func downVector(out []uint8, r0, r1, r2, r3 []uint64, t *taps, opaque bool) int { return 0 }
