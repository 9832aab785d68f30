package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// Flite synthesizes with the flite program (CMU Flite 2.x), run as a process
// per call. The zero value runs "flite" from PATH. It is safe for concurrent
// use.
//
// Each call runs
//
//	flite -voice V --setf int_f0_target_mean=F --setf duration_stretch=S -psdur -o TMP.wav -t TEXT
//
// with TEXT as one argv element (no shell; flite takes the word after -t
// literally, even when it starts with "-"), reads the phone end times flite
// prints for -psdur and the WAV it writes, and then resamples to SampleRate
// (which also applies the voice's pitch scale; see voice) and normalizes the
// loudness. A second, much faster run finds the word boundaries (see Word).
// A call takes about 2% of the speech's duration on one core.
type Flite struct {
	Program string // path or name of the flite program; "" means "flite"
}

// maxStderr bounds how much of flite's standard error an error keeps.
const maxStderr = 2048

// Synthesize speaks text in voice, one of Voices. Text is cleaned with
// CleanText first. Errors are *fault.Error: Invalid for unusable text or an
// unknown voice; Cancelled or Timeout when ctx ends, which kills flite;
// Speech for everything else, including flite not being installed.
func (f *Flite) Synthesize(ctx context.Context, text, voice string) (*Audio, error) {
	v, ok := voiceByName(voice)
	if !ok {
		return nil, fault.Errorf(fault.Invalid, "unknown voice %q; use one of %s", voice, strings.Join(Voices, ", "))
	}
	clean, err := CleanText(text)
	if err != nil {
		return nil, err
	}
	prog := f.Program
	if prog == "" {
		prog = "flite"
	}

	tmp, err := os.CreateTemp("", "stillmotion-speech-*.wav")
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed: cannot create a temporary file", err)
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)

	args := append(v.fliteArgs(), "-psdur", "-o", path, "-t", clean)
	cmd := exec.CommandContext(ctx, prog, args...)
	var stdout bytes.Buffer
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	// flite has no children, so Kill ends it; WaitDelay is a backstop in
	// case something holds its output pipes open.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxFault(ctxErr)
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil, fault.Wrap(fault.Speech,
			fmt.Sprintf("text-to-speech program %q not found; install it with: apt-get install flite", prog), err)
	}
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed",
			fmt.Errorf("%s: %w; stderr: %s", prog, err, stderr))
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed: no audio", err)
	}
	pcm, rate, err := readWAV(data)
	if err != nil || len(pcm) == 0 {
		if err == nil {
			err = errors.New("empty WAV")
		}
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed: unreadable audio",
			fmt.Errorf("%s wrote %d bytes: %w; stderr: %s", prog, len(data), err, stderr))
	}
	phones, err := parsePhones(stdout.Bytes())
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed: no phoneme timings", err)
	}
	a, err := render(pcm, rate, phones, v.scale)
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed", err)
	}
	a.Voice = v.name
	a.Words = words(ctx, prog, clean, a.Phones)
	if err := ctx.Err(); err != nil {
		return nil, ctxFault(err)
	}
	return a, nil
}

// ctxFault is the error for a call whose context ended with err.
func ctxFault(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "text-to-speech ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "text-to-speech was cancelled", err)
}

// render turns a synthesizer's output into an Audio: it drops the leading
// silence (speech starts at 0), resamples pcm from rate*scale to SampleRate
// (scale > 1 raises pitch and formants and speeds up; phone times follow),
// normalizes the loudness and fades in over 5 ms so the cut is not a click.
func render(pcm []int16, rate int, phones []Phone, scale float64) (*Audio, error) {
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
	skip := min(len(pcm), int(math.Round(t0.Seconds()*float64(rate))))
	x := make([]float64, len(pcm)-skip)
	for i, s := range pcm[skip:] {
		x[i] = float64(s) / 32768
	}
	y := resample(x, float64(rate)*scale, SampleRate)
	normalize(y, SampleRate)
	a := &Audio{Samples: make([]int16, len(y))}
	toInt16(a.Samples, y)
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
