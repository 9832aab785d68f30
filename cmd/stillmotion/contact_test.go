package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderContactSheet checks that render --contact-sheet without -o
// writes a PNG grid of the clip's frames, and that the frames of a moving
// shot differ.
func TestRenderContactSheet(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sheet.png")
	_, stderr, code := run(t, nil, "render", "--image", "testdata/astronaut.png", "--prompt", "zoom in",
		"--resolution", "360p", "--seed", "2", "--contact-sheet", name, "--sheet-frames", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "zoom in") {
		t.Errorf("summary does not say what was drawn: %s", stderr)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// astronaut.png is square: 360x360 tiles, three to a row, two rows.
	const tile, gap = 360, 4
	if b := img.Bounds(); b.Dx() != 3*tile+2*gap || b.Dy() != 2*tile+gap {
		t.Fatalf("sheet is %v, want %dx%d", b, 3*tile+2*gap, 2*tile+gap)
	}
	diff := func(a, b image.Point) float64 {
		var d float64
		for y := 0; y < tile; y += 3 {
			for x := 0; x < tile; x += 3 {
				r0, g0, b0, _ := img.At(a.X+x, a.Y+y).RGBA()
				r1, g1, b1, _ := img.At(b.X+x, b.Y+y).RGBA()
				d += abs(int(r0)-int(r1)) + abs(int(g0)-int(g1)) + abs(int(b0)-int(b1))
			}
		}
		return d / float64(tile*tile/9) / 3 / 257
	}
	first, last := image.Pt(0, 0), image.Pt(tile+gap, tile+gap)
	if d := diff(first, last); d < 3 {
		t.Errorf("first and last tiles differ by %.2f levels on average; want a moving shot", d)
	}
}

// TestRenderVideoAndContactSheet checks that with -o the video is written
// as well as the sheet.
func TestRenderVideoAndContactSheet(t *testing.T) {
	dir := t.TempDir()
	out, name := filepath.Join(dir, "clip.mp4"), filepath.Join(dir, "sheet.png")
	_, stderr, code := run(t, nil, "render", "--image", "testdata/rocket.jpg", "--prompt", "dolly zoom",
		"--resolution", "360p", "--seed", "1", "-o", out, "--contact-sheet", name, "--sheet-frames", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkVideo(t, out, 540, 360, 5)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 2*540+4 || cfg.Height != 360 {
		t.Errorf("sheet is %dx%d, want %dx360", cfg.Width, cfg.Height, 2*540+4)
	}
}

func abs(x int) float64 {
	if x < 0 {
		return float64(-x)
	}
	return float64(x)
}
