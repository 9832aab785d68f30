package lipsync

import (
	"math"
	"slices"
	"testing"
	"time"

	"stillmotion/internal/speech"
)

func TestTimeline(t *testing.T) {
	tests := []struct {
		name                 string
		n, fps               int
		speechEnd, limit     time.Duration
		frames, window, from int
	}{
		{"speech shorter: the input's length", 120, 24, 3 * time.Second, 30 * time.Second, 120, 0, 120},
		{"speech ends with the input", 120, 24, 5 * time.Second, 30 * time.Second, 120, 0, 120},
		{"speech longer: its end and the tail", 120, 24, 6 * time.Second, 30 * time.Second, 156, 72, 47},
		{"a short input bounces whole", 24, 24, 4 * time.Second, 30 * time.Second, 108, 23, 0},
		{"capped at the limit", 120, 24, 40 * time.Second, 30 * time.Second, 720, 72, 47},
		{"one frame holds", 1, 30, 2 * time.Second, 30 * time.Second, 75, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTimeline(tt.n, tt.fps, tt.speechEnd, tt.limit)
			if tl.frames != tt.frames || tl.window != tt.window || tl.bounceFrom() != tt.from {
				t.Errorf("%d frames, window %d, bounce from %d; want %d, %d, %d", tl.frames, tl.window, tl.bounceFrom(), tt.frames, tt.window, tt.from)
			}
			// Every frame comes from the input; consecutive ones are
			// neighbours (the bounce turns without a jump) and the frames
			// after the input's end come from the bounce's stretch.
			for j := range tl.frames {
				s := tl.source(j)
				if s < 0 || s >= tt.n {
					t.Fatalf("frame %d from input frame %d of %d", j, s, tt.n)
				}
				if j >= tt.n && s < tl.bounceFrom() {
					t.Errorf("frame %d from input frame %d, before the bounce's first, %d", j, s, tl.bounceFrom())
				}
				if j > 0 && tt.n > 1 {
					if d := s - tl.source(j-1); d != 1 && d != -1 {
						t.Errorf("frame %d from %d after %d", j, s, tl.source(j-1))
					}
				}
			}
		})
	}
	tl := newTimeline(5, 10, 2*time.Second, time.Minute)
	var got []int
	for j := range tl.frames {
		got = append(got, tl.source(j))
	}
	if want := []int{0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("sources %v, want %v", got, want)
	}
}

// speechOf returns two phrases of tone bursts (syllables) with a pause of
// 300 ms after the first, and their phones.
func speechOf() ([]int16, []speech.Phone) {
	rate := speech.SampleRate
	var s []int16
	var phones []speech.Phone
	at := func() time.Duration { return time.Duration(len(s)) * time.Second / time.Duration(rate) }
	syllables := func(k int) {
		for range k {
			start := at()
			for i := range rate / 5 {
				env := math.Sin(math.Pi * float64(i) / float64(rate/5))
				s = append(s, int16(8000*env*math.Sin(2*math.Pi*300*float64(i)/float64(rate))))
			}
			phones = append(phones, speech.Phone{Symbol: "aa", Start: start, End: at()})
		}
	}
	pause := func(d time.Duration) {
		start := at()
		s = append(s, make([]int16, int(d.Seconds()*float64(rate)))...)
		phones = append(phones, speech.Phone{Symbol: "pau", Start: start, End: at()})
	}
	syllables(5) // 0 to 1 s
	pause(300 * time.Millisecond)
	syllables(5) // 1.3 to 2.3 s
	return s, phones
}

func TestCutSpeech(t *testing.T) {
	samples, phones := speechOf()
	for _, tt := range []struct {
		name   string
		phones []speech.Phone
	}{{"phones", phones}, {"loudness only", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			sp := &Speech{Samples: samples, Phones: tt.phones}
			before := slices.Clone(samples)
			cut := cutSpeech(sp, 2*time.Second)
			d := samplesDuration(len(cut.Samples))
			// The cut falls in the pause (1.0 to 1.3 s), not in the
			// second phrase's syllables.
			if d < time.Second || d > 1300*time.Millisecond {
				t.Errorf("cut at %v, want in the pause from 1 s to 1.3 s", d)
			}
			if !slices.Equal(samples, before) {
				t.Error("the caller's samples changed")
			}
			for _, p := range cut.Phones {
				if p.End > d {
					t.Errorf("phone %v ends after the cut at %v", p, d)
				}
			}
		})
	}
	// Speech without a pause is cut at its quietest moment in the second
	// half, between syllables.
	s := samples[:len(samples)*10/23] // the first phrase, 1 s
	n := quietCut(s, speech.SampleRate, 900*time.Millisecond)
	if at := float64(n) / speech.SampleRate; math.Abs(at-0.8) > 0.03 {
		t.Errorf("cut at %.3f s, want between syllables at 0.8 s", at)
	}
}

func TestFaceWeights(t *testing.T) {
	ok := []bool{true, true, true, true, false, true, true, true, true, true}
	got := faceWeights(ok, 16) // a ramp of 2 frames
	want := []float64{1, 1, 1, 0.5, 0, 0.5, 1, 1, 1, 1}
	if !slices.Equal(got, want) {
		t.Errorf("weights %v, want %v", got, want)
	}
}

func TestOutputFPS(t *testing.T) {
	for in, want := range map[float64]int{29.97: 30, 23.976: 24, 25: 25, 59.94: 60, 0: 24, 5: 24, 12: 12} {
		if got := outputFPS(in); got != want {
			t.Errorf("outputFPS(%v) = %d, want %d", in, got, want)
		}
	}
}
