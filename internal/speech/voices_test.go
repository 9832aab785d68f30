package speech

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// meanF0 estimates the mean fundamental frequency of speech in s (at
// SampleRate) over its voiced frames, with a normalized-autocorrelation
// pitch tracker: 40 ms frames every 10 ms, at 16 kHz, F0 from 60 to 400 Hz. A
// frame counts as voiced when it is not much quieter than the clip and its
// best normalized correlation is at least 0.8. Among the correlation peaks
// within 10% of the best, the shortest lag wins, which avoids reporting half
// the pitch on very periodic frames.
func meanF0(s []int16) (f0 float64, voiced int) {
	const rate = 16000
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v) / 32768
	}
	x = resample(x, SampleRate, rate)
	frame, hop := rate*40/1000, rate*10/1000
	minLag, maxLag := rate/400, rate/60
	var total float64
	for _, v := range x {
		total += v * v
	}
	gate := 0.25 * total / float64(len(x)) // frame energy gate: -6 dB RMS
	r := make([]float64, maxLag+2)
	var sum float64
	for start := 0; start+frame+maxLag+1 < len(x); start += hop {
		w := x[start : start+frame+maxLag+1]
		var e0 float64
		for _, v := range w[:frame] {
			e0 += v * v
		}
		if e0/float64(frame) < gate {
			continue
		}
		best := 0.0
		for lag := minLag; lag <= maxLag+1; lag++ {
			var c, e1 float64
			for k, v := range w[:frame] {
				c += v * w[k+lag]
				e1 += w[k+lag] * w[k+lag]
			}
			r[lag] = c / math.Sqrt(e0*e1+1e-20)
			best = math.Max(best, r[lag])
		}
		if best < 0.8 {
			continue
		}
		for lag := minLag + 1; lag <= maxLag; lag++ {
			if r[lag] >= 0.9*best && r[lag] >= r[lag-1] && r[lag] >= r[lag+1] {
				// Parabolic interpolation of the peak for sub-sample lag.
				den := r[lag-1] - 2*r[lag] + r[lag+1]
				d := 0.0
				if den < 0 {
					d = 0.5 * (r[lag-1] - r[lag+1]) / den
				}
				sum += rate / (float64(lag) + d)
				voiced++
				break
			}
		}
	}
	if voiced == 0 {
		return 0, 0
	}
	return sum / float64(voiced), voiced
}

func TestMeanF0(t *testing.T) {
	for _, f := range []float64{90, 130, 210, 260} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			// A buzzy harmonic tone, like a vowel.
			x := make([]float64, SampleRate)
			for i := range x {
				for h := 1.0; h <= 8; h++ {
					x[i] += 0.1 / h * math.Sin(2*math.Pi*f*h*float64(i)/SampleRate)
				}
			}
			got, n := meanF0(toPCM(x))
			if math.Abs(got-f) > f*0.01 || n < 50 {
				t.Errorf("meanF0 = %.1f Hz over %d frames, want %.0f", got, n, f)
			}
		})
	}
}

// speakingRate returns speech phones per second, not counting pauses.
func speakingRate(phones []Phone) float64 {
	var n int
	var d time.Duration
	for _, p := range phones {
		if !IsPause(p.Symbol) {
			n++
			d += p.End - p.Start
		}
	}
	return float64(n) / d.Seconds()
}

// TestVoicesDiffer synthesizes one sentence with every voice and checks that
// female voices are above 165 Hz, male ones below 150 Hz, and that every pair
// differs by at least 6% in F0 or in speaking rate.
func TestVoicesDiffer(t *testing.T) {
	needFlite(t)
	const sentence = "We were away a year ago, when Molly and Lenny only knew your name."
	type result struct {
		v     voice
		f0    float64
		rate  float64
		synth time.Duration
		audio time.Duration
	}
	var results []result
	for _, v := range voices {
		start := time.Now()
		a, err := (&Flite{}).Synthesize(context.Background(), sentence, v.name)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		el := time.Since(start)
		f0, n := meanF0(a.Samples)
		if n < 50 {
			t.Errorf("%s: only %d voiced frames", v.name, n)
		}
		results = append(results, result{v, f0, speakingRate(a.Phones), el, a.Duration()})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-9s %-6s %-6s %-9s %-7s %-5s %-9s %-11s %s\n",
		"voice", "engine", "flite", "F0 target", "stretch", "scale", "F0", "phones/s", "synthesis")
	for _, r := range results {
		target := "own"
		if r.v.f0 > 0 {
			target = fmt.Sprintf("%.0f Hz", r.v.f0)
		}
		fmt.Fprintf(&b, "%-9s %-6s %-6s %-9s %-7.2f %-5.2f %-9s %-11.1f %v for %v (%.3fx)\n",
			r.v.name, "flite", r.v.flite, target, r.v.stretch, r.v.scale,
			fmt.Sprintf("%.0f Hz", r.f0), r.rate, r.synth.Round(time.Millisecond),
			r.audio.Round(10*time.Millisecond), r.synth.Seconds()/r.audio.Seconds())
	}
	t.Log(b.String())

	for _, r := range results {
		if r.v.female && r.f0 <= 165 {
			t.Errorf("%s (female): F0 %.0f Hz, want above 165 Hz", r.v.name, r.f0)
		}
		if !r.v.female && r.f0 >= 150 {
			t.Errorf("%s (male): F0 %.0f Hz, want below 150 Hz", r.v.name, r.f0)
		}
	}
	rel := func(x, y float64) float64 { return math.Abs(x-y) / math.Min(x, y) }
	closest, pair := math.Inf(1), ""
	for i, p := range results {
		for _, q := range results[i+1:] {
			df, dr := rel(p.f0, q.f0), rel(p.rate, q.rate)
			if d := math.Max(df, dr); d < closest {
				closest, pair = d, p.v.name+" and "+q.v.name
			}
			if df < 0.06 && dr < 0.06 {
				t.Errorf("%s and %s sound alike: F0 %.0f vs %.0f Hz (%.1f%%), rate %.1f vs %.1f phones/s (%.1f%%)",
					p.v.name, q.v.name, p.f0, q.f0, 100*df, p.rate, q.rate, 100*dr)
			}
		}
	}
	t.Logf("closest pair: %s, %.1f%% apart in F0 or rate", pair, 100*closest)
}
