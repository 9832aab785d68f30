package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/speech"

	"stillmotion/internal/dsp"
)

// syncLines are short sentences the lip-sync test speaks, one per voice in
// turn, so that different mouth shapes are measured.
var syncLines = []string{
	"Hello there. My name is Ava, and I am happy to meet you today.",
	"Please open the window, and let the cool morning air come in.",
	"We will arrive at nine, after a long and quiet drive home.",
	"Bring me a cup of tea, and maybe a piece of apple pie.",
}

// TestLipSync renders a talking clip of the test portrait for every voice,
// decodes the MP4, measures how open the mouth is on each frame (the mean
// darkness in the mouth's box found on frame 0) and cross-correlates that
// with the decoded audio's loudness per frame. The correlation must peak
// within one frame of zero lag, at 0.6 or more. It needs flite and ffmpeg.
func TestLipSync(t *testing.T) {
	for _, prog := range []string{"flite", "ffmpeg"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s is needed to render speech: apt-get install %s", prog, prog)
		}
	}
	type result struct {
		lag  int
		corr float64
	}
	var mu sync.Mutex
	results := make(map[string]result)
	t.Run("voices", func(t *testing.T) {
		for i, voice := range speech.Voices {
			t.Run(voice, func(t *testing.T) {
				t.Parallel()
				req := &generation.Request{Model: generation.Model, Prompt: "static shot of a woman speaking",
					ImageURL: dataURI(t, "astronaut-portrait.png"), Resolution: "360p", Duration: 5,
					Seed: int64(i), SeedGiven: true, Speech: syncLines[i%len(syncLines)], Speaker: voice}
				out := filepath.Join(t.TempDir(), "o.mp4")
				o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out})
				if err != nil {
					t.Fatal(err)
				}
				if len(o.Warnings) > 0 {
					t.Fatalf("warnings %q", o.Warnings)
				}
				frames := decodeFrames(t, out, o.Width, o.Height)
				audio := decodeAudio(t, out)
				open := mouthOpening(t, frames)
				env := frameLoudness(audio, len(frames))
				lag, corr := peakCorrelation(open, env, 4)
				mu.Lock()
				results[voice] = result{lag, corr}
				mu.Unlock()
				if lag < -1 || lag > 1 || corr < 0.6 {
					t.Errorf("mouth vs loudness: peak %.2f at lag %d frames; want >= 0.6 within ±1", corr, lag)
				}
			})
		}
	})
	var b strings.Builder
	b.WriteString("\nvoice     lag  correlation\n")
	for _, v := range speech.Voices {
		if r, ok := results[v]; ok {
			fmt.Fprintf(&b, "%-9s %+d   %.2f\n", v, r.lag, r.corr)
		}
	}
	t.Log(b.String())
}

// decodeFrames decodes the video at path into w x h RGB frames.
func decodeFrames(t *testing.T, path string, w, h int) []*image.RGBA {
	t.Helper()
	raw := run(t, "ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-")
	n := w * h * 4
	var frames []*image.RGBA
	for len(raw) >= n {
		frames = append(frames, &image.RGBA{Pix: raw[:n:n], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)})
		raw = raw[n:]
	}
	if len(frames) == 0 {
		t.Fatal("no frames decoded")
	}
	return frames
}

// decodeAudio decodes the audio at path to mono int16 at 48 kHz.
func decodeAudio(t *testing.T, path string) []int16 {
	t.Helper()
	raw := run(t, "ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "-")
	s := make([]int16, len(raw)/2)
	binary.Read(bytes.NewReader(raw), binary.LittleEndian, s)
	return s
}

func run(t *testing.T, prog string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(prog, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", prog, err, stderr.Bytes())
	}
	return out
}

// mouthOpening finds the mouth on frame 0 and returns, per frame, how much
// of the mouth's box (from the corners' line down past the lower lip) is
// dark: darker than half of frame 0's median there, as only the inside of
// an open mouth is (lips and teeth are not), counted softly so that a
// pixel's share grows with its darkness.
func mouthOpening(t *testing.T, frames []*image.RGBA) []float64 {
	t.Helper()
	faces, err := face.Detect(frames[0])
	if err != nil || len(faces) == 0 {
		t.Fatalf("no face on frame 0: %v", err)
	}
	f := faces[0]
	w := f.MouthRight.X - f.MouthLeft.X
	box := image.Rect(int(f.MouthLeft.X+0.15*w), int((f.MouthLeft.Y+f.MouthRight.Y)/2-0.1*w),
		int(f.MouthRight.X-0.15*w), int(f.LipBottom.Y+0.3*w))
	luma := func(fr *image.RGBA, x, y int) float64 {
		p := fr.Pix[fr.PixOffset(x, y):]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var l0 []float64
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			l0 = append(l0, luma(frames[0], x, y))
		}
	}
	slices.Sort(l0)
	dark := 0.5 * l0[len(l0)/2]
	open := make([]float64, len(frames))
	for i, fr := range frames {
		var sum float64
		for y := box.Min.Y; y < box.Max.Y; y++ {
			for x := box.Min.X; x < box.Max.X; x++ {
				sum += min(max((dark-luma(fr, x, y))/20+0.5, 0), 1)
			}
		}
		open[i] = sum / float64(box.Dx()*box.Dy())
	}
	return open
}

// frameLoudness returns the loudness of the 48 kHz audio s on each of n
// frames: the RMS of its 800 to 3000 Hz band, where the mouth's opening
// shapes speech most (the second and third formants), so the envelope there
// follows the mouth more closely than the broadband one, which nasals and
// voiced consonants fill with a closed mouth (Chandrasekaran et al., "The
// natural statistics of audiovisual speech", 2009).
func frameLoudness(s []int16, n int) []float64 {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v)
	}
	for range 2 {
		dsp.Butterworth(x, 48000, 800, true)
		dsp.Butterworth(x, 48000, 3000, false)
	}
	env := make([]float64, n)
	for i := range env {
		lo, hi := i*48000/FPS, min((i+1)*48000/FPS, len(x))
		if hi <= lo {
			continue
		}
		var e float64
		for _, v := range x[lo:hi] {
			e += v * v
		}
		env[i] = math.Sqrt(e / float64(hi-lo))
	}
	return env
}

// peakCorrelation returns the lag (in frames, positive when b lags a)
// within ±max at which the Pearson correlation of a[i] and b[i+lag] is
// highest, and that correlation.
func peakCorrelation(a, b []float64, max int) (int, float64) {
	best, bestLag := math.Inf(-1), 0
	for lag := -max; lag <= max; lag++ {
		var x, y []float64
		for i := range a {
			if j := i + lag; j >= 0 && j < len(b) {
				x, y = append(x, a[i]), append(y, b[j])
			}
		}
		if c := pearson(x, y); c > best {
			best, bestLag = c, lag
		}
	}
	return bestLag, best
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
