package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/internal/morph"
	"stillmotion/internal/psnr"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

// pngURI returns img as a data: URI.
func pngURI(t *testing.T, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// part is the part r of img, as a picture of its own: the scene seen
// from elsewhere.
func part(img image.Image, r image.Rectangle) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Rect, img, r.Min, draw.Src)
	return dst
}

func decodeFile(t *testing.T, name string) image.Image {
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
	return img
}

// TestTransition renders transitions: between two views of one scene
// (the rocket seen from two places, the second nearer and to the right)
// most of the picture is matched and carried; between unrelated pictures
// almost nothing is, and it dissolves. Either way frame 0 is the first
// picture and the last frame the tail, fitted to the first one's frame,
// and the speech is a voice-over.
func TestTransition(t *testing.T) {
	rocket := decodeFile(t, "rocket.jpg") // 640x427
	portrait := decodeFile(t, "astronaut-portrait.png")
	// A step to the right and nearer: 4:3, not the first's 3:2.
	near := part(rocket, image.Rect(60, 25, 588, 421))
	for _, tt := range []struct {
		name               string
		first, tail        image.Image
		minMatch, maxMatch float64
	}{
		{"same scene from two places", part(rocket, image.Rect(0, 0, 560, 373)), near, 60, 100},
		{"unrelated pictures", rocket, portrait, 0, 25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &generation.Request{Model: generation.ModelTransition, Kind: generation.Transition, Prompt: "slow push in, light rain",
				ImageURL: pngURI(t, tt.first), TailImageURL: pngURI(t, tt.tail), Resolution: "360p", Duration: 5, Seed: 9,
				Speech: "From here to there.", Speaker: "Ava"}
			out := filepath.Join(t.TempDir(), "t.mp4")
			o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`morph, (\d+)% of the picture matched`).FindStringSubmatch(o.Plan)
			if m == nil {
				t.Fatalf("plan %q does not say how much matched", o.Plan)
			}
			if pct, _ := strconv.ParseFloat(m[1], 64); pct < tt.minMatch || pct > tt.maxMatch {
				t.Errorf("%v%% matched, want %v..%v (plan %q)", pct, tt.minMatch, tt.maxMatch, o.Plan)
			}
			if !strings.Contains(o.Plan, "zoom in and back") || !strings.Contains(o.Plan, "voice Ava") {
				t.Errorf("plan %q: want the camera's move and the voice", o.Plan)
			}
			if len(o.Warnings) != 1 || o.Warnings[0] != noMouth {
				t.Errorf("warnings %q, want the voice-over's", o.Warnings)
			}
			if o.Width != 540 || o.Height != 360 {
				t.Errorf("frame %dx%d, want the first picture's 3:2 at 360p", o.Width, o.Height)
			}
			info, err := media.Probe(context.Background(), out)
			if err != nil {
				t.Fatal(err)
			}
			if !info.HasAudio || info.Duration < 4.9 || info.Duration > 5.1 {
				t.Errorf("probe %+v", info)
			}
			// The frames drawn: the ends are the pictures themselves.
			p, err := (&Builtin{}).Prepare(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			clip, n := p.Clip()
			first, tail := morph.Fit(tt.first, o.Width, o.Height), morph.Fit(tt.tail, o.Width, o.Height)
			drawn := func(i int) *image.RGBA {
				dst := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
				clip.Frame(i, dst)
				return dst
			}
			if db := psnr.RGB(drawn(0), first); db < 35 {
				t.Errorf("frame 0: %.1f dB against the first picture, want >= 35", db)
			}
			if db := psnr.RGB(drawn(n-1), tail); db < 35 {
				t.Errorf("last frame: %.1f dB against the tail, fitted to the frame, want >= 35", db)
			}
			// And the file's, through the encoder.
			frames := decodeFrames(t, out, o.Width, o.Height)
			if len(frames) != 120 {
				t.Fatalf("%d frames", len(frames))
			}
			e0, e1 := psnr.RGB(frames[0], first), psnr.RGB(frames[119], tail)
			t.Logf("encoded: frame 0 %.1f dB, last %.1f dB", e0, e1)
			if e0 < 32 || e1 < 32 {
				t.Errorf("encoded ends %.1f and %.1f dB against the pictures, want >= 32", e0, e1)
			}
			// The middle is neither picture.
			if db := psnr.RGB(frames[60], first); db > 30 {
				t.Errorf("frame 60 is still the first picture (%.1f dB)", db)
			}
		})
	}
}

// TestTransitionTailErrors names tail_image_url in what is wrong with it.
func TestTransitionTailErrors(t *testing.T) {
	req := &generation.Request{Model: generation.ModelTransition, Kind: generation.Transition, Prompt: "x",
		ImageURL: dataURI(t, "rocket.jpg"), TailImageURL: "data:image/png;base64,aGVsbG8=", Resolution: "360p", Duration: 5}
	_, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: filepath.Join(t.TempDir(), "t.mp4")})
	if err == nil || !strings.HasPrefix(err.Error(), "image_invalid: tail_image_url is not an image") {
		t.Errorf("err = %v, want an image_invalid error about tail_image_url", err)
	}
}

// TestView checks the transition camera's resampling: scale 1 without a
// shift is the picture; scale 2 about the centre shows its middle half,
// each source pixel twice as wide.
func TestView(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	dst := image.NewRGBA(src.Rect)
	view(dst, src, 1, 0, 0)
	if !bytes.Equal(dst.Pix, src.Pix) {
		t.Error("scale 1 is not the picture")
	}
	// Scale 2 about the centre: dst (x, y) shows src at (x+0.5+32)/2-0.5
	// across; dst x = 31 lands on src 31.25, a quarter of the way to 32.
	view(dst, src, 2, -32, -16)
	got := dst.RGBAAt(31, 15)
	a, b := src.RGBAAt(31, 15), src.RGBAAt(32, 15)
	want := (3*int(a.R) + int(b.R) + 2) / 4
	if d := int(got.R) - want; d < -2 || d > 2 {
		t.Errorf("scale 2 at (31, 15): R %d, want about %d", got.R, want)
	}
}

