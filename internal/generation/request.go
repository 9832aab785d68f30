package generation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"stillmotion/internal/fault"
)

// Model is the model the built-in engine serves by default.
const Model = "pixverse/v5/image-to-video"

// MaxCallbackURL is the longest callback_url, in bytes.
const MaxCallbackURL = 2048

// CheckCallbackURL checks the form of a callback URL: an http(s) URL with
// a host and no user info, at most MaxCallbackURL bytes. The rules on the
// addresses it may point at are the webhook sender's.
func CheckCallbackURL(s string) error {
	if len(s) > MaxCallbackURL {
		return fmt.Errorf("must be at most %d characters", MaxCallbackURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errors.New("must be an http(s) URL with a host (and no user info)")
	}
	return nil
}

// Allowed values of the enumerated request fields, in wire order.
var (
	Resolutions = []string{"360p", "540p", "720p", "1080p"}
	Styles      = []string{"anime", "3d_animation", "clay", "comic", "cyberpunk"}
	Speakers    = []string{"Harper", "Ava", "Isabella", "Sophia", "Emily", "Chloe", "Julia",
		"Mason", "Jack", "Liam", "James", "Oliver", "Adrian", "Ethan", "Auto"}
)

// AutoSpeaker is the lip_sync_tts_speaker that lets the engine choose a
// voice from the seed.
const AutoSpeaker = "Auto"

// Limits of the free-text fields, in characters (runes).
const (
	MaxPrompt     = 2048
	MaxSpeech     = 200
	MaxSeed       = 2147483647
	defaultRes    = "720p"
	defaultVoice  = AutoSpeaker
	speechField   = "lip_sync_tts_content"
	speakerField  = "lip_sync_tts_speaker"
	resolutionKey = "resolution"
	callbackField = "callback_url"
	maxURL        = 1 << 30 // a data URI is bounded by the body limit
)

// Request is a validated generation request, with defaults applied.
type Request struct {
	Model string `json:"model"`
	// Kind is what the model makes its video from, from its schema.
	Kind           Kind   `json:"kind,omitempty"`
	Prompt         string `json:"prompt,omitempty"`
	ImageURL       string `json:"image_url,omitempty"`
	TailImageURL   string `json:"tail_image_url,omitempty"`
	VideoURL       string `json:"video_url,omitempty"`
	AudioURL       string `json:"audio_url,omitempty"`
	Resolution     string `json:"resolution,omitempty"`
	AspectRatio    string `json:"aspect_ratio,omitempty"`
	Duration       int    `json:"duration,omitempty"`
	NegativePrompt string `json:"negative_prompt,omitempty"`
	Style          string `json:"style,omitempty"`
	// Seed is always set once a request is accepted: a random one is chosen
	// at submit when the client gave none, so a retried render is the same.
	Seed      int64  `json:"seed"`
	SeedGiven bool   `json:"seed_given,omitempty"`
	Speech    string `json:"lip_sync_tts_content,omitempty"`
	Speaker   string `json:"lip_sync_tts_speaker,omitempty"`
	// GenerateAudio, MultiClip and Thinking are v5.5's switches: sound
	// from the scene, a clip cut into several shots, and how the prompt is
	// read ("enabled", "disabled" or "auto"). GenerateAudio is nil for a
	// model without the switch, whose clips always have sound.
	GenerateAudio *bool  `json:"generate_audio_switch,omitempty"`
	MultiClip     bool   `json:"generate_multi_clip_switch,omitempty"`
	Thinking      string `json:"thinking_type,omitempty"`
	// Size is the frame size asked for on the OpenAI-compatible route
	// ("1280x720"), reported back until the video exists; the resolution
	// follows from it, and the orientation from the image.
	Size string `json:"size,omitempty"`
	// CallbackURL, if set, receives this generation's webhook events
	// (an extension field).
	CallbackURL string `json:"callback_url,omitempty"`
	// Warnings are what the client should know of the request itself (a
	// field its model ignores); they are reported with the video.
	Warnings []string `json:"warnings,omitempty"`
}

// Sound reports whether the clip has a soundtrack: always, unless the
// model has generate_audio_switch and it is off.
func (r *Request) Sound() bool { return r.GenerateAudio == nil || *r.GenerateAudio }

// ShortSide returns the frame's short side in pixels (720 for "720p"), 0
// for a model whose video keeps its input's size.
func (r *Request) ShortSide() int {
	n, _ := strconv.Atoi(strings.TrimSuffix(r.Resolution, "p"))
	return n
}

// The URL fields of a request: the inputs an engine reads.
const (
	FieldImage     = "image_url"
	FieldTailImage = "tail_image_url"
	FieldVideo     = "video_url"
	FieldAudio     = "audio_url"
)

// URLFields are the request's URL fields, in wire order.
var URLFields = []string{FieldImage, FieldTailImage, FieldVideo, FieldAudio}

// URL returns the value of the URL field named field.
func (r *Request) URL(field string) string {
	switch field {
	case FieldImage:
		return r.ImageURL
	case FieldTailImage:
		return r.TailImageURL
	case FieldVideo:
		return r.VideoURL
	case FieldAudio:
		return r.AudioURL
	}
	return ""
}

// SetURL sets the URL field named field.
func (r *Request) SetURL(field, v string) {
	switch field {
	case FieldImage:
		r.ImageURL = v
	case FieldTailImage:
		r.TailImageURL = v
	case FieldVideo:
		r.VideoURL = v
	case FieldAudio:
		r.AudioURL = v
	}
}

// ParseRequest decodes and validates a JSON request body for one of the
// served models (DefaultRoutes when none are given), by the model's
// schema. Unknown fields are ignored; a field of the hosted family that the
// model's schema does not take is ignored with a warning; every invalid
// known field is reported in one fault.Invalid error, with the allowed
// values. The seed is left zero with SeedGiven false when the client gave
// none.
func ParseRequest(body []byte, served ...Route) (*Request, error) {
	if len(served) == 0 {
		served = DefaultRoutes()
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		msg := "request body must be a JSON object"
		if err != nil {
			msg = "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
		}
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!",
			Fields: []fault.FieldError{{Field: "body", Message: msg}}}
	}
	if dec.More() {
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!",
			Fields: []fault.FieldError{{Field: "body", Message: "malformed JSON: unexpected data after the top-level object"}}}
	}
	if k, ok := duplicate(body); ok {
		// encoding/json keeps the last; which one the client meant is
		// anybody's guess.
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!",
			Fields: []fault.FieldError{{Field: fault.Echo(k), Message: "Duplicate key: the body sends this field more than once; send it once"}}}
	}
	p := parser{raw: raw}
	r := &Request{}
	sc := p.model(served)
	r.Model, r.Kind = sc.Model, sc.Kind
	if sc.Kind == LipSync {
		p.lipSync(r)
	} else {
		p.clip(r, sc)
	}
	if r.CallbackURL = p.text(callbackField, false, 1, MaxCallbackURL); r.CallbackURL != "" {
		// The address rules apply at submit (Service.CheckCallback) and at
		// delivery.
		if err := CheckCallbackURL(r.CallbackURL); err != nil {
			p.add(callbackField, "Invalid URL: "+err.Error())
			r.CallbackURL = ""
		}
	}
	if len(p.errs) > 0 {
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Fields: p.errs}
	}
	r.Warnings = p.ignored(sc)
	return r, nil
}

