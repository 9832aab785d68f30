package speech

import (
	"math"
	"testing"
	"time"
)

// fakeAudio builds audio from (symbol, milliseconds) pairs: pause phones are
// silent, others a loud 200 Hz tone.
func fakeAudio(spec ...any) *Audio {
	a := &Audio{}
	var at time.Duration
	for i := 0; i < len(spec); i += 2 {
		sym, d := spec[i].(string), ms(spec[i+1].(int))
		a.Phones = append(a.Phones, Phone{sym, at, at + d})
		n := durationToSamples(at+d) - durationToSamples(at)
		for k := range n {
			var v int16
			if !IsPause(sym) {
				v = int16(10000 * math.Sin(2*math.Pi*200*float64(len(a.Samples)+k)/SampleRate))
			}
			a.Samples = append(a.Samples, v)
		}
		at += d
	}
	return a
}

// withWords sets a's words to the given [start, end] pairs in milliseconds.
func withWords(a *Audio, spans ...int) *Audio {
	for i := 0; i < len(spans); i += 2 {
		a.Words = append(a.Words, Word{Start: ms(spans[i]), End: ms(spans[i+1])})
	}
	return a
}

func TestFit(t *testing.T) {
	tests := []struct {
		name     string
		audio    *Audio
		max      time.Duration
		wantEnd  time.Duration
		wantLast string
	}{
		{"fits", fakeAudio("a", 500, "pau", 100), time.Second, 600 * time.Millisecond, "pau"},
		{"cut in pause", fakeAudio("a", 500, "pau", 200, "b", 500, "pau", 100), 1000 * time.Millisecond,
			700 * time.Millisecond, "pau"},
		{"pause runs past max", fakeAudio("a", 500, "pau", 400, "b", 500), 800 * time.Millisecond,
			800 * time.Millisecond, "pau"},
		{"last pause that fits", fakeAudio("a", 300, "pau", 100, "b", 300, "pau", 100, "c", 500), 900 * time.Millisecond,
			800 * time.Millisecond, "pau"},
		{"pause too late for the fade", fakeAudio("a", 300, "pau", 100, "b", 380, "pau", 200), 800 * time.Millisecond,
			400 * time.Millisecond, "pau"},
		{"word end", withWords(fakeAudio("a", 300, "b", 300, "c", 300, "d", 300), 0, 300, 300, 600, 600, 900, 900, 1200),
			1000 * time.Millisecond, 900 * time.Millisecond, "c"},
		{"pause over a word end", withWords(fakeAudio("a", 300, "pau", 100, "b", 300, "c", 300), 0, 300, 400, 700, 700, 1000),
			900 * time.Millisecond, 400 * time.Millisecond, "pau"},
		{"word end long after a pause", withWords(fakeAudio("a", 300, "pau", 100, "b", 700, "c", 700, "d", 500),
			0, 300, 400, 1100, 1100, 1800, 1800, 2300), 2000 * time.Millisecond, 1800 * time.Millisecond, "c"},
		{"first word too long", withWords(fakeAudio("a", 3000), 0, 3000), 1000 * time.Millisecond, 1000 * time.Millisecond, "a"},
		{"exact", fakeAudio("a", 500), 500 * time.Millisecond, 500 * time.Millisecond, "a"},
		{"zero", fakeAudio("a", 500), 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.audio.Fit(tt.max)
			if got := tt.audio.Duration(); got != tt.wantEnd {
				t.Errorf("duration %v, want %v", got, tt.wantEnd)
			}
			last := ""
			if n := len(tt.audio.Phones); n > 0 {
				last = tt.audio.Phones[n-1].Symbol
				if end := tt.audio.Phones[n-1].End; end > tt.audio.Duration() {
					t.Errorf("last phone ends at %v, after the audio", end)
				}
			}
			if last != tt.wantLast {
				t.Errorf("last phone %q, want %q", last, tt.wantLast)
			}
		})
	}
}

