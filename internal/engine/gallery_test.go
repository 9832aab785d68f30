package engine

import (
	"context"
	"flag"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/render"
)

var gallery = flag.String("gallery", "", "write the docs' contact sheets into this directory")

// TestGalleryParallax writes docs/parallax-portrait.png when run with
// -gallery=../../docs: a push in on the test portrait as planned from its
// face, whose figure comes forward from the background, at frames 0, 24
// and 47 of 48, exaggerated (1.3x) so that the parallax shows.
func TestGalleryParallax(t *testing.T) {
	if *gallery == "" {
		t.Skip("run with -gallery=DIR to write the contact sheet")
	}
	img, err := intake.Load(context.Background(), dataURI(t, "astronaut-portrait.png"), intake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faces, err := face.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	fw, fh := render.FrameSize(img.Bounds().Dx(), img.Bounds().Dy(), 360)
	s := planShot(&generation.Request{Prompt: "a portrait", Seed: 1}, 48, hint(img, faces, fw, fh))
	s.Amount = 0.3
	r := render.New(img, fw, fh, s, 48)
	t.Log(s.Description())
	out := image.NewRGBA(image.Rect(0, 0, 3*fw+8, fh))
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	for k, i := range []int{0, 24, 47} {
		dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
		r.Frame(i, dst)
		draw.Draw(out, image.Rect(k*(fw+4), 0, k*(fw+4)+fw, fh), dst, image.Point{}, draw.Src)
	}
	f, err := os.Create(filepath.Join(*gallery, "parallax-portrait.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, out); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
