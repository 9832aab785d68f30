package loudness

import (
	"math"
	"testing"
	"time"
)

const rate = 48000

func tone(n int, hz, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/rate)
	}
	return x
}

func TestIntegrated(t *testing.T) {
	sine := tone(5*rate, 1000, 0.1)
	tests := []struct {
		name      string
		x         []float64
		want, tol float64
	}{
		// BS.1770: a 1 kHz sine at 0 dBFS peak reads -3.01 LUFS.
		{"1 kHz sine at -20 dBFS", sine, -23.01, 0.05},
		// Silence is gated out; blocks straddling the tone's start pass the relative gate.
		{"gated silence", append(make([]float64, 5*rate), sine...), -23.01, 0.2},
		{"shorter than a block", tone(rate/10, 1000, 0.1), -23.01, 0.05},
		{"silence", make([]float64, rate), math.Inf(-1), 0},
		{"empty", nil, math.Inf(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Integrated(tt.x, rate)
			if math.IsInf(tt.want, -1) {
				if !math.IsInf(got, -1) {
					t.Errorf("Integrated = %.2f, want -Inf", got)
				}
				return
			}
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Integrated = %.3f LUFS, want %.2f ± %.2f", got, tt.want, tt.tol)
			}
		})
	}
}

func TestKWeightCoefficients(t *testing.T) {
	// The 48 kHz coefficients printed in ITU-R BS.1770-4: the impulse
	// response's first sample is the product of the two stages' b0.
	f := kWeight([]float64{1}, 48000)
	if want := 1.53512485958697; math.Abs(f[0]-want) > 1e-9 {
		t.Errorf("K-weighting b0 = %.14f, want %.14f", f[0], want)
	}
}

func TestScale(t *testing.T) {
	x := tone(2*rate, 440, 0.3)
	Scale(x, rate, -30)
	if got := Integrated(x, rate); math.Abs(got+30) > 0.01 {
		t.Errorf("after Scale to -30: %.3f LUFS", got)
	}
	silence := make([]float64, rate)
	if g := Scale(silence, rate, -16); g != 0 || silence[0] != 0 {
		t.Error("Scale changed silence")
	}
}

func TestLimit(t *testing.T) {
	ceiling := Ceiling(-1)
	for _, hold := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond} {
		x := tone(rate, 440, 0.5)
		for i := rate / 2; i < rate/2+100; i++ {
			x[i] = 3 // a spike far over full scale
		}
		before := append([]float64(nil), x...)
		Limit(x, rate, ceiling, hold)
		for i, v := range x {
			if math.Abs(v) > ceiling {
				t.Fatalf("hold %v: sample %d is %g, over the ceiling %g", hold, i, v, ceiling)
			}
		}
		if x[100] != before[100] || x[rate-100] != before[rate-100] {
			t.Errorf("hold %v: Limit changed samples far from the peak", hold)
		}
	}
}

func TestPCMRoundTrip(t *testing.T) {
	s := []int16{-32768, -1, 0, 1, 32767}
	out := make([]int16, len(s))
	ToPCM(out, FromPCM(s))
	for i := range s {
		if out[i] != s[i] {
			t.Fatalf("round trip %v → %v", s, out)
		}
	}
	ToPCM(out[:2], []float64{2, -2})
	if out[0] != 32767 || out[1] != -32768 {
		t.Errorf("no saturation: %v", out[:2])
	}
}

func TestRunningMin(t *testing.T) {
	v := []float64{5, 3, 8, 1, 9, 9, 2, 7}
	want := []float64{3, 1, 1, 1, 1, 1, 2, 2}
	got := runningMin(v, 2)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("runningMin = %v, want %v", got, want)
		}
	}
}
