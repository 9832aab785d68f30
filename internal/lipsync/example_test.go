package lipsync_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/lipsync"
	"stillmotion/internal/media"
	"stillmotion/internal/speech"
)

// Re-voice a talking video with text spoken by one of the voices.
func Example() {
	ctx := context.Background()
	a, err := (&speech.Flite{}).SynthesizeWithin(ctx, "Welcome back. Here is what changed this week.", "Emily", 30*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	res, err := lipsync.Render(ctx, "talking.mp4",
		&lipsync.Speech{Samples: a.Samples, Phones: a.Phones, Words: a.Words},
		"revoiced.mp4", lipsync.Options{Progress: func(p float64) { fmt.Printf("\r%3.0f%%", 100*p) }})
	switch {
	case fault.KindOf(err) == fault.Rejected:
		fmt.Println(fault.MessageOf(err)) // no face to re-voice
		return
	case err != nil:
		log.Fatal(err)
	}
	fmt.Printf("\n%dx%d, %.1f s at %d fps; the mouth moves on %d of %d frames\n",
		res.Width, res.Height, res.Duration, res.FPS, res.FaceFrames, res.Frames)
}

// Re-voice a talking video with a client's recording: without phone
// timings, the mouth follows the loudness.
func Example_audio() {
	ctx := context.Background()
	samples, err := media.DecodeAudio(ctx, "voice.m4a", speech.SampleRate, lipsync.DefaultLimits.MaxDuration+time.Second)
	if err != nil {
		log.Fatal(err) // a fault of kind Invalid that says which formats work
	}
	res, err := lipsync.Render(ctx, "talking.mp4", &lipsync.Speech{Samples: samples}, "revoiced.mp4", lipsync.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range res.Warnings {
		fmt.Println(w) // the speech was cut, the video extended...
	}
}
