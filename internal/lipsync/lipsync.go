// Package lipsync re-voices a video of a person talking: it re-animates the
// mouth to new speech and replaces the sound, as the pixverse/lip-sync model
// does.
//
// The method, in passes over the video through ffmpeg; only the last
// streams full-size frames, one by one:
//
//  1. The face is detected (package face) on three frames a second of a
//     reduced grey copy (480 pixels on the short side), and the frame with
//     the clearest face becomes the tracking reference.
//  2. The reference's upper face (brows to nose, which moves with the head
//     and the camera but not with the jaw) is tracked through every frame
//     of the grey copy by inverse compositional Lucas-Kanade with a
//     similarity warp on an image pyramid, robust to changes of light and
//     to blinks, checked against the detections and restarted from them
//     when it fails, then smoothed over time. The detections' landmarks,
//     mapped back to the reference, are averaged, and the mouth's opening
//     is measured on every frame. The grey copy is kept from pass 1 when
//     it is small enough, and decoded again otherwise.
//  3. The frame whose mouth is most closed is decoded full size: its lower
//     face, from below the nose to below the chin, is what every frame
//     shows, posed for the new speech.
//  4. Each frame is decoded, and the reference's lower face, posed by the
//     talking portraits' mouth warp (package portrait) in the shape the new
//     speech gives that frame (Speech.Mouths: visemes from the phones, or
//     the loudness without them), is moved onto the frame's face by the
//     track's similarity, matched to its light, and blended in through a
//     feathered mask: the old mouth is covered and the new one drawn in one
//     step. Pixels outside the mask are the input's. The frames stream into
//     the encoder (package media) with the new speech as the sound.
//
// The output has the input's size (cropped to even sides) and frame rate
// (rounded to whole frames a second). Speech shorter than the video leaves
// the mouth at rest after it and the video its length; speech that outlasts
// the video extends it, the video then playing its last few seconds back
// and forth (see Bounce) until Tail after the speech ends; speech that would
// make the video longer than Limits.MaxDuration is cut at a pause or a
// word's end (see Render).
package lipsync

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"sync"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/media"
	"stillmotion/internal/portrait"
	"stillmotion/internal/speech"
)

// Speech is what the re-voiced video says.
type Speech struct {
	// Samples is the audio, mono, at speech.SampleRate.
	Samples []int16
	// Phones time the phones from the start of Samples (synthesized
	// speech has them); the mouth forms each. Without them (a client's
	// audio file) the mouth follows the loudness.
	Phones []speech.Phone
	// Words time the words, if known; speech too long for the video is
	// cut where one ends.
	Words []speech.Word
	// Start is where the speech starts in the video.
	Start time.Duration
}

// Options are Render's settings; the zero value works.
type Options struct {
	// FFmpeg is the ffmpeg program; "" means "ffmpeg" on the PATH.
	FFmpeg string
	// EncoderNice is the niceness the encoder runs at (see media.Spec).
	EncoderNice int
	// TempDir holds the audio track and, when the speech outlasts the
	// video, the full-size frames the video plays back and forth (see
	// Bounce): up to 3 seconds of them, some 750 MB at 1080p and 30 fps,
	// for as long as the render runs. "" means os.TempDir().
	TempDir string
	// Limits bound the input; zero fields take DefaultLimits'.
	Limits Limits
	// Progress, if not nil, is told how far the work is, from 0 to 1,
	// never going back.
	Progress func(float64)
}

// Result is what Render reports about the video it wrote.
type Result struct {
	Width, Height int
	// FPS is the output's frame rate: the input's, rounded.
	FPS int
	// Duration is the output's length, in seconds: Frames/FPS.
	Duration float64
	Frames   int
	// InputFrames is the number of the input's frames, at FPS.
	InputFrames int
	// FaceFrames is the number of output frames whose mouth was
	// re-animated: those where the face was tracked.
	FaceFrames int
	// Reference is the input frame whose lower face every frame shows.
	Reference int
	// Warnings say what the client should know: the speech was cut, the
	// video extended, the face lost on some frames.
	Warnings []string
	Timings  Timings
}

