package render

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"stillmotion/internal/prompt"
)

var gallery = flag.String("gallery", "", "write the docs' contact sheets into this directory")

// sheet draws the given frames of each renderer side by side, one row per
// renderer, each frame scaled to a cell of w x h.
func sheet(rows []*Renderer, frames []int) *image.RGBA {
	fw, fh := rows[0].fw, rows[0].fh
	gap := 4
	out := image.NewRGBA(image.Rect(0, 0, len(frames)*(fw+gap)-gap, len(rows)*(fh+gap)-gap))
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	for j, r := range rows {
		for k, i := range frames {
			dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
			r.Frame(i, dst)
			at := image.Pt(k*(fw+gap), j*(fh+gap))
			draw.Draw(out, image.Rectangle{at, at.Add(image.Pt(fw, fh))}, dst, image.Point{}, draw.Src)
		}
	}
	return out
}

func writePNG(t *testing.T, name string, img image.Image) {
	t.Helper()
	f, err := os.Create(filepath.Join(*gallery, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestGallery writes the contact sheets in docs/ when run with
// -gallery=../../docs: each style, grade and camera move on the test
// images, so that a reader can see what each does.
func TestGallery(t *testing.T) {
	if *gallery == "" {
		t.Skip("run with -gallery=DIR to write the contact sheets")
	}
	for _, name := range []string{"rocket.jpg", "coffee.png"} {
		img := loadImage(t, name)
		b := img.Bounds()
		fw, fh := FrameSize(b.Dx(), b.Dy(), 240)
		var rows []*Renderer
		for s := range numStyles {
			rows = append(rows, New(img, fw, fh, Shot{Move: ZoomIn, Style: s}, 48))
		}
		base := name[:len(name)-len(filepath.Ext(name))]
		writePNG(t, "styles-"+base+".png", sheet(rows, []int{0, 47}))

		rows = rows[:0]
		for g := range numGrades {
			gr := Grade(1 << g)
			rows = append(rows, New(img, fw, fh, Shot{Light: Light{From: gr, To: gr}}, 48))
		}
		rows = append(rows, New(img, fw, fh, Shot{Light: PlanLight(prompt.Read("as the sun sets", ""))}, 48))
		rows = append(rows, New(img, fw, fh, Shot{Light: PlanLight(prompt.Read("as night falls", ""))}, 48))
		writePNG(t, "light-"+base+".png", sheet(rows, []int{0, 47}))

		rows = rows[:0]
		aw, ah := FrameSize(b.Dx(), b.Dy(), 270)
		for e := range numEffects {
			rows = append(rows, New(img, aw, ah, Shot{Atmosphere: Atmosphere(1 << e), Seed: 1}, 48))
		}
		writePNG(t, "atmosphere-"+base+".png", sheet(rows, []int{0, 47}))
	}
	writePNG(t, "depth.png", depthSheet(t))

	img := loadImage(t, "rocket.jpg")
	b := img.Bounds()
	fw, fh := FrameSize(b.Dx(), b.Dy(), 144)
	var rows []*Renderer
	for mv := range numMoves {
		rows = append(rows, New(img, fw, fh, Shot{Move: mv}, 48))
	}
	rows = append(rows, New(img, fw, fh, Shot{Move: ZoomIn, Subject: Point{X: 0.3, Y: -0.2}}, 48))
	rows = append(rows, New(img, fw, fh, Shot{Move: Static, Shake: defaultShake * 3, Seed: 1}, 48))
	writePNG(t, "camera-rocket.png", sheet(rows, []int{0, 16, 23, 24, 47}))
}

// depthSheet draws the layers found without a face: for each shot, frames
// 0 and 47 (exaggerated moves, so the parallax shows) and the near layer's
// matte, white on black, as the renderer holds it, at the smallest size
// the service renders.
func depthSheet(t *testing.T) *image.RGBA {
	shots := []struct {
		image string
		shot  Shot
	}{
		{"rocket.jpg", Shot{Move: TruckRight, Amount: 0.3}},
		{"rocket.jpg", Shot{Move: OrbitLeft, Amount: 0.3}},
		{"rocket.jpg", Shot{Move: ZoomIn, Amount: 0.4}},
		{"coffee.png", Shot{Move: PanRight, Amount: 0.3}},
		{"coffee.png", Shot{Move: ZoomIn, Amount: 0.4}},
	}
	const fw, fh, gap = 640, 360, 4
	out := image.NewRGBA(image.Rect(0, 0, 3*(fw+gap)-gap, len(shots)*(fh+gap)-gap))
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	for j, s := range shots {
		r := New(loadImage(t, s.image), fw, fh, s.shot, 48)
		t.Logf("%s: %s", s.image, r.Shot().Description())
		for k, i := range []int{0, 47} {
			dst := image.NewRGBA(image.Rect(0, 0, fw, fh))
			r.Frame(i, dst)
			at := image.Pt(k*(fw+gap), j*(fh+gap))
			draw.Draw(out, image.Rectangle{at, at.Add(image.Pt(fw, fh))}, dst, image.Point{}, draw.Src)
		}
		// The matte over the frame-0 view of the prepared source.
		tx := &r.tex
		for y := range fh {
			for x := range fw {
				u := int(tx.ox + (float64(x)+0.5)/fw*tx.sx)
				v := int(tx.oy + (float64(y)+0.5)/fh*tx.sy)
				a := tx.pix[v*tx.stride+4*u+3]
				out.Set(2*(fw+gap)+x, j*(fh+gap)+y, color.Gray{Y: a})
			}
		}
	}
	return out
}
