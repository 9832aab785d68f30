package speech

import (
	"fmt"
	"math"
	"strconv"
)

// Engines, as voice specs name them.
const (
	engineFlite   = "flite"
	engineRHVoice = "rhvoice"
)

// spec says how an engine makes one voice.
//
// Pitch is set in the engine (flite's int_f0_target_mean, RHVoice's pitch
// percentage), which keeps speech natural and intelligible. Timbre is varied
// by scale: the engine's output is resampled as if it had been recorded at
// scale times its rate, which multiplies pitch and formants by scale and
// divides durations by it (a smaller or larger speaker). The engine is asked
// for f0/scale and stretch*scale, so the three settings are independent.
//
// flite's rms voice ignores its F0 settings (the output is bit-identical
// whatever the value, as with f0_shift), so an rms voice gets its pitch from
// scale alone; its f0 must be 0.
type spec struct {
	engine string  // engineFlite or engineRHVoice
	base   string  // the engine's voice: a flite voice or an RHVoice profile
	f0     float64 // mean F0 in Hz after scaling; 0 keeps the base voice's own
	// stretch multiplies speech durations (above 1 is slower).
	stretch float64
	// scale multiplies pitch and formants (see above).
	scale float64
}

// voice is one of Voices: how it is made, and how flite alone makes a voice
// like it when its engine is missing.
type voice struct {
	name   string
	female bool
	spec
	fallback spec // a flite voice; equal to spec when spec is one
}

// rhvoiceF0 is the mean F0 of each RHVoice English voice at its default
// pitch, as meanF0 measures it over a sentence; RHVoice's pitch percentage
// scales it linearly (measured from 70% to 150%).
var rhvoiceF0 = map[string]float64{"slt": 175, "clb": 180, "bdl": 124, "alan": 134}

// rhvoiceRef is the flite voice whose timeline is carried over to each
// RHVoice voice (see transfer): the same speaker where flite has one (slt;
// awb is Alan W Black, RHVoice's alan), else one of the same sex and accent.
var rhvoiceRef = map[string]string{"slt": "slt", "clb": "slt", "bdl": "rms", "alan": "awb"}

