package lipsync_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/lipsync"
	"stillmotion/internal/media"
	"stillmotion/internal/psnr"
	"stillmotion/internal/speech"
)

// ffmpeg runs ffmpeg with args, failing the test on an error.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// revoiced is one re-voicing measured by TestRevoice.
type revoiced struct {
	name               string
	lagNew, lagOld     int
	corrNew, corrOld   float64
	corrSpeech         float64 // of the new speech's loudness with the old's
	psnrOutside        float64
	faceFrames, frames int
	took               time.Duration
}

// TestRevoice re-voices the built-in engine's talking clip (a push in on a
// swaying, speaking face) with other words in other voices, and once with
// an MP3 of speech, which has no phone timings, so the mouth follows its
// loudness. On every frame it measures how open the mouth is (dark pixels
// in the mouth's box, which the detector, run on every input frame, places)
// and correlates that with the loudness of the new speech and of the old:
// the mouth must follow the new speech, and no longer the old. Outside the
// lower face the frames must be the input's: as close to the decoded
// input (PSNR) as the input encoded again by the same encoder, and at
// least 40 dB unless that re-encoding itself loses more.
//
// The new speech starts at a different time in each case, so that its
// loudness does not follow the old speech's by chance (the table logs how
// much the two follow each other anyway).
func TestRevoice(t *testing.T) {
	in := talkingVideo(t)
	inFrames, fps, truth, _ := talkingInput(t)
	oldSound := decodeSound(t, in)
	baseLag, baseCorr := peakCorrelation(mouthOpening(truth, inFrames[0], inFrames), loudness(oldSound, fps, len(inFrames)), 2)
	floor := reencodedPSNR(t, inFrames, fps, truth)
	minPSNR := min(40, floor-0.3)

	tests := []struct {
		name, line, voice string
		start             time.Duration
		mp3               bool
	}{
		{"Jack", "Please open the window, and let the cool morning air come in.", "Jack", 300 * time.Millisecond, false},
		{"Sophia", "We will arrive at nine, after a long and quiet drive home.", "Sophia", 700 * time.Millisecond, false},
		{"Oliver", "Bring me a cup of tea, and maybe a piece of apple pie.", "Oliver", 1200 * time.Millisecond, false},
		{"Mason MP3", "Good morning everyone. Today we look at the numbers together.", "Mason", 900 * time.Millisecond, true},
	}
	var mu sync.Mutex
	var results []revoiced
	t.Run("voices", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				a := synthesize(t, tt.line, tt.voice)
				sp := &lipsync.Speech{Samples: a.Samples, Phones: a.Phones, Words: a.Words, Start: tt.start}
				if tt.mp3 {
					sp = &lipsync.Speech{Samples: viaMP3(t, a.Samples), Start: tt.start}
				}
				out := filepath.Join(t.TempDir(), "out.mp4")
				t0 := time.Now()
				res, err := lipsync.Render(context.Background(), in, sp, out, lipsync.Options{})
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(t0)
				if len(res.Warnings) > 0 {
					t.Errorf("warnings %q", res.Warnings)
				}
				if res.Width != inFrames[0].Rect.Dx() || res.Height != inFrames[0].Rect.Dy() || res.FPS != fps || res.Frames != len(inFrames) {
					t.Errorf("result %dx%d, %d frames at %d fps; want the input's %dx%d, %d at %d",
						res.Width, res.Height, res.Frames, res.FPS, inFrames[0].Rect.Dx(), inFrames[0].Rect.Dy(), len(inFrames), fps)
				}
				outFrames, _ := decodeVideo(t, out)
				if len(outFrames) != len(inFrames) {
					t.Fatalf("%d frames out, want %d", len(outFrames), len(inFrames))
				}
				open := mouthOpening(truth, inFrames[0], outFrames)
				n := len(outFrames)
				r := revoiced{name: tt.name, faceFrames: res.FaceFrames, frames: res.Frames, took: took}
				newEnv, oldEnv := loudness(decodeSound(t, out), fps, n), loudness(oldSound, fps, n)
				r.lagNew, r.corrNew = peakCorrelation(open, newEnv, 2)
				r.lagOld, r.corrOld = peakCorrelation(open, oldEnv, 2)
				_, r.corrSpeech = peakCorrelation(newEnv, oldEnv, 2)

				// Outside the lower face, from a little below the eyes to
				// well below the chin, the frames are the input's.
				var sum float64
				for i := range n {
					sum += min(psnr.Where(inFrames[i], outFrames[i], outsideLowerFace(truth, i)), 100) // identical frames count as 100 dB in the mean
				}
				r.psnrOutside = sum / float64(n)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()

				if r.corrNew < 0.55 || r.corrNew < r.corrOld+0.25 {
					t.Errorf("mouth vs new speech: %.2f (lag %+d); vs old speech: %.2f (lag %+d); want >= 0.55 and 0.25 above the old",
						r.corrNew, r.lagNew, r.corrOld, r.lagOld)
				}
				if r.psnrOutside < minPSNR {
					t.Errorf("PSNR outside the lower face %.2f dB, want >= %.2f (re-encoding the input gives %.2f)", r.psnrOutside, minPSNR, floor)
				}
				if res.FaceFrames != res.Frames {
					t.Errorf("face re-animated on %d of %d frames", res.FaceFrames, res.Frames)
				}
			})
		}
	})
	slices.SortFunc(results, func(a, b revoiced) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	fmt.Fprintf(&b, "\ninput (%s saying the old line): mouth vs its speech %.2f at lag %+d; PSNR of the input encoded again, outside the lower face: %.2f dB\n",
		oldVoice, baseCorr, baseLag, floor)
	b.WriteString("new voice    corr new (lag)  corr old (lag)  new~old speech  PSNR outside  face frames  time\n")
	for _, r := range results {
		fmt.Fprintf(&b, "%-12s %.2f (%+d)      %.2f (%+d)      %.2f            %.1f dB       %d/%d      %.1fs\n",
			r.name, r.corrNew, r.lagNew, r.corrOld, r.lagOld, r.corrSpeech, r.psnrOutside, r.faceFrames, r.frames, r.took.Seconds())
	}
	t.Log(b.String())
}

