package face

import (
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pigo "github.com/esimov/pigo/core"
	xdraw "golang.org/x/image/draw"
)

func readImage(t testing.TB, name string) *image.RGBA {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(dst, dst.Rect, img, img.Bounds().Min, draw.Src)
	return dst
}

// flip returns img mirrored left to right.
func flip(img *image.RGBA) *image.RGBA {
	w := img.Rect.Dx()
	dst := image.NewRGBA(img.Rect)
	for y := range img.Rect.Dy() {
		for x := range w {
			copy(dst.Pix[dst.PixOffset(x, y):][:4], img.Pix[img.PixOffset(w-1-x, y):][:4])
		}
	}
	return dst
}

// scale returns img resized by k.
func scale(img *image.RGBA, k float64) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, int(float64(img.Rect.Dx())*k), int(float64(img.Rect.Dy())*k)))
	xdraw.CatmullRom.Scale(dst, dst.Rect, img, img.Rect, xdraw.Src, nil)
	return dst
}

// Landmarks of the test portraits, read off the images by eye.
var (
	portrait = Face{
		LeftEye: Point{207, 163}, RightEye: Point{294, 167},
		MouthLeft: Point{207, 238}, MouthRight: Point{289, 241},
		LipTop: Point{248, 241}, LipBottom: Point{248, 268},
	}
	astronaut = Face{
		LeftEye: Point{204, 102}, RightEye: Point{247, 104},
		MouthLeft: Point{204, 139}, MouthRight: Point{245, 141},
		LipTop: Point{224, 140}, LipBottom: Point{224, 154},
	}
)

// mirror maps a face in an image w pixels wide to its mirror image.
func mirror(f Face, w float64) Face {
	f = f.Map(func(p Point) Point { return Point{w - p.X, p.Y} })
	f.LeftEye, f.RightEye = f.RightEye, f.LeftEye
	f.MouthLeft, f.MouthRight = f.MouthRight, f.MouthLeft
	return f
}

func TestDetect(t *testing.T) {
	p := readImage(t, "astronaut-portrait.png")
	tests := []struct {
		name string
		img  *image.RGBA
		want *Face // nil: no face
	}{
		{"portrait", p, &portrait},
		{"portrait mirrored", flip(p), ptr(mirror(portrait, 512))},
		{"portrait at half size", scale(p, 0.5), ptr(portrait.Map(func(q Point) Point { return q.Mul(0.5) }))},
		{"portrait at 1.7x", scale(p, 1.7), ptr(portrait.Map(func(q Point) Point { return q.Mul(1.7) }))},
		{"astronaut", readImage(t, "astronaut.png"), &astronaut},
		{"coffee", readImage(t, "coffee.png"), nil},
		{"rocket", readImage(t, "rocket.jpg"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faces, err := Detect(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(faces) > 0 {
					t.Fatalf("found %d faces, want none: %+v", len(faces), faces)
				}
				return
			}
			if len(faces) == 0 {
				t.Fatal("no face found")
			}
			f := faces[0]
			if f.Guessed {
				t.Error("landmarks were guessed")
			}
			// Within 6% of the eyes' distance, a couple of pixels on the
			// portrait's lips.
			tol := 0.06 * tt.want.LeftEye.Dist(tt.want.RightEye)
			for _, c := range []struct {
				name      string
				got, want Point
			}{
				{"left eye", f.LeftEye, tt.want.LeftEye},
				{"right eye", f.RightEye, tt.want.RightEye},
				{"left mouth corner", f.MouthLeft, tt.want.MouthLeft},
				{"right mouth corner", f.MouthRight, tt.want.MouthRight},
				{"lip top", f.LipTop, tt.want.LipTop},
				{"lip bottom", f.LipBottom, tt.want.LipBottom},
			} {
				if d := c.got.Dist(c.want); d > tol {
					t.Errorf("%s at (%.1f, %.1f), want (%.0f, %.0f) ± %.1f", c.name, c.got.X, c.got.Y, c.want.X, c.want.Y, tol)
				}
			}
		})
	}
}

func ptr(f Face) *Face { return &f }

