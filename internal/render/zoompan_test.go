package render

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os/exec"
	"testing"
	"time"

	"stillmotion/internal/media"
)

var zoompan = flag.Bool("zoompan", false, "compare a push in with ffmpeg's zoompan filter (needs ffmpeg)")

// patchShift returns the sub-pixel shift of the 64x64 patch at (px, py)
// from luma a to luma b (w wide), by exhaustive search within ±r pixels
// and a parabola through the best score and its neighbours.
func patchShift(a, b []float64, w, px, py, r int) (dx, dy float64) {
	score := func(sx, sy int) float64 {
		var s float64
		for y := py; y < py+64; y++ {
			for x := px; x < px+64; x++ {
				d := a[y*w+x] - b[(y+sy)*w+x+sx]
				s += d * d
			}
		}
		return s
	}
	best, bx, by := math.Inf(1), 0, 0
	for sy := -r; sy <= r; sy++ {
		for sx := -r; sx <= r; sx++ {
			if s := score(sx, sy); s < best {
				best, bx, by = s, sx, sy
			}
		}
	}
	sub := func(m, c, p float64) float64 {
		if den := m - 2*c + p; den > 0 {
			return 0.5 * (m - p) / den
		}
		return 0
	}
	return float64(bx) + sub(score(bx-1, by), best, score(bx+1, by)), float64(by) + sub(score(bx, by-1), best, score(bx, by+1))
}

func fullLuma(pix []uint8, w, h int) []float64 {
	l := make([]float64, w*h)
	for i := range l {
		l[i] = 0.299*float64(pix[4*i]) + 0.587*float64(pix[4*i+1]) + 0.114*float64(pix[4*i+2])
	}
	return l
}

// jitter returns the RMS deviation, in pixels, of the per-frame motion of a
// patch from its own 5-frame moving average: zero for motion that changes
// smoothly, about a pixel for motion that snaps to whole pixels.
func jitter(frames func(yield func([]uint8) bool), w, h int) float64 {
	var prev []float64
	var d [][2]float64
	for pix := range frames {
		l := fullLuma(pix, w, h)
		if prev != nil {
			x, y := patchShift(prev, l, w, w/5, h/5, 3)
			d = append(d, [2]float64{x, y})
		}
		prev = l
	}
	var s float64
	n := 0
	for i := 2; i < len(d)-2; i++ {
		for c := range 2 {
			m := (d[i-2][c] + d[i-1][c] + d[i][c] + d[i+1][c] + d[i+2][c]) / 5
			s += (d[i][c] - m) * (d[i][c] - m)
			n++
		}
	}
	return math.Sqrt(s / float64(n))
}

// TestZoompan compares the 5 s 720p push in on rocket.jpg (1080x720, 120
// frames, 1.15x) drawn by stillmotion with ffmpeg's zoompan filter, plain
// and with the usual 4x upscale before it: the time to draw and encode the
// clip, and the jitter of the motion. Run with -zoompan -v.
func TestZoompan(t *testing.T) {
	if !*zoompan {
		t.Skip("run with -zoompan to compare with ffmpeg")
	}
	const w, h, n = 1080, 720, 120
	src := "testdata/rocket.jpg"
	img := loadImage(t, "rocket.jpg")
	encode := []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-y"}

	// stillmotion: frames drawn on both cores and piped to the encoder by
	// media.Encode, as the service does; as the service draws it (the land
	// before the sky, two layers) and flat, one layer like zoompan's.
	oursJitter := 0.0
	for _, flat := range []bool{false, true} {
		t0 := time.Now()
		r := New(img, w, h, Shot{Move: ZoomIn, Ease: Linear, Flat: flat}, n)
		spec := media.Spec{Width: w, Height: h, FPS: 24, Frames: n, NoAudio: true}
		if err := media.Encode(context.Background(), spec, r.Frame, t.TempDir()+"/s.mp4", nil); err != nil {
			t.Fatal(err)
		}
		ours := time.Since(t0)
		j := jitter(func(yield func([]uint8) bool) {
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			for i := range n {
				r.Frame(i, dst)
				if !yield(dst.Pix) {
					return
				}
			}
		}, w, h)
		t.Logf("stillmotion (%s): %v for draw + encode, jitter %.3f px", r.Shot().Description(), ours.Round(10*time.Millisecond), j)
		oursJitter = max(oursJitter, j)
	}

	for _, v := range []struct{ name, pre string }{
		{"zoompan", ""},
		{"zoompan after a 4x upscale", "scale=4320:2880,"},
	} {
		zp := fmt.Sprintf("%szoompan=z='pow(1.15,on/%d)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=%d:s=%dx%d:fps=24", v.pre, n-1, n, w, h)
		if v.pre == "" {
			zp = "scale=1080:720," + zp
		}
		args := []string{"-loglevel", "error", "-i", src, "-vf", zp, "-frames:v", fmt.Sprint(n)}
		t0 := time.Now()
		if b, err := exec.Command("ffmpeg", append(args, append(encode, t.TempDir()+"/z.mp4")...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		wall := time.Since(t0)
		raw, err := exec.Command("ffmpeg", append(args, "-f", "rawvideo", "-pix_fmt", "rgba", "-")...).Output()
		if err != nil {
			t.Fatal(err)
		}
		j := jitter(func(yield func([]uint8) bool) {
			for rd := bytes.NewReader(raw); ; {
				pix := make([]uint8, 4*w*h)
				if _, err := io.ReadFull(rd, pix); err != nil || !yield(pix) {
					return
				}
			}
		}, w, h)
		t.Logf("%s: %v for draw + encode, jitter %.3f px", v.name, wall.Round(10*time.Millisecond), j)
		if j < oursJitter {
			t.Errorf("%s jitters less than stillmotion: %.3f against %.3f px", v.name, j, oursJitter)
		}
	}
}
