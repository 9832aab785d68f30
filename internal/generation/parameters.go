package generation

// Parameter describes one request field of a model's schema for a client
// that builds a form from it (GET /v2/models): its type, whether it is
// required, the values it allows and its default. It states the rules the
// parser applies (TestParametersAgreeWithParser holds them together).
type Parameter struct {
	Name string `json:"name"`
	// Type is "string", "integer", "boolean" or "url": an http(s) URL or
	// a data: URI of the file Media names.
	Type     string `json:"type"`
	Media    string `json:"media,omitempty"` // of a url: "image", "video" or "audio"
	Required bool   `json:"required,omitempty"`
	// Requires names the field without which this one may not be sent.
	Requires string `json:"requires,omitempty"`
	Enum     []any  `json:"enum,omitempty"`
	Default  any    `json:"default,omitempty"`
	// MinLength and MaxLength bound a string's length in characters.
	MinLength int `json:"min_length,omitempty"`
	MaxLength int `json:"max_length,omitempty"`
	// Minimum and Maximum bound an integer without an Enum.
	Minimum *int64 `json:"minimum,omitempty"`
	Maximum *int64 `json:"maximum,omitempty"`
}

// Parameter returns the description of field as a model of schema sc takes
// it, or false when sc does not take field or it is not a field a form
// fills (model, callback_url).
func (sc Schema) Parameter(field string) (Parameter, bool) {
	if !sc.takes(field) {
		return Parameter{}, false
	}
	p := Parameter{Name: field, Type: "string"}
	switch field {
	case "prompt":
		p.Required, p.MinLength, p.MaxLength = true, 1, MaxPrompt
	case "negative_prompt":
		p.MaxLength = MaxPrompt
	case FieldImage:
		p.Type, p.Media, p.Required = "url", "image", true
	case FieldTailImage:
		p.Type, p.Media, p.Required = "url", "image", true
	case FieldVideo:
		p.Type, p.Media, p.Required = "url", "video", true
	case FieldAudio:
		p.Type, p.Media = "url", "audio" // or the speech: see OneOf
	case resolutionKey:
		p.Enum, p.Default = anys(Resolutions), defaultRes
	case "aspect_ratio":
		p.Enum, p.Default = anys(AspectRatios), AspectRatios[0]
	case "duration":
		p.Type, p.Enum, p.Default = "integer", anys(sc.Durations), sc.Durations[0]
	case "style":
		p.Enum = anys(Styles)
	case FieldSeed:
		lo, hi := int64(0), int64(MaxSeed)
		p.Type, p.Minimum, p.Maximum = "integer", &lo, &hi
	case speechField:
		p.MinLength, p.MaxLength = 1, MaxSpeech
	case speakerField:
		p.Enum, p.Default, p.Requires = anys(Speakers), defaultVoice, speechField
	case "generate_audio_switch", "generate_multi_clip_switch":
		p.Type, p.Default = "boolean", false
	case "thinking_type":
		p.Enum, p.Default = anys(ThinkingTypes), ThinkingTypes[0]
	default:
		return Parameter{}, false
	}
	return p, true
}

// DurationsAt returns the durations a model of schema sc allows at
// resolution, when fewer than sc.Durations: 1080p is 5 s only.
func (sc Schema) DurationsAt(resolution string) ([]int, bool) {
	if resolution != "1080p" || len(sc.Durations) < 2 {
		return nil, false
	}
	return []int{5}, true
}

// OneOf returns the groups of fields of which a request must send exactly
// one: a lip-sync's audio_url or lip_sync_tts_content.
func (sc Schema) OneOf() [][]string {
	if sc.Kind == LipSync {
		return [][]string{{FieldAudio, speechField}}
	}
	return nil
}

func anys[T any](v []T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
