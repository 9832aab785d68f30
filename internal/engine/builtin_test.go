package engine

import (
	"context"
	"encoding/base64"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/media"
	"stillmotion/internal/render"
)

func dataURI(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b)
}

func request(t testing.TB, file, speech string) *generation.Request {
	return &generation.Request{Model: generation.Model, Prompt: "slow push in toward the rocket", ImageURL: dataURI(t, file),
		Resolution: "720p", Duration: 5, Seed: 1, SeedGiven: true, Speech: speech, Speaker: "Oliver"}
}

const line = "Three, two, one. We have liftoff, and the vehicle has cleared the tower."

func TestRender(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.mp4")
	var mu sync.Mutex
	var seen []float64
	o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: request(t, "rocket.jpg", line), Out: out, Progress: func(p float64) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Width != 1080 || o.Height != 720 || o.Duration != 5 || o.FPS != 24 || !o.HasAudio || o.Plan == "" {
		t.Errorf("output %+v", o)
	}
	// The plan is the renderer's: it says what was separated.
	if !strings.Contains(o.Plan, "land before sky") {
		t.Errorf("plan %q does not say the rocket's land comes before its sky", o.Plan)
	}
	info, err := media.Probe(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 1080 || info.Height != 720 || !info.HasAudio {
		t.Errorf("probe %+v", info)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("progress went backwards: %v", seen)
		}
	}
	if len(seen) < 10 || seen[len(seen)-1] != 1 {
		t.Errorf("progress %v: want many steps ending at 1", seen)
	}
}

func TestRenderFailures(t *testing.T) {
	tests := []struct {
		name string
		eng  *Builtin
		req  *generation.Request
		want fault.Kind
	}{
		{"not an image", &Builtin{}, &generation.Request{ImageURL: "data:image/png;base64,aGVsbG8=", Resolution: "360p", Duration: 5}, fault.ImageInvalid},
		{"no ffmpeg", &Builtin{FFmpeg: "/nonexistent/ffmpeg"}, request(t, "rocket.jpg", ""), fault.Render},
		{"forbidden address", &Builtin{Intake: intake.Options{}}, &generation.Request{ImageURL: "http://127.0.0.1:9/a.png", Resolution: "360p", Duration: 5}, fault.ImageForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "o.mp4")
			_, err := tt.eng.Render(context.Background(), &generation.Task{Request: tt.req, Out: out})
			if fault.KindOf(err) != tt.want {
				t.Fatalf("err = %v, want kind %v", err, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed render left its output file")
			}
		})
	}
}

// TestRenderCancel cancels a render once its frames are being drawn and
// checks that it stops there: well before its last frame, with no file.
func TestRenderCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(t.TempDir(), "o.mp4")
	var mu sync.Mutex
	var reported []float64
	task := &generation.Task{
		Request: &generation.Request{ImageURL: dataURI(t, "rocket.jpg"), Resolution: "720p", Duration: 8, Seed: 2, Prompt: "zoom in"},
		Out:     out,
		Progress: func(p float64) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, p)
			if p > 0.15 { // frames are being written
				cancel()
			}
		},
	}
	_, err := (&Builtin{}).Render(ctx, task)
	if fault.KindOf(err) != fault.Cancelled {
		t.Fatalf("err = %v, want Cancelled", err)
	}
	mu.Lock()
	last := reported[len(reported)-1]
	mu.Unlock()
	// 192 frames: a render that went on after the cancel would report
	// far beyond the frame it was cancelled on.
	if last > 0.5 {
		t.Errorf("the render went on to %.0f%% after it was cancelled at 15%%", 100*last)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled render left its output file")
	}
}

// BenchmarkRender720p5s is the headline figure: a 5 s 720p clip with a
// camera move and speech, from request to MP4, with the time of each stage.
func BenchmarkRender720p5s(b *testing.B) {
	benchRender(b, request(b, "rocket.jpg", line))
}

// benchRender renders req repeatedly and reports the mean time of each
// stage beside the total.
func benchRender(b *testing.B, req *generation.Request) {
	out := filepath.Join(b.TempDir(), "o.mp4")
	var tm Timings
	for b.Loop() {
		_, t, err := (&Builtin{}).RenderTimed(context.Background(), req, out, nil)
		if err != nil {
			b.Fatal(err)
		}
		tm.Intake += t.Intake
		tm.Speech += t.Speech
		tm.Face += t.Face
		tm.Encode += t.Encode
	}
	n := float64(b.N)
	b.ReportMetric(float64(tm.Intake.Milliseconds())/n, "decode-ms")
	b.ReportMetric(float64(tm.Speech.Milliseconds())/n, "speech-ms")
	b.ReportMetric(float64(tm.Face.Milliseconds())/n, "face-ms")
	b.ReportMetric(float64(tm.Encode.Milliseconds())/n, "frames+encode-ms")
}

// BenchmarkFrames720p5s draws the 120 frames of the same clip without
// encoding, on all cores, to split "frames+encode".
func BenchmarkFrames720p5s(b *testing.B) {
	img, err := intake.Load(context.Background(), dataURI(b, "rocket.jpg"), intake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	fw, fh := render.FrameSize(img.Bounds().Dx(), img.Bounds().Dy(), 720)
	shot := render.Plan("slow push in toward the rocket", "", 1)
	for b.Loop() {
		r := render.New(img, fw, fh, shot, 120)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
				for i := w; i < 120; i += workers {
					r.Frame(i, dst)
				}
			}()
		}
		wg.Wait()
	}
}