// reencodedPSNR returns the mean PSNR, outside the lower face, of the
// frames encoded again as Render encodes its output: the most an output
// made of the input's pixels can keep of them.
func reencodedPSNR(t testing.TB, frames []*image.RGBA, fps int, ft *faceTruth) float64 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "again.mp4")
	w, h := frames[0].Rect.Dx(), frames[0].Rect.Dy()
	err := media.Encode(context.Background(), media.Spec{Width: w, Height: h, FPS: fps, Frames: len(frames)},
		func(i int, dst *image.RGBA) { copy(dst.Pix, frames[i].Pix) }, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := decodeVideo(t, out)
	var sum float64
	for i := range frames {
		sum += min(psnr.Where(frames[i], again[i], outsideLowerFace(ft, i)), 100)
	}
	return sum / float64(len(frames))
}

// viaMP3 returns samples after a round trip through an MP3 file, decoded
// by media.DecodeAudio, as a client's audio_url would come.
func viaMP3(t testing.TB, samples []int16) []int16 {
	t.Helper()
	dir := t.TempDir()
	wav, mp3 := filepath.Join(dir, "s.wav"), filepath.Join(dir, "s.mp3")
	writeWAV(t, wav, samples)
	ffmpeg(t, "-i", wav, "-c:a", "libmp3lame", "-b:a", "96k", mp3)
	return decodeSound(t, mp3)
}

func writeWAV(t testing.TB, path string, samples []int16) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := speech.WriteWAV(f, samples, speech.SampleRate); err != nil {
		t.Fatal(err)
	}
}

