package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	_ "image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/render"
)

// writeWAV writes seconds of 16-bit mono PCM at rate to path: silence, or
// with speech, a voice-like signal (harmonics of a wandering pitch in
// syllable-long bursts, with some noise) that costs the AAC encoder about
// what speech does.
func writeWAV(tb testing.TB, path string, seconds float64, rate int, speech bool) {
	tb.Helper()
	n := int(math.Round(seconds * float64(rate)))
	data := make([]byte, 44+2*n)
	copy(data[0:], "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1) // PCM
	binary.LittleEndian.PutUint16(data[22:], 1) // mono
	binary.LittleEndian.PutUint32(data[24:], uint32(rate))
	binary.LittleEndian.PutUint32(data[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(data[32:], 2)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(2*n))
	if speech {
		rng := rand.New(rand.NewPCG(1, 2))
		phase := 0.0
		for i := range n {
			t := float64(i) / float64(rate)
			f0 := 140 + 30*math.Sin(2*math.Pi*0.7*t)
			phase += 2 * math.Pi * f0 / float64(rate)
			env := math.Max(0, math.Sin(2*math.Pi*3.5*t)) // syllables
			var v float64
			for h := 1.0; h <= 12; h++ {
				v += math.Sin(h*phase) / h
			}
			v = 0.25*env*v + 0.03*env*(rng.Float64()*2-1)
			binary.LittleEndian.PutUint16(data[44+2*i:], uint16(int16(v*32767)))
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// moving draws a test pattern that moves 4 pixels a frame.
func moving(i int, dst *image.RGBA) {
	b := dst.Rect
	for y := range b.Dy() {
		row := dst.Pix[y*dst.Stride:]
		for x := range b.Dx() {
			p := row[4*x : 4*x+4]
			p[0] = uint8(x + 4*i)
			p[1] = uint8(y * 2)
			p[2] = uint8((x + 4*i) ^ y)
			p[3] = 255
		}
	}
}

// entries returns the names in dir.
func entries(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name    string
		seconds float64 // the WAV's length; 0 means no WAV
		rate    int
	}{
		{"exact length at 48 kHz", 2, 48000},
		{"short speech at 16 kHz is padded", 0.7, 16000},
		{"long speech at 22.05 kHz is cut", 3.1, 22050},
		{"no audio file gives silence", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			spec := Spec{Width: 320, Height: 240, FPS: 24, Frames: 48}
			if tt.seconds > 0 {
				spec.AudioWAV = filepath.Join(dir, "audio.wav")
				writeWAV(t, spec.AudioWAV, tt.seconds, tt.rate, true)
			}
			out := filepath.Join(dir, "out.mp4")
			var calls, last atomic.Int64
			err := Encode(context.Background(), spec, moving, out, func(done, total int) {
				calls.Add(1)
				if total != 48 || int64(done) <= last.Load() {
					t.Errorf("progress(%d, %d) after %d", done, total, last.Load())
				}
				last.Store(int64(done))
			})
			if err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 48 || last.Load() != 48 {
				t.Errorf("progress called %d times, last with %d; want 48 and 48", calls.Load(), last.Load())
			}
			info, err := probe(context.Background(), out, true)
			if err != nil {
				t.Fatal(err)
			}
			if info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || info.Width != 320 || info.Height != 240 {
				t.Errorf("video %s %s %dx%d, want h264 yuv420p 320x240", info.VideoCodec, info.PixFmt, info.Width, info.Height)
			}
			if info.Frames != 48 || info.FPS != 24 {
				t.Errorf("%d frames at %v fps, want 48 at 24", info.Frames, info.FPS)
			}
			if math.Abs(info.Duration-2) > 1.0/24 {
				t.Errorf("duration %.3f s, want 2 s within one frame", info.Duration)
			}
			if !info.HasAudio || info.AudioCodec != "aac" || info.AudioRate != 48000 {
				t.Errorf("audio %v %q %d Hz, want aac at 48000 Hz", info.HasAudio, info.AudioCodec, info.AudioRate)
			}
			for _, name := range entries(t, dir) {
				if name != "out.mp4" && name != "audio.wav" {
					t.Errorf("file %s left behind", name)
				}
			}
		})
	}
}

func TestEncodeBitExact(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	writeWAV(t, wav, 2, 48000, true)
	spec := Spec{Width: 320, Height: 240, FPS: 24, Frames: 48, AudioWAV: wav}
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, "out"+string(rune('a'+i))+".mp4")
		if err := Encode(context.Background(), spec, moving, out, nil); err != nil {
			t.Fatal(err)
		}
		var err error
		if files[i], err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Errorf("two encodings of the same input differ (%d and %d bytes)", len(files[0]), len(files[1]))
	}
	if got := entries(t, dir); len(got) != 3 {
		t.Errorf("directory holds %v, want the WAV and two videos only", got)
	}
}

// TestEncodeBoundedWindow checks that frames are drawn at most a small
// window ahead of the one written, so that memory does not grow with the
// number of frames, and that few distinct buffers are used.
func TestEncodeBoundedWindow(t *testing.T) {
	var written atomic.Int64
	var mu sync.Mutex
	ahead := 0
	bufs := make(map[*image.RGBA]bool)
	frame := func(i int, dst *image.RGBA) {
		mu.Lock()
		ahead = max(ahead, i-int(written.Load()))
		bufs[dst] = true
		mu.Unlock()
		moving(i, dst)
	}
	out := filepath.Join(t.TempDir(), "out.mp4")
	err := Encode(context.Background(), Spec{Width: 64, Height: 64, Frames: 240}, frame, out, func(done, _ int) {
		written.Store(int64(done))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drew at most %d frames ahead of the last written, in %d buffers", ahead, len(bufs))
	if limit := 2 * runtime.GOMAXPROCS(0); ahead > limit {
		t.Errorf("drew frame %d ahead of the last written, want at most %d", ahead, limit)
	}
	if len(bufs) > 60 {
		t.Errorf("used %d buffers for 240 frames, want a few reused", len(bufs))
	}
}

func TestEncodeCancel(t *testing.T) {
	tests := []struct {
		name string
		want fault.Kind
	}{
		{"cancel", fault.Cancelled},
		{"deadline", fault.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stopped time.Time
			stop := func(done, _ int) {
				if done == 24 {
					stopped = time.Now()
					cancel()
				}
			}
			if tt.want == fault.Timeout {
				var c2 context.CancelFunc
				ctx, c2 = context.WithDeadline(ctx, time.Now().Add(300*time.Millisecond))
				defer c2()
				stop = nil
			}
			spec := Spec{Width: 320, Height: 240, Frames: 24 * 600} // ten minutes: far longer than the test
			err := Encode(ctx, spec, moving, filepath.Join(dir, "out.mp4"), stop)
			if stopped.IsZero() {
				stopped = time.Now()
			}
			if fault.KindOf(err) != tt.want {
				t.Fatalf("Encode = %v, want a %v fault", err, tt.want)
			}
			if d := time.Since(stopped); d > 2*time.Second {
				t.Errorf("Encode returned %v after the context ended, want promptly", d)
			}
			if names := entries(t, dir); len(names) != 0 {
				t.Errorf("files left behind: %v", names)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	dir := t.TempDir()
	notWAV := filepath.Join(dir, "not.wav")
	if err := os.WriteFile(notWAV, []byte("this is not a WAV file"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		spec      Spec
		kind      fault.Kind
		message   string // the client message
		errSubstr string // in the cause, for the log
	}{
		{
			name:    "missing program",
			spec:    Spec{Width: 64, Height: 64, Frames: 24, Program: filepath.Join(dir, "no-such-ffmpeg")},
			kind:    fault.Render,
			message: "ffmpeg not found; install it with: apt-get install ffmpeg",
		},
		{
			name:      "bad audio file",
			spec:      Spec{Width: 64, Height: 64, Frames: 24, AudioWAV: notWAV},
			kind:      fault.Render,
			message:   "encoding the video failed",
			errSubstr: "Invalid data",
		},
		{
			name: "odd size",
			spec: Spec{Width: 63, Height: 64, Frames: 24},
			kind: fault.Internal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.mp4")
			err := Encode(context.Background(), tt.spec, moving, out, nil)
			if fault.KindOf(err) != tt.kind {
				t.Fatalf("Encode = %v, want a %v fault", err, tt.kind)
			}
			if tt.message != "" && fault.MessageOf(err) != tt.message {
				t.Errorf("client message %q, want %q", fault.MessageOf(err), tt.message)
			}
			var fe *fault.Error
			if tt.errSubstr != "" && (!errors.As(err, &fe) || fe.Err == nil || !strings.Contains(fe.Err.Error(), tt.errSubstr)) {
				t.Errorf("Encode = %v, want ffmpeg's %q in the cause", err, tt.errSubstr)
			}
			if names := entries(t, dir); len(names) != 1 {
				t.Errorf("files left behind: %v", names)
			}
		})
	}
}

// decodeTestdata decodes the image testdata/name.
func decodeTestdata(tb testing.TB, name string) image.Image {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// encode720p renders and encodes 5 s of 1280x720 with a zoom in through
// render.Renderer, as a generation does.
func encode720p(tb testing.TB, dir, wav string) {
	src := decodeTestdata(tb, "rocket.jpg")
	const frames = 5 * 24
	r := render.New(src, 1280, 720, render.Plan("slow zoom in", "", 1), frames)
	spec := Spec{Width: 1280, Height: 720, FPS: 24, Frames: frames, AudioWAV: wav}
	if err := Encode(context.Background(), spec, r.Frame, filepath.Join(dir, "out.mp4"), nil); err != nil {
		tb.Fatal(err)
	}
}

// TestEncode720p5s reports the headline figure: the wall time to render
// and encode 5 s of 720p with speech.
func TestEncode720p5s(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	writeWAV(t, wav, 5, 48000, true)
	start := time.Now()
	encode720p(t, dir, wav)
	t.Logf("5 s of 1280x720 (zoom in, speech) rendered and encoded in %v", time.Since(start).Round(time.Millisecond))
	info, err := Probe(context.Background(), filepath.Join(dir, "out.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != 120 || info.Width != 1280 || info.Height != 720 || !info.HasAudio {
		t.Errorf("Probe = %+v, want 120 frames of 1280x720 with audio", info)
	}
}

func BenchmarkEncode720p5s(b *testing.B) {
	for _, speech := range []bool{false, true} {
		name := "silence"
		if speech {
			name = "speech"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			wav := filepath.Join(dir, "audio.wav")
			writeWAV(b, wav, 5, 48000, speech)
			for b.Loop() {
				encode720p(b, dir, wav)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/video")
		})
	}
}

func TestFFmpegFailed(t *testing.T) {
	exit := errors.New("exit status 1")
	for _, tt := range []struct {
		stderr string
		want   fault.Kind
	}{
		{"[out#0/mp4 @ 0x1] Error writing trailer: No space left on device", fault.StorageFull},
		{"Unknown encoder 'libx264'", fault.Render},
	} {
		if k := fault.KindOf(ffmpegFailed(exit, tt.stderr)); k != tt.want {
			t.Errorf("%q: %v, want %v", tt.stderr, k, tt.want)
		}
	}
}