// model reads the model field and returns its schema, with Model set to
// the id sent. A model not served is an error; its fields are then
// checked against the first served model's schema, so that one answer
// reports every mistake.
func (p *parser) model(served []Route) Schema {
	fallback := served[0].Schema()
	fallback.Model = ""
	s, ok := p.str("model", true)
	if !ok {
		return fallback
	}
	s = Canonical(s)
	for _, r := range served {
		if r.Model == s {
			sc := r.Schema()
			sc.Model = s
			return sc
		}
	}
	ids := make([]string, len(served))
	for i, r := range served {
		ids[i] = r.Model
	}
	msg := fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", quoteList(ids), fault.Echo(s))
	if hosted, ok := SchemaOf(s); ok {
		p.add("model", fmt.Sprintf("Model '%s' is not served here. Served models: %s. %s", s, strings.Join(ids, ", "), notServed(hosted)))
		hosted.Model = ""
		return hosted // its own fields are checked, for when it is routed
	}
	p.add("model", msg)
	return fallback
}

// notServed says how to serve a hosted model that is not routed.
func notServed(s Schema) string {
	how := "route it to an engine in the engines file (models: {" + s.Model + ": <engine>}; see docs/engines.md)"
	if s.Kind == TextToVideo {
		return "The built-in engine cannot make a picture from words alone: to serve it, " + how + ", such as the hosted API (upstream), ComfyUI or Replicate"
	}
	return "To serve it, " + how
}

