package speech

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// bursts returns a signal at rate Hz of tones, one per (frequency, duration
// in ms) pair, with frequency 0 for silence; and the pairs' end times.
func bursts(rate float64, spec ...int) ([]float64, []Phone) {
	var x []float64
	var phones []Phone
	var at time.Duration
	for i := 0; i < len(spec); i += 2 {
		f, d := float64(spec[i]), ms(spec[i+1])
		n := int(d.Seconds() * rate)
		for k := range n {
			v := 0.0
			if f > 0 {
				ph := 2 * math.Pi * f * float64(k) / rate
				v = 0.3*math.Sin(ph) + 0.1*math.Sin(3*ph)
			}
			x = append(x, v)
		}
		sym := "pau"
		if f > 0 {
			sym = fmt.Sprint("t", f)
		}
		phones = append(phones, Phone{Symbol: sym, Start: at, End: at + d})
		at += d
	}
	return x, phones
}

func TestTransferSynthetic(t *testing.T) {
	// The same "phones" at other lengths and another sample rate.
	ref, phones := bursts(16000, 0, 200, 300, 150, 1200, 100, 0, 120, 600, 250, 2500, 80, 0, 200)
	dst, truth := bursts(24000, 0, 300, 300, 100, 1200, 180, 0, 200, 600, 180, 2500, 120, 0, 100)
	got := transfer(ref, 16000, phones, dst, 24000)
	if len(got) != len(truth) {
		t.Fatalf("%d phones, want %d", len(got), len(truth))
	}
	for i := range got {
		if d := absDur(got[i].End - truth[i].End); d > 20*time.Millisecond {
			t.Errorf("phone %d %v ends at %v, want %v", i, got[i].Symbol, got[i].End, truth[i].End)
		}
	}
}

// TestTransferFlite checks transfer between two flite voices, whose true
// timelines flite prints: one voice's timeline carried over to the other's
// audio should land near the other's own.
func TestTransferFlite(t *testing.T) {
	needFlite(t)

	f := &Flite{}
	sentences := []string{
		"We were away a year ago, when Molly and Lenny only knew your name.",
		"The quick brown fox jumps over the lazy dog. Did you remember the tickets?",
	}
	pairs := []struct{ ref, dst spec }{
		{spec{base: "slt", stretch: 1, scale: 1}, spec{base: "slt", f0: 230, stretch: 1.15, scale: 1}},
		{spec{base: "rms", stretch: 1, scale: 1}, spec{base: "slt", stretch: 0.9, scale: 1}},
		{spec{base: "awb", stretch: 1, scale: 1}, spec{base: "rms", stretch: 1.1, scale: 1}},
	}
	for _, p := range pairs {
		for si, s := range sentences {
			t.Run(fmt.Sprintf("%s-%s/%d", p.ref.base, p.dst.base, si), func(t *testing.T) {
				rp, rr, rph, err := f.runFlite(context.Background(), p.ref.fliteArgs(), s)
				if err != nil {
					t.Fatal(err)
				}
				dp, dr, dph, err := f.runFlite(context.Background(), p.dst.fliteArgs(), s)
				if err != nil {
					t.Fatal(err)
				}
				if symbols(rph) != symbols(dph) {
					t.Skipf("the voices read it differently:\n%s\n%s", symbols(rph), symbols(dph))
				}
				got := transfer(toFloat(rp), float64(rr), rph, toFloat(dp), float64(dr))
				var errs []time.Duration
				for i := range got[:len(got)-1] {
					errs = append(errs, absDur(got[i].End-dph[i].End))
				}
				slices.Sort(errs)
				med, p90 := errs[len(errs)/2], errs[len(errs)*9/10]
				t.Logf("boundary error: median %v, 90th percentile %v, max %v", med, p90, errs[len(errs)-1])
				// Two video frames at 24 fps are 83 ms.
				if med > 25*time.Millisecond || p90 > 75*time.Millisecond {
					t.Errorf("boundary error median %v, 90th percentile %v; want at most 25 ms and 75 ms", med, p90)
				}
			})
		}
	}
}

// festival speaks text with festival's HTS voice of slt into out and returns
// festival's own timeline.
func festival(t *testing.T, text, out string) []Phone {
	t.Helper()
	script := `(voice_cmu_us_slt_arctic_hts)
(set! utt1 (Utterance Text "` + text + `"))
(utt.synth utt1)
(utt.save.wave utt1 "` + out + `" 'riff)
(mapcar (lambda (s) (format t "%s:%f " (item.name s) (item.feat s "end"))) (utt.relation.items utt1 'Segment))
(format t "\n")`
	file := filepath.Join(t.TempDir(), "say.scm")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("festival", "--batch", file).Output()
	if err != nil {
		t.Fatalf("festival: %v", err)
	}
	phones, err := parsePhones(b)
	if err != nil {
		t.Fatal(err)
	}
	return phones
}

