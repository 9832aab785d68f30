package render

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"stillmotion/internal/psnr"
)

// TestFigureParallax checks a push in with a figure: frame 0 is still the
// picture, every pixel is opaque, and the background grows more slowly
// than the figure, so a background patch moves less than it does without
// the layers.
func TestFigureParallax(t *testing.T) {
	src := pattern(640, 360, 11)
	want := reference(src, 320, 180)
	figure := Box{Min: Point{-0.08, -0.3}, Max: Point{0.08, -0.02}}
	flat := New(src, 320, 180, Shot{Move: ZoomIn}, 24)
	deep := New(src, 320, 180, Shot{Move: ZoomIn, Figure: figure}, 24)
	if flat.layers != nil || deep.shot.Depth != FigureDepth {
		t.Fatalf("layers: %v without the figure, %v with it", flat.shot.Depth, deep.shot.Depth)
	}
	f0 := frame(deep, 0)
	if p := psnr.RGB(want, f0); p < 35 {
		t.Errorf("frame 0: PSNR %.1f dB against the input", p)
	}
	last := frame(deep, 23)
	for i := 3; i < len(last.Pix); i += 4 {
		if last.Pix[i] != 255 {
			t.Fatalf("pixel %d has alpha %d", i/4, last.Pix[i])
		}
	}
	if !slices.Equal(last.Pix, frame(New(src, 320, 180, Shot{Move: ZoomIn, Figure: figure}, 24), 23).Pix) {
		t.Error("the layers are not deterministic")
	}
	if d, f := bgShift(deep, 8, 100), bgShift(flat, 8, 100); d >= 0.8*f {
		t.Errorf("a background patch moved %.2f px² with the layers, %.2f without: want less", d, f)
	}
}

// bgShift returns the squared distance the 64x64 patch at (x, y) of a
// 320x180 renderer moves from frame 8 to frame 10.
func bgShift(r *Renderer, x, y int) float64 {
	a := fullLuma(frame(r, 8).Pix, 320, 180)
	b := fullLuma(frame(r, 10).Pix, 320, 180)
	dx, dy := patchShift(a, b, 320, x, y, 4)
	return dx*dx + dy*dy
}

// object returns a 640x360 picture of a shaded red disc of radius 80
// centred at (cx, cy) on a darkened copy of the textured background bg
// (or on bg itself when bg is not nil and dark is false).
func object(bg *image.RGBA, cx, cy, radius float64) *image.RGBA {
	img := image.NewRGBA(bg.Rect)
	copy(img.Pix, bg.Pix)
	for y := range bg.Rect.Dy() {
		for x := range bg.Rect.Dx() {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			if d >= radius {
				continue
			}
			// A sphere lit from the upper left, so the object has
			// shading of its own and is not a flat cut-out.
			shade := 0.75 + 0.25*(1-d/radius) - 0.1*(float64(x)-cx+float64(y)-cy)/radius
			p := img.Pix[y*img.Stride+4*x:]
			p[0], p[1], p[2] = uint8(240*min(shade, 1)), uint8(60*shade), uint8(50*shade)
		}
	}
	return img
}

// landscape returns a 640x360 picture of a smooth blue sky, lighter
// towards the horizon, over textured ground whose horizon undulates
// around y = 150.
func landscape() *image.RGBA {
	img := pattern(640, 360, 21)
	for y := range 360 {
		for x := range 640 {
			horizon := 150 + 12*math.Sin(float64(x)/70)
			p := img.Pix[y*img.Stride+4*x:]
			if float64(y) < horizon {
				v := float64(y) / 150
				p[0], p[1], p[2] = uint8(70+60*v), uint8(120+50*v), uint8(210+30*v)
				continue
			}
			// Green-brown ground, its texture kept.
			p[0], p[1], p[2] = p[0]/2+40, p[1]/2+50, p[2]/3+20
		}
	}
	return img
}

// matteAt returns the renderer's matte (0..1) at the frame-0 position
// (x, y) of its 640x360 source.
func matteAt(r *Renderer, x, y float64) float64 {
	t := &r.tex
	i := int(t.ox + x/640*t.sx)
	j := int(t.oy + y/360*t.sy)
	return float64(t.pix[j*t.stride+4*i+3]) / 255
}