// TestTransitionLooks draws the prompt's looks over a transition, as over
// an image-to-video clip (picture and sound read the same prompt): a
// night grade and rain in the middle, grown out again by the last frame,
// which is the tail; the plan says so.
func TestTransitionLooks(t *testing.T) {
	req := &generation.Request{Model: generation.ModelTransition, Kind: generation.Transition, Prompt: "heavy rain at night",
		ImageURL: dataURI(t, "rocket.jpg"), TailImageURL: dataURI(t, "astronaut-portrait.png"), Resolution: "360p", Duration: 5, Seed: 2}
	plain := *req
	plain.Prompt = "a change of scene"
	frames := func(req *generation.Request) (render.Clip, string) {
		p, err := (&Builtin{}).Prepare(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := p.Clip()
		return c, p.Plan()
	}
	looks, plan := frames(req)
	bare, _ := frames(&plain)
	if !strings.Contains(plan, "light night") || !strings.Contains(plan, "atmosphere rain") {
		t.Errorf("plan %q does not name the night and the rain", plan)
	}
	w, h := looks.Size()
	at := func(c render.Clip, i int) *image.RGBA {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		c.Frame(i, dst)
		return dst
	}
	if dark, lit := meanLuma(at(looks, 60)), meanLuma(at(bare, 60)); dark > 0.8*lit {
		t.Errorf("frame 60 at night %.1f against %.1f without: want it darker", dark, lit)
	}
	for _, i := range []int{0, 119} {
		if db := psnr.RGB(at(looks, i), at(bare, i)); db < 35 {
			t.Errorf("frame %d: %.1f dB against the picture, want the looks grown out (>= 35)", i, db)
		}
	}
}

// TestTrimSilence cuts a client's audio where its sound ends, keeping a
// tenth of a second; a silent file keeps only that.
func TestTrimSilence(t *testing.T) {
	tone := func(n int, amp float64) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(amp * math.Sin(float64(i)/8))
		}
		return s
	}
	const rate = speech.SampleRate
	for _, tt := range []struct {
		name string
		in   []int16
		want int
	}{
		{"speech then silence", append(tone(rate, 8000), make([]int16, rate)...), rate + rate/10},
		{"speech then hiss", append(tone(rate, 8000), tone(rate, 30)...), rate + rate/10},
		{"all speech", tone(2*rate, 8000), 2 * rate},
		{"silence", make([]int16, rate), rate / 10},
	} {
		if got := len(trimSilence(tt.in)); got != tt.want {
			t.Errorf("%s: %d samples, want %d", tt.name, got, tt.want)
		}
	}
}

// TestTransitionParallax morphs between two views of one scene with
// parallax: the first and last frames of the built-in engine's truck
// across the rocket, whose land is drawn nearer than its sky, so the two
// move apart by different amounts. The morph's middle must come much
// nearer the truck's own middle frame than a cross-fade does. The frames
// are compared in 8x8 blocks: the towers' lattice is a pixel thin and the
// pad's lights twinkle from frame to frame, which would swamp a per-pixel
// comparison, while a ghost (the rocket twice, half faded) is 15 px wide.
func TestTransitionParallax(t *testing.T) {
	req := &generation.Request{Model: generation.Model, Prompt: "truck right across the launch pad", ImageURL: dataURI(t, "rocket.jpg"),
		Resolution: "360p", Duration: 5, Seed: 2, SeedGiven: true}
	p, err := (&Builtin{}).Prepare(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan := p.Plan(); !strings.Contains(plan, "truck right") || !strings.Contains(plan, "sky") {
		t.Fatalf("plan %q: want a truck with the land before the sky", plan)
	}
	clip, n := p.Clip()
	drawn := func(i int) *image.RGBA {
		w, h := clip.Size()
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		clip.Frame(i, dst)
		return dst
	}
	a, mid, b := drawn(0), drawn(n/2), drawn(n-1)
	if db := psnr.RGB(a, b); db > 25 {
		t.Fatalf("the truck's ends are %.1f dB apart: not two views", db)
	}
	m, err := morph.New(context.Background(), a, b, morph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := image.NewRGBA(a.Rect)
	m.Frame(0.5, got)
	fade := image.NewRGBA(a.Rect)
	for i := range fade.Pix {
		fade.Pix[i] = uint8((int(a.Pix[i]) + int(b.Pix[i]) + 1) / 2)
	}
	truth := blocks(mid, 8)
	pm, pc := psnr.RGB(truth, blocks(got, 8)), psnr.RGB(truth, blocks(fade, 8))
	t.Logf("matched %.2f; middle frame in 8x8 blocks: morph %.1f dB, cross-fade %.1f dB", m.Matched(), pm, pc)
	if pm < pc+4 {
		t.Errorf("morph %.1f dB, cross-fade %.1f dB against the truck's middle frame: want a gain of 4 dB", pm, pc)
	}
}

// blocks is img shrunk by k in each direction, each pixel the mean of a
// k×k block.
func blocks(img *image.RGBA, k int) *image.RGBA {
	w, h := img.Rect.Dx()/k, img.Rect.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			for c := range 4 {
				s := 0
				for dy := range k {
					for dx := range k {
						s += int(img.Pix[img.PixOffset(x*k+dx, y*k+dy)+c])
					}
				}
				dst.Pix[dst.PixOffset(x, y)+c] = uint8((s + k*k/2) / (k * k))
			}
		}
	}
	return dst
}
