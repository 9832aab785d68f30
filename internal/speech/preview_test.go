package speech

import (
	"bytes"
	"context"
	"testing"
)

// countingSynth speaks a second of silence per call and counts the calls.
type countingSynth struct{ calls int }

func (c *countingSynth) Synthesize(_ context.Context, text, voice string) (*Audio, error) {
	c.calls++
	return &Audio{Samples: make([]int16, SampleRate), Voice: voice}, nil
}

// TestPreviews makes each voice's preview once, as a WAV file.
func TestPreviews(t *testing.T) {
	syn := &countingSynth{}
	p := &Previews{Synthesizer: syn}
	for range 3 {
		for _, v := range []string{"Jack", "Ava"} {
			b, err := p.WAV(context.Background(), v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("RIFF")) || len(b) != 44+2*SampleRate {
				t.Fatalf("%s: %d bytes starting %q", v, len(b), b[:min(4, len(b))])
			}
		}
	}
	if syn.calls != 2 {
		t.Errorf("%d syntheses for two voices asked three times each", syn.calls)
	}
}
