package speech

import (
	"math"
	"time"

	"stillmotion/internal/loudness"
)

// Loudness targets of Normalize.
const (
	TargetLoudness = -16.0 // LUFS, integrated
	PeakCeiling    = -1.0  // dBFS, sample peak, in the encoded video too
)

// codecHeadroom is how far below PeakCeiling Normalize keeps sample peaks,
// so that the AAC encoder's overshoot (measured up to 0.2 dB on speech at
// 128 kb/s) still leaves the decoded peaks at or below PeakCeiling.
const codecHeadroom = 0.5

// Normalize scales samples (mono PCM at rate Hz) in place to an integrated
// loudness of about TargetLoudness and keeps every sample at or below
// PeakCeiling less codecHeadroom, without clipping.
//
// Loudness is BS.1770-4 integrated loudness (package loudness), so pauses do
// not count. Peaks above the ceiling after the gain are brought down by a
// look-ahead limiter rather than by lowering the whole clip, and the gain
// and the limiter are applied again until the loudness is within 0.1 LU of
// the target (three rounds at most), so speech with a high crest factor
// still reaches it. The ceiling is on sample peaks, not true (inter-sample)
// peaks. Silence is left alone, and the gain is capped at +30 dB so
// near-silence is not blown up into noise.
func Normalize(samples []int16, rate int) {
	x := loudness.FromPCM(samples)
	normalize(x, float64(rate))
	loudness.ToPCM(samples, x)
}

// Loudness returns the BS.1770-4 integrated loudness of samples (mono PCM at
// rate Hz) in LUFS, or -Inf for silence.
func Loudness(samples []int16, rate int) float64 {
	return loudness.Integrated(loudness.FromPCM(samples), float64(rate))
}

// normalize is Normalize on samples scaled to [-1, 1).
func normalize(x []float64, rate float64) {
	l := loudness.Integrated(x, rate)
	if math.IsInf(l, -1) {
		return
	}
	ceiling := loudness.Ceiling(PeakCeiling - codecHeadroom)
	budget := 30.0 // dB of gain left under the cap
	for range 3 {
		g := math.Min(TargetLoudness-l, budget)
		budget -= g
		gain := math.Pow(10, g/20)
		for i := range x {
			x[i] *= gain
		}
		loudness.Limit(x, rate, ceiling, 10*time.Millisecond)
		if l = loudness.Integrated(x, rate); math.Abs(l-TargetLoudness) < 0.1 || budget <= 0 {
			break
		}
	}
}
