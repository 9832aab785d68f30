package engine

import (
	"context"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/prompt"
	"stillmotion/internal/speech"
)

// soundtrack returns the clip's whole audio track: the speech (if any)
// starting at speech.Lead over a quiet bed of the scene's ambience, or the
// ambience alone, at the loudness the ambience package targets for each.
func soundtrack(req *generation.Request, audio *speech.Audio, length time.Duration) []int16 {
	// The same reading of the prompt as the picture's (see planShot).
	scene := soundScene(read(req), req.Seed, length)
	if audio == nil {
		return ambience.Render(scene, length, req.Seed, false)
	}
	voice := speech.Track(audio, speech.Lead, length)
	return ambience.Mix(voice, ambience.Render(scene, length, req.Seed, true))
}

// soundScene plans the sound of a clip of length from the prompt as
// read: the layers it asks for, and thunder where the picture flashes.
func soundScene(sc *prompt.Scene, seed int64, length time.Duration) ambience.Scene {
	scene := ambience.Plan(sc)
	scene.Events = append(scene.Events, lightning(sc, seed, length)...)
	return scene
}

// speak voices req's speech to fit a clip of length, leaving the lead-in
// and a breath of silence at the end; it returns the audio and the voice.
func speak(ctx context.Context, syn speech.Synthesizer, req *generation.Request, length time.Duration) (*speech.Audio, string, error) {
	v, ok := speech.Resolve(req.Speaker, req.Seed)
	if !ok {
		return nil, "", fault.Errorf(fault.Invalid, "unknown voice %q", req.Speaker)
	}
	if syn == nil {
		syn = &speech.Flite{}
	}
	a, err := speech.SynthesizeWithin(ctx, syn, req.Speech, v, length-speech.Lead-150*time.Millisecond)
	return a, v, err
}

// writeSoundtrack writes the clip's soundtrack (see soundtrack) to a new
// WAV file in dir (os.TempDir() when "") and returns its path; the caller
// removes it.
func writeSoundtrack(dir string, req *generation.Request, audio *speech.Audio, length time.Duration) (string, error) {
	return speech.WriteWAVFile(dir, "stillmotion-*.wav", soundtrack(req, audio, length), speech.SampleRate)
}
