package speech

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"stillmotion/internal/fault"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestParsePhones(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Phone // nil: an error
	}{
		{"flite", "pau:0.164 hh:0.255 ax:0.304 \n", []Phone{
			{"pau", 0, ms(164)}, {"hh", ms(164), ms(255)}, {"ax", ms(255), ms(304)}}},
		{"two utterances", "pau:0.1 a:0.2 pau:0.3\npau:0.1 b:0.25\n", []Phone{
			{"pau", 0, ms(100)}, {"a", ms(100), ms(200)}, {"pau", ms(200), ms(300)},
			{"pau", ms(300), ms(400)}, {"b", ms(400), ms(550)}}},
		{"times restart in a line", "a:0.1 b:0.2 c:0.05", []Phone{
			{"a", 0, ms(100)}, {"b", ms(100), ms(200)}, {"c", ms(200), ms(250)}}},
		{"messages skipped", "Voices available: kal slt\npau:0.1 k:0.2\ndone.\n", []Phone{
			{"pau", 0, ms(100)}, {"k", ms(100), ms(200)}}},
		{"crlf and tabs", "pau:0.1\tAA:0.2\r\n", []Phone{{"pau", 0, ms(100)}, {"aa", ms(100), ms(200)}}},
		{"zero length phone", "a:0.1 b:0.1", []Phone{{"a", 0, ms(100)}, {"b", ms(100), ms(100)}}},
		{"exponent", "a:1e-1", []Phone{{"a", 0, ms(100)}}},
		{"empty", "", nil},
		{"no colon", "pau 0.1", nil},
		{"negative", "a:-0.1", nil},
		{"nan", "a:NaN", nil},
		{"inf", "a:+Inf", nil},
		{"huge", "a:1e9", nil},
		{"empty symbol", ":0.1", nil},
		{"bad symbol", "a$b:0.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePhones([]byte(tt.in))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("parsePhones(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePhones(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parsePhones(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("phone %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParsePhones(f *testing.F) {
	for _, s := range []string{
		"pau:0.164 hh:0.255 ax:0.304 l:0.412 ow:0.548 pau:0.712 \n",
		"pau:0.1 a:0.2\npau:0.1 b:0.25\n",
		"a:0.3 b:0.1", "x:1e-3", "a::0.1", ":", "a:NaN", "Voices available: kal",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		phones, err := parsePhones(in)
		if err != nil {
			if phones != nil {
				t.Fatal("phones with an error")
			}
			return
		}
		if len(phones) == 0 {
			t.Fatal("no phones and no error")
		}
		var prev time.Duration
		for i, p := range phones {
			if p.Symbol == "" || p.Symbol != strings.ToLower(p.Symbol) {
				t.Fatalf("phone %d: bad symbol %q", i, p.Symbol)
			}
			if p.Start != prev || p.End < p.Start {
				t.Fatalf("phone %d = %v: not contiguous after %v", i, p, prev)
			}
			prev = p.End
		}
	})
}

// needFlite skips the test when flite is not installed.
func needFlite(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		t.Skip("flite not installed")
	}
}

func synth(t *testing.T, text, voice string) *Audio {
	t.Helper()
	a, err := (&Flite{}).Synthesize(context.Background(), text, voice)
	if err != nil {
		t.Fatalf("Synthesize(%q, %s): %v", text, voice, err)
	}
	return a
}

func symbols(phones []Phone) string {
	var s []string
	for _, p := range phones {
		s = append(s, p.Symbol)
	}
	return strings.Join(s, " ")
}

func TestFliteSynthesize(t *testing.T) {
	needFlite(t)
	a := synth(t, "Hello world.", "Harper")
	if a.Voice != "Harper" {
		t.Errorf("Voice = %q", a.Voice)
	}
	if got, want := symbols(a.Phones), "hh ax l ow w er l d pau"; got != want {
		t.Errorf("phones %q, want %q", got, want)
	}
	d := a.Duration()
	if d < 500*time.Millisecond || d > 2*time.Second {
		t.Errorf("duration %v, want about 1 s", d)
	}
	var prev time.Duration
	for i, p := range a.Phones {
		if p.Start != prev || p.End < p.Start || p.End > d {
			t.Fatalf("phone %d %v: not contiguous within [0, %v]", i, p, d)
		}
		prev = p.End
	}
	if a.Phones[0].Start != 0 {
		t.Errorf("first phone starts at %v, want 0", a.Phones[0].Start)
	}
	// The leading pause is gone: the first phone ("hh", breathy and quiet)
	// is heard from the start, and the vowel after it is loud.
	if r := rms(a.Samples[:durationToSamples(20*time.Millisecond)]); r < 20 {
		t.Errorf("first 20 ms RMS %.0f, want the start of speech", r)
	}
	vowel := a.Phones[1]
	if r := rms(a.Samples[durationToSamples(vowel.Start):durationToSamples(vowel.End)]); r < 1000 {
		t.Errorf("RMS %.0f during %v, want a vowel", r, vowel)
	}
	var words []string
	for _, w := range a.Words {
		words = append(words, w.Text)
	}
	if got := strings.Join(words, " "); got != "Hello world" {
		t.Errorf("words %q, want \"Hello world\"", got)
	}
	l := Loudness(a.Samples, SampleRate)
	if l < TargetLoudness-1.5 || l > TargetLoudness+0.5 {
		t.Errorf("loudness %.2f LUFS, want about %.0f", l, TargetLoudness)
	}
	if p := peakDBFS(a.Samples); p > PeakCeiling {
		t.Errorf("peak %.2f dBFS, want <= %.0f", p, PeakCeiling)
	}
}

// TestFliteText checks that text reaches flite as text: a leading dash is
// not an option, and cleaning happens first.
func TestFliteText(t *testing.T) {
	needFlite(t)
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil.wav")
	tests := []struct {
		name, text, phones string
	}{
		{"dash", "-help", "hh eh l p pau"},
		{"option", "-o " + evil, ""},
		{"accent", "café", "k ax f ey pau"},
		{"emoji", "hi 😀", "hh ay pau"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := synth(t, tt.text, "Mason")
			if got := symbols(a.Phones); tt.phones != "" && got != tt.phones {
				t.Errorf("phones %q, want %q", got, tt.phones)
			}
		})
	}
	if _, err := os.Stat(evil); err == nil {
		t.Error("text was read as an -o option")
	}
}

func TestFliteErrors(t *testing.T) {
	tests := []struct {
		name, program, text, voice string
		kind                       fault.Kind
		msg                        string
	}{
		{"missing", "flite-not-installed-here", "hi", "Harper", fault.Speech,
			`text-to-speech program "flite-not-installed-here" not found; install it with: apt-get install flite`},
		{"missing path", "/nonexistent/flite", "hi", "Harper", fault.Speech, "not found"},
		{"empty text", "flite", "\x00\x01", "Harper", fault.Invalid, TextField},
		{"unknown voice", "flite", "hi", "Bob", fault.Invalid, "unknown voice"},
		{"auto unresolved", "flite", "hi", "Auto", fault.Invalid, "unknown voice"},
		{"fails", "false", "hi", "Harper", fault.Speech, "text-to-speech failed"},
		{"no audio", "true", "hi", "Harper", fault.Speech, "text-to-speech failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Flite{Program: tt.program}).Synthesize(context.Background(), tt.text, tt.voice)
			if fault.KindOf(err) != tt.kind {
				t.Fatalf("error %v, want kind %v", err, tt.kind)
			}
			if !strings.Contains(fault.MessageOf(err), tt.msg) {
				t.Errorf("message %q, want it to contain %q", fault.MessageOf(err), tt.msg)
			}
		})
	}
	t.Run("default program", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := (&Flite{}).Synthesize(context.Background(), "hi", "Harper")
		want := `text-to-speech program "flite" not found; install it with: apt-get install flite`
		if fault.KindOf(err) != fault.Speech || fault.MessageOf(err) != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
}

// TestFliteCancel runs a stand-in for flite that hangs, and checks that
// cancelling the context ends the call promptly and kills the process.
func TestFliteCancel(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	prog := filepath.Join(dir, "fake-flite")
	script := "#!/bin/sh\necho $$ > " + pidFile + "\nexec sleep 60\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		kind fault.Kind
	}{{"cancel", fault.Cancelled}, {"deadline", fault.Timeout}} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(pidFile)
			var ctx context.Context
			var cancel context.CancelFunc
			if tt.kind == fault.Timeout {
				ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
			} else {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			defer cancel()
			start := time.Now()
			_, err := (&Flite{Program: prog}).Synthesize(ctx, "hello", "Harper")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned after %v, want soon after the cancel", d)
			}
			if fault.KindOf(err) != tt.kind || !errors.Is(err, ctx.Err()) {
				t.Errorf("error %v, want kind %v wrapping %v", err, tt.kind, ctx.Err())
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatalf("the program did not start: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			// The process has been waited for, so it is gone, not a zombie.
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists after cancel (kill -0: %v)", pid, err)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
}

func TestFliteDeterministic(t *testing.T) {
	needFlite(t)
	for _, v := range []string{"Ava", "Liam", "James"} {
		t.Run(v, func(t *testing.T) {
			const text = "Same text, same voice, same samples."
			a, b := synth(t, text, v), synth(t, text, v)
			if !equalInt16(a.Samples, b.Samples) {
				t.Error("samples differ between runs")
			}
			if symbols(a.Phones) != symbols(b.Phones) || a.Phones[len(a.Phones)-1] != b.Phones[len(b.Phones)-1] {
				t.Error("phones differ between runs")
			}
		})
	}
}

// longText takes about 12 s to say.
const longText = "The quick brown fox jumps over the lazy dog. Meanwhile, the weather in " +
	"Scotland stays grey and wet, so bring an umbrella! Did you remember the tickets? " +
	"We leave at nine o'clock sharp, don't be late."

func TestFliteFit(t *testing.T) {
	needFlite(t)
	for _, tt := range []struct {
		voice   string
		max     time.Duration
		noWords bool // as if word timing had failed: cut at the quietest place
	}{
		{"Harper", 2 * time.Second, false},
		{"Adrian", 2 * time.Second, false},
		{"Emily", 5 * time.Second, false},
		{"Harper", 2 * time.Second, true},
		{"Oliver", 2500 * time.Millisecond, true},
	} {
		name := tt.voice + "/" + tt.max.String()
		if tt.noWords {
			name += "/no words"
		}
		t.Run(name, func(t *testing.T) {
			a := synth(t, longText, tt.voice)
			if tt.noWords {
				a.Words = nil
			}
			orig := append([]int16(nil), a.Samples...)
			a.Fit(tt.max)
			d := a.Duration()
			if d > tt.max || d < tt.max/2 {
				t.Fatalf("duration %v after Fit(%v), want at most %[2]v and not much less", d, tt.max)
			}
			last := a.Phones[len(a.Phones)-1]
			if last.End > d {
				t.Errorf("last phone %v ends after the audio (%v)", last, d)
			}
			n := len(a.Samples)
			if a.Samples[n-1] != 0 {
				t.Errorf("last sample %d, want 0", a.Samples[n-1])
			}
			speech := rms(orig)
			tail := rms(a.Samples[n-durationToSamples(5*time.Millisecond):])
			if tail > speech*0.02 {
				t.Errorf("last 5 ms RMS %.0f, want near zero (speech RMS %.0f)", tail, speech)
			}
			// The cut is at a pause or a word's end, where the original audio
			// is quiet compared with the speech.
			atWord := len(a.Words) > 0 && a.Words[len(a.Words)-1].End == d
			if !IsPause(last.Symbol) && !atWord && !tt.noWords {
				t.Errorf("cut at %v after phone %v, neither a pause nor a word's end (words %v)", d, last, a.Words)
			}
			around := rms(orig[n-durationToSamples(quietWindow) : n])
			lastWord := ""
			if len(a.Words) > 0 {
				lastWord = a.Words[len(a.Words)-1].Text
			}
			t.Logf("cut at %v after phone %q, word %q; RMS there %.0f, speech %.0f",
				d, last.Symbol, lastWord, around, speech)
			if around > speech*0.25 {
				t.Errorf("cut in loud speech: RMS %.0f, speech %.0f", around, speech)
			}
		})
	}
}

func TestSynthesizeWithin(t *testing.T) {
	needFlite(t)
	const max = 2500 * time.Millisecond
	for _, voice := range []string{"Harper", "Ethan"} {
		t.Run(voice, func(t *testing.T) {
			f := &Flite{}
			full, err := f.Synthesize(context.Background(), longText, voice)
			if err != nil {
				t.Fatal(err)
			}
			full.Fit(max)
			a, err := SynthesizeWithin(context.Background(), f, longText, voice, max)
			if err != nil {
				t.Fatal(err)
			}
			if d := a.Duration(); d > max || d < max-time.Second {
				t.Errorf("duration %v, want at most %v and not much less", d, max)
			}
			// Fewer words are synthesized, but as many are heard.
			if len(a.Words) < len(full.Words)-1 {
				t.Errorf("%d words heard, %d when the whole text is synthesized", len(a.Words), len(full.Words))
			}
		})
	}
	t.Run("short text", func(t *testing.T) {
		a, err := SynthesizeWithin(context.Background(), &Flite{}, "Hello.", "Mason", max)
		if err != nil || a.Duration() > time.Second {
			t.Errorf("SynthesizeWithin = %v, %v; want about half a second of speech", a, err)
		}
	})
}

func TestCutText(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want string
	}{
		{"one two three", 20, "one two three"},
		{"one two three", 13, "one two three"},
		{"one two three", 12, "one two"},
		{"one two three", 7, "one two"},
		{"one two three", 6, "one"},
		{"onetwothree", 5, "onetwothree"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			if got := cutText(tt.text, tt.n); got != tt.want {
				t.Errorf("cutText(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
			}
		})
	}
}
