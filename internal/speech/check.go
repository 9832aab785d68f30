package speech

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is what Check found about one engine.
type Status struct {
	Engine string // "flite" or "rhvoice"
	// Program is the program Check ran.
	Program string
	// OK reports whether the engine spoke. When flite is not OK, no voice
	// can speak; when RHVoice is not, Voices fall back to flite.
	OK bool
	// Detail says what was found, or what is wrong.
	Detail string
	// Install is the command that installs what is missing; "" when OK.
	Install string
	// Voices are the voices built on the engine.
	Voices []string
}

// Check tries every engine that f uses once, on a short text, for
// `stillmotion doctor`, and reports what it found: flite first, which every
// voice needs (for timings, and as the fallback), then RHVoice.
func (f *Flite) Check(ctx context.Context) []Status {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var byEngine = map[string][]string{}
	for _, v := range voices {
		byEngine[v.engine] = append(byEngine[v.engine], v.name)
	}

	fl := Status{Engine: engineFlite, Program: f.program(), Voices: slices.Clone(Voices)}
	if _, _, _, err := f.runFlite(ctx, spec{base: "slt", stretch: 1, scale: 1}.fliteArgs(), "Ready."); err != nil {
		fl.Detail = err.Error()
		fl.Install = "apt-get install flite"
	} else {
		fl.OK, fl.Detail = true, "flite speaks (voices slt, rms, awb, kal16, kal)"
	}

	rh := Status{Engine: engineRHVoice, Program: f.rhvoiceProgram(), Voices: byEngine[engineRHVoice]}
	var missing []string
	for _, base := range []string{"slt", "clb", "bdl", "alan"} {
		if why := f.rhvoiceMissing(base); why != "" {
			missing = append(missing, why)
		}
	}
	switch {
	case len(missing) > 0:
		rh.Detail = strings.Join(slices.Compact(missing), "; ") + "; these voices fall back to flite"
		rh.Install = "add Debian's non-free component to the APT sources, then apt-get install rhvoice rhvoice-english"
	default:
		if _, _, err := f.runRHVoice(ctx, "Ready.", spec{engine: engineRHVoice, base: "slt", stretch: 1, scale: 1}); err != nil {
			rh.Detail = fmt.Sprintf("RHVoice fails (%v); these voices fall back to flite", err)
			rh.Install = "apt-get install --reinstall rhvoice rhvoice-english"
		} else {
			rh.OK, rh.Detail = true, "RHVoice speaks (voices slt, clb, bdl, alan)"
		}
	}
	return []Status{fl, rh}
}