// clip reads the fields of a model that makes a clip from a prompt: an
// image, a transition or text to video.
func (p *parser) clip(r *Request, sc Schema) {
	r.Prompt = p.text("prompt", true, 1, MaxPrompt)
	switch sc.Kind {
	case TextToVideo:
		r.AspectRatio = p.enum("aspect_ratio", false, AspectRatios[0], AspectRatios)
	case Transition:
		r.ImageURL = p.text(FieldImage, true, 1, maxURL)
		r.TailImageURL = p.text(FieldTailImage, true, 1, maxURL)
	default:
		r.ImageURL = p.text(FieldImage, true, 1, maxURL)
	}
	r.Resolution = p.enum(resolutionKey, false, defaultRes, Resolutions)
	r.Duration = p.duration(sc.Durations)
	r.NegativePrompt = p.text("negative_prompt", false, 0, MaxPrompt)
	r.Style = p.enum("style", false, "", Styles)
	r.Seed, r.SeedGiven = p.seed()
	if sc.Speech {
		p.speech(r)
	}
	if sc.Switches {
		on := p.boolean("generate_audio_switch")
		r.GenerateAudio = &on
		r.MultiClip = p.boolean("generate_multi_clip_switch")
		r.Thinking = p.enum("thinking_type", false, ThinkingTypes[0], ThinkingTypes)
	}
	if r.Resolution == "1080p" && r.Duration > 5 && !p.failed("duration") {
		p.add("duration", fmt.Sprintf("Invalid value. 1080p supports only duration 5; use 5, or a lower resolution for %d seconds", r.Duration))
	}
}

// speech reads lip_sync_tts_content and its speaker.
func (p *parser) speech(r *Request) {
	r.Speech = p.text(speechField, false, 1, MaxSpeech)
	r.Speaker = p.enum(speakerField, false, "", Speakers)
	if r.Speaker != "" && !p.present(speechField) && !p.failed(speakerField) {
		p.add(speakerField, speakerField+" is only allowed together with "+speechField)
	}
	if r.Speech != "" && r.Speaker == "" {
		r.Speaker = defaultVoice
	}
}

// lipSync reads the fields of a lip-sync: the video, and exactly one of
// audio_url or spoken text.
func (p *parser) lipSync(r *Request) {
	r.VideoURL = p.text(FieldVideo, true, 1, maxURL)
	r.AudioURL = p.text(FieldAudio, false, 1, maxURL)
	p.speech(r)
	text := p.present(speechField) || p.present(speakerField)
	switch {
	case p.present(FieldAudio) && text:
		p.add(FieldAudio, "Send either audio_url or lip_sync_tts_content with lip_sync_tts_speaker, not both")
	case !p.present(FieldAudio) && !text:
		p.add(FieldAudio, "Required: send audio_url (the speech to lip-sync), or lip_sync_tts_content with lip_sync_tts_speaker (text to speak)")
	}
	r.Seed, r.SeedGiven = p.seed()
}

// familyFields are the request fields of the hosted PixVerse family: one
// a model's schema does not take is ignored with a warning rather than
// silently, since it was meant for a sibling model.
var familyFields = []string{"prompt", FieldImage, FieldTailImage, FieldVideo, FieldAudio, resolutionKey, "aspect_ratio",
	"duration", "negative_prompt", "style", FieldSeed, speechField, speakerField,
	"generate_audio_switch", "generate_multi_clip_switch", "thinking_type"}

// takes reports whether a model of schema sc takes field.
func (sc Schema) takes(field string) bool {
	switch field {
	case "prompt":
		return sc.Kind != LipSync
	case FieldImage:
		return sc.Kind == ImageToVideo || sc.Kind == Transition
	case FieldTailImage:
		return sc.Kind == Transition
	case FieldVideo, FieldAudio:
		return sc.Kind == LipSync
	case "aspect_ratio":
		return sc.Kind == TextToVideo
	case resolutionKey, "duration", "negative_prompt", "style":
		return sc.Kind != LipSync
	case speechField, speakerField:
		return sc.Speech || sc.Kind == LipSync
	case "generate_audio_switch", "generate_multi_clip_switch", "thinking_type":
		return sc.Switches
	}
	return true
}

// Fields returns the request fields a model of schema sc takes, in wire
// order, model first and callback_url (an extension) last.
func (sc Schema) Fields() []string {
	f := []string{"model"}
	for _, name := range familyFields {
		if sc.takes(name) {
			f = append(f, name)
		}
	}
	return append(f, callbackField)
}

