package speech

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/loudness"
)

// Flite synthesizes with the text-to-speech programs installed here, each
// run as a process per call: RHVoice (RHVoice-test) for the voices built on
// it, and flite (CMU Flite 2.x) for the others, for the phone timings of
// all, and in place of RHVoice when RHVoice or one of its voices is missing
// (see voice). The zero value runs both from PATH. It is safe for concurrent
// use.
//
// A flite voice runs
//
//	flite -voice V --setf int_f0_target_mean=F --setf duration_stretch=S -psdur -o TMP.wav -t TEXT
//
// with TEXT as one argv element (no shell; flite takes the word after -t
// literally, even when it starts with "-"), and its phone end times come
// from what flite prints for -psdur. An RHVoice voice runs
//
//	RHVoice-test -p V -t PITCH -r RATE -o TMP.wav
//
// with TEXT on its standard input; RHVoice prints no timings, so flite
// speaks the same text at the same time and its timeline is carried over to
// RHVoice's audio by dynamic time warping (see transfer). Either way the
// audio is then resampled to SampleRate (which also applies the voice's size;
// see spec) and its loudness normalized; meanwhile another, much faster flite
// run finds the word boundaries (see Word). A call takes about 2-4% of the
// speech's duration, plus some 60 ms to start RHVoice. (The type is named
// for flite, which every voice needs.)
type Flite struct {
	Program string // path or name of the flite program; "" means "flite"
	// RHVoice is the path or name of the RHVoice-test program; "" means
	// "RHVoice-test". One that cannot be found disables RHVoice.
	RHVoice string
	// Logger gets a warning when a voice falls back to flite. nil means
	// slog.Default().
	Logger *slog.Logger

	warned sync.Map // warnings already logged, so each is logged once
}

// maxStderr bounds how much of a program's standard error an error keeps.
const maxStderr = 2048

// Synthesize speaks text in voice, one of Voices. Text is normalized with
// CleanText first. A voice whose engine is missing or fails is spoken by its
// flite fallback instead, with a warning in the log; Audio.Engine says which
// spoke. Errors are *fault.Error: Invalid for unusable text or an unknown
// voice; Cancelled or Timeout when ctx ends, which kills the programs;
// Speech for everything else, including flite not being installed.
func (f *Flite) Synthesize(ctx context.Context, text, voice string) (*Audio, error) {
	v, clean, err := prepareCall(text, voice)
	if err != nil {
		return nil, err
	}
	return f.speak(ctx, clean, v)
}

// maxCharsPerSecond is more characters of clean text per second than any
// voice speaks (the fastest measured 24 on werSentences), so that a text
// cut to max × maxCharsPerSecond characters still fills max.
const maxCharsPerSecond = 26

// SynthesizeWithin is Synthesize followed by Audio.Fit(max), but it does
// not synthesize the words that cannot fit: it speaks only as much of the
// text, to a word's end, as the fastest voice could say in max (see
// maxCharsPerSecond), and all of it if that falls short of max after all.
// Synthesis time grows with the text, so a 200-character text for a
// 5-second video takes little more than a 5-second one.
func (f *Flite) SynthesizeWithin(ctx context.Context, text, voice string, max time.Duration) (*Audio, error) {
	v, clean, err := prepareCall(text, voice)
	if err != nil {
		return nil, err
	}
	short := cutText(clean, int(max.Seconds()*maxCharsPerSecond))
	a, err := f.speak(ctx, short, v)
	if err == nil && short != clean && a.Duration() < max {
		a, err = f.speak(ctx, clean, v)
	}
	if err != nil {
		return nil, err
	}
	a.Fit(max)
	return a, nil
}

// SynthesizeWithin speaks text with s and fits it in max (see Audio.Fit),
// with s's own SynthesizeWithin if it has one (as Flite does), which leaves
// out of synthesis the words that cannot fit.
func SynthesizeWithin(ctx context.Context, s Synthesizer, text, voice string, max time.Duration) (*Audio, error) {
	if w, ok := s.(interface {
		SynthesizeWithin(ctx context.Context, text, voice string, max time.Duration) (*Audio, error)
	}); ok {
		return w.SynthesizeWithin(ctx, text, voice, max)
	}
	a, err := s.Synthesize(ctx, text, voice)
	if err != nil {
		return nil, err
	}
	a.Fit(max)
	return a, nil
}

// cutText returns the words of text, which CleanText made, that fit in n
// bytes, or all of text if it fits.
func cutText(text string, n int) string {
	if len(text) <= n {
		return text
	}
	if i := strings.LastIndexByte(text[:n+1], ' '); i > 0 {
		return text[:i]
	}
	return text // one long word
}