func speechPhones(phones []Phone) []Phone {
	var out []Phone
	for _, p := range phones {
		if !IsPause(p.Symbol) {
			out = append(out, p)
		}
	}
	return out
}

// TestTransferFestival checks transfer across engines, as RHVoice's voices
// use it: flite's timeline carried over to festival's HTS voice, whose true
// timeline festival prints. festival phrases differently from flite (it
// pauses where flite does not), which insertPauses must find: a speech phone
// stretched over a pause would show as a large error at its start or end.
func TestTransferFestival(t *testing.T) {
	needFlite(t)
	if _, err := exec.LookPath("festival"); err != nil {
		t.Skip("festival not installed")
	}
	if _, err := os.Stat("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts"); err != nil {
		t.Skip("festvox-us-slt-hts not installed")
	}
	f := &Flite{}
	for si, s := range []string{
		"The quick brown fox jumps over the lazy dog. Meanwhile, the weather in Scotland stays grey and wet, so bring an umbrella!",
		"Welcome back! Today we are going to look at the ocean from the top of the hill.",
	} {
		out := filepath.Join(t.TempDir(), "festival.wav")
		truth := festival(t, s, out)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		pcm, rate, err := readWAV(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"slt", "rms"} {
			t.Run(fmt.Sprintf("%s/%d", ref, si), func(t *testing.T) {
				rp, rr, rph, err := f.runFlite(context.Background(), []string{"-voice", ref}, s)
				if err != nil {
					t.Fatal(err)
				}
				got := speechPhones(transfer(toFloat(rp), float64(rr), rph, toFloat(pcm), float64(rate)))
				want := speechPhones(truth)
				if len(got) != len(want) {
					t.Fatalf("%d speech phones, want %d as festival's:\n%s\n%s",
						len(got), len(want), symbols(got), symbols(want))
				}
				var errs []time.Duration
				for i := range got {
					errs = append(errs, absDur(got[i].Start-want[i].Start), absDur(got[i].End-want[i].End))
				}
				slices.Sort(errs)
				med, p90 := errs[len(errs)/2], errs[len(errs)*9/10]
				t.Logf("boundary error: median %v, 90th percentile %v, max %v", med, p90, errs[len(errs)-1])
				if med > 25*time.Millisecond || p90 > 75*time.Millisecond {
					t.Errorf("boundary error median %v, 90th percentile %v; want at most 25 ms and 75 ms", med, p90)
				}
				// From the same speaker, a missed pause is the only large error.
				if m := errs[len(errs)-1]; ref == "slt" && m > 100*time.Millisecond {
					t.Errorf("largest boundary error %v, want at most 100 ms", m)
				}
			})
		}
	}
}

func TestInsertPauses(t *testing.T) {
	// Audio: tone 0-300 ms, silence 300-500, tone 500-800, silence to 900.
	x, _ := bursts(16000, 300, 300, 0, 200, 600, 300, 0, 100)
	tests := []struct {
		name   string
		phones []Phone
		want   string // symbol:start-end in ms
	}{
		{"inserted", []Phone{{"a", 0, ms(420)}, {"b", ms(420), ms(800)}, {"pau", ms(800), ms(900)}},
			"a:0-300 pau:300-500 b:500-800 pau:800-900"},
		{"squeezed", []Phone{{"a", 0, ms(250)}, {"c", ms(250), ms(380)}, {"b", ms(380), ms(800)}, {"pau", ms(800), ms(900)}},
			"a:0-250 c:250-300 pau:300-500 b:500-800 pau:800-900"},
		{"pause moved", []Phone{{"a", 0, ms(350)}, {"pau", ms(350), ms(450)}, {"b", ms(450), ms(800)}, {"pau", ms(800), ms(900)}},
			"a:0-300 pau:300-500 b:500-800 pau:800-900"},
		{"already", []Phone{{"a", 0, ms(300)}, {"pau", ms(300), ms(500)}, {"b", ms(500), ms(800)}, {"pau", ms(800), ms(900)}},
			"a:0-300 pau:300-500 b:500-800 pau:800-900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range insertPauses(tt.phones, x, 16000) {
				got = append(got, fmt.Sprintf("%s:%d-%d", p.Symbol, p.Start.Milliseconds(), p.End.Milliseconds()))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("insertPauses = %s, want %s", g, tt.want)
			}
		})
	}
}
