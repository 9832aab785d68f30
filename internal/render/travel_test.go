package render

import (
	"math"
	"testing"

	"stillmotion/internal/psnr"
)

func TestTravelWords(t *testing.T) {
	tests := []struct {
		prompt string
		want   Move
	}{
		{"the camera trucks slowly to the left past the shelves", TruckLeft},
		{"tracking shot right along the street", TruckRight},
		{"crane up over the roofs", PedestalUp},
		{"pedestal down to the table", PedestalDown},
		{"a dolly zoom on his face", DollyZoom},
		{"hitchcock zoom, the hallway stretches", DollyZoom},
		{"vertigo effect", DollyZoom},
		{"pan left across the bay", PanLeft},
		{"tilt up to the sky", TiltUp},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			if got := Plan(tt.prompt, "", 1).Move; got != tt.want {
				t.Errorf("Plan(%q).Move = %v, want %v", tt.prompt, got, tt.want)
			}
		})
	}
	// Negated or refused, they leave the seed's moves.
	for seed := range int64(20) {
		for _, p := range [][2]string{{"a street, no trucking", ""}, {"a street", "crane"}, {"a street", "dolly zoom"}} {
			if mv := Plan(p[0], p[1], seed).Move; mv == TruckLeft || mv == TruckRight || mv == PedestalUp || mv == PedestalDown || mv == DollyZoom {
				t.Errorf("Plan(%q, %q, %d) = %v", p[0], p[1], seed, mv)
			}
		}
	}
	if d := Plan("truck left", "", 1).Description(); d[:10] != "truck left" {
		t.Errorf("description %q", d)
	}
}

// TestTravelMotion checks the direction of a truck and a pedestal, and
// that with a figure the figure slides more than the background behind
// it, in the same direction.
func TestTravelMotion(t *testing.T) {
	src := pattern(640, 360, 12)
	figure := Box{Min: Point{-0.1, -0.25}, Max: Point{0.1, 0.05}}
	tests := []struct {
		mv     Move
		sx, sy float64 // the sign of the content's motion
	}{
		{TruckLeft, +1, 0},
		{TruckRight, -1, 0},
		{PedestalUp, 0, +1},
		{PedestalDown, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.mv.String(), func(t *testing.T) {
			t.Parallel()
			shift := func(fig Box, x, y int) float64 {
				r := New(src, 320, 180, Shot{Move: tt.mv, Figure: fig}, 40)
				a := fullLuma(frame(r, 29).Pix, 320, 180)
				b := fullLuma(frame(r, 34).Pix, 320, 180)
				dx, dy := patchShift(a, b, 320, x, y, 5)
				return dx*tt.sx + dy*tt.sy
			}
			if d := shift(Box{}, 128, 58); d < 1 {
				t.Errorf("without a figure the content moved %+.2f px along the move, want at least 1", d)
			}
			fig, bg := shift(figure, 128, 40), shift(figure, 8, 20)
			t.Logf("figure %+.2f px, background %+.2f px", fig, bg)
			if !(fig > 1.5*bg && bg > 0) {
				t.Errorf("figure moved %+.2f px, background %+.2f px; want both along the move, the figure more", fig, bg)
			}
		})
	}
}

// TestDollyZoom checks that a dolly zoom keeps the subject while the
// background grows: with a figure, the figure's pixels stay and the
// background's change; without one, the centre stays and the edges
// change. Frame 0 is the picture either way.
func TestDollyZoom(t *testing.T) {
	src := pattern(640, 360, 13)
	want := reference(src, 320, 180)
	figure := Box{Min: Point{-0.1, -0.25}, Max: Point{0.1, 0.05}}
	for _, fig := range []Box{figure, {}} {
		r := New(src, 320, 180, Shot{Move: DollyZoom, Figure: fig}, 24)
		f0 := frame(r, 0)
		if p := psnr.RGB(want, f0); p < 35 {
			t.Errorf("figure %v: frame 0 PSNR %.1f dB", fig, p)
		}
		a, b := fullLuma(f0.Pix, 320, 180), fullLuma(frame(r, 23).Pix, 320, 180)
		diff := func(x0, y0, x1, y1 int) float64 {
			var d float64
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					d += math.Abs(a[y*320+x] - b[y*320+x])
				}
			}
			return d / float64((x1-x0)*(y1-y0))
		}
		centre, edge := diff(150, 55, 170, 75), diff(0, 0, 40, 40)
		t.Logf("figure %v: centre changed by %.2f, corner by %.2f", fig, centre, edge)
		if centre > 3 || edge < 4*max(centre, 1) {
			t.Errorf("figure %v: centre changed by %.2f, corner by %.2f; want the centre held and the corner zoomed", fig, centre, edge)
		}
		// The background grows: the corner's content moves away from
		// the centre, up and left.
		dx, dy := patchShift(fullLuma(frame(r, 12).Pix, 320, 180), fullLuma(frame(r, 14).Pix, 320, 180), 320, 6, 6, 4)
		if dx > -0.3 || dy > -0.1 {
			t.Errorf("figure %v: the corner moved (%+.2f, %+.2f), want up and left", fig, dx, dy)
		}
	}
}
