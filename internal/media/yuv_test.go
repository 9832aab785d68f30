package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"os/exec"
	"testing"
)

func TestToYUV420Colours(t *testing.T) {
	for _, tt := range []struct {
		name      string
		c         color.RGBA
		y, cb, cr uint8
	}{
		{"black", color.RGBA{0, 0, 0, 255}, 16, 128, 128},
		{"white", color.RGBA{255, 255, 255, 255}, 235, 128, 128},
		{"grey", color.RGBA{128, 128, 128, 255}, 126, 128, 128},
		{"red", color.RGBA{255, 0, 0, 255}, 81, 90, 240},
		{"green", color.RGBA{0, 255, 0, 255}, 145, 54, 34},
		{"blue", color.RGBA{0, 0, 255, 255}, 41, 240, 110},
	} {
		src := image.NewRGBA(image.Rect(0, 0, 4, 2))
		draw.Draw(src, src.Rect, image.NewUniform(tt.c), image.Point{}, draw.Src)
		dst := make([]byte, yuv420Size(4, 2))
		toYUV420(dst, src)
		want := []byte{tt.y, tt.y, tt.y, tt.y, tt.y, tt.y, tt.y, tt.y, tt.cb, tt.cb, tt.cr, tt.cr}
		if !bytes.Equal(dst, want) {
			t.Errorf("%s: got %v, want %v", tt.name, dst, want)
		}
	}
}

// TestToYUV420AsFFmpeg checks the conversion against ffmpeg's own from
// RGBA to yuv420p, which the encoder used before frames were converted in
// Go: luma within one level, chroma (ffmpeg filters it with more taps)
// within a few at sharp edges and a fraction of a level on average.
func TestToYUV420AsFFmpeg(t *testing.T) {
	img := decodeTestdata(t, "rocket.jpg")
	b := img.Bounds()
	w, h := b.Dx()&^1, b.Dy()&^1
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Rect, img, b.Min, draw.Src)
	got := make([]byte, yuv420Size(w, h))
	toYUV420(got, src)

	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
		"-s", fmt.Sprintf("%dx%d", w, h), "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1")
	cmd.Stdin = bytes.NewReader(src.Pix)
	want, err := cmd.Output()
	if err != nil {
		t.Skipf("ffmpeg: %v", err)
	}
	if len(want) != len(got) {
		t.Fatalf("ffmpeg wrote %d bytes, want %d", len(want), len(got))
	}
	planes := []struct {
		name     string
		from, to int
		maxDiff  int
		meanDiff float64
	}{
		{"Y", 0, w * h, 1, 0.5},
		{"Cb and Cr", w * h, len(got), 16, 0.5},
	}
	for _, p := range planes {
		worst, sum := 0, 0
		for i := p.from; i < p.to; i++ {
			d := max(int(got[i])-int(want[i]), int(want[i])-int(got[i]))
			worst = max(worst, d)
			sum += d
		}
		mean := float64(sum) / float64(p.to-p.from)
		t.Logf("%s: largest difference %d, mean %.3f", p.name, worst, mean)
		if worst > p.maxDiff || mean > p.meanDiff {
			t.Errorf("%s differs from ffmpeg's by up to %d (mean %.3f), want at most %d (mean %.2f)", p.name, worst, mean, p.maxDiff, p.meanDiff)
		}
	}
}

// BenchmarkToYUV420 converts one 720p frame, the cost a worker adds to
// each frame for the smaller pipe.
func BenchmarkToYUV420(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	moving(3, src)
	dst := make([]byte, yuv420Size(1280, 720))
	for b.Loop() {
		toYUV420(dst, src)
	}
}

// TestToYUV420Lanes compares the conversion, two pixels at once in lanes,
// with the same arithmetic one pixel at a time, on random frames and on
// frames of the extreme values, where a carry between lanes would show.
func TestToYUV420Lanes(t *testing.T) {
	const w, h = 64, 6
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 50 {
		src := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range src.Pix {
			switch k {
			case 0:
				src.Pix[i] = 255
			case 1:
				src.Pix[i] = 0
			case 2:
				src.Pix[i] = uint8(255 * (i / 4 % 2)) // black and white
			default:
				src.Pix[i] = uint8(rng.IntN(256))
			}
		}
		got := make([]byte, yuv420Size(w, h))
		toYUV420(got, src)
		want := make([]byte, yuv420Size(w, h))
		for y := range h {
			for x := range w {
				p := src.Pix[y*src.Stride+4*x:]
				r, g, b := int32(p[0]), int32(p[1]), int32(p[2])
				want[y*w+x] = uint8((yR*r + yG*g + yB*b + 16<<16 + 1<<15) >> 16)
			}
		}
		for y := 0; y < h; y += 2 {
			for x := 0; x < w; x += 2 {
				var sr, sg, sb int32
				for _, o := range []int{0, 4, src.Stride, src.Stride + 4} {
					p := src.Pix[y*src.Stride+4*x+o:]
					sr, sg, sb = sr+int32(p[0]), sg+int32(p[1]), sb+int32(p[2])
				}
				c := (y/2)*(w/2) + x/2
				want[w*h+c] = uint8((cbR*sr + cbG*sg + cbB*sb + 128<<18 + 1<<17) >> 18)
				want[w*h+(w/2)*(h/2)+c] = uint8((crR*sr + crG*sg + crB*sb + 128<<18 + 1<<17) >> 18)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: the lanes differ from the conversion pixel by pixel", k)
		}
	}
}
