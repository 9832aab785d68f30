package lipsync_test

import (
	"context"
	"encoding/base64"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/dsp"
	"stillmotion/internal/engine"
	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/internal/speech"
)

// testDir holds the files the tests share; TestMain removes it.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lipsync-test-*")
	if err != nil {
		panic(err)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// oldLine is what the built-in engine's talking clip says, in the voice
// oldVoice.
const (
	oldLine  = "Hello there. My name is Ava, and I am happy to meet you today."
	oldVoice = "Ava"
)

var talking struct {
	once sync.Once
	path string
	err  error
}

// talkingVideo returns a 5-second 360p clip of the test portrait talking,
// made once by the built-in engine: a slow push in (camera motion) on a
// face that sways and nods as it speaks oldLine.
func talkingVideo(t testing.TB) string {
	t.Helper()
	talking.once.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "astronaut-portrait.png"))
		if err != nil {
			talking.err = err
			return
		}
		talking.path = filepath.Join(testDir, "talking.mp4")
		req := &generation.Request{Model: generation.Model, Prompt: "slow push in", Resolution: "360p", Duration: 5,
			ImageURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(b),
			Seed:     7, SeedGiven: true, Speech: oldLine, Speaker: oldVoice}
		_, talking.err = (&engine.Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: talking.path})
	})
	if talking.err != nil {
		t.Fatalf("making the talking clip: %v", talking.err)
	}
	return talking.path
}

var input struct {
	once   sync.Once
	frames []*image.RGBA
	fps    int
	truth  *faceTruth
	found  []face.Face
}

// talkingInput returns the talking clip's frames, its frame rate, the face
// the detector finds on each frame and the truth made of those.
func talkingInput(t testing.TB) ([]*image.RGBA, int, *faceTruth, []face.Face) {
	t.Helper()
	path := talkingVideo(t)
	input.once.Do(func() {
		input.frames, input.fps = decodeVideo(t, path)
		input.found = detectEach(input.frames)
		input.truth = truthOf(input.found)
	})
	if input.truth == nil {
		t.Fatal("no face on the talking clip's first frame")
	}
	return input.frames, input.fps, input.truth, input.found
}