// TestLayersWithoutFace checks the layers found from cues: an object on a
// textured background is a subject before the background, and the
// land of a landscape comes before its sky. Inside the near layer (well
// inside, 12 source pixels from the boundary) the matte is at least 0.8
// and outside it at most 0.2; and a background patch of the object's push
// in moves less than without the layers.
func TestLayersWithoutFace(t *testing.T) {
	bg := pattern(640, 360, 5)
	for i := range bg.Pix {
		if i%4 != 3 {
			bg.Pix[i] = bg.Pix[i]/2 + 20
		}
	}
	tests := []struct {
		name  string
		src   *image.RGBA
		depth Depth
		// near reports how far (x, y) is inside the near layer, in
		// source pixels; negative outside.
		near func(x, y float64) float64
	}{
		{"object", object(bg, 340, 170, 80), SubjectDepth, func(x, y float64) float64 { return 80 - math.Hypot(x-340, y-170) }},
		{"landscape", landscape(), SkyDepth, func(x, y float64) float64 { return y - (150 + 12*math.Sin(x/70)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.src, 320, 180, Shot{Move: ZoomIn}, 24)
			if r.shot.Depth != tt.depth {
				t.Fatalf("layers %q, want %q", r.shot.Depth, tt.depth)
			}
			lo, hi := 1.0, 0.0
			for y := 2.0; y < 358; y += 3 {
				for x := 2.0; x < 638; x += 3 {
					switch d := tt.near(x, y); {
					case d > 12:
						lo = min(lo, matteAt(r, x, y))
					case d < -12:
						hi = max(hi, matteAt(r, x, y))
					}
				}
			}
			if lo < 0.8 || hi > 0.2 {
				t.Errorf("matte ≥ %.2f well inside the near layer, ≤ %.2f well outside: want ≥ 0.8 and ≤ 0.2", lo, hi)
			}
		})
	}
	t.Run("background parallax", func(t *testing.T) {
		deep := New(object(bg, 340, 170, 80), 320, 180, Shot{Move: ZoomIn}, 24)
		flat := New(bg, 320, 180, Shot{Move: ZoomIn}, 24)
		if flat.layers != nil {
			t.Fatal("the background alone has layers")
		}
		if d, f := bgShift(deep, 8, 100), bgShift(flat, 8, 100); d >= 0.8*f {
			t.Errorf("a background patch moved %.2f px² with the layers, %.2f without: want less", d, f)
		}
	})
}

