package engine

import (
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/generation"
	"stillmotion/internal/speech"
)

// soundtrack returns the clip's whole audio track: the speech (if any)
// starting at speech.Lead over a quiet bed of the scene's ambience, or the
// ambience alone, at the loudness the ambience package targets for each.
func soundtrack(req *generation.Request, audio *speech.Audio, length time.Duration) []int16 {
	scene := ambience.Plan(req.Prompt, req.NegativePrompt)
	// Thunder goes where the picture flashes (see planShot).
	scene.Events = append(scene.Events, lightning(req, length)...)
	if audio == nil {
		return ambience.Render(scene, length, req.Seed, false)
	}
	voice := speech.Track(audio, speech.Lead, length)
	return ambience.Mix(voice, ambience.Render(scene, length, req.Seed, true))
}
