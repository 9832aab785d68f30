// Package morph draws a morph from one picture to another: matched
// structure moves from where it is in the first picture to where it is in
// the last, and only what has no counterpart dissolves. It backs the
// pixverse/v5/transition model, which makes a clip from a first and a
// last ("tail") image.
//
// The method is the classic flow-based morph:
//
//   - Correspondence. Both pictures are reduced to working copies (long
//     side at most Options.MaxSide) in a luma/chroma space and built into
//     pyramids. At the coarsest level an exhaustive block search finds
//     large motions; at each finer level the coarser flow is carried up,
//     a PatchMatch pass (propagation from neighbours, random steps in a
//     shrinking window) replaces it only where a clearly better patch
//     match exists, a 3×3 median removes stray matches, and a robust
//     Horn–Schunck refinement with re-warping makes the field smooth and
//     sub-pixel. The flows A→B and B→A are computed side by side, and
//     after each level the colours at the matches that pass the
//     forward–backward check fit a per-channel gain and offset, so that
//     another exposure or white balance does not read as a mismatch.
//   - Confidence. A match is reliable where the two flows agree (the
//     forward–backward check) and the neighbourhoods look alike.
//     Unreliable flow is replaced by a push–pull fill of the reliable flow
//     around it, which shrinks to zero where nothing nearby is reliable:
//     unrelated pictures dissolve in place, while an object that only one
//     picture has travels with the scene around it as it fades. Points
//     whose match lies outside the other frame take the confidence of
//     their neighbours and keep their smoothly extended flow, so content
//     slides out of the frame instead of fading.
//   - Frames. At eased time τ a point travels from x in A to x+F(x) in B.
//     Frame finds the points of A and of B that are at each pixel at τ by
//     a fixed-point iteration on the working grid, samples A and B there
//     bilinearly and blends them with weight τ, showing only one picture
//     where the other's point has left its frame.
//
// Frame(0) is A and Frame(1) is B byte for byte. Everything is computed in
// a fixed order from the inputs alone, so the same pictures give the same
// frames, and Frame may be called from several goroutines at once.
package morph

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"

	"golang.org/x/image/draw"
)

// Options tune New. The zero value gives the defaults.
type Options struct {
	// MaxSide caps the long side, in pixels, of the working copies the
	// correspondence is computed on; the flow is then scaled up to the
	// pictures' size. 0 means 384: finer costs time and gains little,
	// since frames are drawn from the full pictures anyway.
	MaxSide int
	// Iterations is the number of smoothing sweeps per warp at each
	// pyramid level; 0 means 20.
	Iterations int
}

const (
	defaultMaxSide    = 384
	defaultIterations = 20
)

// Morph is a computed correspondence between two pictures of one size.
// It keeps a and b as given to New: do not change them while the Morph is
// in use.
type Morph struct {
	a, b    *image.RGBA
	w, h    int // the pictures' size
	gw, gh  int // the working grid's size
	sx, sy  float32
	fab     []float32 // A→B flow on the grid, in the grid's pixels, (x, y) pairs
	fba     []float32 // B→A flow
	matched float64

	// Sampling the grid from a picture's rows and columns: the first of
	// the two grid cells and the weight of the second.
	colIdx []int32
	colFr  []float32
	rowIdx []int32
	rowFr  []float32

	// Spare grids of per-frame offsets (4 floats per grid cell), kept
	// for the next Frame: as many as were ever in use at once.
	mu    sync.Mutex
	spare [][]float32
}

// Fit returns img scaled to cover a w×h frame and cropped to it about the
// centre, so that pictures of other sizes or aspect ratios fit the frame
// of the first.
func Fit(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	sb := img.Bounds()
	if w <= 0 || h <= 0 || sb.Empty() {
		return dst
	}
	sw, sh := sb.Dx(), sb.Dy()
	if sw == w && sh == h {
		draw.Draw(dst, dst.Rect, img, sb.Min, draw.Src)
		return dst
	}
	scale := math.Max(float64(w)/float64(sw), float64(h)/float64(sh))
	cw, ch := float64(w)/scale, float64(h)/scale
	x0 := float64(sb.Min.X) + (float64(sw)-cw)/2
	y0 := float64(sb.Min.Y) + (float64(sh)-ch)/2
	r := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x0+cw)), int(math.Round(y0+ch))).Intersect(sb)
	if r.Empty() {
		r = sb
	}
	draw.CatmullRom.Scale(dst, dst.Rect, img, r, draw.Src, nil)
	return dst
}