// TestNoLayers checks that pictures without a clear subject or sky keep
// one layer on every layered move: a wrong matte would tear them.
func TestNoLayers(t *testing.T) {
	uniform := image.NewRGBA(image.Rect(0, 0, 640, 360))
	noise := image.NewRGBA(image.Rect(0, 0, 640, 360))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noise.Pix {
		uniform.Pix[i] = 128
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	tests := []struct {
		name string
		src  image.Image
	}{
		{"uniform", uniform},
		{"noise", noise},
		{"texture 1", pattern(640, 360, 1)},
		{"texture 2", pattern(640, 360, 2)},
		{"texture 3", pattern(640, 360, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mv := range []Move{ZoomIn, PanRight, DollyZoom} {
				for _, fw := range []int{320, 1280} {
					r := New(tt.src, fw, fw*9/16, Shot{Move: mv}, 24)
					if r.layers != nil || r.shot.Depth != NoDepth {
						t.Errorf("%v at %d wide: layers %q", mv, fw, r.shot.Depth)
					}
				}
			}
		})
	}
}

// TestMatteFollowsEdges checks the guided filter: a coarse matte whose
// transition lies 10 texels outside an object's boundary is refined to one
// whose transition (where it crosses a half) lies within 3 texels of it,
// and is still soft: it takes at least two texels to rise from 0.1 to 0.9.
func TestMatteFollowsEdges(t *testing.T) {
	bg := pattern(480, 270, 9)
	for i := range bg.Pix {
		if i%4 != 3 {
			bg.Pix[i] = bg.Pix[i]/2 + 20
		}
	}
	const cx, cy, radius = 250, 130, 70
	for _, off := range []float64{10, -8} {
		tex := newTexture(object(bg, cx, cy, radius), 480, 270, 1, 0)
		g := newGrid(&tex)
		k := float64(g.k)
		p := make([]float32, g.w*g.h)
		for j := range g.h {
			for i := range g.w {
				d := math.Hypot((float64(i)+0.5)*k-cx, (float64(j)+0.5)*k-cy)
				if d < radius+off {
					p[j*g.w+i] = 1
				}
			}
		}
		p = soften(p, g.w, g.h)
		refine(&tex, g, p, 4)
		for a := range 16 {
			th := 2 * math.Pi * (float64(a) + 0.5) / 16
			// The matte along the ray, every quarter texel.
			var cross, rise0, rise1 float64
			prev := 1.0
			for d := radius - 30.0; d < radius+30; d += 0.25 {
				x, y := cx+d*math.Cos(th), cy+d*math.Sin(th)
				m := float64(tex.pix[int(y)*tex.stride+4*int(x)+3]) / 255
				if prev >= 0.9 && m < 0.9 {
					rise0 = d
				}
				if prev >= 0.5 && m < 0.5 {
					cross = d
				}
				if prev >= 0.1 && m < 0.1 {
					rise1 = d
				}
				prev = m
			}
			if math.Abs(cross-radius) > 3 || rise1-rise0 < 2 {
				t.Errorf("coarse matte %+g texels off, ray %d: crosses a half %+.1f texels from the boundary, rises over %.1f texels", off, a, cross-radius, rise1-rise0)
			}
		}
	}
}

// TestNoDoubleEdge checks a push in across a matte's soft edge: a dark
// horizontal line crosses a wide vertical ramp of the matte, and on the
// last frame the column where the matte is a half shows the line once
// (one run of pixels darker than a quarter of the way from the
// background to the line). Blending two copies of the picture, offset by
// the layers' different magnifications, shows it twice, at half contrast.
func TestNoDoubleEdge(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 640, 360))
	for y := range 360 {
		for x := range 640 {
			v := uint8(230)
			if y >= 290 && y < 292 {
				v = 20
			}
			p := src.Pix[y*src.Stride+4*x:]
			p[0], p[1], p[2], p[3] = v, v, v, 255
		}
	}
	shot := Shot{Move: ZoomIn, Amount: 0.5, Figure: Box{Min: Point{-0.1, -0.2}, Max: Point{0.1, 0.1}}}
	r := New(src, 320, 180, shot, 24)
	if r.layers == nil {
		t.Fatal("want the push in's layers")
	}
	// The matte: 1 left of the middle, ramping to 0 over 40 texels.
	tx := &r.tex
	mid := tx.ox + tx.sx/2
	for y := range tx.h {
		for x := range tx.w {
			tx.pix[y*tx.stride+4*x+3] = unit8(float32(min(max((mid+20-float64(x))/40, 0), 1)))
		}
	}
	s, cx, cy := r.view(23)
	// The frame's column that samples the middle of the ramp.
	col := int(((mid-tx.ox)/tx.sx-cx)*s*320 + 160)
	twoCopies := func(dst *image.RGBA) {
		// The old composite: the background, then the figure over it.
		sb := math.Pow(s, bgDepth)
		bg := image.NewRGBA(dst.Rect)
		r.sample(sb, cx, cy, r.tex.pix, bg, 320, 180, nil, r.layers == nil)
		r.sample(s, cx, cy, r.tex.pix, dst, 320, 180, nil, r.layers == nil)
		for i := 0; i < len(dst.Pix); i += 4 {
			a := int(dst.Pix[i+3])
			for c := range 3 {
				dst.Pix[i+c] = uint8((int(dst.Pix[i+c])*a + int(bg.Pix[i+c])*(255-a) + 127) / 255)
			}
		}
	}
	tests := []struct {
		name string
		draw func(*image.RGBA)
		want int
	}{
		{"stretch", func(dst *image.RGBA) { r.Frame(23, dst) }, 1},
		{"two copies", twoCopies, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := image.NewRGBA(image.Rect(0, 0, 320, 180))
			tt.draw(dst)
			runs, dark := 0, false
			var profile []uint8
			for y := range 180 {
				v := dst.Pix[y*dst.Stride+4*col]
				profile = append(profile, v)
				if d := v < 230-(230-20)/4; d && !dark {
					runs++
				}
				dark = v < 230-(230-20)/4
			}
			t.Logf("%s: column %d, rows 160..179: %v", tt.name, col, profile[160:])
			if runs != tt.want {
				t.Errorf("the line shows %d times in column %d, want %d; profile %v", runs, col, tt.want, profile)
			}
		})
	}
}

