package ambience

import (
	"fmt"
	"math"
	"slices"
	"stillmotion/internal/loudness"
	"stillmotion/internal/prompt"
	"sync"
	"testing"
	"time"
)

var allKinds = []Kind{Room, Rain, Wind, Sea, Stream, City, Forest, Birds, Night, Fire, Crowd}

// renders caches clips that several tests measure.
var renders sync.Map // string → []int16

// render returns Render(scene, length, seed, bed), computed once per test
// binary.
func render(scene Scene, length time.Duration, seed int64, bed bool) []int16 {
	key := fmt.Sprintf("%v|%v|%d|%v|%#v", scene, length, seed, bed, scene.Layers)
	if s, ok := renders.Load(key); ok {
		return s.([]int16)
	}
	s := Render(scene, length, seed, bed)
	renders.Store(key, s)
	return s
}

func alone(k Kind, in Intensity) Scene { return Scene{Layers: []Layer{{Kind: k, Intensity: in}}} }

func peakDBFS(s []int16) float64 {
	var m float64
	for _, v := range s {
		m = max(m, math.Abs(float64(v)))
	}
	return 20 * math.Log10(m/32768)
}

// TestRenderLoudness checks every kind's integrated loudness, alone and as
// a bed, and that no clip comes near clipping.
func TestRenderLoudness(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		for _, in := range []Intensity{Moderate, Light, Heavy} {
			for _, bed := range []bool{false, true} {
				name := fmt.Sprintf("%v/%v/bed=%v", k, in, bed)
				t.Run(name, func(t *testing.T) {
					want := Target
					if k == Room {
						want = RoomTarget
					}
					if bed {
						want -= 15
					}
					want += in.loudnessOffset()
					s := render(alone(k, in), 8*time.Second, 7, bed)
					if got := loudness.Integrated(loudness.FromPCM(s), rate); math.Abs(got-want) > 0.5 {
						t.Errorf("loudness %.2f LUFS, want %.1f ± 0.5", got, want)
					}
					if p := peakDBFS(s); p > Ceiling {
						t.Errorf("peak %.2f dBFS, over %.1f", p, Ceiling)
					}
				})
			}
		}
	}
}

func TestRenderMixtures(t *testing.T) {
	t.Parallel()
	length := 8 * time.Second
	sc := prompt.Read("a thunderstorm over the sea", "")
	storm := Plan(sc)
	storm.Events = Lightning(sc, length, 3)
	tests := []struct {
		name  string
		scene Scene
		want  float64
	}{
		{"rain and wind", Scene{Layers: []Layer{{Kind: Rain}, {Kind: Wind}}}, Target},
		{"forest, stream, night", Scene{Layers: []Layer{{Kind: Forest}, {Kind: Stream, Weight: 0.5}, {Kind: Night}}}, Target},
		{"city and crowd", Plan(prompt.Read("a busy market square", "")), Target + 2},
		{"storm with thunder", storm, -21.6},
		{"thunder alone", Scene{Events: []Event{{Kind: Thunder, At: time.Second}}}, Target},
		{"room beside rain", Scene{Layers: []Layer{{Kind: Room}, {Kind: Rain}}}, Target},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, bed := range []bool{false, true} {
				want := tt.want
				if bed {
					want -= 15
				}
				s := render(tt.scene, length, 11, bed)
				if got := loudness.Integrated(loudness.FromPCM(s), rate); math.Abs(got-want) > 1 {
					t.Errorf("%v, bed %v: loudness %.2f LUFS, want %.1f ± 1", tt.scene, bed, got, want)
				}
				if p := peakDBFS(s); p > Ceiling {
					t.Errorf("%v, bed %v: peak %.2f dBFS, over %.1f", tt.scene, bed, p, Ceiling)
				}
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	sc := prompt.Read("a thunderstorm in the forest", "")
	scene := Plan(sc)
	scene.Events = Lightning(sc, 5*time.Second, 1)
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			a := Render(alone(k, Moderate), 2*time.Second, 1, false)
			b := Render(alone(k, Moderate), 2*time.Second, 1, false)
			c := Render(alone(k, Moderate), 2*time.Second, 2, false)
			if !slices.Equal(a, b) {
				t.Error("same seed, different samples")
			}
			if slices.Equal(a, c) {
				t.Error("different seeds, same samples")
			}
		})
	}
	t.Run("storm", func(t *testing.T) {
		if a, b := Render(scene, 5*time.Second, 1, true), Render(scene, 5*time.Second, 1, true); !slices.Equal(a, b) {
			t.Error("same seed, different samples")
		}
	})
}

func TestRenderLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		length time.Duration
		want   int
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Second/96000 + 1, 1}, // just over half a sample rounds up, as in speech.Track
		{time.Second / 96000, 0},
		{5 * time.Second, 240000},
		{8 * time.Second, 384000},
		{5*time.Second + time.Second/96000 + 1, 240001},
	}
	for _, tt := range tests {
		t.Run(tt.length.String(), func(t *testing.T) {
			for _, scene := range []Scene{alone(Rain, Moderate), {}} {
				if got := len(Render(scene, tt.length, 1, false)); got != tt.want {
					t.Errorf("%v: %d samples, want %d", scene, got, tt.want)
				}
			}
		})
	}
}

// TestRenderShort renders every kind, with thunder, at lengths down to a
// sample, where windows and fades are longer than the clip.
func TestRenderShort(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		for _, length := range []time.Duration{time.Second / 48000, time.Millisecond, 30 * time.Millisecond, 300 * time.Millisecond} {
			scene := alone(k, Heavy)
			scene.Events = []Event{{Kind: Thunder, At: 0}}
			s := Render(scene, length, 1, false)
			if len(s) != samples(length) {
				t.Errorf("%v, %v: %d samples, want %d", k, length, len(s), samples(length))
			}
			if p := peakDBFS(s); p > Ceiling {
				t.Errorf("%v, %v: peak %.2f dBFS", k, length, p)
			}
		}
	}
}

func TestRenderSilence(t *testing.T) {
	t.Parallel()
	for _, scene := range []Scene{{}, Plan(prompt.Read("a beach, no sound", "")), {Events: []Event{{Kind: Thunder, At: 9 * time.Second}}}} {
		s := Render(scene, 5*time.Second, 1, false)
		if len(s) != 240000 || slices.ContainsFunc(s, func(v int16) bool { return v != 0 }) {
			t.Errorf("%v: want 240000 zero samples", scene)
		}
	}
}

// TestRenderFades checks that clips start and end at zero and rise and
// fall over Fade, so there is no click at either end.
func TestRenderFades(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			s := loudness.FromPCM(render(alone(k, Moderate), 8*time.Second, 7, false))
			rms := func(x []float64) float64 {
				var e float64
				for _, v := range x {
					e += v * v
				}
				return math.Sqrt(e / float64(len(x)))
			}
			all := rms(s)
			edge := sec(0.005)
			if s[0] != 0 || s[len(s)-1] != 0 {
				t.Errorf("first sample %g, last %g; want 0", s[0], s[len(s)-1])
			}
			if a, b := rms(s[:edge]), rms(s[len(s)-edge:]); a > all/10 || b > all/10 {
				t.Errorf("RMS of the first and last 5 ms %.2g, %.2g; want under a tenth of the clip's %.2g", a, b, all)
			}
		})
	}
}