// TestSpeaker checks which of several faces Detect puts first: the
// largest, unless it is much further from the centre.
func TestSpeaker(t *testing.T) {
	p := readImage(t, "astronaut-portrait.png")
	canvas := func(w, h int, faces ...image.Rectangle) *image.RGBA {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(c, c.Rect, image.NewUniform(color.RGBA{200, 205, 210, 255}), image.Point{}, draw.Src)
		for _, r := range faces {
			xdraw.CatmullRom.Scale(c, r, p, p.Rect, xdraw.Src, nil)
		}
		return c
	}
	tests := []struct {
		name  string
		img   *image.RGBA
		faces int
		near  Point // the first face's centre lies near here
	}{
		{"large beside small", canvas(1200, 700, image.Rect(60, 100, 60+256, 100+320), image.Rect(500, 40, 500+512, 40+640)), 2, Point{750, 230}},
		{"equal sizes, one central", canvas(1200, 700, image.Rect(0, 0, 410, 512), image.Rect(395, 100, 395+410, 100+512)), 2, Point{600, 250}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faces, err := Detect(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != tt.faces {
				t.Fatalf("found %d faces, want %d: %+v", len(faces), tt.faces, faces)
			}
			if d := faces[0].Center.Dist(tt.near); d > 0.3*faces[0].Size {
				t.Errorf("first face at (%.0f, %.0f), want near (%.0f, %.0f)", faces[0].Center.X, faces[0].Center.Y, tt.near.X, tt.near.Y)
			}
		})
	}
}

// TestDetectDeterministic checks that the same image gives the same faces
// to the bit, which pigo's own landmark search (randomly perturbed) does not.
func TestDetectDeterministic(t *testing.T) {
	img := readImage(t, "astronaut.png")
	a, err := Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("detections differ:\n%+v\n%+v", a, b)
		}
	}
}

// TestLocatorMatchesPigo checks the landmark cascade evaluator against
// pigo's: with many perturbations pigo's random answers settle within a
// pixel or two of the median that locator computes.
func TestLocatorMatchesPigo(t *testing.T) {
	img := readImage(t, "astronaut-portrait.png")
	g, _ := grayOf(img)
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	plc, err := pigo.NewPuplocCascade().UnpackCascade(lp84Data)
	if err != nil {
		t.Fatal(err)
	}
	params := pigo.ImageParams{Pixels: g.pix, Rows: g.h, Cols: g.w, Dim: g.w}
	for _, mirror := range []bool{false, true} {
		start := Point{255, 190}
		ours := c.mouthCorner.locate(g, start, 260, mirror)
		theirs := plc.RunDetector(pigo.Puploc{Row: 190, Col: 255, Scale: 260, Perturbs: 63}, params, 0, mirror)
		if d := ours.Dist(Point{float64(theirs.Col), float64(theirs.Row)}); d > 3 {
			t.Errorf("mirror %v: locator at (%.1f, %.1f), pigo at (%d, %d)", mirror, ours.X, ours.Y, theirs.Col, theirs.Row)
		}
	}
}

func TestMap(t *testing.T) {
	f := portrait
	f.Size = 220
	g := f.Map(func(p Point) Point { return Point{2*p.X + 10, 2*p.Y - 4} })
	if g.LeftEye != (Point{424, 322}) || g.Size != 440 {
		t.Errorf("mapped %+v", g)
	}
	if r := (Face{Center: Point{10.5, 20}, Size: 5}).Rect(); r != image.Rect(8, 17, 13, 23) {
		t.Errorf("Rect = %v", r)
	}
}

func TestTinyImages(t *testing.T) {
	for _, r := range []image.Rectangle{{}, image.Rect(0, 0, 1, 1), image.Rect(5, 5, 20, 20)} {
		faces, err := Detect(image.NewRGBA(r))
		if err != nil || len(faces) != 0 {
			t.Errorf("%v: %v, %v", r, faces, err)
		}
	}
}

func TestGrayOfTransparentIsWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	g, k := grayOf(img)
	if k != 1 || g.w != 40 || g.h != 30 {
		t.Fatalf("size %dx%d, k %d", g.w, g.h, k)
	}
	for _, v := range g.pix {
		if v != 255 {
			t.Fatalf("transparent pixel has luma %d, want 255", v)
		}
	}
	big := image.NewRGBA(image.Rect(0, 0, 2000, 1500))
	if g, k := grayOf(big); k != 3 || g.w != 666 || g.h != 500 || g.pix[0] != 255 {
		t.Errorf("reduced to %dx%d by %d", g.w, g.h, k)
	}
}

func BenchmarkDetect(b *testing.B) {
	img := readImage(b, "astronaut-portrait.png")
	for b.Loop() {
		if _, err := Detect(img); err != nil {
			b.Fatal(err)
		}
	}
}