// Timings says where Render's time went.
type Timings struct {
	Probe  time.Duration // reading the file's headers and checking them
	Track  time.Duration // finding and following the face, and the reference frame
	Encode time.Duration // drawing and encoding the frames, decoding included
}

// Render writes to out an MP4 of the video file video re-voiced with sp:
// the video's frames with the mouth re-animated, and sp as the sound.
//
// The video must be an MP4, MOV or WebM file within opt.Limits, which are
// checked from its headers before any frame is decoded (faults of kind
// Invalid naming the field video_url). A video without a face that can be
// tracked fails with a fault of kind Rejected and the message NoFace.
// The output lasts as long as the input, or, when the speech (from its
// Start) outlasts the input, until Tail after the speech ends, the input
// playing its last seconds back and forth (see Bounce), with a warning.
// Speech that would end after both the input's end and Limits.MaxDuration
// less Tail is cut to end by the later of the two, at the last pause or
// word's end that fits (Speech.Phones and Words; a quiet moment of its
// loudness without them), with a warning.
//
// The file appears at out only when complete. Cancelling ctx stops the
// work within a couple of seconds, leaving no file, with a fault of kind
// Cancelled (Timeout when its deadline passed). A missing ffmpeg is a
// fault of kind Render.
func Render(ctx context.Context, video string, sp *Speech, out string, opt Options) (*Result, error) {
	progress := monotonic(opt.Progress)
	limits := opt.Limits.withDefaults()
	if sp == nil || len(sp.Samples) == 0 {
		return nil, fault.E(fault.Invalid, "there is no speech to lip-sync")
	}
	res := &Result{}
	t0 := time.Now()
	info, err := media.ProbeVideo(ctx, video)
	if err != nil {
		return nil, videoFault(err)
	}
	if err := limits.Check(info); err != nil {
		return nil, err
	}
	fps := outputFPS(info.FPS)
	res.FPS = fps
	res.Width, res.Height = info.EvenSize()

	// Speech that cannot fit is cut first, so the mouth says what is
	// heard. It fits when it ends with the input, or Tail before the
	// longest output.
	sp = &Speech{Samples: sp.Samples, Phones: sp.Phones, Words: sp.Words, Start: max(sp.Start, 0)}
	latest := max(time.Duration(info.Duration*float64(time.Second)), limits.MaxDuration-Tail)
	if end := sp.Start + samplesDuration(len(sp.Samples)); end > latest {
		if sp.Start >= latest {
			return nil, fault.Errorf(fault.Invalid, "the speech starts at %s, after the longest video lip-sync makes (%s)", seconds(sp.Start), seconds(limits.MaxDuration))
		}
		sp = cutSpeech(sp, latest-sp.Start)
		res.Warnings = append(res.Warnings, fmt.Sprintf("the speech was cut to %.1f s, between words, so that the video lasts at most %s",
			samplesDuration(len(sp.Samples)).Seconds(), seconds(limits.MaxDuration)))
	}
	res.Timings.Probe = time.Since(t0)
	progress(0.01)

	t1 := time.Now()
	estimate := int(math.Round(info.Duration * float64(fps)))
	tr, err := trackFace(ctx, video, info, fps, estimate, limits.MaxDuration, opt.FFmpeg, func(p float64) { progress(0.01 + 0.33*p) })
	if err != nil {
		return nil, videoFault(err)
	}
	n := len(tr.warps)
	res.InputFrames = n
	tl := newTimeline(n, fps, sp.Start+samplesDuration(len(sp.Samples)), limits.MaxDuration)
	res.Frames = tl.frames
	res.Duration = float64(tl.frames) / float64(fps)

	// The full-size decoder starts while the reference frame is decoded.
	w, h := info.EvenSize()
	frames, err := media.OpenFrames(ctx, video, media.DecodeOptions{FPS: fps, Width: w, Height: h, Demuxer: info.Demuxer, Program: opt.FFmpeg})
	if err != nil {
		return nil, err
	}
	defer frames.Close()
	ref, rf, err := reference(ctx, video, info, fps, tr, opt.FFmpeg)
	if err != nil {
		return nil, videoFault(err)
	}
	res.Reference = ref
	lf := newLowerFace(rf.RGBA, rf.face)
	toFrame := tr.fullMaps(ref)
	weights := faceWeights(tr.ok, fps)
	res.Timings.Track = time.Since(t1)
	progress(0.36)

	t2 := time.Now()
	ps := &portrait.Speech{Phones: sp.Phones, Samples: sp.Samples, Rate: speech.SampleRate, Start: sp.Start}
	mouths := ps.Mouths(fps, tl.frames)
	for j := range tl.frames {
		if weights[tl.source(j)] > 0 {
			res.FaceFrames++
		}
	}
	if res.FaceFrames == 0 {
		return nil, fault.E(fault.Rejected, NoFace)
	}
	wav, err := writeTrack(opt.TempDir, sp, tl.duration())
	if err != nil {
		return nil, err
	}
	defer os.Remove(wav)
	err = encode(ctx, frames, tl, opt, wav, out, func(i int, dst *image.RGBA) {
		src := tl.source(i)
		lf.draw(dst, toFrame[src], mouths[i], weights[src])
	}, func(p float64) { progress(0.36 + 0.64*p) })
	if err != nil {
		return nil, err
	}
	res.Timings.Encode = time.Since(t2)

	if tl.frames > n {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the speech outlasts the video, so the video was extended to %.1f s by playing its last %.1f s back and forth",
			res.Duration, float64(tl.window)/float64(fps)))
	}
	if lost := n - count(tr.ok); lost > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the face could not be followed on %d of the video's %d frames; the mouth there is the video's own", lost, n))
	}
	progress(1)
	return res, nil
}

