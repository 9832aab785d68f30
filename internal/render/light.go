package render

import (
	"fmt"
	"math"
	"strings"

	"stillmotion/internal/prompt"
)

// Grade is a set of colour grades, combined in the order of the constants.
// The zero Grade leaves the colours as they are.
type Grade uint16

// The grades.
const (
	GoldenHour    Grade = 1 << iota // warm, low sun
	Dusk                            // the sun has set: dim, warm to violet
	Night                           // dark, cool and desaturated
	Moody                           // darker, muted, cool shadows
	Neon                            // saturated, magenta and blue
	Vintage                         // faded blacks, warm, muted
	BlackAndWhite                   // no colour
	HighContrast                    // deep blacks, bright whites
	numGrades     = iota
)

var gradeNames = [...]string{"golden hour", "dusk", "night", "moody", "neon", "vintage", "black and white", "high contrast"}

// String returns the grades in words joined by "+", such as
// "golden hour+high contrast", or "natural" for none.
func (g Grade) String() string {
	if g == 0 {
		return "natural"
	}
	var names []string
	for i := range numGrades {
		if g&(1<<i) != 0 {
			names = append(names, gradeNames[i])
		}
	}
	return strings.Join(names, "+")
}

// grading is what a grade does, as parameters that can be blended for a
// transition: a white balance, exposure, saturation, an S-curve of the
// given strength, a lift of the blacks and a gamma.
type grading struct {
	gain     [3]float64
	exposure float64
	sat      float64
	contrast float64
	lift     [3]float64
	gamma    float64
}

var neutral = grading{gain: [3]float64{1, 1, 1}, exposure: 1, sat: 1, gamma: 1}

var gradings = [numGrades]grading{
	{gain: [3]float64{1.1, 1.0, 0.8}, exposure: 1.03, sat: 1.15, contrast: 0.08, lift: [3]float64{0.03, 0.015, 0}, gamma: 1},
	{gain: [3]float64{1.05, 0.8, 0.85}, exposure: 0.62, sat: 0.95, contrast: 0.1, lift: [3]float64{0.02, 0, 0.04}, gamma: 1.1},
	{gain: [3]float64{0.75, 0.88, 1.15}, exposure: 0.5, sat: 0.55, contrast: 0.1, lift: [3]float64{0, 0.005, 0.025}, gamma: 1.2},
	{gain: [3]float64{0.95, 1, 1.03}, exposure: 0.82, sat: 0.72, contrast: 0.22, lift: [3]float64{0, 0.015, 0.025}, gamma: 1.08},
	{gain: [3]float64{1.08, 0.88, 1.12}, exposure: 1, sat: 1.45, contrast: 0.18, lift: [3]float64{0.02, 0, 0.04}, gamma: 1},
	{gain: [3]float64{1.06, 1.0, 0.84}, exposure: 0.97, sat: 0.65, contrast: -0.08, lift: [3]float64{0.07, 0.06, 0.045}, gamma: 1},
	{gain: [3]float64{1, 1, 1}, exposure: 1, sat: 0, contrast: 0.12, gamma: 1},
	{gain: [3]float64{1, 1, 1}, exposure: 1, sat: 1.1, contrast: 0.4, gamma: 1},
}

// grading returns the combined parameters of g: gains, exposures and
// saturations multiply, contrasts and lifts add.
func (g Grade) grading() grading {
	out := neutral
	for i := range numGrades {
		if g&(1<<i) == 0 {
			continue
		}
		p := gradings[i]
		for c := range 3 {
			out.gain[c] *= p.gain[c]
			out.lift[c] += p.lift[c]
		}
		out.exposure *= p.exposure
		out.sat *= p.sat
		out.contrast += p.contrast
		out.gamma *= p.gamma
	}
	return out
}

func lerpGrading(a, b grading, t float64) grading {
	l := func(x, y float64) float64 { return x + (y-x)*t }
	var o grading
	for c := range 3 {
		o.gain[c] = l(a.gain[c], b.gain[c])
		o.lift[c] = l(a.lift[c], b.lift[c])
	}
	o.exposure, o.sat, o.contrast, o.gamma = l(a.exposure, b.exposure), l(a.sat, b.sat), l(a.contrast, b.contrast), l(a.gamma, b.gamma)
	return o
}

