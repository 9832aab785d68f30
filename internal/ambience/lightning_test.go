package ambience

import (
	"math"
	"slices"
	"stillmotion/internal/loudness"
	"stillmotion/internal/prompt"
	"testing"
	"time"
)

const frame = time.Second / 24

func TestLightning(t *testing.T) {
	tests := []struct {
		prompt string
		want   bool    // any flashes
		lo, hi float64 // range of strengths
	}{
		{"a thunderstorm over the city", true, 0.45, 0.85},
		{"lightning", true, 0.45, 0.85},
		{"Lightning strikes the tower", true, 0.75, 1},
		{"thunder overhead", true, 0.75, 1},
		{"distant thunder", true, 0.25, 0.5},
		{"lightning on the horizon", true, 0.25, 0.5},
		{"a storm at sea", false, 0, 0},
		{"no lightning", false, 0, 0},
		{"a quiet night without thunder or lightning", false, 0, 0},
		{"a beach", false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			for seed := range int64(20) {
				ev := Lightning(prompt.Read(tt.prompt, ""), 8*time.Second, seed)
				if got := len(ev) > 0; got != tt.want {
					t.Fatalf("seed %d: %d flashes, want some: %v", seed, len(ev), tt.want)
				}
				for _, e := range ev {
					if e.Strength < tt.lo || e.Strength > tt.hi {
						t.Errorf("seed %d: strength %.2f, want %.2f..%.2f", seed, e.Strength, tt.lo, tt.hi)
					}
				}
			}
		})
	}
}

func TestLightningTimes(t *testing.T) {
	for _, length := range []time.Duration{5 * time.Second, 8 * time.Second, 2 * time.Second} {
		t.Run(length.String(), func(t *testing.T) {
			counts := make(map[int]int)
			times := make(map[time.Duration]bool)
			for seed := range int64(200) {
				ev := Lightning(prompt.Read("a thunderstorm", ""), length, seed)
				if again := Lightning(prompt.Read("a thunderstorm", ""), length, seed); !slices.Equal(ev, again) {
					t.Fatalf("seed %d: %v, then %v", seed, ev, again)
				}
				counts[len(ev)]++
				for i, e := range ev {
					times[e.At] = true
					if e.Kind != Thunder {
						t.Errorf("seed %d: kind %v", seed, e.Kind)
					}
					// Never in the first half-second (frame 0 is the input
					// image) nor the last second, give or take half a frame.
					if e.At < min(length/4, 500*time.Millisecond)-frame/2 || e.At > length-min(length/4, time.Second)+frame/2 {
						t.Errorf("seed %d: flash at %v in a %v clip", seed, e.At, length)
					}
					if i > 0 && e.At-ev[i-1].At < 300*time.Millisecond {
						t.Errorf("seed %d: flashes %v apart", seed, e.At-ev[i-1].At)
					}
					// On a frame start at 24 fps, and Frame finds that frame.
					f := e.Frame(24)
					if start := time.Duration(f) * time.Second / 24; e.At-start > 1 || e.At < start {
						t.Errorf("seed %d: %v is not the start of frame %d (%v)", seed, e.At, f, start)
					}
					if got := int(math.Round(e.At.Seconds() * 24)); got != f {
						t.Errorf("seed %d: Frame(24) = %d, want %d", seed, f, got)
					}
				}
			}
			most := max(1, 1+int((length.Seconds()-1.5)/3))
			for n := range counts {
				if n < 1 || n > most {
					t.Errorf("%d clips with %d flashes; want 1..%d", counts[n], n, most)
				}
			}
			// Half the frames where a flash may fall, at least.
			if frames := int((length - min(length/4, time.Second) - min(length/4, 500*time.Millisecond)) / frame); len(times) < frames/2 {
				t.Errorf("only %d distinct flash times over 200 seeds, want %d or more", len(times), frames/2)
			}
		})
	}
}

func TestEventFrame(t *testing.T) {
	tests := []struct {
		at   time.Duration
		fps  int
		want int
	}{
		{0, 24, 0},
		{-time.Second, 24, 0},
		{time.Second, 24, 24},
		{time.Second - 1, 24, 23},
		{41666667, 24, 1},
		{41666666, 24, 0},
		{time.Second, 30, 30},
		{time.Second, 0, 0},
	}
	for _, tt := range tests {
		if got := (Event{At: tt.at}).Frame(tt.fps); got != tt.want {
			t.Errorf("Event{At: %v}.Frame(%d) = %d, want %d", tt.at, tt.fps, got, tt.want)
		}
	}
}

// TestThunderAtFlash renders storms and checks that each thunderclap's
// energy rises at its flash: within one frame after it, and not before.
func TestThunderAtFlash(t *testing.T) {
	t.Parallel()
	win := sec(0.005)
	frameLen := sec(frame.Seconds())
	for _, text := range []string{"a thunderstorm", "distant thunder", "lightning strikes", "heavy rain, thunder and wind"} {
		for seed := range int64(3) {
			length := 8 * time.Second
			sc := prompt.Read(text, "")
			scene := Plan(sc)
			scene.Events = Lightning(sc, length, seed)
			for _, bed := range []bool{false, true} {
				// Energy above the rumble, where the ear finds the crack: the
				// rumble of an earlier clap has much power and little
				// loudness.
				s := loudness.FromPCM(Render(scene, length, seed, bed))
				hp := newSVF(300, 0.7)
				for i, v := range s {
					_, _, s[i] = hp.tick(v)
				}
				energy := func(at int) float64 { // mean square of the window starting at at
					var e float64
					for _, v := range s[at : at+win] {
						e += v * v
					}
					return e / float64(win)
				}
				for _, e := range scene.Events {
					at := samples(e.At)
					// The loudest moment of what sounds just before the flash:
					// rain drops, and maybe the rumble of an earlier clap.
					var pre float64
					for k := at - sec(0.15); k+win <= at-frameLen; k += sec(0.001) {
						pre = max(pre, energy(k))
					}
					// The onset: the first window 6 dB over that, from a frame
					// before the flash on.
					onset := -1
					for k := at - frameLen; k < at+sec(0.5); k += sec(0.001) {
						if energy(k) > 4*pre {
							onset = k
							break
						}
					}
					if onset < at-win || onset+win > at+frameLen {
						t.Errorf("%q seed %d bed %v: flash at %v, thunder's energy rises %.1f ms after it, want within 0..%.1f ms",
							text, seed, bed, e.At, 1000*float64(onset+win-at)/rate, 1000*frame.Seconds())
					}
				}
			}
		}
	}
}
