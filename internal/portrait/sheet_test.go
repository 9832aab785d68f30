package portrait

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"stillmotion/internal/face"
	"stillmotion/internal/render"
)

var update = flag.Bool("update", false, "rewrite docs/mouth-shapes.png")

// sheetShapes are the contact sheet's columns.
var sheetShapes = []struct {
	name string
	m    Mouth
}{
	{"rest", Mouth{}},
	{"A (aa)", targets["aa"].m},
	{"O (ao)", targets["ao"].m},
	{"U/W (uw)", targets["uw"].m},
	{"E/I (iy)", targets["iy"].m},
	{"eh", targets["eh"].m},
	{"M/B/P", targets["b"].m},
	{"F/V", targets["f"].m},
}

// source prepares file for a static shot with short side short, as the
// engine does, and returns the renderer's source and the face in it. The
// image is first enlarged three times, as a photo larger than the frame
// would be, so that the source has the frame's resolution at every size
// (the renderer keeps a smaller image at its own size).
func source(t testing.TB, file string, short int) (*image.RGBA, face.Face) {
	t.Helper()
	small := load(t, file)
	img := image.NewRGBA(image.Rect(0, 0, 3*small.Bounds().Dx(), 3*small.Bounds().Dy()))
	xdraw.CatmullRom.Scale(img, img.Rect, small, small.Bounds(), xdraw.Src, nil)
	fw, fh := render.FrameSize(img.Bounds().Dx(), img.Bounds().Dy(), short)
	r := render.New(img, fw, fh, render.Shot{Move: render.Static}, 1)
	faces, err := face.Detect(img)
	if err != nil || len(faces) == 0 {
		t.Fatalf("no face in %s: %v", file, err)
	}
	f := faces[0].Map(func(p face.Point) face.Point {
		x, y := r.SourcePoint(p.X, p.Y)
		return face.Point{X: x, Y: y}
	})
	return r.Source(), f
}

func load(t testing.TB, file string) image.Image {
	t.Helper()
	r, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, _, err := image.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// posed returns a copy of src with the mouth in shape m and the eyes shut
// by blink.
func posed(src *image.RGBA, f face.Face, m Mouth, blink float64) *image.RGBA {
	a := New(src, f, Options{Frames: 1, FPS: 24})
	dst := image.NewRGBA(src.Rect)
	copy(dst.Pix, src.Pix)
	a.draw(&pose{mouth: m, blink: blink}, src, dst, src.Rect)
	return dst
}

// TestContactSheet draws the test portrait's mouth in each viseme at 360p
// and 1080p, and at 720p from the portrait with its lips closed; with
// -update it writes the sheet to docs/mouth-shapes.png.
func TestContactSheet(t *testing.T) {
	const cell = 200 // display width of a cell
	type row struct {
		label  string
		short  int
		closed bool // start from the portrait with its lips closed
	}
	rows := []row{{"360p", 360, false}, {"1080p", 1080, false}, {"closed", 720, true}}
	var cellH int
	var crops [][]image.Image
	for _, r := range rows {
		src, f := source(t, "astronaut-portrait.png", r.short)
		if r.closed {
			// The same face with closed lips, as the M/B/P shape draws
			// it: the other shapes then draw teeth and the inside of
			// the mouth that the image does not show.
			src = posed(src, f, Mouth{Press: 1}, 0)
			faces, err := face.Detect(src)
			if err != nil || len(faces) == 0 {
				t.Fatalf("no face in the closed-lips portrait: %v", err)
			}
			f = faces[0]
		}
		d := f.LeftEye.Dist(f.RightEye)
		mc := f.MouthLeft.Mid(f.MouthRight)
		box := image.Rect(int(mc.X-0.85*d), int(mc.Y-0.6*d), int(mc.X+0.85*d), int(mc.Y+0.9*d))
		var line []image.Image
		for _, s := range sheetShapes {
			img := posed(src, f, s.m, 0)
			line = append(line, img.SubImage(box))
		}
		crops = append(crops, line)
		cellH = cell * box.Dy() / box.Dx()
	}
	const labelH, margin = 18, 4
	w := 60 + len(sheetShapes)*(cell+margin)
	h := labelH + len(rows)*(cellH+margin)
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(sheet, sheet.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	text := func(s string, x, y int) {
		d := font.Drawer{Dst: sheet, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	for c, s := range sheetShapes {
		text(s.name, 60+c*(cell+margin)+4, 13)
	}
	for r, line := range crops {
		y := labelH + r*(cellH+margin)
		text(rows[r].label, 4, y+cellH/2)
		for c, img := range line {
			x := 60 + c*(cell+margin)
			scaleInto(sheet, image.Rect(x, y, x+cell, y+cellH), img)
		}
	}
	if *update {
		out := filepath.Join("..", "..", "docs", "mouth-shapes.png")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, sheet); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}

// scaleInto draws src into r of dst: enlarged with nearest neighbours, so a
// reader sees the real pixels, or reduced with a box filter.
func scaleInto(dst *image.RGBA, r image.Rectangle, src image.Image) {
	b := src.Bounds()
	k := float64(b.Dx()) / float64(r.Dx())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sx0 := float64(b.Min.X) + float64(x-r.Min.X)*k
			sy0 := float64(b.Min.Y) + float64(y-r.Min.Y)*k
			if k <= 1 {
				dst.Set(x, y, src.At(int(sx0), int(sy0)))
				continue
			}
			var s [3]float64
			n := 0.0
			for sy := int(sy0); sy < int(math.Ceil(sy0+k)); sy++ {
				for sx := int(sx0); sx < int(math.Ceil(sx0+k)); sx++ {
					c := color.RGBAModel.Convert(src.At(sx, sy)).(color.RGBA)
					s[0] += float64(c.R)
					s[1] += float64(c.G)
					s[2] += float64(c.B)
					n++
				}
			}
			dst.Set(x, y, color.RGBA{uint8(s[0]/n + 0.5), uint8(s[1]/n + 0.5), uint8(s[2]/n + 0.5), 255})
		}
	}
}