// Light is the clip's colour grade: From on frame 0, changing to To over
// the clip when they differ ("the sun sets").
type Light struct {
	From, To Grade
	// Reason quotes the words that chose the light, for Description.
	Reason string
}

// Flash is a lightning flash on one frame. Its afterglow flickers over the
// next few frames.
type Flash struct {
	Frame    int
	Strength float64 // 0..1
}

// flashCurve is the brightness of a flash on its frame and the frames
// after it: a strike, a dimmer afterglow, a restrike and a fade.
var flashCurve = []float64{1, 0.3, 0.6, 0.2, 0.07}

// lut is a colour transform: a saturation about luma in 8.8 fixed point
// (skipped when sat is 256) and then a table per channel.
type lut struct {
	sat   int32
	table [3][256]uint8
}

// build returns the table for grading g, brightened by a flash of
// strength f (0 for none).
func (g grading) build(f float64) *lut {
	l := &lut{sat: int32(math.Round(g.sat * 256))}
	for c := range 3 {
		for i := range 256 {
			v := float64(i) / 255
			v = math.Pow(v, g.gamma) * g.exposure * g.gain[c]
			if g.contrast != 0 {
				x := min(max(v, 0), 1)
				v += g.contrast * x * (1 - x) * (2*x - 1) * 2
			}
			v = g.lift[c] + v*(1-g.lift[c])
			if f > 0 {
				// A cold white flash: everything lifts towards blue-white.
				tint := [3]float64{0.85, 0.92, 1}[c]
				v += (tint - v*0.6) * f
			}
			l.table[c][i] = uint8(min(max(math.Round(v*255), 0), 255))
		}
	}
	return l
}

// apply transforms the w pixels of row in place.
func (l *lut) apply(row []uint8) {
	t0, t1, t2 := &l.table[0], &l.table[1], &l.table[2]
	if l.sat == 256 {
		for i := 0; i+3 < len(row); i += 4 {
			row[i], row[i+1], row[i+2] = t0[row[i]], t1[row[i+1]], t2[row[i+2]]
		}
		return
	}
	s := l.sat
	for i := 0; i+3 < len(row); i += 4 {
		r, g, b := int32(row[i]), int32(row[i+1]), int32(row[i+2])
		y := (77*r + 150*g + 29*b) >> 8
		row[i] = t0[clamp8(y+((r-y)*s>>8))]
		row[i+1] = t1[clamp8(y+((g-y)*s>>8))]
		row[i+2] = t2[clamp8(y+((b-y)*s>>8))]
	}
}

func clamp8(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}

// promptGrades are the grades of the prompt's words.
var promptGrades = [numGrades]struct {
	said  prompt.Grade
	grade Grade
}{
	{prompt.GoldenHour, GoldenHour}, {prompt.Dusk, Dusk}, {prompt.Night, Night}, {prompt.Moody, Moody},
	{prompt.Neon, Neon}, {prompt.Vintage, Vintage}, {prompt.BlackAndWhite, BlackAndWhite}, {prompt.HighContrast, HighContrast},
}

// gradeOf returns the grades of g.
func gradeOf(g prompt.Grade) Grade {
	var out Grade
	for _, p := range promptGrades {
		if g&p.said != 0 {
			out |= p.grade
		}
	}
	return out
}

// PlanLight returns the light the prompt asks for (sc.Light): its grades
// ("golden hour", "at night", "moody", "neon", "vintage", "black and
// white", "high contrast"...) and a change over the clip ("the sun
// sets", "night falls", "dawn breaks"), without the grades it refuses.
func PlanLight(sc *prompt.Scene) Light {
	l := Light{From: gradeOf(sc.Light.From), To: gradeOf(sc.Light.To)}
	if len(sc.Light.Words) > 0 {
		l.Reason = fmt.Sprintf("from prompt: %q", strings.Join(sc.Light.Words, ", "))
	}
	return l
}

// Description returns the light in words, such as "golden hour" or
// "natural → night".
func (l Light) Description() string {
	if l.From == l.To {
		return l.From.String()
	}
	return l.From.String() + " → " + l.To.String()
}