// outsideLowerFace returns whether a pixel of frame i lies outside the
// lower face: the box from 0.3 eye distances below the eyes to 2.4 below
// them, 1.35 each side, in the first frame's geometry, carried by the eyes.
func outsideLowerFace(ft *faceTruth, i int) func(x, y int) bool {
	f := ft.first
	d := f.LeftEye.Dist(f.RightEye)
	eyes := f.LeftEye.Mid(f.RightEye)
	l0, r0 := ft.eyes[0][0], ft.eyes[0][1]
	l, r := ft.eyes[i][0], ft.eyes[i][1]
	a := complexDiv(r0.Sub(l0), r.Sub(l)) // frame i to the first frame
	return func(x, y int) bool {
		p := complexMul(a, face.Point{X: float64(x) + 0.5, Y: float64(y) + 0.5}.Sub(l)).Add(l0)
		return math.Abs(p.X-eyes.X) > 1.35*d || p.Y < eyes.Y+0.3*d || p.Y > eyes.Y+2.4*d
	}
}

// TestTrackEngineVideo checks the tracker on the built-in engine's clip,
// where the camera pushes in and the head sways: the mouth's centre, as
// the track carries it, against the detector's on every frame (which is
// itself off by a pixel or two, differently on each frame).
func TestTrackEngineVideo(t *testing.T) {
	in := talkingVideo(t)
	frames, _, _, found := talkingInput(t)
	pts, ok, err := lipsync.MouthTrack(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != len(frames) {
		t.Fatalf("%d frames tracked, want %d", len(pts), len(frames))
	}
	var errs []float64
	var d float64
	for i, f := range found {
		if f.Size == 0 || f.Guessed {
			continue
		}
		if !ok[i] {
			t.Errorf("frame %d: face lost", i)
			continue
		}
		d = f.LeftEye.Dist(f.RightEye)
		errs = append(errs, pts[i].Dist(f.MouthLeft.Mid(f.MouthRight)))
	}
	slices.Sort(errs)
	med, p90 := errs[len(errs)/2], errs[len(errs)*9/10]
	t.Logf("mouth centre vs the detector on %d frames (eyes %.0f px apart): median %.2f px, 90th percentile %.2f px, max %.2f px",
		len(errs), d, med, p90, errs[len(errs)-1])
	if med > 0.05*d || p90 > 0.1*d {
		t.Errorf("median %.2f px, 90th percentile %.2f px; want within 5%% and 10%% of the eyes' distance (%.0f px)", med, p90, d)
	}
}

// TestSpeechLength renders speech shorter than the video, speech that
// outlasts it, and speech that outlasts the longest video allowed (for
// speech without phone timings, see TestCutSpeech).
func TestSpeechLength(t *testing.T) {
	in := talkingVideo(t)
	inFrames, fps, truth, _ := talkingInput(t)
	n := len(inFrames)
	short := synthesize(t, "Hi there.", "Jack")
	long := synthesize(t, "Please open the window, and let the cool morning air come in. Then close the door behind you, and sit down.", "Jack")
	tests := []struct {
		name   string
		sp     *lipsync.Speech
		limits lipsync.Limits
		// frames is the output's length; warn what a warning says.
		frames int
		warn   string
	}{
		{"shorter", &lipsync.Speech{Samples: short.Samples, Phones: short.Phones, Start: speech.Lead}, lipsync.Limits{}, n, ""},
		{"longer", &lipsync.Speech{Samples: long.Samples, Phones: long.Phones, Words: long.Words, Start: speech.Lead}, lipsync.Limits{},
			int(math.Ceil((speech.Lead + long.Duration() + lipsync.Tail).Seconds() * float64(fps))), "extended"},
		{"over the limit", &lipsync.Speech{Samples: long.Samples, Phones: long.Phones, Words: long.Words, Start: speech.Lead},
			lipsync.Limits{MaxDuration: 6 * time.Second}, 0, "cut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.mp4")
			res, err := lipsync.Render(context.Background(), in, tt.sp, out, lipsync.Options{Limits: tt.limits})
			if err != nil {
				t.Fatal(err)
			}
			outFrames, _ := decodeVideo(t, out)
			sound := decodeSound(t, out)
			if len(outFrames) != res.Frames {
				t.Errorf("%d frames decoded, result says %d", len(outFrames), res.Frames)
			}
			if want := float64(res.Frames) / float64(fps); math.Abs(float64(len(sound))/speech.SampleRate-want) > 0.05 {
				t.Errorf("sound lasts %.3f s, video %.3f s", float64(len(sound))/speech.SampleRate, want)
			}
			if tt.frames > 0 && res.Frames != tt.frames {
				t.Errorf("%d frames, want %d", res.Frames, tt.frames)
			}
			hasWarning := slices.ContainsFunc(res.Warnings, func(w string) bool { return tt.warn != "" && strings.Contains(w, tt.warn) })
			if tt.warn == "" && len(res.Warnings) > 0 || tt.warn != "" && !hasWarning {
				t.Errorf("warnings %q, want one saying %q", res.Warnings, tt.warn)
			}
			switch tt.name {
			case "shorter":
				// After the speech the sound is silent and the mouth at
				// rest: as open on every frame, give or take noise, while
				// the old speech went on moving it.
				after := (speech.Lead + short.Duration() + 300*time.Millisecond).Seconds()
				if peak := peakOf(sound[int(after*speech.SampleRate):]); peak > 300 {
					t.Errorf("sound after the speech peaks at %d", peak)
				}
				rest := mouthOpening(truth, inFrames[0], outFrames)[int(after*float64(fps)):]
				old := mouthOpening(truth, inFrames[0], inFrames)[int(after*float64(fps)):]
				if r, o := spread(rest), spread(old); r > 0.02 || r > o/5 {
					t.Errorf("after the speech the mouth's opening varies by %.3f (the input's by %.3f); want at most 0.02 and a fifth of the input's", r, o)
				}
			case "longer":
				// Past the input's end the video bounces: each frame is the
				// input frame the bounce shows, outside the lower face.
				for j := n; j < res.Frames; j += 7 {
					src := bounce(j, n, fps)
					if p := psnr.Where(inFrames[src], outFrames[j], outsideLowerFace(truth, src)); p < 38 {
						t.Errorf("frame %d: PSNR %.1f dB against input frame %d outside the lower face", j, p, src)
					}
				}
			default:
				// The speech ends by the limit less the tail, and the
				// video by the limit.
				if res.Duration > tt.limits.MaxDuration.Seconds()+1e-9 {
					t.Errorf("%.2f s, longer than the limit", res.Duration)
				}
				last := len(sound) - 1
				for last > 0 && math.Abs(float64(sound[last])) < 300 {
					last--
				}
				if at, limit := float64(last)/speech.SampleRate, (tt.limits.MaxDuration - lipsync.Tail).Seconds(); at > limit {
					t.Errorf("the speech is heard until %.2f s, after %.2f s", at, limit)
				}
			}
			t.Logf("%s: %d frames (input %d), %.2f s; warnings %q", tt.name, res.Frames, n, res.Duration, res.Warnings)
		})
	}
}