// voices is the voice table, in the order of Voices. All 14 are RHVoice
// voices (the most natural engine that runs here; see docs/voices.md): the
// female ones made from slt and clb, the male ones from bdl and alan
// (Scottish), each at several pitches, speaking rates and sizes. Every pair
// differs by at least 6% in F0 or in speaking rate, as TestVoicesDiffer
// checks, and most pairs in speaker or size too.
//
// The fallbacks are flite voices for when RHVoice is not installed: female
// ones from slt, male ones from rms, awb (Scottish) and kal16 (a diphone
// voice, the most distinct timbre); they are as distinct from each other.
//
// Measured F0 is the mean over voiced frames of one sentence, and rate the
// speech phones per second, as TestVoicesDiffer measures them; see
// docs/voices.md for the figures.
var voices = []voice{
	{name: "Harper", female: true,
		spec:     spec{engine: engineRHVoice, base: "slt", f0: 192, stretch: 1.00, scale: 1.00},
		fallback: spec{engine: engineFlite, base: "slt", f0: 195, stretch: 1.00, scale: 1.00}},
	{name: "Ava", female: true,
		spec:     spec{engine: engineRHVoice, base: "clb", f0: 205, stretch: 1.04, scale: 1.00},
		fallback: spec{engine: engineFlite, base: "slt", f0: 215, stretch: 0.92, scale: 1.04}},
	{name: "Isabella", female: true,
		spec:     spec{engine: engineRHVoice, base: "slt", f0: 170, stretch: 1.10, scale: 0.97},
		fallback: spec{engine: engineFlite, base: "slt", f0: 180, stretch: 1.10, scale: 0.96}},
	{name: "Sophia", female: true,
		spec:     spec{engine: engineRHVoice, base: "clb", f0: 232, stretch: 1.02, scale: 1.03},
		fallback: spec{engine: engineFlite, base: "slt", f0: 235, stretch: 1.02, scale: 1.02}},
	{name: "Emily", female: true,
		spec:     spec{engine: engineRHVoice, base: "slt", f0: 248, stretch: 0.92, scale: 1.04},
		fallback: spec{engine: engineFlite, base: "slt", f0: 250, stretch: 0.90, scale: 1.06}},
	{name: "Chloe", female: true,
		spec:     spec{engine: engineRHVoice, base: "clb", f0: 182, stretch: 1.12, scale: 0.98},
		fallback: spec{engine: engineFlite, base: "slt", f0: 210, stretch: 1.12, scale: 1.00}},
	{name: "Julia", female: true,
		spec:     spec{engine: engineRHVoice, base: "slt", f0: 218, stretch: 0.94, scale: 1.02},
		fallback: spec{engine: engineFlite, base: "slt", f0: 178, stretch: 0.92, scale: 0.97}},
	{name: "Mason",
		spec:     spec{engine: engineRHVoice, base: "bdl", f0: 0, stretch: 1.00, scale: 1.00},
		fallback: spec{engine: engineFlite, base: "rms", f0: 0, stretch: 1.00, scale: 1.00}},
	{name: "Jack",
		spec:     spec{engine: engineRHVoice, base: "alan", f0: 0, stretch: 0.95, scale: 1.00},
		fallback: spec{engine: engineFlite, base: "awb", f0: 120, stretch: 0.95, scale: 1.00}},
	{name: "Liam",
		spec:     spec{engine: engineRHVoice, base: "bdl", f0: 138, stretch: 1.06, scale: 1.04},
		fallback: spec{engine: engineFlite, base: "rms", f0: 0, stretch: 0.92, scale: 1.10}},
	{name: "James",
		spec:     spec{engine: engineRHVoice, base: "alan", f0: 98, stretch: 1.06, scale: 0.96},
		fallback: spec{engine: engineFlite, base: "kal16", f0: 125, stretch: 1.00, scale: 1.00}},
	{name: "Oliver",
		spec:     spec{engine: engineRHVoice, base: "bdl", f0: 108, stretch: 1.10, scale: 0.96},
		fallback: spec{engine: engineFlite, base: "awb", f0: 142, stretch: 1.08, scale: 1.00}},
	{name: "Adrian",
		spec:     spec{engine: engineRHVoice, base: "alan", f0: 144, stretch: 0.96, scale: 1.02},
		fallback: spec{engine: engineFlite, base: "rms", f0: 0, stretch: 1.08, scale: 0.92}},
	{name: "Ethan",
		spec:     spec{engine: engineRHVoice, base: "bdl", f0: 90, stretch: 0.94, scale: 0.97},
		fallback: spec{engine: engineFlite, base: "awb", f0: 100, stretch: 0.92, scale: 0.97}},
}

// voiceByName returns the table entry for name.
func voiceByName(name string) (voice, bool) {
	for _, v := range voices {
		if v.name == name {
			return v, true
		}
	}
	return voice{}, false
}

// String names the engine and settings of s, as Audio.Engine reports them.
func (s spec) String() string {
	str := s.engine + "/" + s.base
	if s.f0 > 0 {
		str += fmt.Sprintf(" f0=%.0fHz", s.f0)
	}
	if s.stretch != 1 {
		str += " stretch=" + strconv.FormatFloat(s.stretch, 'f', -1, 64)
	}
	if s.scale != 1 {
		str += " scale=" + strconv.FormatFloat(s.scale, 'f', -1, 64)
	}
	return str
}

// fliteArgs returns the flite options that select and shape s, a flite voice.
func (s spec) fliteArgs() []string {
	args := []string{"-voice", s.base}
	if s.f0 > 0 {
		args = append(args, "--setf", "int_f0_target_mean="+ftoa(s.f0/s.scale))
	}
	if d := s.stretch * s.scale; d != 1 {
		args = append(args, "--setf", "duration_stretch="+ftoa(d))
	}
	return args
}

// rhvoiceArgs returns the RHVoice-test options that select and shape s, an
// RHVoice voice, writing to out. Pitch and rate are percentages of the
// voice's own; the text comes on standard input.
func (s spec) rhvoiceArgs(out string) []string {
	args := []string{"-p", s.base}
	if s.f0 > 0 {
		pitch := 100 * s.f0 / s.scale / rhvoiceF0[s.base]
		args = append(args, "-t", strconv.Itoa(int(math.Round(pitch))))
	}
	if d := s.stretch * s.scale; d != 1 {
		args = append(args, "-r", strconv.Itoa(int(math.Round(100/d))))
	}
	return append(args, "-o", out)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
