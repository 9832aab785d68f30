package speech

import (
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name   string
		seed   int64
		want   string // "" means any voice
		wantOK bool
	}{
		{"Harper", 0, "Harper", true},
		{"Ethan", 99, "Ethan", true},
		{"Auto", 1, "", true},
		{"", 1, "", true},
		{"harper", 0, "", false},
		{"Bob", 0, "", false},
		{" Harper", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Resolve(tt.name, tt.seed)
			if ok != tt.wantOK {
				t.Fatalf("Resolve(%q) ok = %v, want %v", tt.name, ok, tt.wantOK)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.name, got, tt.want)
			}
			if ok {
				if _, known := voiceByName(got); !known {
					t.Errorf("Resolve(%q) = %q, not a voice", tt.name, got)
				}
			}
		})
	}
}

func TestResolveAuto(t *testing.T) {
	seen := map[string]int{}
	for seed := range int64(1400) {
		v, _ := Resolve(Auto, seed)
		if again, _ := Resolve("", seed); again != v {
			t.Fatalf("seed %d: Auto gave %q, \"\" gave %q", seed, v, again)
		}
		if again, _ := Resolve(Auto, seed); again != v {
			t.Fatalf("seed %d: not deterministic: %q then %q", seed, v, again)
		}
		seen[v]++
	}
	// Every voice should come up for some seed, roughly evenly.
	for _, v := range Voices {
		if n := seen[v]; n < 50 {
			t.Errorf("Auto chose %s %d times in 1400 seeds, want about 100", v, n)
		}
	}
	if v, ok := Resolve(Auto, -1); !ok || v == "" {
		t.Errorf("Resolve(Auto, -1) = %q, %v", v, ok)
	}
}

func TestVoiceTable(t *testing.T) {
	if len(Voices) != 14 || len(voices) != len(Voices) {
		t.Fatalf("%d names, %d table entries; want 14 of each", len(Voices), len(voices))
	}
	for i, name := range Voices {
		v := voices[i]
		if v.name != name {
			t.Errorf("voices[%d] = %s, Voices[%d] = %s; want the same order", i, v.name, i, name)
		}
		if want := i < 7; v.female != want {
			t.Errorf("%s: female = %v, want %v", name, v.female, want)
		}
		if v.stretch <= 0 || v.scale <= 0 {
			t.Errorf("%s: stretch %v, scale %v; want positive", name, v.stretch, v.scale)
		}
	}
}

func TestDurationSamples(t *testing.T) {
	tests := []struct {
		d time.Duration
		n int
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Second, 48000},
		{Lead, 14400},
		{5 * time.Second, 240000},
		{time.Second/48000/2 - 1, 0}, // under half a sample rounds down
		{time.Second / 48000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := durationToSamples(tt.d); got != tt.n {
				t.Errorf("durationToSamples(%v) = %d, want %d", tt.d, got, tt.n)
			}
		})
	}
	for _, n := range []int{0, 1, 47999, 48000, 240001} {
		if got := durationToSamples(samplesToDuration(n)); got != n {
			t.Errorf("round trip of %d samples gave %d", n, got)
		}
	}
}