// bounce returns the input frame output frame j shows, for an input of n
// frames at fps: forward, then back and forth over the last Bounce.
func bounce(j, n, fps int) int {
	last := n - 1
	if j <= last {
		return j
	}
	w := min(last, int(lipsync.Bounce.Seconds()*float64(fps)))
	k := (j - last) % (2 * w)
	if k <= w {
		return last - k
	}
	return last - (2*w - k)
}

// spread returns the difference of the largest and the smallest of x.
func spread(x []float64) float64 { return slices.Max(x) - slices.Min(x) }

func peakOf(s []int16) int {
	p := 0
	for _, v := range s {
		p = max(p, int(math.Abs(float64(v))))
	}
	return p
}

// TestPhoneVideo re-voices the talking clip as a phone would record it: a
// MOV whose frames are stored sideways with a rotation for players, at
// 29.97 frames a second. The output is upright, at 30 frames a second. It
// also checks the progress reported.
func TestPhoneVideo(t *testing.T) {
	in := talkingVideo(t)
	frames, _, _, found := talkingInput(t)
	dir := t.TempDir()
	sideways, phone := filepath.Join(dir, "sideways.mp4"), filepath.Join(dir, "phone.mov")
	ffmpeg(t, "-i", in, "-vf", "transpose=1", "-r", "30000/1001", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "copy", sideways)
	ffmpeg(t, "-i", sideways, "-c", "copy", "-metadata:s:v:0", "rotate=90", "-f", "mov", phone)
	a := synthesize(t, "Please open the window, and let the cool morning air come in.", "Jack")
	out := filepath.Join(dir, "out.mp4")
	var progress []float64
	res, err := lipsync.Render(context.Background(), phone, &lipsync.Speech{Samples: a.Samples, Phones: a.Phones, Start: speech.Lead}, out,
		lipsync.Options{Progress: func(p float64) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	// Progress moves steadily, in small steps, to 1.
	last, step := 0.0, 0.0
	for _, p := range progress {
		if p <= last {
			t.Fatalf("progress %v after %v", p, last)
		}
		step, last = max(step, p-last), p
	}
	if last != 1 || step > 0.05 {
		t.Errorf("progress ends at %v, in steps of up to %.3f; want 1, in steps of at most 0.05", last, step)
	}
	w, h := frames[0].Rect.Dx(), frames[0].Rect.Dy()
	if res.Width != w || res.Height != h || res.FPS != 30 || res.Frames != 150 || res.FaceFrames != res.Frames {
		t.Errorf("%dx%d, %d frames at %d fps, the face on %d; want %dx%d, 150 at 30, the face on all",
			res.Width, res.Height, res.Frames, res.FPS, res.FaceFrames, w, h)
	}
	got, _ := decodeVideo(t, out)
	fs, err := face.Detect(got[0])
	if err != nil || len(fs) == 0 {
		t.Fatalf("no upright face on the output's first frame: %v", err)
	}
	want := found[0]
	if d := fs[0].LeftEye.Mid(fs[0].RightEye).Dist(want.LeftEye.Mid(want.RightEye)); d > 3 {
		t.Errorf("eyes %.1f px from the input's", d)
	}
}

// TestNoFace re-voices a video of a landscape.
func TestNoFace(t *testing.T) {
	dir := t.TempDir()
	video := filepath.Join(dir, "rocket.mp4")
	ffmpeg(t, "-loop", "1", "-i", filepath.Join("testdata", "rocket.jpg"), "-t", "1", "-r", "24",
		"-vf", "scale=640:426,zoompan=z='1+0.002*on':d=1:s=640x426:fps=24", "-c:v", "libx264", "-pix_fmt", "yuv420p", video)
	a := synthesize(t, "Hello.", "Jack")
	out := filepath.Join(dir, "out.mp4")
	_, err := lipsync.Render(context.Background(), video, &lipsync.Speech{Samples: a.Samples, Phones: a.Phones}, out, lipsync.Options{})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Rejected || fe.Message != lipsync.NoFace {
		t.Fatalf("error %v, want a Rejected fault saying %q", err, lipsync.NoFace)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output file left behind: %v", err)
	}
}

// TestRefused gives Render videos it must refuse from their headers alone,
// before decoding a frame (Progress is never called).
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	make := func(name string, args ...string) string {
		p := filepath.Join(dir, name)
		ffmpeg(t, append(args, p)...)
		return p
	}
	color := func(size, rate, dur string) []string {
		return []string{"-f", "lavfi", "-i", "color=c=gray:s=" + size + ":r=" + rate + ":d=" + dur}
	}
	h264 := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	playlist := filepath.Join(dir, "list.mp4")
	if err := os.WriteFile(playlist, []byte("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, video string
		limits      lipsync.Limits
		want        string
	}{
		{"too long", make("long.mp4", append(color("64x64", "10", "31"), h264...)...), lipsync.Limits{},
			"the video lasts 31.0 s; lip-sync takes videos of up to 30 s"},
		{"longer than a lower limit", talkingVideo(t), lipsync.Limits{MaxDuration: 3 * time.Second},
			"the video lasts 5.0 s; lip-sync takes videos of up to 3 s"},
		{"too many pixels", make("big.mp4", append(color("2560x1440", "10", "0.2"), h264...)...), lipsync.Limits{},
			"the video is 2560x1440 pixels; lip-sync takes videos of up to 2.1 megapixels with no side over 1920 pixels (1920x1080 or 1080x1920)"},
		{"too tall", make("tall.mp4", append(color("640x2000", "10", "0.2"), h264...)...), lipsync.Limits{},
			"the video is 640x2000 pixels"},
		{"too fast", make("fast.mp4", append(color("64x64", "120", "0.5"), h264...)...), lipsync.Limits{},
			"the video runs at 120 frames a second; lip-sync takes up to 60"},
		{"AVI", make("v.avi", append(color("64x64", "10", "0.5"), "-c:v", "mpeg4")...), lipsync.Limits{},
			"the video is in AVI format; send an MP4, MOV or WebM video"},
		{"Matroska", make("v.mkv", append(color("64x64", "10", "0.5"), h264...)...), lipsync.Limits{},
			"the video is in Matroska (MKV) format, not WebM (which holds VP8, VP9 or AV1 video); send an MP4, MOV or WebM video"},
		{"GIF", make("v.gif", color("64x64", "10", "0.5")...), lipsync.Limits{},
			"the video is in GIF format; send an MP4, MOV or WebM video"},
		{"playlist", playlist, lipsync.Limits{},
			"the video is in HLS playlist format; send an MP4, MOV or WebM video"},
		{"sound only", make("a.m4a", "-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac"), lipsync.Limits{},
			"the file has no video stream; send an MP4, MOV or WebM video"},
	}
	a := synthesize(t, "Hello.", "Jack")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			progressed := false
			out := filepath.Join(t.TempDir(), "out.mp4")
			_, err := lipsync.Render(context.Background(), tt.video, &lipsync.Speech{Samples: a.Samples}, out,
				lipsync.Options{Limits: tt.limits, Progress: func(float64) { progressed = true }})
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !strings.HasPrefix(fe.Message, tt.want) {
				t.Fatalf("error %v, want an Invalid fault saying %q", err, tt.want)
			}
			if len(fe.Fields) != 1 || fe.Fields[0].Field != "video_url" {
				t.Errorf("fields %+v, want video_url", fe.Fields)
			}
			if progressed {
				t.Error("progress reported: frames were decoded before the refusal")
			}
		})
	}
}

