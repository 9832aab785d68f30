package ambience

import (
	"time"

	"stillmotion/internal/loudness"
)

// Ceiling is the highest sample peak Render and Mix produce, in dBFS.
const Ceiling = -1.0

// ceiling is Ceiling as a linear amplitude, for loudness.Limit.
var ceiling = loudness.Ceiling(Ceiling)

// limitHold is how far the limiter spreads the gain a peak needs: short,
// since thunder cracks and crackle are the peaks it is for.
const limitHold = 5 * time.Millisecond

// limit brings every |x[i]| to at most ceiling.
func limit(x []float64) { loudness.Limit(x, rate, ceiling, limitHold) }

// scale brings the integrated loudness of x to target LUFS.
func scale(x []float64, target float64) { loudness.Scale(x, rate, target) }

// toPCM rounds x, scaled to [-1, 1), to int16.
func toPCM(x []float64) []int16 {
	out := make([]int16, len(x))
	loudness.ToPCM(out, x)
	return out
}
