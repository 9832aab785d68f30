package generation

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"stillmotion/internal/billing"
	"stillmotion/internal/fault"
)

// BuiltinEngine names the built-in renderer, which always exists and serves
// Model when no engines file says otherwise.
const BuiltinEngine = "builtin"

// ScriptedEngine is the name of the engine that renders test generations
// as their scripts say, without rendering (a tiny MP4, or the scripted
// error). Its failures are final: a script's error is not retried.
const ScriptedEngine = "scripted"

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
	FieldAspectRatio    = "aspect_ratio"
	FieldGenerateAudio  = "generate_audio_switch"
	FieldMultiClip      = "generate_multi_clip_switch"
	FieldThinking       = "thinking_type"
)

// AllFields are every field an engine may honour; the built-in engine
// honours them all.
var AllFields = []string{FieldPrompt, FieldNegativePrompt, FieldResolution, FieldDuration, FieldStyle, FieldSeed, FieldSpeech, FieldSpeaker,
	FieldAspectRatio, FieldGenerateAudio, FieldMultiClip, FieldThinking}

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
	// Like is the hosted model whose request schema Model takes; "" is
	// Model's own when it is a hosted id (see Schemas), else
	// pixverse/v5/image-to-video's.
	Like string
}

// Schema returns the request schema of the route's model.
func (r *Route) Schema() Schema {
	if s, ok := SchemaOf(cmp.Or(r.Like, r.Model)); ok {
		return s
	}
	return Schemas[0]
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
	add(FieldGenerateAudio, req.GenerateAudio != nil && *req.GenerateAudio)
	add(FieldMultiClip, req.MultiClip)
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
				if o.Honours(FieldSpeech) && o.Schema().Speech {
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

// BuiltinModels are the hosted models the built-in engine serves: all but
// text-to-video, since it cannot make a picture from words.
var BuiltinModels = []string{Model, ModelV55ImageToVideo, ModelTransition, ModelLipSync}

// DefaultRoutes are the routes without an engines file: the built-in engine
// serves BuiltinModels.
func DefaultRoutes() []Route {
	rs := make([]Route, len(BuiltinModels))
	for i, m := range BuiltinModels {
		rs[i] = Route{Model: m, Engine: BuiltinEngine, Kind: BuiltinEngine, Fields: AllFields}
	}
	return rs
}
