package speech

import (
	"math"
	"math/rand/v2"
	"testing"

	"stillmotion/internal/loudness"
)

func toPCM(x []float64) []int16 {
	s := make([]int16, len(x))
	loudness.ToPCM(s, x)
	return s
}

func peakDBFS(s []int16) float64 {
	var p float64
	for _, v := range s {
		p = math.Max(p, math.Abs(float64(v)))
	}
	return 20 * math.Log10(p/32768)
}

func TestLoudness(t *testing.T) {
	// BS.1770 reference points: a 1 kHz sine of peak A reads 20*log10(A)-3.01
	// LUFS (K-weighting is almost flat at 1 kHz); gating ignores silence.
	sine := tone(5*SampleRate, 1000, SampleRate, 0.1)
	withSilence := append(make([]float64, 5*SampleRate), sine...)
	tests := []struct {
		name      string
		x         []float64
		want, tol float64
	}{
		{"1 kHz at -20 dBFS", sine, -23.01, 0.05},
		// Blocks that straddle the start of the tone pass the relative gate.
		{"with silence", withSilence, -23.01, 0.2},
		{"short", tone(SampleRate/10, 1000, SampleRate, 0.1), -23.01, 0.05},
		{"silence", make([]float64, SampleRate), math.Inf(-1), 0},
		{"empty", nil, math.Inf(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Loudness(toPCM(tt.x), SampleRate)
			if math.IsInf(tt.want, -1) {
				if !math.IsInf(got, -1) {
					t.Errorf("Loudness = %v, want -Inf", got)
				}
				return
			}
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Loudness = %.2f LUFS, want %.2f", got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Speech-like: a buzzy 150 Hz tone with syllable-rate bursts and pauses,
	// so the crest factor is high and the limiter must work.
	speechLike := func(amp float64) []float64 {
		x := make([]float64, 3*SampleRate)
		for i := range x {
			ts := float64(i) / SampleRate
			env := math.Max(0, math.Sin(2*math.Pi*3*ts))
			env *= env * env
			var v float64
			for h := 1.0; h <= 10; h++ {
				v += math.Sin(2*math.Pi*150*h*ts) / h
			}
			x[i] = amp * env * (v + 0.05*rng.NormFloat64())
		}
		return x
	}
	tests := []struct {
		name string
		x    []float64
	}{
		{"quiet", speechLike(0.03)},
		{"loud", speechLike(0.5)},
		{"clipping", speechLike(2)},
		{"sine", tone(2*SampleRate, 440, SampleRate, 0.05)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := toPCM(tt.x)
			Normalize(s, SampleRate)
			l, p := Loudness(s, SampleRate), peakDBFS(s)
			t.Logf("%.2f LUFS, peak %.2f dBFS", l, p)
			if l < TargetLoudness-0.5 || l > TargetLoudness+0.5 {
				t.Errorf("loudness %.2f LUFS, want about %.0f", l, TargetLoudness)
			}
			if p > PeakCeiling-codecHeadroom {
				t.Errorf("peak %.3f dBFS, want <= %.1f", p, PeakCeiling-codecHeadroom)
			}
		})
	}
	t.Run("gain cap", func(t *testing.T) {
		s := toPCM(speechLike(0.002))
		before := Loudness(s, SampleRate)
		Normalize(s, SampleRate)
		if got := Loudness(s, SampleRate) - before; math.Abs(got-30) > 0.5 {
			t.Errorf("gain %.2f dB, want the 30 dB cap", got)
		}
	})
	t.Run("silence", func(t *testing.T) {
		s := make([]int16, 1000)
		Normalize(s, SampleRate)
		for _, v := range s {
			if v != 0 {
				t.Fatal("silence changed")
			}
		}
	})
}