// TestStretchKeepsOrder checks that a push in never folds the picture,
// even at the edge of a near layer away from the zoom's centre, whose
// side towards the centre moves outwards faster than the background
// behind it: with the matte New builds for an object right of the centre
// and each texel's colour near the object's edge nearer the centre
// replaced by its column, every row of the last frame of a push in reads
// left to right in order (no step back of more than a level).
func TestStretchKeepsOrder(t *testing.T) {
	// A sharp picture the size of the push in's texture, so that the
	// matte is as steep as it gets.
	bg := pattern(1920, 1080, 5)
	for i := range bg.Pix {
		if i%4 != 3 {
			bg.Pix[i] = bg.Pix[i]/2 + 20
		}
	}
	src := object(bg, 1500, 540, 150)
	for _, mv := range []Move{ZoomIn, PanLeft, PanRight, TruckLeft, TruckRight, OrbitLeft, OrbitRight, DollyZoom} {
		t.Run(mv.String(), func(t *testing.T) {
			r := New(src, 1280, 720, Shot{Move: mv, Amount: 0.5}, 24)
			if r.shot.Depth != SubjectDepth {
				t.Fatalf("layers %q, want a subject", r.shot.Depth)
			}
			// The column code climbs 4 levels a texel across 60 texels
			// around the object's left edge, so that a fold of half a
			// texel shows.
			tx := &r.tex
			edge := int(tx.ox + 1350.0/1920*tx.sx)
			for y := range tx.h {
				for x := range tx.w {
					p := tx.pix[y*tx.stride+4*x:]
					p[0] = uint8(min(max(10+4*(x-edge+30), 10), 250))
				}
			}
			worst := 0
			for _, i := range []int{12, 23} {
				f := frame(r, i)
				for y := range 720 {
					for x := 1; x < 1280; x++ {
						worst = max(worst, int(f.Pix[y*f.Stride+4*x-4])-int(f.Pix[y*f.Stride+4*x]))
					}
				}
			}
			if worst > 1 {
				t.Errorf("a row steps back %d levels", worst)
			}
		})
	}
}

// TestLayeredFrames checks every kind of layers on the moves that draw
// them: frame 0 is the picture (PSNR ≥ 35 dB against the input), every
// pixel of the last frame is opaque, and two renderers draw the same
// bytes.
func TestLayeredFrames(t *testing.T) {
	bg := pattern(640, 360, 5)
	for i := range bg.Pix {
		if i%4 != 3 {
			bg.Pix[i] = bg.Pix[i]/2 + 20
		}
	}
	figure := Box{Min: Point{-0.08, -0.3}, Max: Point{0.08, -0.02}}
	tests := []struct {
		name   string
		src    image.Image
		figure Box
		depth  Depth
	}{
		{"figure", pattern(640, 360, 11), figure, FigureDepth},
		{"subject", object(bg, 340, 170, 80), Box{}, SubjectDepth},
		{"sky", landscape(), Box{}, SkyDepth},
	}
	for _, tt := range tests {
		want := reference(tt.src, 320, 180)
		for _, mv := range []Move{ZoomIn, PanRight, TiltUp, OrbitLeft, TruckRight, DollyZoom} {
			t.Run(tt.name+"/"+mv.String(), func(t *testing.T) {
				shot := Shot{Move: mv, Figure: tt.figure}
				r := New(tt.src, 320, 180, shot, 24)
				if r.shot.Depth != tt.depth {
					t.Fatalf("layers %q, want %q", r.shot.Depth, tt.depth)
				}
				if p := psnr.RGB(want, frame(r, 0)); p < 35 {
					t.Errorf("frame 0: PSNR %.1f dB against the input", p)
				}
				last := frame(r, 23)
				for i := 3; i < len(last.Pix); i += 4 {
					if last.Pix[i] != 255 {
						t.Fatalf("pixel %d has alpha %d", i/4, last.Pix[i])
					}
				}
				if !slices.Equal(last.Pix, frame(New(tt.src, 320, 180, shot, 24), 23).Pix) {
					t.Error("the layers are not deterministic")
				}
			})
		}
	}
}

// TestPhotoLayers checks the layers chosen for photos without a face: the
// coffee cup on its saucer stands out from the wooden table around it (a
// subject), and the rocket's launch site stands below a smooth evening sky
// that fills the top edge between the towers (land before sky).
func TestPhotoLayers(t *testing.T) {
	tests := []struct {
		file string
		want Depth
	}{
		{"coffee.png", SubjectDepth},
		{"rocket.jpg", SkyDepth},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := New(loadImage(t, tt.file), 640, 360, Shot{Move: ZoomIn}, 24)
			if r.shot.Depth != tt.want {
				t.Errorf("layers %q, want %q", r.shot.Depth, tt.want)
			}
			if d := r.shot.Description(); !strings.Contains(d, tt.want.String()) {
				t.Errorf("description %q does not say %q", d, tt.want)
			}
		})
	}
}

// BenchmarkFrame720pLayers draws the frames of shots with two layers: a
// figure's push in and pan, from a face box.
func BenchmarkFrame720pLayers(b *testing.B) {
	src := loadImage(b, "coffee.png")
	figure := Box{Min: Point{-0.08, -0.3}, Max: Point{0.08, -0.02}}
	for _, mv := range []Move{ZoomIn, PanRight} {
		b.Run(mv.String(), func(b *testing.B) {
			r := New(src, 1280, 720, Shot{Move: mv, Figure: figure}, 120)
			benchFrames(b, r, 0)
		})
	}
}

