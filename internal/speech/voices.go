package speech

import (
	"strconv"
)

// voice is how Flite makes one named voice from a built-in flite voice.
//
// flite's own pitch control (int_f0_target_mean) works for slt, awb and
// kal16 but is ignored by rms (the output is bit-identical whatever the
// value, as is f0_shift), so pitch is also shifted by scale: the flite
// output is resampled as if it had been recorded at scale times its rate,
// which multiplies pitch and formants by scale and divides durations by it
// (a smaller or larger speaker). Synthesis compensates the duration, so the
// three settings are independent:
//
//	int_f0_target_mean = f0 / scale
//	duration_stretch   = stretch * scale
type voice struct {
	name   string
	female bool
	flite  string  // built-in flite voice
	f0     float64 // mean F0 in Hz after scaling; 0 keeps the flite voice's own
	// stretch multiplies speech durations (above 1 is slower).
	stretch float64
	// scale multiplies pitch and formants (see above).
	scale float64
}

// voices is the voice table, in the order of Voices. Female voices are made
// from slt, male ones from rms, awb (Scottish) and kal16 (a diphone voice,
// the most distinct timbre). Every pair differs by at least 6% in F0 or in
// speaking rate, and most pairs in timbre too (flite voice or scale).
//
// Measured F0 is the mean over voiced frames of one sentence, and rate the
// speech phones per second, as TestVoicesDiffer measures them; flite's own
// voices measure slt 172 Hz, rms 102 Hz, awb 130 Hz, kal16 91 Hz.
//
//	voice     flite  F0 target  stretch  scale  measured F0  phones/s
//	Harper    slt    195 Hz     1.00     1.00   190 Hz       11.4
//	Ava       slt    215 Hz     0.92     1.04   211 Hz       12.4
//	Isabella  slt    180 Hz     1.10     0.96   176 Hz       10.4
//	Sophia    slt    235 Hz     1.02     1.02   230 Hz       11.2
//	Emily     slt    250 Hz     0.90     1.06   245 Hz       12.7
//	Chloe     slt    210 Hz     1.12     1.00   205 Hz       10.2
//	Julia     slt    178 Hz     0.92     0.97   173 Hz       12.4
//	Mason     rms    own        1.00     1.00   100 Hz       10.0
//	Jack      awb    120 Hz     0.95     1.00   114 Hz       12.0
//	Liam      rms    own        0.92     1.10   111 Hz       10.9
//	James     kal16  125 Hz     1.00     1.00   122 Hz       10.6
//	Oliver    awb    142 Hz     1.08     1.00   137 Hz       10.5
//	Adrian    rms    own        1.08     0.92    92 Hz        9.3
//	Ethan     awb    100 Hz     0.92     0.97    94 Hz       12.3
var voices = []voice{
	{name: "Harper", female: true, flite: "slt", f0: 195, stretch: 1.00, scale: 1.00},
	{name: "Ava", female: true, flite: "slt", f0: 215, stretch: 0.92, scale: 1.04},
	{name: "Isabella", female: true, flite: "slt", f0: 180, stretch: 1.10, scale: 0.96},
	{name: "Sophia", female: true, flite: "slt", f0: 235, stretch: 1.02, scale: 1.02},
	{name: "Emily", female: true, flite: "slt", f0: 250, stretch: 0.90, scale: 1.06},
	{name: "Chloe", female: true, flite: "slt", f0: 210, stretch: 1.12, scale: 1.00},
	{name: "Julia", female: true, flite: "slt", f0: 178, stretch: 0.92, scale: 0.97},
	{name: "Mason", flite: "rms", stretch: 1.00, scale: 1.00},
	{name: "Jack", flite: "awb", f0: 120, stretch: 0.95, scale: 1.00},
	{name: "Liam", flite: "rms", stretch: 0.92, scale: 1.10},
	{name: "James", flite: "kal16", f0: 125, stretch: 1.00, scale: 1.00},
	{name: "Oliver", flite: "awb", f0: 142, stretch: 1.08, scale: 1.00},
	{name: "Adrian", flite: "rms", stretch: 1.08, scale: 0.92},
	{name: "Ethan", flite: "awb", f0: 100, stretch: 0.92, scale: 0.97},
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

// fliteArgs returns the flite options that select and shape v.
func (v voice) fliteArgs() []string {
	args := []string{"-voice", v.flite}
	if v.f0 > 0 {
		args = append(args, "--setf", "int_f0_target_mean="+ftoa(v.f0/v.scale))
	}
	if s := v.stretch * v.scale; s != 1 {
		args = append(args, "--setf", "duration_stretch="+ftoa(s))
	}
	return args
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
