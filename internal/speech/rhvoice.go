package speech

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// rhvoiceDataDirs are where Debian's and a source build's RHVoice keep their
// voices, one directory per voice. RHVoice-test quietly speaks with another
// voice when asked for one it lacks, so Flite looks for the voice first.
var rhvoiceDataDirs = []string{"/usr/share/RHVoice/voices", "/usr/local/share/RHVoice/voices"}

func (f *Flite) rhvoiceProgram() string { return cmp.Or(f.RHVoice, "RHVoice-test") }

// rhvoiceMissing returns why the RHVoice voice base cannot be used, or "".
func (f *Flite) rhvoiceMissing(base string) string {
	prog := f.rhvoiceProgram()
	if _, err := exec.LookPath(prog); err != nil {
		return fmt.Sprintf("RHVoice program %q not found", prog)
	}
	for _, dir := range rhvoiceDataDirs {
		if _, err := os.Stat(filepath.Join(dir, base, "voice.info")); err == nil {
			return ""
		}
	}
	return fmt.Sprintf("RHVoice voice %q not found in %s", base, strings.Join(rhvoiceDataDirs, " or "))
}

// synthesizeRHVoice speaks text, already cleaned, with s, an RHVoice voice.
// flite speaks the same text with a similar voice meanwhile, for its phone
// timeline, which transfer carries over to RHVoice's audio.
func (f *Flite) synthesizeRHVoice(ctx context.Context, text string, s spec) (*Audio, error) {
	type ref struct {
		pcm    []int16
		rate   int
		phones []Phone
		err    error
	}
	refc := make(chan ref, 1)
	go func() {
		r := spec{engine: engineFlite, base: rhvoiceRef[s.base], stretch: s.stretch * s.scale, scale: 1}
		var out ref
		out.pcm, out.rate, out.phones, out.err = f.runFlite(ctx, r.fliteArgs(), text)
		refc <- out
	}()
	pcm, rate, err := f.runRHVoice(ctx, text, s)
	r := <-refc
	if r.err != nil {
		return nil, r.err // flite failed: no voice can speak
	}
	if err != nil {
		return nil, &rhvoiceError{err}
	}
	x := toFloat(pcm)
	phones := transfer(toFloat(r.pcm), float64(r.rate), r.phones, x, float64(rate))
	a, err := render(x, rate, phones, s.scale)
	if err != nil {
		return nil, fault.Wrap(fault.Speech, "text-to-speech failed", err)
	}
	return a, nil
}

// rhvoiceError is an error of RHVoice itself, after which a voice falls
// back to flite.
type rhvoiceError struct{ err error }

func (e *rhvoiceError) Error() string { return e.err.Error() }
func (e *rhvoiceError) Unwrap() error { return e.err }

// runRHVoice runs RHVoice-test for s on text and returns its audio.
func (f *Flite) runRHVoice(ctx context.Context, text string, s spec) ([]int16, int, error) {
	prog := f.rhvoiceProgram()
	tmp, err := os.CreateTemp("", "stillmotion-speech-*.wav")
	if err != nil {
		return nil, 0, fault.Wrap(fault.Speech, "text-to-speech failed: cannot create a temporary file", err)
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)

	cmd := exec.CommandContext(ctx, prog, s.rhvoiceArgs(path)...)
	// The text goes in on standard input, so it is never taken for an
	// option; a final newline ends the last sentence.
	cmd.Stdin = strings.NewReader(text + "\n")
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, stderr
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, 0, ctxFault(ctxErr)
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fault.Wrap(fault.Speech, fmt.Sprintf("text-to-speech program %q not found", prog), err)
	}
	if err != nil {
		return nil, 0, fault.Wrap(fault.Speech, "text-to-speech failed",
			fmt.Errorf("%s: %w; stderr: %s", prog, err, stderr))
	}
	return readOutput(path, prog, stderr)
}