// synthesize speaks text in voice.
func synthesize(t testing.TB, text, voice string) *speech.Audio {
	t.Helper()
	a, err := (&speech.Flite{}).Synthesize(context.Background(), text, voice)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// decodeVideo decodes every frame of the video at path at its own size and
// frame rate.
func decodeVideo(t testing.TB, path string) ([]*image.RGBA, int) {
	t.Helper()
	info, err := media.ProbeVideo(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	w, h := info.EvenSize()
	fps := int(math.Round(info.FPS))
	var frames []*image.RGBA
	_, err = media.DecodeFrames(context.Background(), path, media.DecodeOptions{FPS: fps, Width: w, Height: h, Demuxer: info.Demuxer},
		func(_ int, pix []byte) error {
			frames = append(frames, &image.RGBA{Pix: slices.Clone(pix), Stride: 4 * w, Rect: image.Rect(0, 0, w, h)})
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return frames, fps
}

// decodeSound decodes the sound of the file at path at speech.SampleRate.
func decodeSound(t testing.TB, path string) []int16 {
	t.Helper()
	s, err := media.DecodeAudio(context.Background(), path, speech.SampleRate, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// faceTruth is the face on each frame as the detector finds it, run on
// every frame independently of the tracker under test: the eyes, smoothed
// over five frames by a median, and the mouth as the eyes carry it from
// the first frame's.
type faceTruth struct {
	first  face.Face
	eyes   [][2]face.Point
	toFace []func(face.Point) face.Point // from the first frame to frame i, by the eyes
}

// detectEach returns the face the detector finds on each frame, or the
// zero Face.
func detectEach(frames []*image.RGBA) []face.Face {
	found := make([]face.Face, len(frames))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, f := range frames {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if fs, err := face.Detect(f); err == nil && len(fs) > 0 {
				found[i] = fs[0]
			}
		})
	}
	wg.Wait()
	return found
}

// truthOf makes the faceTruth of the faces found on each frame; nil when
// the first has none.
func truthOf(found []face.Face) *faceTruth {
	if found[0].Size == 0 {
		return nil
	}
	ft := &faceTruth{first: found[0]}
	for i := range found {
		var l, r []face.Point
		for k := max(0, i-2); k <= min(len(found)-1, i+2); k++ {
			if found[k].Size > 0 {
				l, r = append(l, found[k].LeftEye), append(r, found[k].RightEye)
			}
		}
		if len(l) == 0 {
			ft.eyes = append(ft.eyes, ft.eyes[i-1])
		} else {
			ft.eyes = append(ft.eyes, [2]face.Point{medianPoint(l), medianPoint(r)})
		}
	}
	l0, r0 := ft.eyes[0][0], ft.eyes[0][1]
	for i := range found {
		l, r := ft.eyes[i][0], ft.eyes[i][1]
		// The similarity that takes l0, r0 to l, r.
		a := complexDiv(r.Sub(l), r0.Sub(l0))
		ft.toFace = append(ft.toFace, func(p face.Point) face.Point {
			return complexMul(a, p.Sub(l0)).Add(l)
		})
	}
	return ft
}

func medianPoint(ps []face.Point) face.Point {
	xs, ys := make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		xs[i], ys[i] = p.X, p.Y
	}
	slices.Sort(xs)
	slices.Sort(ys)
	return face.Point{X: xs[len(xs)/2], Y: ys[len(ys)/2]}
}

func complexMul(a, b face.Point) face.Point {
	return face.Point{X: a.X*b.X - a.Y*b.Y, Y: a.X*b.Y + a.Y*b.X}
}

func complexDiv(a, b face.Point) face.Point {
	n := b.X*b.X + b.Y*b.Y
	return face.Point{X: (a.X*b.X + a.Y*b.Y) / n, Y: (a.Y*b.X - a.X*b.Y) / n}
}

// mouthOpening returns, per frame, how much of the mouth's box is dark:
// darker than half the median of the first input frame's box, as only the
// inside of an open mouth is (lips and teeth are not), counted softly. The
// box spans the middle of the mouth from the corners' line to below the
// lower lip, on the first frame, carried to each frame by the eyes (see
// faceTruth), as the engine's own lip-sync test measures it.
func mouthOpening(ft *faceTruth, first *image.RGBA, frames []*image.RGBA) []float64 {
	f := ft.first
	w := f.MouthRight.X - f.MouthLeft.X
	x0, x1 := f.MouthLeft.X+0.15*w, f.MouthRight.X-0.15*w
	y0, y1 := (f.MouthLeft.Y+f.MouthRight.Y)/2-0.1*w, f.LipBottom.Y+0.3*w
	luma := func(fr *image.RGBA, p face.Point) float64 {
		x, y := int(p.X), int(p.Y)
		if !(image.Point{x, y}).In(fr.Rect) {
			return 255
		}
		q := fr.Pix[fr.PixOffset(x, y):]
		return 0.299*float64(q[0]) + 0.587*float64(q[1]) + 0.114*float64(q[2])
	}
	var l0 []float64
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			l0 = append(l0, luma(first, face.Point{X: x + 0.5, Y: y + 0.5}))
		}
	}
	slices.Sort(l0)
	dark := 0.5 * l0[len(l0)/2]
	open := make([]float64, len(frames))
	for i, fr := range frames {
		m := ft.toFace[min(i, len(ft.toFace)-1)]
		var sum float64
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				sum += min(max((dark-luma(fr, m(face.Point{X: x + 0.5, Y: y + 0.5})))/20+0.5, 0), 1)
				n++
			}
		}
		open[i] = sum / float64(n)
	}
	return open
}

// loudness returns the loudness of s (at speech.SampleRate) on each of n
// frames at fps: the RMS of its 800 to 3000 Hz band, where the mouth's
// opening shapes speech most.
func loudness(s []int16, fps, n int) []float64 {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v)
	}
	for range 2 {
		dsp.Butterworth(x, speech.SampleRate, 800, true)
		dsp.Butterworth(x, speech.SampleRate, 3000, false)
	}
	env := make([]float64, n)
	for i := range env {
		lo, hi := i*speech.SampleRate/fps, min((i+1)*speech.SampleRate/fps, len(x))
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
// within ±maxLag at which the Pearson correlation of a[i] and b[i+lag] is
// highest, and that correlation.
func peakCorrelation(a, b []float64, maxLag int) (int, float64) {
	best, bestLag := math.Inf(-1), 0
	for lag := -maxLag; lag <= maxLag; lag++ {
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