// TestRenderSpectra checks that each kind sounds in the right place: the
// spectral centroid and the share of power above 2 kHz.
func TestRenderSpectra(t *testing.T) {
	t.Parallel()
	cent := make(map[Kind]float64)
	high := make(map[Kind]float64)
	for _, k := range allKinds {
		s := render(alone(k, Moderate), 8*time.Second, 7, false)
		cent[k] = centroid(s)
		high[k] = bandShare(s, 2000, 16000)
	}
	order := func(lower, higher Kind) {
		t.Helper()
		if cent[lower] >= cent[higher] {
			t.Errorf("centroid of %v %.0f Hz, of %v %.0f Hz; want %v lower", lower, cent[lower], higher, cent[higher], lower)
		}
	}
	order(Wind, Rain)
	order(Sea, Rain)
	order(Wind, Fire)
	order(Sea, Fire)
	order(City, Rain)
	order(Crowd, Forest)
	order(Room, Night)
	if high[Rain] <= 2*high[Sea] {
		t.Errorf("share of power above 2 kHz: rain %.2f, sea %.2f; want rain's over twice sea's", high[Rain], high[Sea])
	}
	bands := []struct {
		kind   Kind
		lo, hi float64 // Hz
		min    float64 // share of power
	}{
		{Rain, 2000, 16000, 0.6},   // a hiss
		{Wind, 50, 1500, 0.8},      // a roar
		{Sea, 50, 1500, 0.8},       // surf
		{Crowd, 100, 4000, 0.85},   // voices
		{Night, 3500, 6000, 0.5},   // crickets
		{Forest, 2000, 10000, 0.6}, // leaves
		{Birds, 2000, 8000, 0.7},   // song
		{City, 50, 2000, 0.8},      // traffic
		{Stream, 300, 4000, 0.6},   // bubbling
		{Room, 50, 4000, 0.7},      // soft air
	}
	for _, b := range bands {
		if got := bandShare(render(alone(b.kind, Moderate), 8*time.Second, 7, false), b.lo, b.hi); got < b.min {
			t.Errorf("%v: share of power in %.0f–%.0f Hz %.2f, want at least %.2f", b.kind, b.lo, b.hi, got, b.min)
		}
	}
	t.Logf("centroids: %v", cent)
}

// TestRenderNoLoop checks that no kind repeats itself: a sampled loop would
// show as a strong autocorrelation at its period.
func TestRenderNoLoop(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		s := Render(alone(k, Moderate), 5*time.Second, 3, false)
		if r := maxAutocorr(s, sec(0.1), sec(2.5)); r > 0.4 {
			t.Errorf("%v: autocorrelation %.2f at some lag of 0.1–2.5 s, want under 0.4", k, r)
		}
	}
	// The check itself: a clip that repeats its first second scores high.
	s := Render(alone(Rain, Moderate), 5*time.Second, 3, false)
	for at := sec(1); at < len(s); at += sec(1) {
		copy(s[at:], s[:sec(1)])
	}
	if r := maxAutocorr(s, sec(0.1), sec(2.5)); r < 0.6 {
		t.Errorf("looped rain: autocorrelation %.2f, want over 0.6", r)
	}
}

// TestRenderLayersIndependent checks that each layer draws from its own
// random stream: Room tone, which is dropped beside rain, does not change
// the rain.
func TestRenderLayersIndependent(t *testing.T) {
	t.Parallel()
	a := Render(Scene{Layers: []Layer{{Kind: Rain}}}, time.Second, 5, false)
	b := Render(Scene{Layers: []Layer{{Kind: Room}, {Kind: Rain}}}, time.Second, 5, false)
	if !slices.Equal(a, b) {
		t.Error("adding Room tone beside rain changed the rain")
	}
}

// BenchmarkRender8s measures 8 s of each kind, and of a storm with
// thunder, on one goroutine.
func BenchmarkRender8s(b *testing.B) {
	storm := Plan(prompt.Read("heavy rain and wind, a thunderstorm", ""))
	storm.Events = Lightning(prompt.Read("a thunderstorm", ""), 8*time.Second, 1)
	cases := []struct {
		name  string
		scene Scene
	}{{"storm", storm}, {"forest+stream+night", Scene{Layers: []Layer{{Kind: Forest}, {Kind: Stream}, {Kind: Night}}}}}
	for _, k := range allKinds {
		cases = append(cases, struct {
			name  string
			scene Scene
		}{k.String(), alone(k, Heavy)})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				Render(c.scene, 8*time.Second, 1, false)
			}
		})
	}
}
