package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// lowBalance is the balance below which a key's balance is reported low,
// as the hosted API's default threshold.
const lowBalance = 10000

// balanceBody is the body of GET /v1/billing/balance, in the hosted API's
// shape, with Unlimited added: a key that is never charged has no balance.
type balanceBody struct {
	Balance           *int64 `json:"balance"`
	LowBalance        bool   `json:"lowBalance"`
	Threshold         int64  `json:"lowBalanceThreshold"`
	LastUpdated       string `json:"lastUpdated"`
	AutoDebit         string `json:"autoDebitStatus"`
	Status            string `json:"status"`
	StatusExplanation string `json:"statusExplanation"`
	Unlimited         bool   `json:"unlimited"`
}

// billingBalance serves GET /v1/billing/balance: the key's credits.
func (s *Server) billingBalance(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	b := balanceBody{Threshold: lowBalance, LastUpdated: s.now().UTC().Format(time.RFC3339), AutoDebit: "disabled",
		Status: "current", StatusExplanation: "Balance is current and up to date"}
	if k.Unlimited {
		b.Unlimited, b.Status, b.StatusExplanation = true, "unlimited", "This key is never charged"
	} else {
		c := k.Credits
		b.Balance, b.LowBalance = &c, c < lowBalance
	}
	writeJSON(w, http.StatusOK, b)
}

// voice is one speaker on GET /v2/voices.
type voice struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	// PreviewURL is a short WAV of the voice; absent for Auto, which is
	// one of the others chosen from the seed.
	PreviewURL  string `json:"preview_url,omitempty"`
	Description string `json:"description,omitempty"`
}

const voicesPath = "/v2/voices"

// listVoices serves GET /v2/voices: the values of lip_sync_tts_speaker.
func (s *Server) listVoices(w http.ResponseWriter, r *http.Request, _ *auth.Key) {
	out := list[voice]{Object: "list", Data: []voice{}}
	for _, name := range generation.Speakers {
		v := voice{ID: name, Object: "voice"}
		if name == generation.AutoSpeaker {
			v.Description = "one of the others, chosen from the seed"
		} else if s.VoicePreview != nil {
			v.PreviewURL = voicesPath + "/" + name + "/preview"
		}
		out.Data = append(out.Data, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// voicePreview serves GET /v2/voices/{id}/preview: the voice saying a
// line, as WAV.
func (s *Server) voicePreview(w http.ResponseWriter, r *http.Request, _ *auth.Key) {
	name := r.PathValue("id")
	if s.VoicePreview == nil || name == generation.AutoSpeaker || !slices.Contains(generation.Speakers, name) {
		s.fail(w, r, fault.Errorf(fault.NotFound, "No preview of voice '%s': GET %s lists the voices and their previews", fault.Echo(name), voicesPath))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	wav, err := s.VoicePreview(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Length", strconv.Itoa(len(wav)))
	h.Set("Cache-Control", "private, max-age=86400")
	w.WriteHeader(http.StatusOK)
	w.Write(wav)
}
