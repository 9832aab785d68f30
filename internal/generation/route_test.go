package generation

import (
	"errors"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

func TestRouteCheck(t *testing.T) {
	comfy := Route{Model: "wan", Engine: "wan", Kind: "comfyui", Fields: []string{FieldPrompt, FieldNegativePrompt, FieldSeed, FieldResolution, FieldDuration, FieldSpeech, FieldSpeaker}}
	silent := Route{Model: "mute", Engine: "m", Kind: "replicate", Fields: []string{FieldPrompt}}
	served := append(DefaultRoutes(), comfy, silent)
	for _, tt := range []struct {
		name     string
		route    Route
		req      Request
		warnings string
		refused  string
	}{
		{"all honoured", DefaultRoutes()[0], Request{Style: "anime", NegativePrompt: "x", SeedGiven: true, Speech: "hi"}, "", ""},
		{"style ignored", comfy, Request{Style: "anime", SeedGiven: true}, "style was ignored: model wan does not use it", ""},
		{"several ignored", silent, Request{Style: "clay", NegativePrompt: "rain", SeedGiven: true}, "negative_prompt was ignored: model mute does not use it; style was ignored: model mute does not use it; seed was ignored: model mute does not use it", ""},
		{"speech refused", silent, Request{Speech: "hello"}, "", "Model \"mute\" cannot speak; send lip_sync_tts_content to a model that can: pixverse/v5/image-to-video, pixverse/v5/transition, wan"},
		{"defaults are not sent", silent, Request{Resolution: "720p", Duration: 5}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.route.check(&tt.req, served)
			if tt.refused != "" {
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != FieldSpeech || fe.Fields[0].Message != tt.refused {
					t.Errorf("check = %v, want a 400 on lip_sync_tts_content: %q", err, tt.refused)
				}
				return
			}
			if err != nil || strings.Join(w, "; ") != tt.warnings {
				t.Errorf("check = %q, %v; want %q", w, err, tt.warnings)
			}
		})
	}
}
