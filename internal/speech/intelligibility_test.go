package speech

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// werSentences are the ten sentences of the intelligibility figure: a
// welcome, a question, a date, a time, a plain line, a title and a number, a
// direction, a percentage, an exclamation, and a long statement; as typed,
// numbers and abbreviations included.
var werSentences = []string{
	"Welcome back! Today we're going to look at the ocean from the top of the hill.",
	"Can you believe it only costs $5.99 at the store on the corner?",
	"My grandmother was born on March 3rd, 1952, in a small town by the river.",
	"The meeting starts at 10:30, so please don't be late.",
	"I have never seen so many stars in the night sky.",
	"Dr. Smith said the results will be ready in about 2 weeks.",
	"Turn left at the next light, then drive straight for three miles.",
	"We raised 75% of the money in just one afternoon.",
	"Thank you all for coming, and have a wonderful evening!",
	"The children played in the garden while their parents cooked dinner.",
}

// needTool skips the test when program is not installed.
func needTool(t testing.TB, program string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		t.Skipf("%s not installed", program)
	}
}

// throughAAC writes samples as the service does (a 48 kHz WAV track), encodes
// it to AAC at 128 kb/s in an M4A file as the service's MP4 has it, and
// returns the M4A file's path.
func throughAAC(t testing.TB, dir, name string, samples []int16) string {
	t.Helper()
	wav := filepath.Join(dir, name+".wav")
	var b bytes.Buffer
	if err := WriteWAV(&b, samples, SampleRate); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wav, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m4a := filepath.Join(dir, name+".m4a")
	ffmpeg(t, "-i", wav, "-c:a", "aac", "-b:a", "128k", "-ar", "48000", m4a)
	return m4a
}

func ffmpeg(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-y"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLoudnessAfterAAC checks the speech track as it ends up in the video:
// each base voice's speech, laid on a 5 s track and encoded to AAC at 48
// kHz, measures about -16 LUFS integrated with sample peaks at or below
// -1 dBFS, by ffmpeg's own EBU R128 meter.
func TestLoudnessAfterAAC(t *testing.T) {
	needFlite(t)
	needTool(t, "ffmpeg")
	dir := t.TempDir()
	for _, voice := range []string{"Harper", "Ava", "Mason", "Jack", "James"} {
		t.Run(voice, func(t *testing.T) {
			a := synth(t, "Hello there! Did you hear the news? We won the match, four to nothing.", voice)
			a.Fit(5*time.Second - Lead - 150*time.Millisecond)
			m4a := throughAAC(t, dir, voice, Track(a, Lead, 5*time.Second))
			out := ffmpeg(t, "-i", m4a, "-af", "ebur128=peak=sample+true", "-f", "null", "-")
			if !strings.Contains(out, "48000 Hz") {
				t.Errorf("the AAC stream is not 48 kHz:\n%s", out)
			}
			integrated, sample, truePeak := ebur128(t, out)
			t.Logf("%s (%s): %.1f LUFS, sample peak %.1f dBFS, true peak %.1f dBFS", voice, a.Engine, integrated, sample, truePeak)
			if integrated < TargetLoudness-1 || integrated > TargetLoudness+1 {
				t.Errorf("integrated loudness %.1f LUFS, want %.0f ± 1", integrated, TargetLoudness)
			}
			if sample > PeakCeiling {
				t.Errorf("sample peak %.1f dBFS, want at most %.0f", sample, PeakCeiling)
			}
		})
	}
}

var (
	integratedRE = regexp.MustCompile(`(?m)^\s*I:\s+(-?[\d.]+) LUFS`)
	peakRE       = regexp.MustCompile(`(?s)Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS.*True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS`)
)

// ebur128 parses the summary of ffmpeg's ebur128 filter.
func ebur128(t *testing.T, out string) (integrated, sample, truePeak float64) {
	t.Helper()
	m := integratedRE.FindAllStringSubmatch(out, -1)
	p := peakRE.FindStringSubmatch(out)
	if m == nil || p == nil {
		t.Fatalf("no ebur128 summary in:\n%s", out)
	}
	integrated, _ = strconv.ParseFloat(m[len(m)-1][1], 64)
	sample, _ = strconv.ParseFloat(p[1], 64)
	truePeak, _ = strconv.ParseFloat(p[2], 64)
	return integrated, sample, truePeak
}

// TestIntelligibility is the intelligibility figure of docs/voices.md: every
// voice (and Auto) speaks werSentences; each clip goes through the AAC
// encoder as in the video, is decoded to 16 kHz, and is transcribed by
// pocketsphinx; the word error rate against the normalized text must be at
// most 15% per voice. It takes a few minutes, so it runs only with
// STILLMOTION_WER=1:
//
//	STILLMOTION_WER=1 go test -run TestIntelligibility -v ./internal/speech/
//
// With STILLMOTION_WER_FLITE=1 as well it measures the flite fallbacks. It
// needs ffmpeg, pocketsphinx and pocketsphinx-en-us. (BenchmarkSynthesize
// measures synthesis time, which this test's parallel runs would distort.)
func TestIntelligibility(t *testing.T) {
	if os.Getenv("STILLMOTION_WER") == "" {
		t.Skip("set STILLMOTION_WER=1 to measure intelligibility (a few minutes)")
	}
	needFlite(t)
	needTool(t, "ffmpeg")
	needTool(t, "pocketsphinx_batch")
	f := &Flite{}
	if os.Getenv("STILLMOTION_WER_FLITE") != "" {
		f = noRHVoice() // the fallback voices
	}
	names := append(append([]string(nil), Voices...), Auto)
	type row struct {
		voice, engines  string
		errs, words     int
		worst, worstHyp string
		worstErr        int
	}
	rows := make([]row, len(names))
	// Voices in parallel, as many as -parallel allows (GOMAXPROCS).
	t.Run("voices", func(t *testing.T) {
		for i, name := range names {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := row{voice: name}
				dir := t.TempDir()
				var ctl []string
				refs := map[string][]string{}
				engines := map[string]bool{}
				for k, s := range werSentences {
					voice := name
					if name == Auto {
						voice, _ = Resolve(Auto, int64(k))
					}
					a, err := f.Synthesize(context.Background(), s, voice)
					if err != nil {
						t.Fatalf("%s: %v", voice, err)
					}
					engines[strings.Fields(a.Engine)[0]] = true
					clean, _ := CleanText(s)
					id := fmt.Sprintf("s%02d", k)
					m4a := throughAAC(t, dir, id, Track(a, Lead, a.Duration()+Lead+300*time.Millisecond))
					ffmpeg(t, "-i", m4a, "-ar", "16000", "-ac", "1", "-f", "s16le", filepath.Join(dir, id+".raw"))
					ctl = append(ctl, id)
					refs[id] = werWords(clean)
				}
				hyps := pocketsphinx(t, dir, ctl)
				for _, id := range ctl {
					e := editDistance(refs[id], hyps[id])
					r.errs += e
					r.words += len(refs[id])
					if e > r.worstErr {
						r.worstErr, r.worst, r.worstHyp = e, strings.Join(refs[id], " "), strings.Join(hyps[id], " ")
					}
				}
				var es []string
				for e := range engines {
					es = append(es, e)
				}
				slices.Sort(es)
				r.engines = strings.Join(es, ", ")
				rows[i] = r
				if wer := float64(r.errs) / float64(r.words); wer > 0.15 {
					t.Errorf("WER %.1f%%, want at most 15%%; worst sentence %q heard as %q", 100*wer, r.worst, r.worstHyp)
				}
			})
		}
	})

	var b strings.Builder
	fmt.Fprintf(&b, "\n| voice | engine | WER |\n|---|---|---|\n")
	var errs, words int
	for _, r := range rows {
		if r.words == 0 {
			continue
		}
		errs += r.errs
		words += r.words
		fmt.Fprintf(&b, "| %s | %s | %.1f%% (%d/%d) |\n", r.voice, r.engines,
			100*float64(r.errs)/float64(r.words), r.errs, r.words)
	}
	fmt.Fprintf(&b, "| all | | %.1f%% (%d/%d) |\n", 100*float64(errs)/float64(words), errs, words)
	t.Log(b.String())
}

