package speech

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os/exec"
	"strings"
	"syscall"
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

// needRHVoice skips the test when RHVoice or one of its voices is missing.
func needRHVoice(t *testing.T) {
	t.Helper()
	for _, base := range []string{"slt", "clb", "bdl", "alan"} {
		if why := (&Flite{}).rhvoiceMissing(base); why != "" {
			t.Skip(why)
		}
	}
}

// noRHVoice is a Flite whose RHVoice is missing, so every voice is its
// flite fallback.
func noRHVoice() *Flite {
	return &Flite{RHVoice: "/nonexistent/RHVoice-test", Logger: slog.New(slog.DiscardHandler)}
}

// TestVoicesDiffer synthesizes one sentence with every voice, as RHVoice
// makes them and as their flite fallbacks, and checks that female voices are
// above 165 Hz, male ones below 150 Hz, and that every pair differs by at
// least 6% in F0 or in speaking rate.
func TestVoicesDiffer(t *testing.T) {
	needFlite(t)
	t.Run("rhvoice", func(t *testing.T) {
		needRHVoice(t)
		checkVoicesDiffer(t, &Flite{}, func(v voice) spec { return v.spec })
	})
	t.Run("fallback", func(t *testing.T) {
		checkVoicesDiffer(t, noRHVoice(), func(v voice) spec { return v.fallback })
	})
}

func checkVoicesDiffer(t *testing.T, f *Flite, specOf func(voice) spec) {
	const sentence = "We were away a year ago, when Molly and Lenny only knew your name."
	type result struct {
		v     voice
		s     spec
		f0    float64
		rate  float64
		synth time.Duration
		audio time.Duration
	}
	var results []result
	for _, v := range voices {
		start := time.Now()
		a, err := f.Synthesize(context.Background(), sentence, v.name)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		el := time.Since(start)
		s := specOf(v)
		if a.Engine != s.String() {
			t.Errorf("%s: spoken by %q, want %q", v.name, a.Engine, s)
		}
		f0, n := meanF0(a.Samples)
		if n < 50 {
			t.Errorf("%s: only %d voiced frames", v.name, n)
		}
		results = append(results, result{v, s, f0, speakingRate(a.Phones), el, a.Duration()})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-9s %-8s %-6s %-9s %-7s %-5s %-9s %-11s %s\n",
		"voice", "engine", "base", "F0 target", "stretch", "scale", "F0", "phones/s", "synthesis")
	for _, r := range results {
		target := "own"
		if r.s.f0 > 0 {
			target = fmt.Sprintf("%.0f Hz", r.s.f0)
		}
		fmt.Fprintf(&b, "%-9s %-8s %-6s %-9s %-7.2f %-5.2f %-9s %-11.1f %v for %v (%.3fx)\n",
			r.v.name, r.s.engine, r.s.base, target, r.s.stretch, r.s.scale,
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

func TestCheck(t *testing.T) {
	needFlite(t)
	t.Run("installed", func(t *testing.T) {
		needRHVoice(t)
		for _, s := range (&Flite{}).Check(context.Background()) {
			if !s.OK || s.Install != "" {
				t.Errorf("%s: %+v, want OK", s.Engine, s)
			}
		}
	})
	t.Run("no rhvoice", func(t *testing.T) {
		st := noRHVoice().Check(context.Background())
		if len(st) != 2 || !st[0].OK || st[1].OK || !strings.Contains(st[1].Install, "rhvoice") || len(st[1].Voices) != len(Voices) {
			t.Errorf("Check = %+v, want flite OK and RHVoice missing for every voice", st)
		}
	})
	t.Run("no flite", func(t *testing.T) {
		st := (&Flite{Program: "/nonexistent/flite"}).Check(context.Background())
		if st[0].OK || st[0].Install != "apt-get install flite" {
			t.Errorf("Check = %+v, want flite missing", st[0])
		}
	})
}

// TestFallback checks that every voice speaks, and is itself, when RHVoice
// is missing: by its flite fallback, with one warning in the log.
func TestFallback(t *testing.T) {
	needFlite(t)
	var logged strings.Builder
	f := &Flite{RHVoice: "/nonexistent/RHVoice-test", Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	for _, name := range []string{"Harper", "Mason"} {
		a, err := f.Synthesize(context.Background(), "Hello there.", name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, _ := voiceByName(name)
		if a.Voice != name || a.Engine != v.fallback.String() {
			t.Errorf("%s spoken as %s by %q, want its fallback %q", name, a.Voice, a.Engine, v.fallback)
		}
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 || !strings.Contains(logged.String(), "fall back to flite") {
		t.Errorf("log %q, want one warning that voices fall back to flite", logged.String())
	}
}

// BenchmarkSynthesize measures synthesis time per base voice, by RHVoice
// and by flite (the fallbacks), for a typical text and the longest the API
// takes (200 characters). "speech" synthesizes the whole text and reports
// the time as a share of the speech's duration; "5s-clip" synthesizes for a
// 5-second video as the engine does (SynthesizeWithin), and reports the time
// as a share of the 5 seconds. cpu-ms/op is the processor time of the
// benchmark and the programs it ran, which a busy machine does not inflate
// as it does the wall time.
func BenchmarkSynthesize(b *testing.B) {
	texts := map[string]string{
		"typical": "Hello there! Did you hear the news? We won the match, four to nothing.",
		"longest": "The quick brown fox jumps over the lazy dog. Meanwhile, the weather in Scotland stays grey and wet, so bring an umbrella! Did you remember the tickets? We leave at nine sharp, okay?",
	}
	const clip = 5 * time.Second
	for _, voice := range []string{"Harper", "Ava", "Mason", "Jack"} {
		for _, engine := range []string{"rhvoice", "flite"} {
			for _, kind := range []string{"typical", "longest"} {
				for _, mode := range []string{"speech", "5s-clip"} {
					b.Run(voice+"/"+engine+"/"+kind+"/"+mode, func(b *testing.B) {
						if _, err := exec.LookPath("flite"); err != nil {
							b.Skip("flite not installed")
						}
						f := &Flite{}
						if engine == "flite" {
							f = noRHVoice()
						} else if f.rhvoiceMissing("slt") != "" {
							b.Skip("RHVoice not installed")
						}
						var speech time.Duration
						cpu0 := cpuTime()
						for b.Loop() {
							var a *Audio
							var err error
							if mode == "speech" {
								a, err = f.Synthesize(context.Background(), texts[kind], voice)
							} else {
								a, err = f.SynthesizeWithin(context.Background(), texts[kind], voice, clip-Lead-150*time.Millisecond)
							}
							if err != nil {
								b.Fatal(err)
							}
							speech = a.Duration()
						}
						per := b.Elapsed() / time.Duration(b.N)
						b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
						if mode == "speech" {
							b.ReportMetric(100*per.Seconds()/speech.Seconds(), "%speech")
						} else {
							b.ReportMetric(100*per.Seconds()/clip.Seconds(), "%clip")
						}
					})
				}
			}
		}
	}
}

// cpuTime returns the processor time, user and system, used so far by this
// process and its waited-for children.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	var d time.Duration
	for _, r := range []syscall.Rusage{self, children} {
		d += time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return d
}