// outputFPS returns the output's frame rate for an input's: rounded to a
// whole number (29.97 becomes 30, for which ffmpeg repeats one frame in a
// thousand, keeping time), and 24 for rates below 10 or unknown, where a
// mouth could not move smoothly.
func outputFPS(in float64) int {
	f := int(math.Round(in))
	if f < 10 {
		return 24
	}
	return f
}

// samplesDuration returns the length of n samples at speech.SampleRate.
func samplesDuration(n int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / speech.SampleRate)
}

// monotonic returns a progress function that calls f with values that
// never go back, or does nothing when f is nil.
func monotonic(f func(float64)) func(float64) {
	if f == nil {
		return func(float64) {}
	}
	var mu sync.Mutex
	last := 0.0
	return func(p float64) {
		mu.Lock()
		defer mu.Unlock()
		if p > last {
			last = min(p, 1)
			f(last)
		}
	}
}

// count returns the number of true values in b.
func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// videoFault names the field video_url in an Invalid fault about the
// video, so that the client knows which input it was.
func videoFault(err error) error {
	var e *fault.Error
	if errors.As(err, &e) && e.Kind == fault.Invalid && len(e.Fields) == 0 {
		c := *e
		c.Fields = []fault.FieldError{{Field: VideoField, Message: e.Message}}
		return &c
	}
	return err
}

// contextFault maps a context's error to a fault.
func contextFault(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "the generation ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "the generation was cancelled", err)
}

// refFrame is the reference frame, full size, and the face on it.
type refFrame struct {
	*image.RGBA
	face face.Face
}