// pocketsphinx transcribes the 16 kHz raw files dir/ID.raw, for each ID in
// ctl, with one run of pocketsphinx_batch, and returns the words per ID.
func pocketsphinx(t *testing.T, dir string, ctl []string) map[string][]string {
	t.Helper()
	list := filepath.Join(dir, "ctl")
	if err := os.WriteFile(list, []byte(strings.Join(ctl, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hyp := filepath.Join(dir, "hyp")
	cmd := exec.Command("pocketsphinx_batch", "-adcin", "yes", "-cepdir", dir, "-cepext", ".raw",
		"-ctl", list, "-hyp", hyp, "-logfn", os.DevNull)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pocketsphinx_batch: %v\n%s", err, out)
	}
	data, err := os.ReadFile(hyp)
	if err != nil {
		t.Fatal(err)
	}
	// Lines are "words... (ID score)".
	hyps := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, '(')
		if i < 0 {
			continue
		}
		id := strings.Fields(line[i+1:])[0]
		hyps[id] = werWords(line[:i])
	}
	return hyps
}

// werWords lowercases s and splits it into words for scoring: hyphens
// separate words ("ninety-nine"), other punctuation goes, apostrophes stay
// ("don't"). Recognizers' dictionary spellings of a few words are mapped to
// ours.
func werWords(s string) []string {
	s = strings.ToLower(strings.ReplaceAll(s, "-", " "))
	var words []string
	for _, w := range strings.Fields(s) {
		w = strings.TrimFunc(w, func(r rune) bool { return !isASCIIAlnum(r) && r != '\'' })
		w = strings.Trim(w, "'")
		if w == "" {
			continue
		}
		if alt, ok := map[string]string{"dr": "doctor", "mr": "mister", "ok": "okay"}[w]; ok {
			w = alt
		}
		words = append(words, w)
	}
	return words
}

// editDistance is the Levenshtein distance between two word sequences: the
// substitutions, insertions and deletions of a word error rate.
func editDistance(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		ref, hyp string
		want     int
	}{
		{"a b c", "a b c", 0},
		{"a b c", "a x c", 1},
		{"a b c", "a c", 1},
		{"a b c", "a b c d", 1},
		{"a b c", "", 3},
		{"", "a", 1},
		{"the cat sat", "cat sat on", 2},
	}
	for _, tt := range tests {
		t.Run(tt.ref+"/"+tt.hyp, func(t *testing.T) {
			if got := editDistance(strings.Fields(tt.ref), strings.Fields(tt.hyp)); got != tt.want {
				t.Errorf("editDistance = %d, want %d", got, tt.want)
			}
		})
	}
}
