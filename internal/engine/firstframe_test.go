package engine

import (
	"context"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"stillmotion/internal/generation"
	"stillmotion/internal/psnr"
	"stillmotion/internal/render"
)

// TestFirstFrameIsTheImage: image_url is "the first frame of the video".
// Whatever the prompt asks of light, weather and effects, frame 0 is the
// picture as it is (a style excepted), and they grow in after it.
func TestFirstFrameIsTheImage(t *testing.T) {
	prompts := []string{
		"golden hour", "warm evening light at sunset", "magic hour", "at dusk", "blue hour", "at night under moonlight",
		"moody and overcast", "noir", "neon lights", "synthwave", "vintage old film", "sepia", "black and white",
		"monochrome", "high contrast", "dramatic lighting", "the sun sets", "night falls", "dawn breaks", "the lights come on",
		"rain", "heavy rain storm with lightning", "thunderstorm", "snow falling", "dust motes", "embers and sparks from a campfire",
		"fireflies", "cherry blossoms falling", "thick fog", "mist and haze", "smoke", "god rays through the trees",
		"sunbeams", "volumetric lighting", "lens flare", "anamorphic flares", "a calm lake", "waves on the sea",
		"clouds drifting across the sky", "wind in the trees", "swaying grass in a breeze", "hair blowing in the wind",
		"golden hour, fog, rain, lens flare and god rays over the sea as the sun sets, handheld, slow zoom in",
	}
	img := dataURI(t, "rocket.jpg")
	f, err := os.Open(filepath.Join("testdata", "rocket.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	w, h := render.FrameSize(cfg.Width, cfg.Height, 360)
	b := &Builtin{}
	first := func(t *testing.T, prompt string) *image.RGBA {
		t.Helper()
		r, _, err := b.Renderer(context.Background(), &generation.Request{Prompt: prompt, ImageURL: img, Resolution: "360p", Duration: 5, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		r.Frame(0, dst)
		return dst
	}
	// Frame 0 of a plain shot is the input scaled to the frame (the
	// renderer's own tests hold it to 35 dB).
	want := first(t, "a photo")
	for _, p := range prompts {
		t.Run(p, func(t *testing.T) {
			if got := psnr.RGB(want, first(t, p)); got < 35 {
				t.Errorf("frame 0: PSNR %.1f dB against the picture, want >= 35", got)
			}
		})
	}
	t.Run("a style keeps its exception", func(t *testing.T) {
		r, _, err := b.Renderer(context.Background(), &generation.Request{Prompt: "golden hour", Style: "anime", ImageURL: img, Resolution: "360p", Duration: 5, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		r.Frame(0, dst)
		if got := psnr.RGB(want, dst); got >= 35 {
			t.Errorf("frame 0 of an anime clip: PSNR %.1f dB, want the style to show", got)
		}
	})
}
