package engine

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

// TestRenderFaces checks how a render treats the face in its image: with
// speech and no face, the clip still renders and says so in a warning;
// without speech there is nothing to warn about.
func TestRenderFaces(t *testing.T) {
	tests := []struct {
		name   string
		image  string
		speech string
		want   []string
	}{
		{"talking portrait", "astronaut-portrait.png", "Good morning.", nil},
		{"silent portrait", "astronaut-portrait.png", "", nil},
		{"speech without a face", "rocket.jpg", "Good morning.", []string{noFace}},
		{"no speech, no face", "rocket.jpg", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := &generation.Request{Model: generation.Model, Prompt: "zoom in", ImageURL: dataURI(t, tt.image),
				Resolution: "360p", Duration: 5, Seed: 4, SeedGiven: true, Speech: tt.speech, Speaker: "Julia"}
			o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: filepath.Join(t.TempDir(), "o.mp4")})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Warnings, tt.want) {
				t.Errorf("warnings %q, want %q", o.Warnings, tt.want)
			}
		})
	}
}

// TestTalkingDeterministic renders the same talking request twice: the
// files must be identical, face, blinks and all.
func TestTalkingDeterministic(t *testing.T) {
	req := &generation.Request{Model: generation.Model, Prompt: "slow pan left", ImageURL: dataURI(t, "astronaut-portrait.png"),
		Resolution: "360p", Duration: 5, Seed: 11, SeedGiven: true, Speech: "We will arrive at nine.", Speaker: "Mason"}
	dir := t.TempDir()
	var files [][]byte
	for i := range 2 {
		out := filepath.Join(dir, string(rune('a'+i))+".mp4")
		if _, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two renders of the same request differ")
	}
}

// BenchmarkTalking720p5s is BenchmarkRender720p5s for a talking portrait:
// a 5 s 720p clip of astronaut-portrait.png (512x640, so 720x900 frames)
// with a push in, speech, a talking mouth, blinks, head motion and
// breathing.
func BenchmarkTalking720p5s(b *testing.B) {
	req := request(b, "astronaut-portrait.png", line)
	req.Prompt = "slow push in on her face"
	benchRender(b, req)
}

// BenchmarkTalking1080p5s is BenchmarkTalking720p5s at 1080p (1080x1350
// frames), which should take less than the clip's 5 s.
func BenchmarkTalking1080p5s(b *testing.B) {
	req := request(b, "astronaut-portrait.png", line)
	req.Prompt = "slow push in on her face"
	req.Resolution = "1080p"
	benchRender(b, req)
}

// BenchmarkTalkingFrames720p5s draws the 120 frames of the talking clip
// without encoding, on all cores, to split BenchmarkTalking720p5s's
// "frames+encode"; set-up (face, shot, animation) is included, speech is
// not.
func BenchmarkTalkingFrames720p5s(b *testing.B) {
	img, err := intake.Load(context.Background(), dataURI(b, "astronaut-portrait.png"), intake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	audio, err := (&speech.Flite{}).Synthesize(context.Background(), line, "Oliver")
	if err != nil {
		b.Fatal(err)
	}
	req := request(b, "astronaut-portrait.png", line)
	req.Prompt = "slow push in on her face"
	fw, fh := render.FrameSize(img.Bounds().Dx(), img.Bounds().Dy(), 720)
	for b.Loop() {
		faces, err := face.Detect(img)
		if err != nil {
			b.Fatal(err)
		}
		// The shot the engine plans: the face makes the figure a layer.
		r := render.New(img, fw, fh, planShot(req, 120, hint(img, faces, fw, fh)), 120)
		animate(r, faces, audio, 1, 120)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Go(func() {
				dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
				for i := w; i < 120; i += workers {
					r.Frame(i, dst)
				}
			})
		}
		wg.Wait()
	}
}