// prepareCall finds the voice called name and cleans text for a call.
func prepareCall(text, name string) (voice, string, error) {
	v, ok := voiceByName(name)
	if !ok {
		return v, "", fault.Errorf(fault.Invalid, "unknown voice %q; use one of %s", name, strings.Join(Voices, ", "))
	}
	clean, err := CleanText(text)
	return v, clean, err
}

// speak speaks clean text with v: the voice's engine, else its fallback.
// flite finds the words (see wordGroups) meanwhile.
func (f *Flite) speak(ctx context.Context, clean string, v voice) (*Audio, error) {
	type found struct {
		groups [][]string
		names  []string
	}
	wordc := make(chan found, 1)
	go func() {
		g, n := wordGroups(ctx, f.program(), clean)
		wordc <- found{g, n}
	}()
	s := v.spec
	if s.engine == engineRHVoice {
		if why := f.rhvoiceMissing(s.base); why != "" {
			f.warnOnce(why, "voices fall back to flite: "+why, "install", "apt-get install rhvoice rhvoice-english (Debian non-free)")
			s = v.fallback
		}
	}
	var a *Audio
	var err error
	if s.engine == engineRHVoice {
		a, err = f.synthesizeRHVoice(ctx, clean, s)
		if rerr := (*rhvoiceError)(nil); errors.As(err, &rerr) {
			if ctx.Err() == nil {
				f.logger().Warn("RHVoice failed; voice falls back to flite", "voice", v.name, "err", rerr.err)
				s, err = v.fallback, nil
			} else {
				err = rerr.err
			}
		}
	}
	if s.engine == engineFlite && err == nil {
		a, err = f.synthesizeFlite(ctx, clean, s)
	}
	w := <-wordc
	if err != nil {
		return nil, err
	}
	a.Voice, a.Engine = v.name, s.String()
	a.Words = words(a.Phones, w.groups, w.names)
	if err := ctx.Err(); err != nil {
		return nil, ctxFault(err)
	}
	return a, nil
}

func (f *Flite) program() string { return cmp.Or(f.Program, "flite") }

func (f *Flite) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// warnOnce logs msg as a warning the first time key is seen by f.
func (f *Flite) warnOnce(key, msg string, args ...any) {
	if _, seen := f.warned.LoadOrStore(key, true); !seen {
		f.logger().Warn(msg, args...)
	}
}

// synthesizeFlite speaks text, already cleaned, with s, a flite voice.
func (f *Flite) synthesizeFlite(ctx context.Context, text string, s spec) (*Audio, error) {
	pcm, rate, phones, err := f.runFlite(ctx, s.fliteArgs(), text)
	if err != nil {
		return nil, err
	}
	a, err := render(toFloat(pcm), rate, phones, s.scale)
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed", err)
	}
	return a, nil
}

// runFlite runs flite with args (which select the voice) on text and
// returns its audio and phone timeline.
func (f *Flite) runFlite(ctx context.Context, args []string, text string) (pcm []int16, rate int, phones []Phone, err error) {
	prog := f.program()
	tmp, err := os.CreateTemp("", "stillmotion-speech-*.wav")
	if err != nil {
		return nil, 0, nil, fault.Wrap(fault.Speech, "text-to-speech failed: cannot create a temporary file", err)
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)

	args = append(args[:len(args):len(args)], "-psdur", "-o", path, "-t", text)
	cmd := exec.CommandContext(ctx, prog, args...)
	var stdout bytes.Buffer
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	// flite has no children, so Kill ends it; WaitDelay is a backstop in
	// case something holds its output pipes open.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, 0, nil, ctxFault(ctxErr)
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil, fault.Wrap(fault.Speech,
			fmt.Sprintf("text-to-speech program %q not found; install it with: apt-get install flite", prog), err)
	}
	if err != nil {
		return nil, 0, nil, fault.Wrap(fault.Speech, "text-to-speech failed",
			fmt.Errorf("%s: %w; stderr: %s", prog, err, stderr))
	}
	pcm, rate, err = readOutput(path, prog, stderr)
	if err != nil {
		return nil, 0, nil, err
	}
	phones, err = parsePhones(stdout.Bytes())
	if err != nil {
		return nil, 0, nil, fault.Wrap(fault.Speech, "text-to-speech failed: no phoneme timings", err)
	}
	return pcm, rate, phones, nil
}

