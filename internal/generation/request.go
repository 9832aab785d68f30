package generation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	Durations   = []int{5, 8}
	Styles      = []string{"anime", "3d_animation", "clay", "comic", "cyberpunk"}
	Speakers    = []string{"Harper", "Ava", "Isabella", "Sophia", "Emily", "Chloe", "Julia",
		"Mason", "Jack", "Liam", "James", "Oliver", "Adrian", "Ethan", "Auto"}
)

// Limits of the free-text fields, in characters (runes).
const (
	MaxPrompt     = 2048
	MaxSpeech     = 200
	MaxSeed       = 2147483647
	defaultRes    = "720p"
	defaultDur    = 5
	defaultVoice  = "Auto"
	speechField   = "lip_sync_tts_content"
	speakerField  = "lip_sync_tts_speaker"
	resolutionKey = "resolution"
	callbackField = "callback_url"
)

// Request is a validated generation request, with defaults applied.
type Request struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	ImageURL       string `json:"image_url"`
	Resolution     string `json:"resolution"`
	Duration       int    `json:"duration"`
	NegativePrompt string `json:"negative_prompt,omitempty"`
	Style          string `json:"style,omitempty"`
	// Seed is always set once a request is accepted: a random one is chosen
	// at submit when the client gave none, so a retried render is the same.
	Seed      int64  `json:"seed"`
	SeedGiven bool   `json:"seed_given,omitempty"`
	Speech    string `json:"lip_sync_tts_content,omitempty"`
	Speaker   string `json:"lip_sync_tts_speaker,omitempty"`
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

// ShortSide returns the frame's short side in pixels (720 for "720p").
func (r *Request) ShortSide() int {
	n, _ := strconv.Atoi(strings.TrimSuffix(r.Resolution, "p"))
	return n
}

// ParseRequest decodes and validates a JSON request body for one of models
// (Model when none are given). Unknown fields are ignored; every invalid
// known field is reported in one fault.Invalid error, with the allowed
// values. The seed is left zero with SeedGiven false when the client gave
// none.
func ParseRequest(body []byte, models ...string) (*Request, error) {
	if len(models) == 0 {
		models = []string{Model}
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
	p := parser{raw: raw}
	r := &Request{}
	r.Model = p.enum("model", true, "", models)
	r.Prompt = p.text("prompt", true, 1, MaxPrompt)
	r.ImageURL = p.text("image_url", true, 1, 1<<30)
	r.Resolution = p.enum(resolutionKey, false, defaultRes, Resolutions)
	r.Duration = p.duration()
	r.NegativePrompt = p.text("negative_prompt", false, 0, MaxPrompt)
	r.Style = p.enum("style", false, "", Styles)
	r.Seed, r.SeedGiven = p.seed()
	r.Speech = p.text(speechField, false, 1, MaxSpeech)
	r.Speaker = p.enum(speakerField, false, "", Speakers)
	if r.Speaker != "" && !p.present(speechField) && !p.failed(speakerField) {
		p.add(speakerField, speakerField+" is only allowed together with "+speechField)
	}
	if r.Speech != "" && r.Speaker == "" {
		r.Speaker = defaultVoice
	}
	if r.CallbackURL = p.text(callbackField, false, 1, MaxCallbackURL); r.CallbackURL != "" {
		// The address rules apply at submit (Service.CheckCallback) and at
		// delivery.
		if err := CheckCallbackURL(r.CallbackURL); err != nil {
			p.add(callbackField, "Invalid URL: "+err.Error())
			r.CallbackURL = ""
		}
	}
	if r.Resolution == "1080p" && r.Duration == 8 {
		p.add("duration", "Invalid value. 1080p supports only duration 5; use 5, or a lower resolution for 8 seconds")
	}
	if len(p.errs) > 0 {
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Fields: p.errs}
	}
	return r, nil
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
	p.add(field, fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", quoteList(allowed), clip(s)))
	return def
}

func (p *parser) duration() int {
	const field = "duration"
	if !p.present(field) {
		return defaultDur
	}
	v := bytes.TrimSpace(p.raw[field])
	var n json.Number
	if v[0] == '"' {
		var s string
		_ = json.Unmarshal(v, &s)
		n = json.Number(strings.TrimSpace(s))
	} else if err := json.Unmarshal(v, &n); err != nil {
		p.add(field, "Expected number, received "+jsonType(v))
		return defaultDur
	}
	d, err := strconv.Atoi(string(n))
	if err != nil || (d != 5 && d != 8) {
		p.add(field, fmt.Sprintf("Invalid enum value. Expected 5 | 8, received '%s'", clip(string(n))))
		return defaultDur
	}
	return d
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
		p.add(field, fmt.Sprintf("Number must be an integer from 0 to %d, received %s", MaxSeed, clip(string(n))))
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

// clip shortens an echoed value so an error body never carries a huge input.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 64 {
		return s
	}
	return string([]rune(s)[:64]) + "…"
}