// TestSkyKeepsMasts checks that a mast two pixels wide standing in a sky,
// too thin for the cues' grid, goes with the land: on the last frame of
// each move a row through the sky crosses it exactly once, right above
// where it stands on the land, so it is neither left behind in the sky,
// which moves less, nor bent.
func TestSkyKeepsMasts(t *testing.T) {
	src := landscape()
	for y := 40; y < 200; y++ {
		for x := 400; x < 402; x++ {
			p := src.Pix[y*src.Stride+4*x:]
			p[0], p[1], p[2] = 230, 30, 20 // red, unlike sky and ground
		}
	}
	for x := 100; x < 300; x++ {
		y := 60 + (x-100)/8 // a wire sloping down from the left
		p := src.Pix[y*src.Stride+4*x:]
		p[0], p[1], p[2] = 50, 50, 60
	}
	for _, mv := range []Move{TruckRight, PanLeft, OrbitLeft, ZoomIn} {
		t.Run(mv.String(), func(t *testing.T) {
			r := New(src, 640, 360, Shot{Move: mv, Amount: 0.3}, 24)
			if r.shot.Depth != SkyDepth {
				t.Fatalf("layers %v, want land before sky", r.shot.Depth)
			}
			f := frame(r, 23)
			// red returns where runs of the mast's red start in row y.
			red := func(y int) []int {
				var xs []int
				in := false
				for x := range 640 {
					p := f.Pix[y*f.Stride+4*x:]
					now := p[0] > 180 && p[1] < 80 && p[2] < 80
					if now && !in {
						xs = append(xs, x)
					}
					in = now
				}
				return xs
			}
			sky, land := red(110), red(185)
			if len(sky) != 1 {
				t.Fatalf("row 110 crosses the mast at %v, want once", sky)
			}
			// The mast stands straight: in the sky it is where it is
			// above the land.
			if len(land) != 1 || math.Abs(float64(sky[0]-land[0])) > 1 {
				t.Errorf("the mast is at x=%d in the sky and %v on the land", sky[0], land)
			}
		})
	}
}

// TestSkyFrameZeroKeepsMasts checks that where the land and the sky have
// not moved apart, on frame 0, the two layers give the picture again, a
// thin mast whose matte is partial included: against the same frame drawn
// as one layer, no pixel around the mast and the horizon below it differs
// by more than 8 levels (6 here; drawing the land's own colours over the
// sky with its matte gave 44, the mast faded by a third).
func TestSkyFrameZeroKeepsMasts(t *testing.T) {
	src := landscape()
	for y := 40; y < 200; y++ {
		for x := 400; x < 402; x++ {
			p := src.Pix[y*src.Stride+4*x:]
			p[0], p[1], p[2] = 30, 30, 35
		}
	}
	layered := New(src, 640, 360, Shot{Move: TruckRight}, 24)
	if layered.shot.Depth != SkyDepth {
		t.Fatalf("layers %v, want land before sky", layered.shot.Depth)
	}
	a, b := frame(layered, 0), frame(New(src, 640, 360, Shot{Move: TruckRight, Flat: true}, 24), 0)
	worst := 0
	for y := 40; y < 150; y++ {
		for x := 390; x < 412; x++ {
			for c := range 3 {
				i := y*a.Stride + 4*x + c
				worst = max(worst, int(a.Pix[i])-int(b.Pix[i]), int(b.Pix[i])-int(a.Pix[i]))
			}
		}
	}
	if worst > 8 {
		t.Errorf("frame 0 differs from the one-layer frame by up to %d levels at the mast", worst)
	}
}

// TestSplitFixed checks that a coordinate rounded to 1/256 texel and
// split in integers lands where split puts it, clamped alike at both
// ends of a row of n texels.
func TestSplitFixed(t *testing.T) {
	const n = 37
	for k := -3000; k <= (n+2)*1000; k++ {
		p := float64(k)/1000 + 0.0001*float64(k%7)
		i, f := split(p, n)
		j, g := splitFixed(fixed(p), n)
		if want, got := i*256+int(f), j*256+int(g); got != want {
			t.Fatalf("p = %v: split gives %d/256, splitFixed %d/256", p, want, got)
		}
		if j < 0 || j > n-2 || g > 256 {
			t.Fatalf("p = %v: splitFixed gives texel %d, weight %d, outside a row of %d", p, j, g, n)
		}
	}
}