// readOutput reads the WAV file a synthesizer wrote to path.
func readOutput(path, prog string, stderr fmt.Stringer) ([]int16, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fault.Wrap(fault.Speech, "text-to-speech failed: no audio", err)
	}
	pcm, rate, err := readWAV(data)
	if err != nil || len(pcm) == 0 {
		if err == nil {
			err = errors.New("empty WAV")
		}
		return nil, 0, fault.Wrap(fault.Speech, "text-to-speech failed: unreadable audio",
			fmt.Errorf("%s wrote %d bytes: %w; stderr: %s", prog, len(data), err, stderr))
	}
	return pcm, rate, nil
}

func toFloat(pcm []int16) []float64 {
	x := make([]float64, len(pcm))
	for i, s := range pcm {
		x[i] = float64(s) / 32768
	}
	return x
}

// ctxFault is the error for a call whose context ended with err.
func ctxFault(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "text-to-speech ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "text-to-speech was cancelled", err)
}

// render turns a synthesizer's output, x at rate Hz, into an Audio: it drops
// the leading silence (speech starts at 0), resamples x from rate*scale to SampleRate
// (scale > 1 raises pitch and formants and speeds up; phone times follow),
// normalizes the loudness and fades in over 5 ms so the cut is not a click.
func render(x []float64, rate int, phones []Phone, scale float64) (*Audio, error) {
	first := -1
	for i, p := range phones {
		if !IsPause(p.Symbol) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, errors.New("synthesizer produced no speech phones")
	}
	t0 := phones[first].Start
	skip := min(len(x), int(math.Round(t0.Seconds()*float64(rate))))
	y := resample(x[skip:], float64(rate)*scale, SampleRate)
	normalize(y, SampleRate)
	a := &Audio{Samples: make([]int16, len(y))}
	loudness.ToPCM(a.Samples, y)
	fadeIn(a.Samples, durationToSamples(5*time.Millisecond))

	end := a.Duration()
	at := func(d time.Duration) time.Duration {
		return min(end, time.Duration(math.Round(float64(d-t0)/scale)))
	}
	for _, p := range phones[first:] {
		p.Start, p.End = at(p.Start), at(p.End)
		if p.Start >= end {
			// Diphone voices print a final pause longer than the audio.
			break
		}
		a.Phones = append(a.Phones, p)
	}
	return a, nil
}

// parsePhones parses what flite prints for -psdur: per utterance, a line of
// "symbol:end" pairs, the end time in seconds from the utterance's start, as
//
//	pau:0.164 hh:0.255 ax:0.304 l:0.412 ow:0.548 pau:0.712
//
// Utterances follow each other in the audio, so each line's times are offset
// by the previous line's last end; so is a line whose times go backwards. A
// phone starts where the one before it ends. Lines that are not all
// "symbol:time" pairs (messages) are skipped; a time that is not a finite
// number of seconds from 0 to an hour makes the line a message too.
func parsePhones(out []byte) ([]Phone, error) {
	var phones []Phone
	var offset, prev time.Duration // prev: end of the last phone, absolute
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		parsed := make([]Phone, 0, len(fields))
		for _, f := range fields {
			sym, t, ok := parsePhone(f)
			if !ok {
				parsed = nil
				break
			}
			parsed = append(parsed, Phone{Symbol: sym, End: t})
		}
		if parsed == nil {
			continue
		}
		// A new line is a new utterance, whose times restart at zero.
		offset = prev
		var last time.Duration // previous relative end within this run
		for _, p := range parsed {
			if p.End < last {
				offset = prev
			}
			last = p.End
			p.Start, p.End = prev, offset+p.End
			phones = append(phones, p)
			prev = p.End
		}
	}
	if len(phones) == 0 {
		return nil, fmt.Errorf("no phone timings in %q", truncate(string(out), 200))
	}
	return phones, nil
}

// parsePhone parses one "symbol:seconds" field.
func parsePhone(f string) (sym string, end time.Duration, ok bool) {
	i := strings.LastIndexByte(f, ':')
	if i <= 0 {
		return "", 0, false
	}
	sym = f[:i]
	for _, r := range sym {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '#' || r == '-') {
			return "", 0, false
		}
	}
	sec, err := strconv.ParseFloat(f[i+1:], 64)
	if err != nil || !(sec >= 0 && sec <= 3600) { // also rejects NaN
		return "", 0, false
	}
	return strings.ToLower(sym), time.Duration(math.Round(sec * float64(time.Second))), true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// capped is an io.Writer that keeps the first max bytes written to it.
type capped struct {
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string { return strings.TrimSpace(c.buf.String()) }