func TestFitQuietest(t *testing.T) {
	// No pauses: speech with a 40 ms gap at 700 ms should be cut in the gap.
	a := fakeAudio("a", 700, "b", 40, "c", 600)
	for i := durationToSamples(700 * time.Millisecond); i < durationToSamples(740*time.Millisecond); i++ {
		a.Samples[i] = 0
	}
	a.Fit(time.Second)
	d := a.Duration()
	if d < 720*time.Millisecond || d > 740*time.Millisecond {
		t.Errorf("cut at %v, want in the gap at 700-740 ms", d)
	}
	if got := symbols(a.Phones); got != "a b" {
		t.Errorf("phones %q, want \"a b\"", got)
	}
	fade := a.Samples[len(a.Samples)-durationToSamples(Fade):]
	if fade[len(fade)-1] != 0 || math.Abs(float64(fade[0])) > 10000 {
		t.Errorf("fade from %d to %d", fade[0], fade[len(fade)-1])
	}
}

func TestTrack(t *testing.T) {
	a := fakeAudio("a", 500, "pau", 100)
	tests := []struct {
		name        string
		a           *Audio
		lead, total time.Duration
		wantLen     int
		wantSpeech  int // index of the first non-zero sample, -1 for none
	}{
		{"normal", a, Lead, 5 * time.Second, 240000, 14400},
		{"no audio", nil, Lead, 5 * time.Second, 240000, -1},
		{"odd total", a, Lead, 5*time.Second + time.Second/96000 + 1, 240001, 14400},
		{"truncated", a, Lead, 400 * time.Millisecond, 19200, 14400},
		{"lead past end", a, time.Second, 500 * time.Millisecond, 24000, -1},
		{"zero lead", a, 0, time.Second, 48000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Track(tt.a, tt.lead, tt.total)
			if len(out) != tt.wantLen {
				t.Fatalf("len %d, want %d", len(out), tt.wantLen)
			}
			first := -1
			for i, v := range out {
				if v != 0 {
					first = i
					break
				}
			}
			// The fake's first sample is sin(0) = 0, so speech shows one later.
			if tt.wantSpeech >= 0 && (first < tt.wantSpeech || first > tt.wantSpeech+2) ||
				tt.wantSpeech < 0 && first >= 0 {
				t.Errorf("first non-zero sample at %d, want %d", first, tt.wantSpeech)
			}
			if tt.a == nil || first < 0 {
				return
			}
			end := min(len(out), first+len(tt.a.Samples))
			for i, v := range out[end:] {
				if v != 0 {
					t.Fatalf("sample %d after the speech is %d, want silence", end+i, v)
				}
			}
			if tt.name == "truncated" && out[len(out)-1] != 0 {
				t.Errorf("truncated speech ends at %d, want a fade to 0", out[len(out)-1])
			}
		})
	}
}

func TestTrackFlite(t *testing.T) {
	needFlite(t)
	a := synth(t, "Hello there.", "Jack")
	out := Track(a, Lead, 5*time.Second)
	if len(out) != 5*SampleRate {
		t.Fatalf("len %d, want %d", len(out), 5*SampleRate)
	}
	lead := durationToSamples(Lead)
	for i, v := range out[:lead] {
		if v != 0 {
			t.Fatalf("sample %d before the lead is %d", i, v)
		}
	}
	first := lead
	for out[first] == 0 {
		first++
	}
	if d := samplesToDuration(first - lead); d > 5*time.Millisecond {
		t.Errorf("speech starts %v after the lead, want at it", d)
	}
	if r := rms(out[lead : lead+durationToSamples(50*time.Millisecond)]); r < 100 {
		t.Errorf("RMS %.0f in the first 50 ms after the lead, want speech", r)
	}
	for i, v := range out[lead+len(a.Samples):] {
		if v != 0 {
			t.Fatalf("sample %d after the speech is %d", lead+len(a.Samples)+i, v)
		}
	}
}
