package generation

import (
	"fmt"
	"slices"
	"strings"

	"stillmotion/internal/billing"
	"stillmotion/internal/fault"
)

// BuiltinEngine names the built-in renderer, which always exists and serves
// Model when no engines file says otherwise.
const BuiltinEngine = "builtin"

// The request fields an engine may honour, by their wire names.
const (
	FieldPrompt         = "prompt"
	FieldNegativePrompt = "negative_prompt"
	FieldResolution     = "resolution"
	FieldDuration       = "duration"
	FieldStyle          = "style"
	FieldSeed           = "seed"
	FieldSpeech         = speechField
	FieldSpeaker        = speakerField
)

// AllFields are every field an engine may honour; the built-in engine
// honours them all.
var AllFields = []string{FieldPrompt, FieldNegativePrompt, FieldResolution, FieldDuration, FieldStyle, FieldSeed, FieldSpeech, FieldSpeaker}

// Route says which engine renders a model's generations.
type Route struct {
	Model  string // the id clients send in "model"
	Engine string // the engine instance
	Queue  string // the engine's render queue; "" is the engine's name
	Kind   string // the engine's kind: builtin, upstream, comfyui, replicate
	// Fields are the request fields the engine honours (besides model and
	// image_url, which every engine takes).
	Fields []string
	// Prices, if set, price this model's generations instead of the
	// Service's prices.
	Prices *billing.Prices
}

// Honours reports whether the route's engine honours field.
func (r *Route) Honours(field string) bool { return slices.Contains(r.Fields, field) }

// sent lists the optional fields a request set, by wire name.
func sent(req *Request) []string {
	var f []string
	add := func(name string, set bool) {
		if set {
			f = append(f, name)
		}
	}
	add(FieldNegativePrompt, req.NegativePrompt != "")
	add(FieldStyle, req.Style != "")
	add(FieldSeed, req.SeedGiven)
	add(FieldSpeech, req.Speech != "")
	return f
}

// check returns the warnings of req on route r: one per field sent that
// the engine ignores. Speech the engine cannot voice is refused instead:
// a silent video would be wrong, not just plainer.
func (r *Route) check(req *Request, served []Route) ([]string, error) {
	var warnings []string
	for _, f := range sent(req) {
		if r.Honours(f) {
			continue
		}
		if f == FieldSpeech {
			var can []string
			for _, o := range served {
				if o.Honours(FieldSpeech) {
					can = append(can, o.Model)
				}
			}
			return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Fields: []fault.FieldError{{Field: f,
				Message: fmt.Sprintf("Model %q cannot speak; send lip_sync_tts_content to a model that can: %s", r.Model, strings.Join(can, ", "))}}}
		}
		warnings = append(warnings, fmt.Sprintf("%s was ignored: model %s does not use it", f, r.Model))
	}
	return warnings, nil
}

// DefaultRoutes are the routes without an engines file: the built-in engine
// serves Model.
func DefaultRoutes() []Route {
	return []Route{{Model: Model, Engine: BuiltinEngine, Kind: BuiltinEngine, Fields: AllFields}}
}
