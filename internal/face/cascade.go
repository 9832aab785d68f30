package face

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"sync"

	pigo "github.com/esimov/pigo/core"

	"stillmotion/internal/fault"
)

// The cascades are pigo's (github.com/esimov/pigo v1.4.6, MIT; the licence
// is cascade/LICENSE). A module cannot embed another module's files, so
// they are copied here: facefinder finds faces, puploc pupils, and of the
// landmark cascades lp84 finds a mouth corner (its mirrored run the other
// one), lp81 the top of the upper lip and lp82 the bottom of the lower lip.
var (
	//go:embed cascade/facefinder
	facefinderData []byte
	//go:embed cascade/puploc
	puplocData []byte
	//go:embed cascade/lp81
	lp81Data []byte
	//go:embed cascade/lp82
	lp82Data []byte
	//go:embed cascade/lp84
	lp84Data []byte
)

// cascades holds the parsed cascades. They are read-only once parsed, so
// detections may run concurrently.
type cascades struct {
	face                     *pigo.Pigo
	pupil, lipTop, lipBottom *locator
	mouthCorner              *locator
}

// load parses the embedded cascades once, on first use: they take about
// 20 ms and 15 MB, which a process that never meets a face should not pay.
var load = sync.OnceValues(func() (*cascades, error) {
	var c cascades
	var err error
	if c.face, err = pigo.NewPigo().Unpack(facefinderData); err != nil {
		return nil, fault.Wrap(fault.Internal, "loading the face detector", err)
	}
	for _, l := range []struct {
		dst  **locator
		name string
		data []byte
	}{
		{&c.pupil, "puploc", puplocData},
		{&c.lipTop, "lp81", lp81Data},
		{&c.lipBottom, "lp82", lp82Data},
		{&c.mouthCorner, "lp84", lp84Data},
	} {
		if *l.dst, err = parseLocator(l.data); err != nil {
			return nil, fault.Wrap(fault.Internal, "loading the face detector", fmt.Errorf("cascade %s: %w", l.name, err))
		}
	}
	return &c, nil
})

// locator is a pixel-intensity-comparison cascade that refines the position
// of one point (a pupil, a lip landmark) from a rough guess, as in Markuš et
// al., "Eye pupil localization with an ensemble of randomized trees" (2014).
// It evaluates pigo's puploc and lp* cascade files.
//
// pigo has its own evaluator (PuplocCascade.RunDetector), but it perturbs
// the starting guess with the global math/rand source, so its answers differ
// from run to run by a pixel or two. Videos must be identical for the same
// request, so locator repeats the evaluation with a fixed set of
// perturbations instead. The tree walk is pigo's.
type locator struct {
	stages, trees, depth int
	scale                float32 // applied to the search scale after each stage
	codes                []int8  // per tree: (4<<depth)-4 pixel-pair offsets
	preds                []float32
}

// parseLocator reads a cascade file: stages, scale multiplier, trees per
// stage and tree depth, then for each tree its node codes and, per leaf, a
// (row, column) offset; all little-endian.
func parseLocator(b []byte) (*locator, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%d bytes, too short", len(b))
	}
	le := binary.LittleEndian
	l := &locator{
		stages: int(le.Uint32(b[0:])),
		scale:  math.Float32frombits(le.Uint32(b[4:])),
		trees:  int(le.Uint32(b[8:])),
		depth:  int(le.Uint32(b[12:])),
	}
	if l.depth < 1 || l.depth > 12 || l.stages < 1 || l.trees < 1 {
		return nil, fmt.Errorf("implausible shape: %d stages of %d trees of depth %d", l.stages, l.trees, l.depth)
	}
	leaves := 1 << l.depth
	per := 4*leaves - 4 + 8*leaves
	n := l.stages * l.trees
	if len(b)-16 != n*per {
		return nil, fmt.Errorf("%d bytes of trees, want %d", len(b)-16, n*per)
	}
	l.codes = make([]int8, 0, n*(4*leaves-4))
	l.preds = make([]float32, 0, n*2*leaves)
	p := b[16:]
	for range n {
		for _, c := range p[:4*leaves-4] {
			l.codes = append(l.codes, int8(c))
		}
		p = p[4*leaves-4:]
		for range 2 * leaves {
			l.preds = append(l.preds, math.Float32frombits(le.Uint32(p)))
			p = p[4:]
		}
	}
	return l, nil
}

// run moves the guess (r, c) at scale s (all in pixels of g) through the
// cascade's stages and returns where it ends. mirror evaluates the cascade
// on the mirror image of the neighbourhood, which finds the symmetric
// landmark (the other mouth corner).
func (l *locator) run(g *gray, r, c, s float32, mirror bool) (float32, float32) {
	leaves := 1 << l.depth
	code := 0
	sign := int8(1)
	if mirror {
		sign = -1
	}
	for st := range l.stages {
		var dr, dc float32
		is := int(math.Round(float64(s)))
		ir, ic := 256*int(r), 256*int(c)
		for t := range l.trees {
			codes := l.codes[code : code+4*leaves-4]
			idx := 0
			for range l.depth {
				n := codes[4*idx : 4*idx+4]
				r1 := min(g.h-1, max(0, (ir+int(n[0])*is)>>8))
				c1 := min(g.w-1, max(0, (ic+int(sign*n[1])*is)>>8))
				r2 := min(g.h-1, max(0, (ir+int(n[2])*is)>>8))
				c2 := min(g.w-1, max(0, (ic+int(sign*n[3])*is)>>8))
				bit := 0
				if g.pix[r1*g.w+c1] > g.pix[r2*g.w+c2] {
					bit = 1
				}
				idx = 2*idx + 1 + bit
			}
			lut := 2 * (l.trees*leaves*st + leaves*t + idx - (leaves - 1))
			dr += l.preds[lut]
			dc += float32(sign) * l.preds[lut+1]
			code += 4*leaves - 4
		}
		r += dr * s
		c += dc * s
		s *= l.scale
	}
	return r, c
}

// perturbations are the fixed offsets (row, column, in units of the search
// scale) and scale factors locate starts from; they span what pigo's random
// ones do (±7.5 % of the scale in position, 0.925..1.075 in scale).
var perturbations = func() [][3]float32 {
	const n = 31
	p := make([][3]float32, n)
	x := uint64(0x5eed)
	next := func() float32 {
		x += 0x9e3779b97f4a7c15
		z := (x ^ x>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return float32((z^z>>31)>>40) / (1 << 24)
	}
	for i := range p {
		p[i] = [3]float32{0.15 * (0.5 - next()), 0.15 * (0.5 - next()), 0.925 + 0.15*next()}
	}
	p[0] = [3]float32{0, 0, 1}
	return p
}()

// locate runs the cascade from each perturbation of the guess and returns
// the median of the answers, in pixels of g.
func (l *locator) locate(g *gray, p Point, s float64, mirror bool) Point {
	rs := make([]float64, len(perturbations))
	cs := make([]float64, len(perturbations))
	for i, d := range perturbations {
		r, c := l.run(g, float32(p.Y)+float32(s)*d[0], float32(p.X)+float32(s)*d[1], float32(s)*d[2], mirror)
		rs[i], cs[i] = float64(r), float64(c)
	}
	sort.Float64s(rs)
	sort.Float64s(cs)
	return Point{X: cs[len(cs)/2], Y: rs[len(rs)/2]}
}
