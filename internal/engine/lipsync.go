package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
	"stillmotion/internal/intake"
	"stillmotion/internal/lipsync"
	"stillmotion/internal/media"
	"stillmotion/internal/speech"
)

// lipSyncSpeech is the longest speech a lip-sync says: its video's limit.
var lipSyncSpeech = lipsync.DefaultLimits.MaxDuration

// lipSync renders a lip-sync: the video of video_url with its mouth
// re-animated to new speech, audio_url's or lip_sync_tts_content voiced,
// which replaces its sound. Synthesized speech starts at speech.Lead, as
// on every clip; a client's audio plays from the video's start, as given.
func (b *Builtin) lipSync(ctx context.Context, t *generation.Task) (*generation.Output, Timings, error) {
	var tm Timings
	req := t.Request
	t0 := time.Now()
	video, err := b.inputFile(ctx, t, generation.FieldVideo)
	if err != nil {
		return nil, tm, err
	}
	defer os.Remove(video)
	tm.Intake = time.Since(t0)
	t.Report(0.03)

	t1 := time.Now()
	sp := &lipsync.Speech{}
	var voice string
	if req.AudioURL != "" {
		audio, err := b.inputFile(ctx, t, generation.FieldAudio)
		if err != nil {
			return nil, tm, err
		}
		defer os.Remove(audio)
		// A little past the limit, so that lipsync can tell a long one and
		// cut it at a pause rather than mid-word.
		if sp.Samples, err = media.DecodeAudio(ctx, audio, speech.SampleRate, lipSyncSpeech+time.Second); err != nil {
			return nil, tm, audioFault(err)
		}
		sp.Samples = trimSilence(sp.Samples)
	} else {
		a, v, err := speak(ctx, b.Speech, req, lipSyncSpeech)
		if err != nil {
			return nil, tm, err
		}
		sp.Samples, sp.Phones, sp.Words, sp.Start, voice = a.Samples, a.Phones, a.Words, speech.Lead, v
	}
	tm.Speech = time.Since(t1)
	t.Report(0.08)

	res, err := lipsync.Render(ctx, video, sp, t.Out, lipsync.Options{
		FFmpeg: b.FFmpeg, TempDir: b.TempDir, EncoderNice: b.EncoderNice,
		Progress: func(p float64) { t.Report(0.08 + 0.92*p) },
	})
	if err != nil {
		return nil, tm, err
	}
	tm.Face, tm.Encode = res.Timings.Track, res.Timings.Encode
	plan := fmt.Sprintf("lip-sync: face tracked on %d of %d frames, mouth re-animated from frame %d's", res.FaceFrames, res.Frames, res.Reference)
	if voice != "" {
		plan += "; voice " + voice
	} else {
		plan += "; audio from audio_url"
	}
	return &generation.Output{Width: res.Width, Height: res.Height, Duration: res.Duration, FPS: res.FPS, HasAudio: true,
		Plan: plan, Warnings: res.Warnings}, tm, nil
}

// trimSilence cuts the silence at the end of a client's audio, keeping a
// breath of it: the speech ends where its sound does, not where the file
// does, so that a file padded with silence does not lengthen the video.
func trimSilence(s []int16) []int16 {
	const window = speech.SampleRate / 100 // 10 ms
	const quiet = 32768 / 316              // -50 dBFS, as a window's RMS
	end := 0
	for i := 0; i+window <= len(s); i += window {
		var sum float64
		for _, v := range s[i : i+window] {
			sum += float64(v) * float64(v)
		}
		if sum > quiet*quiet*window {
			end = i + window
		}
	}
	return s[:min(len(s), end+speech.SampleRate/10)]
}

// inputFile writes the file of the request's URL field to a temporary
// file and returns its path; the caller removes it. It reads the task's
// input when it has one (a kept upload), else the URL under the engine's
// intake rules and the field's byte limit.
func (b *Builtin) inputFile(ctx context.Context, t *generation.Task, field string) (string, error) {
	var data []byte
	var err error
	if in := t.Input(field); in != nil {
		data, err = in.Bytes(ctx)
	} else {
		data, err = intake.Read(ctx, t.Request.URL(field), input.Options(b.Intake, field))
	}
	if err != nil {
		return "", err
	}
	ext, err := input.Extension(field, data)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(b.TempDir, "stillmotion-input-*"+ext)
	if err != nil {
		return "", fault.Wrap(fault.Internal, "storing the "+field+" file", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fault.Wrap(fault.Internal, "storing the "+field+" file", err)
	}
	return f.Name(), nil
}

// audioFault names audio_url in a failure to decode it.
func audioFault(err error) error {
	if fault.KindOf(err) != fault.Invalid {
		return err
	}
	return fault.Wrap(fault.Invalid, "audio_url could not be decoded: "+fault.MessageOf(err), err)
}
