package lipsync

import (
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/media"
)

// loadImage decodes a test image as RGBA.
func loadImage(t testing.TB, name string) *image.RGBA {
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
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			o := out.PixOffset(x, y)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), 255
		}
	}
	return out
}

// cameraMove is a known motion of a photo: on frame i of n, the map from
// the photo's pixels to the frame's. It zooms in by a quarter, pans a
// little and rolls by up to 3 degrees, back and forth, as a hand-held
// camera following a swaying head would.
func cameraMove(i, n int, photo image.Rectangle, fw, fh int) affine {
	t := float64(i) / float64(n-1)
	s := 0.85 * (1 + 0.25*t) * float64(fh) / float64(photo.Dy())
	th := 3 * math.Pi / 180 * math.Sin(2*math.Pi*1.3*t)
	c := face.Point{X: float64(photo.Dx()) / 2, Y: float64(photo.Dy()) * 0.4}
	shift := face.Point{X: 0.06 * float64(fw) * math.Sin(2*math.Pi*0.8*t), Y: 0.04 * float64(fh) * math.Cos(2*math.Pi*1.1*t)}
	sin, cos := math.Sincos(th)
	rot := affine{s * cos, -s * sin, 0, s * sin, s * cos, 0}
	return translation(face.Point{X: -c.X, Y: -c.Y}).then(rot).then(translation(face.Point{X: float64(fw)/2 + shift.X, Y: float64(fh)*0.42 + shift.Y}))
}

// moveVideo writes an MP4 of n frames of photo moved by cameraMove.
func moveVideo(t testing.TB, photo *image.RGBA, fw, fh, n int, out string) {
	t.Helper()
	err := media.Encode(context.Background(), media.Spec{Width: fw, Height: fh, FPS: 24, Frames: n}, func(i int, dst *image.RGBA) {
		back := cameraMove(i, n, photo.Rect, fw, fh).inverse()
		for y := range fh {
			for x := range fw {
				q := back.apply(face.Point{X: float64(x) + 0.5, Y: float64(y) + 0.5})
				c := sample(photo, q.X, q.Y)
				o := dst.PixOffset(x, y)
				dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(c[0]+0.5), uint8(c[1]+0.5), uint8(c[2]+0.5), 255
			}
		}
	}, out, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// TestTrackKnownMotion tracks the face through a video of the test
// portrait moved by a known camera motion (zoom, pan and roll) and checks
// where the track puts the mouth on every frame against where the motion
// put it: the reference frame's mouth mapped by the track to each frame.
func TestTrackKnownMotion(t *testing.T) {
	photo := loadImage(t, "astronaut-portrait.png")
	faces, err := face.Detect(photo)
	if err != nil || len(faces) == 0 {
		t.Fatalf("no face in the test portrait: %v", err)
	}
	mouth := faces[0].MouthLeft.Mid(faces[0].MouthRight)
	const fw, fh, n = 432, 540, 96
	video := filepath.Join(t.TempDir(), "move.mp4")
	moveVideo(t, photo, fw, fh, n, video)

	ctx := context.Background()
	info, err := media.ProbeVideo(ctx, video)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	tr, err := trackFace(ctx, video, info, 24, n, 30*time.Second, "", func(float64) {})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(t0)
	if len(tr.warps) != n {
		t.Fatalf("%d frames tracked, want %d", len(tr.warps), n)
	}
	maps := tr.fullMaps(tr.ref)
	at := cameraMove(tr.ref, n, photo.Rect, fw, fh).apply(mouth)
	var errs []float64
	for i := range n {
		if !tr.ok[i] {
			t.Errorf("frame %d: face lost (ncc %.2f)", i, tr.ncc[i])
			continue
		}
		want := cameraMove(i, n, photo.Rect, fw, fh).apply(mouth)
		errs = append(errs, maps[i].apply(at).Dist(want))
	}
	mean := 0.0
	for _, e := range errs {
		mean += e
	}
	mean /= float64(len(errs))
	worst := slices.Max(errs)
	d := faces[0].LeftEye.Dist(faces[0].RightEye) * cameraMove(0, n, photo.Rect, fw, fh).scale()
	t.Logf("mouth centre error over %d frames at %dx%d (eyes %.0f px apart): mean %.2f px, max %.2f px; tracking took %v",
		len(errs), fw, fh, d, mean, worst, elapsed)
	if mean > 0.5 || worst > 1.5 {
		t.Errorf("mouth centre error mean %.2f px, max %.2f px; want at most 0.5 and 1.5", mean, worst)
	}
}