// TestCancel cancels a render once it is encoding: Render must return
// within a couple of seconds, with a Cancelled fault, leaving no files.
func TestCancel(t *testing.T) {
	in := talkingVideo(t)
	a := synthesize(t, "Please open the window, and let the cool morning air come in.", "Jack")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.mp4")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	cancelled := make(chan time.Time, 1)
	_, err := lipsync.Render(ctx, in, &lipsync.Speech{Samples: a.Samples, Phones: a.Phones}, out, lipsync.Options{
		TempDir: dir,
		Progress: func(p float64) {
			if p > 0.5 {
				once.Do(func() { cancelled <- time.Now(); cancel() })
			}
		},
	})
	if fault.KindOf(err) != fault.Cancelled {
		t.Fatalf("error %v, want Cancelled", err)
	}
	if took := time.Since(<-cancelled); took > 2*time.Second {
		t.Errorf("returned %v after the cancellation", took)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestRejectsEmptySpeech checks the speech is there before anything runs.
func TestRejectsEmptySpeech(t *testing.T) {
	_, err := lipsync.Render(context.Background(), "nonexistent.mp4", &lipsync.Speech{}, filepath.Join(t.TempDir(), "o.mp4"), lipsync.Options{})
	if fault.KindOf(err) != fault.Invalid {
		t.Errorf("error %v, want Invalid", err)
	}
}