// New computes the correspondence between a and b, which must be the same
// size and at least 2×2, and returns the Morph between them. It stops
// early with ctx's error when ctx is done.
func New(ctx context.Context, a, b *image.RGBA, opt Options) (*Morph, error) {
	if a == nil || b == nil {
		return nil, errors.New("morph: nil picture")
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if b.Rect.Dx() != w || b.Rect.Dy() != h {
		return nil, fmt.Errorf("morph: pictures differ in size: %dx%d and %dx%d", w, h, b.Rect.Dx(), b.Rect.Dy())
	}
	if w < 2 || h < 2 {
		return nil, fmt.Errorf("morph: picture too small: %dx%d", w, h)
	}
	if opt.MaxSide <= 0 {
		opt.MaxSide = defaultMaxSide
	}
	if opt.Iterations <= 0 {
		opt.Iterations = defaultIterations
	}
	scale := min(1, float64(opt.MaxSide)/float64(max(w, h)))
	gw := max(2, int(math.Round(float64(w)*scale)))
	gh := max(2, int(math.Round(float64(h)*scale)))

	var pa, pb []*level
	var wg sync.WaitGroup
	wg.Go(func() { pa = pyramid(shrink(a, gw, gh)) })
	pb = pyramid(shrink(b, gw, gh))
	wg.Wait()
	fab, fba, b0, err := flows(ctx, pa, pb, opt.Iterations)
	if err != nil {
		return nil, err
	}
	ca, cb := confidence(pa[0], b0, fab, fba), confidence(b0, pa[0], fba, fab)
	m := &Morph{
		a: a, b: b, w: w, h: h, gw: gw, gh: gh,
		sx: float32(w) / float32(gw), sy: float32(h) / float32(gh),
		fab:     settle(fab, ca, gw, gh),
		fba:     settle(fba, cb, gw, gh),
		matched: (mean(ca.c) + mean(cb.c)) / 2,
	}
	m.colIdx, m.colFr = gridTaps(w, gw)
	m.rowIdx, m.rowFr = gridTaps(h, gh)
	return m, nil
}

// Matched returns the share of the pictures, 0..1, where the
// correspondence is reliable, so that they morph rather than dissolve.
func (m *Morph) Matched() float64 { return m.matched }

// Frame draws the morph at time t, 0..1, into dst, which must be the size
// of the pictures (Frame panics otherwise) and share no pixels with them.
// Frame(0) draws a and Frame(1) draws b exactly (t beyond 0..1 counts as
// the nearer end); between them the motion and the blend ease in and out.
// Frame may be called from several goroutines at once.
func (m *Morph) Frame(t float64, dst *image.RGBA) {
	if dst.Rect.Dx() != m.w || dst.Rect.Dy() != m.h {
		panic(fmt.Sprintf("morph: frame is %dx%d, pictures are %dx%d", dst.Rect.Dx(), dst.Rect.Dy(), m.w, m.h))
	}
	switch {
	case !(t > 0): // also NaN
		copyRGBA(dst, m.a)
		return
	case t >= 1:
		copyRGBA(dst, m.b)
		return
	}
	tau := float32(t * t * (3 - 2*t))

	var grid []float32
	m.mu.Lock()
	if n := len(m.spare); n > 0 {
		grid, m.spare = m.spare[n-1], m.spare[:n-1]
	}
	m.mu.Unlock()
	if grid == nil {
		grid = make([]float32, 4*m.gw*m.gh)
	}
	parallel(m.gh, func(lo, hi int) { m.offsets(grid, tau, lo, hi) })
	parallel(m.h, func(lo, hi int) { m.draw(dst, grid, tau, lo, hi) })
	m.mu.Lock()
	m.spare = append(m.spare, grid)
	m.mu.Unlock()
}

// gridTaps maps each of n picture pixels to the working grid of g cells
// (pixel centres to cell centres): the first of two cells and the weight
// of the second.
func gridTaps(n, g int) ([]int32, []float32) {
	idx := make([]int32, n)
	fr := make([]float32, n)
	for i := range n {
		p := (float64(i)+0.5)*float64(g)/float64(n) - 0.5
		p = min(max(p, 0), float64(g-1))
		j := min(int(p), g-2)
		idx[i], fr[i] = int32(j), float32(p-float64(j))
	}
	return idx, fr
}

// copyRGBA copies src into dst, both the same size.
func copyRGBA(dst, src *image.RGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for y := range h {
		d := dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y)
		s := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y)
		copy(dst.Pix[d:d+4*w], src.Pix[s:s+4*w])
	}
}

// parallel runs fn over [0, n) in contiguous bands, one per processor.
// Each index is handled by exactly one call, so the result does not
// depend on scheduling.
func parallel(n int, fn func(lo, hi int)) {
	k := min(runtime.GOMAXPROCS(0), n)
	if k <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < k; i++ {
		wg.Go(func() { fn(i*n/k, (i+1)*n/k) })
	}
	fn(0, n/k)
	wg.Wait()
}

func mean(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(max(len(v), 1))
}