// ignored returns a warning for every field of the family that was sent
// but that the model's schema does not take.
func (p *parser) ignored(sc Schema) []string {
	var w []string
	for _, f := range familyFields {
		if p.present(f) && !sc.takes(f) {
			w = append(w, fmt.Sprintf("%s was ignored: model %s does not take it%s", f, sc.Model, instead(sc, f)))
		}
	}
	return w
}

// instead says which model takes a field that sc does not.
func instead(sc Schema, field string) string {
	switch {
	case (field == speechField || field == speakerField) && sc.Switches:
		return " (generate_audio_switch gives it sound; to speak text, use " + Model + " or " + ModelLipSync + ")"
	case field == FieldTailImage:
		return " (use " + ModelTransition + " to end on an image)"
	}
	return ""
}

// duplicate returns the first key that body's top-level object has twice.
func duplicate(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		k, _ := t.(string)
		if seen[k] {
			return k, true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", false
}

// parser collects field errors while reading a decoded JSON object.
type parser struct {
	raw  map[string]json.RawMessage
	errs []fault.FieldError
}

func (p *parser) add(field, msg string) {
	p.errs = append(p.errs, fault.FieldError{Field: field, Message: msg})
}

func (p *parser) failed(field string) bool {
	for _, e := range p.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// present reports whether field was sent with a non-null value.
func (p *parser) present(field string) bool {
	v, ok := p.raw[field]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

// str reads field as a string; ok is false when it is absent, null or invalid
// (invalid also records an error).
func (p *parser) str(field string, required bool) (string, bool) {
	if !p.present(field) {
		if required {
			p.add(field, "Required")
		}
		return "", false
	}
	var s string
	if err := json.Unmarshal(p.raw[field], &s); err != nil {
		p.add(field, "Expected string, received "+jsonType(p.raw[field]))
		return "", false
	}
	return s, true
}

func (p *parser) text(field string, required bool, min, max int) string {
	s, ok := p.str(field, required)
	if !ok {
		return ""
	}
	n := utf8.RuneCountInString(s)
	switch {
	case strings.TrimSpace(s) == "" && min > 0:
		p.add(field, fmt.Sprintf("String must contain at least %d non-blank character(s)", min))
		return ""
	case n > max:
		p.add(field, fmt.Sprintf("String must contain at most %d character(s), received %d", max, n))
		return ""
	}
	return s
}

func (p *parser) enum(field string, required bool, def string, allowed []string) string {
	s, ok := p.str(field, required)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.add(field, fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", quoteList(allowed), fault.Echo(s)))
	return def
}

func (p *parser) duration(allowed []int) int {
	const field = "duration"
	if len(allowed) == 0 {
		return 0
	}
	if !p.present(field) {
		return allowed[0]
	}
	v := bytes.TrimSpace(p.raw[field])
	var n json.Number
	if v[0] == '"' {
		var s string
		_ = json.Unmarshal(v, &s)
		n = json.Number(strings.TrimSpace(s))
	} else if err := json.Unmarshal(v, &n); err != nil {
		p.add(field, "Expected number, received "+jsonType(v))
		return allowed[0]
	}
	d, err := strconv.Atoi(string(n))
	if err != nil || !slices.Contains(allowed, d) {
		vals := make([]string, len(allowed))
		for i, a := range allowed {
			vals[i] = strconv.Itoa(a)
		}
		p.add(field, fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", strings.Join(vals, " | "), fault.Echo(string(n))))
		return allowed[0]
	}
	return d
}

// boolean reads an optional boolean field, false when absent.
func (p *parser) boolean(field string) bool {
	if !p.present(field) {
		return false
	}
	var b bool
	if err := json.Unmarshal(p.raw[field], &b); err != nil {
		p.add(field, "Expected boolean, received "+jsonType(p.raw[field]))
		return false
	}
	return b
}

func (p *parser) seed() (int64, bool) {
	const field = "seed"
	if !p.present(field) {
		return 0, false
	}
	var n json.Number
	if err := json.Unmarshal(p.raw[field], &n); err != nil {
		p.add(field, "Expected integer, received "+jsonType(p.raw[field]))
		return 0, false
	}
	s, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if f, ferr := n.Float64(); ferr == nil && f == float64(int64(f)) {
			s, err = int64(f), nil
		}
	}
	if err != nil || s < 0 || s > MaxSeed {
		p.add(field, fmt.Sprintf("Number must be an integer from 0 to %d, received %s", MaxSeed, fault.Echo(string(n))))
		return 0, false
	}
	return s, true
}

// jsonType names the JSON type of v the way validation messages do.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, " | ")
}
