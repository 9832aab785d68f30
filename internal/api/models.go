package api

import (
	"net/http"
	"slices"

	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/generation"
)

// modelEntry is one model served, on GET /v2/models.
type modelEntry struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	// Kind is what the model makes its video from: image-to-video,
	// text-to-video, transition or lip-sync.
	Kind string `json:"kind"`
	// Schema is the hosted model whose request schema it takes.
	Schema string `json:"schema"`
	// Engine is the kind of engine that renders it (builtin, upstream,
	// comfyui, replicate); the instance behind it is not shown.
	Engine string `json:"engine"`
	// Fields are the request fields the model uses; others are ignored
	// with a warning.
	Fields []string `json:"fields"`
	// Durations are the lengths in seconds it makes; none for a lip-sync,
	// as long as its input.
	Durations []int `json:"durations,omitempty"`
	// Pricing is what a generation of the model costs.
	Pricing pricing `json:"pricing"`
	// Parameters describe the fields a form fills, in the order to show
	// them: type, allowed values, default, bounds.
	Parameters []generation.Parameter `json:"parameters"`
	// DurationsByResolution lists the durations allowed at a resolution
	// where fewer than Durations (1080p: 5 s).
	DurationsByResolution map[string][]int `json:"durations_by_resolution,omitempty"`
	// OneOf are groups of fields of which a request sends exactly one.
	OneOf [][]string `json:"one_of,omitempty"`
}

// pricing is a model's prices in credits ($1 = billing.CreditsPerUSD).
type pricing struct {
	PerSecond map[string]int64 `json:"credits_per_second,omitempty"` // by resolution
	// Speech is the price of each started SpeechBytes of
	// lip_sync_tts_content.
	Speech      int64 `json:"credits_per_speech_chunk,omitempty"`
	SpeechBytes int   `json:"speech_chunk_bytes,omitempty"`
	// PerVideo, if set, is the price of each video instead of
	// PerSecond (a lip-sync, whose length is its input's).
	PerVideo int64 `json:"credits_per_video,omitempty"`
	// Extras are credits per second for each option on, by option
	// ("audio": generate_audio_switch, "multi_clip").
	Extras        map[string]int64 `json:"extra_credits_per_second,omitempty"`
	CreditsPerUSD int64            `json:"credits_per_usd"`
}

// openAIModel is one model on GET /v1/models, in OpenAI's list shape.
type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type list[T any] struct {
	Object string `json:"object"`
	Data   []T    `json:"data"`
}

// listModels serves GET /v2/models: the models this server serves, each
// with its engine's kind and the fields it uses.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request, _ *auth.Key) {
	out := list[modelEntry]{Object: "list", Data: []modelEntry{}}
	for _, rt := range s.Service.RoutesServed() {
		sc := rt.Schema()
		var fields []string
		for _, f := range sc.Fields() {
			// An input is always used; an option only if the engine honours it.
			if !slices.Contains(generation.AllFields, f) || rt.Honours(f) {
				fields = append(fields, f)
			}
		}
		p := s.Service.Prices
		if rt.Prices != nil {
			p = *rt.Prices
		}
		p = billing.ForModel(sc.Model, p)
		if p.PerVideo > 0 {
			p.PerSecond = nil
		}
		// Only what the model can be charged for.
		extras := map[string]int64{}
		for name, field := range map[string]string{"audio": generation.FieldGenerateAudio, "multi_clip": generation.FieldMultiClip} {
			if v, ok := p.Extras[name]; ok && slices.Contains(fields, field) {
				extras[name] = v
			}
		}
		p.Extras = extras
		if !slices.Contains(fields, generation.FieldSpeech) {
			p.Speech, p.SpeechChunk = 0, 0
		}
		params := []generation.Parameter{}
		for _, f := range fields {
			if pa, ok := sc.Parameter(f); ok {
				params = append(params, pa)
			}
		}
		var byRes map[string][]int
		for _, res := range generation.Resolutions {
			if d, ok := sc.DurationsAt(res); ok && slices.Contains(fields, generation.FieldResolution) {
				if byRes == nil {
					byRes = map[string][]int{}
				}
				byRes[res] = d
			}
		}
		out.Data = append(out.Data, modelEntry{ID: rt.Model, Object: "model", Type: "video", Kind: string(sc.Kind), Schema: sc.Model,
			Engine: rt.Kind, Fields: fields, Durations: sc.Durations,
			Pricing: pricing{PerSecond: p.PerSecond, Speech: p.Speech, SpeechBytes: p.SpeechChunk, PerVideo: p.PerVideo, Extras: p.Extras,
				CreditsPerUSD: billing.CreditsPerUSD},
			Parameters: params, DurationsByResolution: byRes, OneOf: sc.OneOf()})
	}
	writeJSON(w, http.StatusOK, out)
}

// listOpenAIModels serves GET /v1/models in OpenAI's shape.
func (s *Server) listOpenAIModels(w http.ResponseWriter, r *http.Request, _ *auth.Key) {
	out := list[openAIModel]{Object: "list", Data: []openAIModel{}}
	for _, rt := range s.Service.RoutesServed() {
		out.Data = append(out.Data, openAIModel{ID: rt.Model, Object: "model", OwnedBy: "stillmotion"})
	}
	writeJSON(w, http.StatusOK, out)
}
