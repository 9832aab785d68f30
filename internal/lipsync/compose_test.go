package lipsync

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/media"
	"stillmotion/internal/portrait"
)

func TestAffine(t *testing.T) {
	m := affine{1.2, -0.3, 5, 0.3, 1.2, -7}
	p := face.Point{X: 3, Y: 4}
	if q := m.inverse().apply(m.apply(p)); q.Dist(p) > 1e-9 {
		t.Errorf("inverse: %v, want %v", q, p)
	}
	n := translation(face.Point{X: 2, Y: 1})
	if a, b := m.then(n).apply(p), n.apply(m.apply(p)); a.Dist(b) > 1e-9 {
		t.Errorf("then: %v, want %v", a, b)
	}
	from := []face.Point{{X: 0, Y: 0}, {X: 10, Y: 0}, {X: 0, Y: 10}, {X: 5, Y: 7}}
	to := make([]face.Point, len(from))
	for i, p := range from {
		to[i] = m.apply(p)
	}
	fit := fitSimilarity(from, to, []float64{1, 2, 1, 1})
	for i := range fit {
		if math.Abs(fit[i]-m[i]) > 1e-9 {
			t.Fatalf("fitSimilarity = %v, want %v", fit, m)
		}
	}
}

// TestAlign moves a frame of the test portrait by known similarities and
// finds the upper face's template in each.
func TestAlign(t *testing.T) {
	photo := loadImage(t, "astronaut-portrait.png")
	faces, err := face.Detect(photo)
	if err != nil || len(faces) == 0 {
		t.Fatal("no face")
	}
	w, h := photo.Rect.Dx(), photo.Rect.Dy()
	gray := func(m affine) []byte {
		back := m.inverse()
		g := make([]byte, w*h)
		for y := range h {
			for x := range w {
				q := back.apply(face.Point{X: float64(x) + 0.5, Y: float64(y) + 0.5})
				c := sample(photo, q.X, q.Y)
				g[y*w+x] = uint8(0.299*c[0] + 0.587*c[1] + 0.114*c[2] + 0.5)
			}
		}
		return g
	}
	tmpl := newTemplate(pyramidOf(gray(identity), w, h), faces[0])
	c := faces[0].Center
	for _, tt := range []struct {
		name            string
		dx, dy, s, roll float64
	}{
		{"shift", 5.5, -3.25, 1, 0},
		{"zoom", 0, 0, 1.08, 0},
		{"roll", 0, 0, 1, 4 * math.Pi / 180},
		{"all", -6, 4, 0.93, -3 * math.Pi / 180},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sin, cos := math.Sincos(tt.roll)
			m := translation(face.Point{X: -c.X, Y: -c.Y}).
				then(affine{tt.s * cos, -tt.s * sin, 0, tt.s * sin, tt.s * cos, 0}).
				then(translation(face.Point{X: c.X + tt.dx, Y: c.Y + tt.dy}))
			got, ncc := tmpl.align(pyramidOf(gray(m), w, h), identity)
			mouth := faces[0].MouthLeft.Mid(faces[0].MouthRight)
			if e := got.apply(mouth).Dist(m.apply(mouth)); e > 0.3 || ncc < 0.95 {
				t.Errorf("mouth off by %.2f px, match %.3f; want within 0.3 px and above 0.95", e, ncc)
			}
		})
	}
}

// TestLowerFaceOnlyInside pastes a posed lower face into a frame and checks
// that every pixel outside the mask is the frame's own, to the bit, and
// that the mouth changed.
func TestLowerFaceOnlyInside(t *testing.T) {
	photo := loadImage(t, "astronaut-portrait.png")
	faces, err := face.Detect(photo)
	if err != nil || len(faces) == 0 {
		t.Fatal("no face")
	}
	lf := newLowerFace(photo, faces[0])
	frame := loadImage(t, "astronaut-portrait.png")
	// The frame's face is a little to the right, larger and turned.
	c := faces[0].Center
	toFrame := translation(face.Point{X: -c.X, Y: -c.Y}).then(affine{1.05, -0.04, 0, 0.04, 1.05, 0}).then(translation(face.Point{X: c.X + 7, Y: c.Y - 3}))
	dst := loadImage(t, "astronaut-portrait.png")
	lf.draw(dst, toFrame, portrait.Mouth{Open: 1}, 1)
	back := toFrame.inverse()
	changed := 0
	for y := range dst.Rect.Dy() {
		for x := range dst.Rect.Dx() {
			o := dst.PixOffset(x, y)
			same := bytes.Equal(dst.Pix[o:o+4], frame.Pix[o:o+4])
			if !same {
				changed++
			}
			if lf.alpha(back.apply(face.Point{X: float64(x) + 0.5, Y: float64(y) + 0.5})) == 0 && !same {
				t.Fatalf("pixel (%d, %d) outside the mask changed", x, y)
			}
		}
	}
	if changed < 500 {
		t.Errorf("%d pixels changed; the mouth should have opened", changed)
	}
}

func TestLimitsCheck(t *testing.T) {
	info := func(w, h int, fps, dur float64) media.VideoInfo {
		return media.VideoInfo{Info: media.Info{Width: w, Height: h, FPS: fps, Duration: dur}, Container: "mp4"}
	}
	tests := []struct {
		name   string
		limits Limits
		info   media.VideoInfo
		want   string
	}{
		{"1080p", Limits{}, info(1920, 1080, 30, 30), ""},
		{"portrait 1080p", Limits{}, info(1080, 1920, 30, 10), ""},
		{"a little over 30 s", Limits{}, info(640, 360, 30, 30.05), ""},
		{"too long", Limits{}, info(640, 360, 30, 31), "the video lasts 31.0 s; lip-sync takes videos of up to 30 s"},
		{"too long for a lower limit", Limits{MaxDuration: 7500 * time.Millisecond}, info(640, 360, 30, 8), "the video lasts 8.0 s; lip-sync takes videos of up to 7.5 s"},
		{"4K", Limits{}, info(3840, 2160, 30, 5), "the video is 3840x2160 pixels; lip-sync takes videos of up to 2.1 megapixels"},
		{"too wide", Limits{}, info(2400, 400, 30, 5), "the video is 2400x400 pixels"},
		{"120 fps", Limits{}, info(640, 360, 120, 5), "the video runs at 120 frames a second; lip-sync takes up to 60"},
		{"59.94 fps", Limits{}, info(640, 360, 59.94, 5), ""},
		{"lower rate limit", Limits{MaxFPS: 30}, info(640, 360, 59.94, 5), "the video runs at 59.94 frames a second; lip-sync takes up to 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.Check(tt.info)
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !strings.HasPrefix(fe.Message, tt.want) ||
				len(fe.Fields) != 1 || fe.Fields[0].Field != VideoField {
				t.Errorf("error %v, want an Invalid fault on %s saying %q", err, VideoField, tt.want)
			}
		})
	}
}

func TestMonotonic(t *testing.T) {
	var got []float64
	p := monotonic(func(v float64) { got = append(got, v) })
	for _, v := range []float64{0.1, 0.05, 0.3, 0.3, 1.2, 0.9} {
		p(v)
	}
	if want := []float64{0.1, 0.3, 1}; !equalFloats(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
	monotonic(nil)(0.5) // no panic
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