// reference picks the frame whose mouth is most closed, among the frames
// where the face was tracked well, decodes it full size, and finds the
// face on it: the detector's, where it agrees with the track, whose lips
// are the frame's own, or else the track's.
func reference(ctx context.Context, video string, info media.VideoInfo, fps int, tr *faceTrack, program string) (int, *refFrame, error) {
	best, bestScore := -1, math.Inf(1)
	for i, ok := range tr.ok {
		if !ok {
			continue
		}
		// Closed first; a better match breaks near ties.
		if s := tr.open[i] + 0.05*(1-tr.ncc[i]); s < bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return 0, nil, fault.E(fault.Rejected, NoFace)
	}
	w, h := info.EvenSize()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	n, err := media.DecodeFrames(ctx, video, media.DecodeOptions{FPS: fps, Width: w, Height: h, Start: best, Count: 1, Demuxer: info.Demuxer, Program: program},
		func(_ int, pix []byte) error { copy(img.Pix, pix); return nil })
	if err != nil {
		return 0, nil, err
	}
	if n != 1 {
		return 0, nil, fault.Wrap(fault.Render, "decoding the video failed", fmt.Errorf("frame %d of %d did not decode", best, len(tr.ok)))
	}
	// The track's face, in the frame's full-size pixels.
	toFull := tr.warps[best].then(scaling(1/tr.sx, 1/tr.sy))
	f := tr.face.Map(toFull.apply)
	lips := tr.face // the reference frame's own lips, mapped like the rest
	f.LipTop, f.LipBottom = toFull.apply(lips.LipTop), toFull.apply(lips.LipBottom)
	if faces, err := face.Detect(img); err == nil {
		d := f.LeftEye.Dist(f.RightEye)
		for _, g := range faces {
			if g.Guessed || g.LeftEye.Mid(g.RightEye).Dist(f.LeftEye.Mid(f.RightEye)) > 0.12*d ||
				g.MouthLeft.Mid(g.MouthRight).Dist(f.MouthLeft.Mid(f.MouthRight)) > 0.15*d {
				continue
			}
			// The detector read this frame's mouth; the eyes stay the
			// track's, which are steadier.
			f.MouthLeft, f.MouthRight, f.LipTop, f.LipBottom = g.MouthLeft, g.MouthRight, g.LipTop, g.LipBottom
			break
		}
	}
	return best, &refFrame{img, f}, nil
}

// fullMaps returns, for every frame, the map from the reference frame ref's
// full-size pixels to the frame's.
func (tr *faceTrack) fullMaps(ref int) []affine {
	down := scaling(tr.sx, tr.sy)
	up := scaling(1/tr.sx, 1/tr.sy)
	back := down.then(tr.warps[ref].inverse())
	maps := make([]affine, len(tr.warps))
	for i, w := range tr.warps {
		maps[i] = back.then(w).then(up)
	}
	return maps
}

// faceWeights returns how strongly each frame's mouth is re-animated: 1
// where the face was tracked, 0 where it was not, and a ramp over a few
// frames between, so the mouth does not jump where the track begins or
// ends.
func faceWeights(ok []bool, fps int) []float64 {
	ramp := max(2, fps/8)
	w := make([]float64, len(ok))
	dist := len(ok) + ramp // frames since the last untracked one
	for i := range ok {
		if !ok[i] {
			dist = 0
		} else {
			dist++
		}
		w[i] = min(1, float64(dist)/float64(ramp))
	}
	dist = len(ok) + ramp
	for i := len(ok) - 1; i >= 0; i-- {
		if !ok[i] {
			dist = 0
		} else {
			dist++
		}
		w[i] = min(w[i], float64(dist)/float64(ramp))
	}
	return w
}

// writeTrack writes the sound track, sp laid out on silence from its Start
// for length, to a new WAV file in dir, and returns its name.
func writeTrack(dir string, sp *Speech, length time.Duration) (string, error) {
	return speech.WriteWAVFile(dir, "stillmotion-lipsync-*.wav", speech.Track(&speech.Audio{Samples: sp.Samples}, sp.Start, length), speech.SampleRate)
}
