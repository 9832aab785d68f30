package ambience

import (
	"math"
	"slices"
	"stillmotion/internal/loudness"
	"testing"
	"time"
)

// speechLike returns length of silence with a voice-like signal from start
// to end: a 150 Hz buzz with harmonics, in syllables of 200 ms with 60 ms
// gaps (the gaps between words, which the bed should not pump in), at
// about -20 dBFS RMS.
func speechLike(length, start, end time.Duration) []int16 {
	s := make([]int16, samples(length))
	for i := samples(start); i < samples(end) && i < len(s); i++ {
		t := float64(i-samples(start)) / rate
		syl := math.Mod(t, 0.26)
		if syl > 0.2 {
			continue
		}
		arch := math.Sin(math.Pi * syl / 0.2)
		var v float64
		for h := 1.0; h <= 8; h++ {
			v += math.Sin(2*math.Pi*150*h*t) / h
		}
		s[i] = int16(0.08 * arch * v * 32767)
	}
	return s
}

func rmsOf(s []float64) float64 {
	var e float64
	for _, v := range s {
		e += v * v
	}
	return math.Sqrt(e / float64(len(s)))
}

// TestMixDucks checks that the bed drops by Duck while the voice speaks,
// stays down through the gaps between words, is back up in a pause, and
// starts to dip just before the voice.
func TestMixDucks(t *testing.T) {
	t.Parallel()
	length := 8 * time.Second
	voice := speechLike(length, 2*time.Second, 4*time.Second)
	bed := render(alone(Rain, Moderate), length, 7, true)
	out := Mix(voice, bed)
	// What Mix made of the bed: the mix less the voice (nothing is limited
	// at these levels, so the voice passes unchanged).
	ducked := loudness.FromPCM(out)
	for i, v := range voice {
		ducked[i] -= float64(v) / 32768
	}
	b := loudness.FromPCM(bed)
	gainDB := func(from, to time.Duration) float64 {
		lo, hi := samples(from), samples(to)
		return 20 * math.Log10(rmsOf(ducked[lo:hi])/rmsOf(b[lo:hi]))
	}
	tests := []struct {
		name     string
		from, to time.Duration
		lo, hi   float64 // dB
	}{
		{"long before the voice", 500 * time.Millisecond, 1500 * time.Millisecond, -0.1, 0.1},
		{"just before the voice", 1980 * time.Millisecond, 2 * time.Second, -Duck, -1},
		{"under the voice", 2200 * time.Millisecond, 3900 * time.Millisecond, -Duck - 0.5, -Duck + 1},
		{"long after the voice", 6 * time.Second, 8 * time.Second, -0.3, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gainDB(tt.from, tt.to)
			t.Logf("bed gain %.2f dB", got)
			if got < tt.lo || got > tt.hi {
				t.Errorf("bed gain %.2f dB from %v to %v, want %.1f..%.1f", got, tt.from, tt.to, tt.lo, tt.hi)
			}
		})
	}
	// Through every gap between syllables the bed stays within 1 dB of
	// fully ducked: no pumping.
	for gap := 2200 * time.Millisecond; gap < 3900*time.Millisecond; gap += 260 * time.Millisecond {
		if g := gainDB(gap, gap+60*time.Millisecond); g > -Duck+1 {
			t.Errorf("bed gain %.2f dB in the gap at %v, want under %.1f", g, gap, -Duck+1)
		}
	}
}

func TestMixNeverClips(t *testing.T) {
	t.Parallel()
	n := samples(2 * time.Second)
	square := make([]int16, n)
	for i := range square {
		square[i] = 32767
		if i/100%2 == 1 {
			square[i] = -32768
		}
	}
	loud := render(alone(Fire, Heavy), 2*time.Second, 1, false)
	noise := make([]int16, n)
	r := newRNG(1, 1)
	for i := range noise {
		noise[i] = int16(32767 * r.signed())
	}
	tests := []struct {
		name       string
		voice, bed []int16
	}{
		{"full-scale voice over loud fire", square, loud},
		{"full-scale voice over full-scale noise", square, noise},
		{"no voice, full-scale noise", nil, noise},
		{"full-scale voice, no bed", square, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Mix(tt.voice, tt.bed)
			if len(out) != n {
				t.Fatalf("%d samples, want %d", len(out), n)
			}
			if p := peakDBFS(out); p > Ceiling {
				t.Errorf("peak %.2f dBFS, over %.1f", p, Ceiling)
			}
		})
	}
}

func TestMixLengths(t *testing.T) {
	t.Parallel()
	bed := render(alone(Sea, Moderate), time.Second, 1, true)
	voice := speechLike(500*time.Millisecond, 0, 500*time.Millisecond)
	tests := []struct {
		name       string
		voice, bed []int16
		want       int
	}{
		{"both empty", nil, nil, 0},
		{"bed only", nil, bed, len(bed)},
		{"voice only", voice, nil, len(voice)},
		{"bed longer", voice, bed, len(bed)},
		{"voice longer", bed, voice, len(bed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(Mix(tt.voice, tt.bed)); got != tt.want {
				t.Errorf("%d samples, want %d", got, tt.want)
			}
		})
	}
	// Without a voice, the bed comes through untouched.
	if got := Mix(nil, bed); !slices.Equal(got, bed) {
		t.Error("Mix(nil, bed) changed the bed")
	}
}

// BenchmarkMix8s measures ducking 8 s of bed under 8 s of voice.
func BenchmarkMix8s(b *testing.B) {
	voice := speechLike(8*time.Second, time.Second, 7*time.Second)
	bed := Render(alone(Rain, Moderate), 8*time.Second, 1, true)
	for b.Loop() {
		Mix(voice, bed)
	}
}
