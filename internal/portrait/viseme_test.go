package portrait

import (
	"math"
	"testing"
	"time"

	"stillmotion/internal/speech"
)

// fliteUS lists the phones of flite's US English voices (cmulex), the
// symbols speech.Flite reports.
var fliteUS = []string{"aa", "ae", "ah", "ao", "aw", "ax", "ay", "b", "ch", "d", "dh", "eh", "er", "ey",
	"f", "g", "hh", "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "t",
	"th", "uh", "uw", "v", "w", "y", "z", "zh", "pau"}

func TestEveryPhoneHasATarget(t *testing.T) {
	for _, p := range fliteUS {
		_, ok := targets[p]
		_, di := diphthongs[p]
		if !ok && !di {
			t.Errorf("no mouth target for %q", p)
		}
	}
	for d, ends := range diphthongs {
		for _, e := range ends {
			if _, ok := targets[e]; !ok {
				t.Errorf("diphthong %q ends in %q, which has no target", d, e)
			}
		}
	}
}

// phones builds a timeline from symbols and durations in milliseconds.
func phones(spec ...any) []speech.Phone {
	var ps []speech.Phone
	var t time.Duration
	for i := 0; i < len(spec); i += 2 {
		d := time.Duration(spec[i+1].(int)) * time.Millisecond
		ps = append(ps, speech.Phone{Symbol: spec[i].(string), Start: t, End: t + d})
		t += d
	}
	return ps
}

// at returns the frame index of video time ms at 24 fps.
func at(ms int) int { return ms * 24 / 1000 }

func TestMouths(t *testing.T) {
	// "ma ... boo": speech starts at 300 ms in the video.
	s := &Speech{Phones: phones("m", 90, "aa", 200, "pau", 400, "b", 80, "uw", 220, "iy", 200), Rate: 0, Start: 300 * time.Millisecond}
	m := s.Mouths(24, 72)
	tests := []struct {
		name  string
		frame int
		check func(Mouth) bool
	}{
		{"rest before speech", at(100), func(m Mouth) bool { return m == Mouth{} }},
		{"lips closed for m", at(300 + 45), func(m Mouth) bool { return m.Press > 0.6 && m.Open < 0.25 }},
		{"open on aa", at(300 + 90 + 100), func(m Mouth) bool { return m.Open > 0.8 && m.Press < 0.1 }},
		{"rest in a long pause", at(300 + 290 + 200), func(m Mouth) bool { return m.Open < 0.02 && m.Press < 0.02 }},
		{"lips closed for b", at(300 + 690 + 40), func(m Mouth) bool { return m.Press > 0.5 }},
		{"rounded on uw", at(300 + 770 + 110), func(m Mouth) bool { return m.Round > 0.8 && m.Stretch < 0.2 }},
		{"stretched on iy", at(300 + 990 + 120), func(m Mouth) bool { return m.Stretch > 0.6 && m.Round < 0.3 }},
		{"rest after speech", 70, func(m Mouth) bool { return m.Open < 0.01 && m.Round < 0.01 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m[tt.frame]; !tt.check(got) {
				t.Errorf("frame %d: %+v", tt.frame, got)
			}
		})
	}
}

// TestMouthLeads checks that the mouth opens for a vowel before the vowel
// sounds, by about Lead, and that frame 0 is at rest.
func TestMouthLeads(t *testing.T) {
	s := &Speech{Phones: phones("pau", 500, "aa", 300, "pau", 500), Start: 0}
	m := s.Mouths(240, 360) // 240 fps to see the time finely
	if m[0] != (Mouth{}) {
		t.Errorf("frame 0 is %+v, want rest", m[0])
	}
	half := -1
	for i, x := range m {
		if x.Open >= 0.5 {
			half = i
			break
		}
	}
	// The vowel starts at 500 ms; its dominance reaches half before that,
	// and Lead moves it earlier still.
	if t0 := time.Duration(half) * time.Second / 240; t0 > 500*time.Millisecond-Lead || t0 < 500*time.Millisecond-Lead-80*time.Millisecond {
		t.Errorf("half open at %v, want shortly before %v", t0, 500*time.Millisecond-Lead)
	}
}

// TestMouthsFromLoudness checks the fallback for speech without phone
// timings: the mouth opens where the audio is loud and rests in silence.
func TestMouthsFromLoudness(t *testing.T) {
	const rate = 48000
	samples := make([]int16, 2*rate)
	for i := range samples {
		if i >= rate/2 && i < rate { // a tone from 0.5 s to 1 s
			samples[i] = int16(8000 * math.Sin(2*math.Pi*220*float64(i)/rate))
		}
	}
	s := &Speech{Samples: samples, Rate: rate, Start: 300 * time.Millisecond}
	m := s.Mouths(24, 60)
	if m[at(500)].Open != 0 || m[at(1500)].Open != 0 {
		t.Errorf("open in silence: %.2f, %.2f", m[at(500)].Open, m[at(1500)].Open)
	}
	if o := m[at(300+750)].Open; o < 0.7 {
		t.Errorf("open %.2f in the tone, want at least 0.7", o)
	}
}

// TestEmphasis checks that a loud vowel opens wider than a quiet one.
func TestEmphasis(t *testing.T) {
	const rate = 48000
	samples := make([]int16, rate)
	for i := range samples {
		a := 1000.0 // the first vowel is quiet, the second loud
		if i >= rate/2 {
			a = 9000
		}
		samples[i] = int16(a * math.Sin(2*math.Pi*600*float64(i)/rate))
	}
	s := &Speech{Phones: phones("aa", 500, "aa", 500), Samples: samples, Rate: rate}
	m := s.Mouths(24, 24)
	if q, l := m[at(250)].Open, m[at(750)].Open; q >= 0.7*l {
		t.Errorf("quiet vowel opens %.2f, loud one %.2f", q, l)
	}
}
