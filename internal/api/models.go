package api

import (
	"net/http"

	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
)

// modelEntry is one model served, on GET /v2/models.
type modelEntry struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	// Engine is the kind of engine that renders it (builtin, upstream,
	// comfyui, replicate); the instance behind it is not shown.
	Engine string `json:"engine"`
	// Fields are the request fields the model uses; others are ignored
	// with a warning.
	Fields []string `json:"fields"`
	// Pricing is what a generation of the model costs.
	Pricing pricing `json:"pricing"`
}

// pricing is a model's prices in credits ($1 = billing.CreditsPerUSD).
type pricing struct {
	PerSecond map[string]int64 `json:"credits_per_second"` // by resolution
	// Speech is the price of each started SpeechBytes of
	// lip_sync_tts_content.
	Speech        int64 `json:"credits_per_speech_chunk"`
	SpeechBytes   int   `json:"speech_chunk_bytes"`
	CreditsPerUSD int64 `json:"credits_per_usd"`
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
		fields := append([]string{"model", "image_url"}, rt.Fields...)
		p := s.Service.Prices
		if rt.Prices != nil {
			p = *rt.Prices
		}
		out.Data = append(out.Data, modelEntry{ID: rt.Model, Object: "model", Type: "video", Engine: rt.Kind, Fields: append(fields, "callback_url"),
			Pricing: pricing{PerSecond: p.PerSecond, Speech: p.Speech, SpeechBytes: p.SpeechChunk, CreditsPerUSD: billing.CreditsPerUSD}})
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
