package speech

import (
	"bytes"
	"context"
	"sync"
)

// Previews makes and keeps a short sample of each voice, as WAV, for a
// client that lets a person choose one by ear. Each is synthesized once,
// on first use, one at a time.
type Previews struct {
	Synthesizer Synthesizer

	mu   sync.Mutex
	wavs map[string][]byte
}

// PreviewText is what a voice says in its preview.
func PreviewText(voice string) string {
	return "Hi, I'm " + voice + ". This is how I sound when I read your script."
}

// WAV returns voice's preview as a WAV file. voice must be one of Voices.
func (p *Previews) WAV(ctx context.Context, voice string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.wavs[voice]; ok {
		return b, nil
	}
	a, err := p.Synthesizer.Synthesize(ctx, PreviewText(voice), voice)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := WriteWAV(&buf, a.Samples, SampleRate); err != nil {
		return nil, err
	}
	if p.wavs == nil {
		p.wavs = map[string][]byte{}
	}
	p.wavs[voice] = buf.Bytes()
	return buf.Bytes(), nil
}
