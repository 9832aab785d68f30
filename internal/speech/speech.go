// Package speech turns a request's lip_sync_tts_content into spoken audio
// with a phoneme timeline, for the video's audio track and its talking mouth.
//
// Text is normalized to plain spoken words (see CleanText), synthesized by a
// Synthesizer (Flite, which runs RHVoice and flite; docs/voices.md has the
// voices, their engines and licences) with phone and word timings, resampled
// to SampleRate and normalized to -16 LUFS (see Normalize). Fit shortens speech to the
// video's length at a pause or a word's end, and Track lays it out on the
// video's audio track, starting at Lead.
package speech

import (
	"context"
	"time"

	"stillmotion/internal/splitmix"
)

// SampleRate is the rate of all audio this package returns, in Hz: mono int16,
// as the video's audio track uses.
const SampleRate = 48000

// Lead is where speech starts in every video; the talking mouth starts there too.
const Lead = 300 * time.Millisecond

// Voices lists the 14 named voices in wire order: seven female, then seven male.
// "Auto" is not a voice; Resolve picks one for it.
var Voices = []string{
	"Harper", "Ava", "Isabella", "Sophia", "Emily", "Chloe", "Julia",
	"Mason", "Jack", "Liam", "James", "Oliver", "Adrian", "Ethan",
}

// Auto is the speaker name that lets Resolve choose a voice.
const Auto = "Auto"

// Resolve returns the voice for name: name itself if it is one of Voices, or
// one chosen deterministically from seed for Auto or "". Names match exactly,
// as the wire enum does. ok is false for an unknown name.
func Resolve(name string, seed int64) (voice string, ok bool) {
	if name == "" || name == Auto {
		return Voices[splitmix.Mix(uint64(seed))%uint64(len(Voices))], true
	}
	for _, v := range Voices {
		if v == name {
			return v, true
		}
	}
	return "", false
}

// Phone is one phoneme with its time span relative to the start of the speech
// audio. Symbol is an ARPAbet-style phone name in lower case ("hh", "ow");
// pauses are "pau" (see IsPause).
type Phone struct {
	Symbol     string
	Start, End time.Duration
}

// IsPause reports whether symbol is a pause or silence phone.
func IsPause(symbol string) bool {
	switch symbol {
	case "pau", "sil", "h#", "ssil", "sp":
		return true
	}
	return false
}

// Audio is synthesized speech: mono int16 PCM at SampleRate, and its phoneme
// timeline. The first phone is speech, starting at 0: the synthesizer's
// leading silence is removed, so speech starts where the audio is placed.
type Audio struct {
	Samples []int16
	Phones  []Phone
	// Words are the spoken words in order, when the synthesizer could tell
	// (nil otherwise). Pauses lie between words, not in them.
	Words []Word
	Voice string
	// Engine says what spoke: the engine, its voice and the settings, as
	// "rhvoice/slt f0=190Hz", or "flite/slt ..." for a fallback.
	Engine string
}

// Duration returns the length of a's samples.
func (a *Audio) Duration() time.Duration {
	return samplesToDuration(len(a.Samples))
}

// Synthesizer turns text into speech in the named voice (one of Voices).
// Implementations must be safe for concurrent use and deterministic: the same
// text and voice give the same samples. Flite is the implementation: it
// runs RHVoice and flite.
type Synthesizer interface {
	Synthesize(ctx context.Context, text, voice string) (*Audio, error)
}

// durationToSamples converts d to a sample count at SampleRate, rounded to
// the nearest sample.
func durationToSamples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((int64(d)*SampleRate + int64(time.Second)/2) / int64(time.Second))
}

// samplesToDuration converts a sample count at SampleRate to a duration,
// rounded to the nearest nanosecond.
func samplesToDuration(n int) time.Duration {
	return time.Duration((int64(n)*int64(time.Second) + SampleRate/2) / SampleRate)
}
