package speech

import (
	"math"
	"testing"
	"time"
)

// tone returns n samples of a sine of frequency f at rate, amplitude amp.
func tone(n int, f, rate, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*f*float64(i)/rate)
	}
	return x
}

// power returns the power of x at frequency f (Goertzel), normalized so a
// unit sine gives about 0.25.
func power(x []float64, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(x))
	return p / (n * n)
}

func TestResample(t *testing.T) {
	tests := []struct {
		name       string
		in, out, f float64
	}{
		{"16k to 48k 440 Hz", 16000, 48000, 440},
		{"16k to 48k 3 kHz", 16000, 48000, 3000},
		{"16k to 48k 6 kHz", 16000, 48000, 6000},
		{"pitch scaled 17280 to 48k", 17280, 48000, 1000},
		{"pitch scaled 14720 to 48k", 14720, 48000, 2500},
		{"48k to 16k", 48000, 16000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tone(int(tt.in), tt.f, tt.in, 0.5) // one second
			y := resample(x, tt.in, tt.out)
			if want := int(tt.out); len(y) != want {
				t.Fatalf("len = %d, want %d", len(y), want)
			}
			// Compare with the ideal sine away from the edges.
			ideal := tone(len(y), tt.f, tt.out, 0.5)
			edge := int(tt.out / 100)
			var sig, noise float64
			for i := edge; i < len(y)-edge; i++ {
				sig += ideal[i] * ideal[i]
				d := y[i] - ideal[i]
				noise += d * d
			}
			snr := 10 * math.Log10(sig/noise)
			minSNR := 60.0
			if tt.f > 5000 {
				minSNR = 30 // in the filter's transition band, attenuated on purpose
			}
			if snr < minSNR {
				t.Errorf("SNR %.1f dB, want >= %.0f dB", snr, minSNR)
			}
			t.Logf("SNR %.1f dB", snr)
		})
	}
}

func TestResampleImages(t *testing.T) {
	// Upsampling 16 kHz by 3 makes images of f at 16k-f and 16k+f; the
	// filter must remove them.
	const in, out = 16000.0, 48000.0
	for _, f := range []float64{1000, 3000, 5000} {
		y := resample(tone(16000, f, in, 0.5), in, out)
		sig := power(y, f, out)
		for _, img := range []float64{in - f, in + f} {
			if rel := 10 * math.Log10(power(y, img, out)/sig); rel > -70 {
				t.Errorf("%g Hz: image at %g Hz is %.1f dB, want <= -70 dB", f, img, rel)
			}
		}
	}
}

func TestResampleDC(t *testing.T) {
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 0.25
	}
	y := resample(x, 16000*1.07, 48000)
	for i := 100; i < len(y)-100; i++ {
		if math.Abs(y[i]-0.25) > 1e-9 {
			t.Fatalf("y[%d] = %v, want 0.25", i, y[i])
		}
	}
}

func TestResampleSpeed(t *testing.T) {
	x := tone(10*16000, 440, 16000, 0.5) // 10 s
	resample(x, 16000, 48000)            // build the filter table
	start := time.Now()
	resample(x, 16000, 48000)
	d := time.Since(start)
	t.Logf("10 s of 16 kHz audio resampled to 48 kHz in %v", d)
	if d > 500*time.Millisecond {
		t.Errorf("resampling 10 s took %v, want well under 50 ms", d)
	}
}

func BenchmarkResample10s(b *testing.B) {
	x := tone(10*16000, 440, 16000, 0.5)
	for b.Loop() {
		resample(x, 16000, 48000)
	}
}
