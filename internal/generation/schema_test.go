package generation

import (
	"encoding/json"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

// family serves every hosted model: the built-in ones, and text-to-video
// on a remote engine.
func family() []Route {
	return append(DefaultRoutes(),
		Route{Model: ModelTextToVideo, Engine: "up", Kind: "upstream", Fields: AllFields},
		Route{Model: ModelV55TextToVideo, Engine: "up", Kind: "upstream", Fields: AllFields})
}

// minimal returns the smallest valid body of each model.
func minimal(model string) map[string]any {
	m := map[string]any{"model": model}
	switch model {
	case ModelLipSync:
		m["video_url"] = "https://example.com/talk.mp4"
		m["audio_url"] = "https://example.com/voice.mp3"
	case ModelTextToVideo, ModelV55TextToVideo:
		m["prompt"] = "a lighthouse at dusk"
	case ModelTransition:
		m["prompt"] = "morph"
		m["image_url"] = "https://example.com/a.jpg"
		m["tail_image_url"] = "https://example.com/b.jpg"
	default:
		m["prompt"] = "slow zoom in"
		m["image_url"] = "https://example.com/a.jpg"
	}
	return m
}

func parseWith(t *testing.T, model string, changes map[string]any) (*Request, error) {
	t.Helper()
	m := minimal(model)
	for k, v := range changes {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return ParseRequest(b, family()...)
}

func TestParseRequestPerModelValid(t *testing.T) {
	for _, tt := range []struct {
		model   string
		changes map[string]any
		check   func(r *Request) bool
		want    string
	}{
		{Model, nil, func(r *Request) bool {
			return r.Kind == ImageToVideo && r.Duration == 5 && r.Thinking == "" && r.Sound()
		}, "v5 defaults"},
		{ModelV55ImageToVideo, nil, func(r *Request) bool {
			return r.Kind == ImageToVideo && r.Duration == 5 && r.Thinking == "enabled" && !r.Sound() && r.GenerateAudio != nil && !r.MultiClip
		}, "v5.5 defaults: thinking enabled, switches off"},
		{ModelV55ImageToVideo, map[string]any{"duration": 10, "generate_audio_switch": true, "generate_multi_clip_switch": true, "thinking_type": "auto"},
			func(r *Request) bool {
				return r.Duration == 10 && r.Sound() && r.MultiClip && r.Thinking == "auto"
			}, "v5.5 10 s with switches"},
		{ModelTransition, nil, func(r *Request) bool {
			return r.Kind == Transition && r.TailImageURL == "https://example.com/b.jpg" && r.ImageURL == "https://example.com/a.jpg"
		}, "transition takes both images"},
		{ModelTransition, map[string]any{"lip_sync_tts_content": "hello"}, func(r *Request) bool { return r.Speech == "hello" && r.Speaker == "Auto" }, "transition speaks"},
		{ModelTextToVideo, nil, func(r *Request) bool { return r.Kind == TextToVideo && r.AspectRatio == "16:9" && r.ImageURL == "" }, "text-to-video defaults to 16:9"},
		{ModelV55TextToVideo, map[string]any{"aspect_ratio": "9:16", "duration": "8"}, func(r *Request) bool { return r.AspectRatio == "9:16" && r.Duration == 8 }, "v5.5 text-to-video"},
		{ModelLipSync, nil, func(r *Request) bool {
			return r.Kind == LipSync && r.AudioURL != "" && r.Speech == "" && r.Duration == 0 && r.Resolution == ""
		}, "lip-sync with audio"},
		{ModelLipSync, map[string]any{"audio_url": nil, "lip_sync_tts_content": "new words", "lip_sync_tts_speaker": "Liam"},
			func(r *Request) bool { return r.Speech == "new words" && r.Speaker == "Liam" && r.AudioURL == "" }, "lip-sync with text"},
		{ModelLipSync, map[string]any{"audio_url": nil, "lip_sync_tts_content": "new words"},
			func(r *Request) bool { return r.Speaker == "Auto" }, "lip-sync text defaults to the Auto voice"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			r, err := parseWith(t, tt.model, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Errorf("%+v", r)
			}
		})
	}
}

func TestParseRequestPerModelInvalid(t *testing.T) {
	type fe struct{ field, msg string }
	for _, tt := range []struct {
		name    string
		model   string
		changes map[string]any
		want    []fe
	}{
		{"v5 has no 10 s", Model, map[string]any{"duration": 10}, []fe{{"duration", "Invalid enum value. Expected 5 | 8, received '10'"}}},
		{"v5.5 duration", ModelV55ImageToVideo, map[string]any{"duration": 6}, []fe{{"duration", "Invalid enum value. Expected 5 | 8 | 10, received '6'"}}},
		{"v5.5 1080p 10 s", ModelV55ImageToVideo, map[string]any{"resolution": "1080p", "duration": 10},
			[]fe{{"duration", "Invalid value. 1080p supports only duration 5; use 5, or a lower resolution for 10 seconds"}}},
		{"v5.5 1080p 8 s", ModelV55TextToVideo, map[string]any{"resolution": "1080p", "duration": 8},
			[]fe{{"duration", "Invalid value. 1080p supports only duration 5; use 5, or a lower resolution for 8 seconds"}}},
		{"v5.5 switch not boolean", ModelV55ImageToVideo, map[string]any{"generate_audio_switch": "yes", "generate_multi_clip_switch": 1},
			[]fe{{"generate_audio_switch", "Expected boolean, received string"}, {"generate_multi_clip_switch", "Expected boolean, received number"}}},
		{"v5.5 thinking", ModelV55ImageToVideo, map[string]any{"thinking_type": "deep"},
			[]fe{{"thinking_type", "Invalid enum value. Expected 'enabled' | 'disabled' | 'auto', received 'deep'"}}},
		{"transition needs the tail", ModelTransition, map[string]any{"tail_image_url": nil}, []fe{{"tail_image_url", "Required"}}},
		{"transition needs both", ModelTransition, map[string]any{"image_url": nil, "tail_image_url": ""},
			[]fe{{"image_url", "Required"}, {"tail_image_url", "String must contain at least 1 non-blank character(s)"}}},
		{"transition needs a prompt", ModelTransition, map[string]any{"prompt": nil}, []fe{{"prompt", "Required"}}},
		{"text-to-video aspect", ModelTextToVideo, map[string]any{"aspect_ratio": "21:9"},
			[]fe{{"aspect_ratio", "Invalid enum value. Expected '16:9' | '4:3' | '1:1' | '3:4' | '9:16', received '21:9'"}}},
		{"text-to-video prompt", ModelV55TextToVideo, map[string]any{"prompt": " "}, []fe{{"prompt", "String must contain at least 1 non-blank character(s)"}}},
		{"lip-sync needs a video", ModelLipSync, map[string]any{"video_url": nil}, []fe{{"video_url", "Required"}}},
		{"lip-sync needs speech", ModelLipSync, map[string]any{"audio_url": nil},
			[]fe{{"audio_url", "Required: send audio_url (the speech to lip-sync), or lip_sync_tts_content with lip_sync_tts_speaker (text to speak)"}}},
		{"lip-sync takes one speech", ModelLipSync, map[string]any{"lip_sync_tts_content": "hi", "lip_sync_tts_speaker": "Ava"},
			[]fe{{"audio_url", "Send either audio_url or lip_sync_tts_content with lip_sync_tts_speaker, not both"}}},
		{"lip-sync speaker alone", ModelLipSync, map[string]any{"audio_url": nil, "lip_sync_tts_speaker": "Ava"},
			[]fe{{"lip_sync_tts_speaker", "lip_sync_tts_speaker is only allowed together with lip_sync_tts_content"}}},
		{"lip-sync speaker alone with audio", ModelLipSync, map[string]any{"lip_sync_tts_speaker": "Ava"},
			[]fe{{"lip_sync_tts_speaker", "lip_sync_tts_speaker is only allowed together with lip_sync_tts_content"},
				{"audio_url", "Send either audio_url or lip_sync_tts_content with lip_sync_tts_speaker, not both"}}},
		{"lip-sync audio not a string", ModelLipSync, map[string]any{"audio_url": 5}, []fe{{"audio_url", "Expected string, received number"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWith(t, tt.model, tt.changes)
			e, ok := err.(*fault.Error)
			if !ok || e.Kind != fault.Invalid {
				t.Fatalf("err = %v, want a fault.Invalid", err)
			}
			var got []fe
			for _, f := range e.Fields {
				got = append(got, fe{f.Field, f.Message})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("fields = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseRequestIgnoredFamilyFields(t *testing.T) {
	for _, tt := range []struct {
		model   string
		changes map[string]any
		want    string
	}{
		{ModelV55ImageToVideo, map[string]any{"lip_sync_tts_content": "hello", "lip_sync_tts_speaker": "Ava"},
			"lip_sync_tts_content was ignored: model pixverse/v5.5/image-to-video does not take it (generate_audio_switch gives it sound; to speak text, use pixverse/v5/image-to-video or pixverse/lip-sync)|" +
				"lip_sync_tts_speaker was ignored: model pixverse/v5.5/image-to-video does not take it (generate_audio_switch gives it sound; to speak text, use pixverse/v5/image-to-video or pixverse/lip-sync)"},
		{Model, map[string]any{"tail_image_url": "https://example.com/b.jpg", "generate_audio_switch": true},
			"tail_image_url was ignored: model pixverse/v5/image-to-video does not take it (use pixverse/v5/transition to end on an image)|" +
				"generate_audio_switch was ignored: model pixverse/v5/image-to-video does not take it"},
		{ModelTextToVideo, map[string]any{"image_url": "https://example.com/a.jpg"}, "image_url was ignored: model pixverse/v5/text-to-video does not take it"},
		{ModelLipSync, map[string]any{"prompt": "smile", "duration": 5}, "prompt was ignored: model pixverse/lip-sync does not take it|duration was ignored: model pixverse/lip-sync does not take it"},
		{Model, map[string]any{"some_extension": 1}, ""},
	} {
		t.Run(tt.model, func(t *testing.T) {
			r, err := parseWith(t, tt.model, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Warnings, "|"); got != tt.want {
				t.Errorf("warnings\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseRequestAliases(t *testing.T) {
	for alias, want := range map[string]string{"pixverse/v5-5-image-to-video": ModelV55ImageToVideo, "pixverse/v5-5-text-to-video": ModelV55TextToVideo} {
		r, err := parseWith(t, want, map[string]any{"model": alias})
		if err != nil || r.Model != want {
			t.Errorf("%s: %+v, %v; want the request of %s", alias, r, err, want)
		}
	}
}

func TestParseRequestModelNotServed(t *testing.T) {
	b, _ := json.Marshal(minimal(ModelTextToVideo))
	_, err := ParseRequest(b)
	e, ok := err.(*fault.Error)
	if !ok || len(e.Fields) == 0 || e.Fields[0].Field != "model" {
		t.Fatalf("err = %v, want a 400 on model", err)
	}
	msg := e.Fields[0].Message
	for _, want := range []string{"'pixverse/v5/text-to-video' is not served here",
		"Served models: pixverse/v5/image-to-video, pixverse/v5.5/image-to-video, pixverse/v5/transition, pixverse/lip-sync",
		"cannot make a picture from words", "engines file", "docs/engines.md"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestRouteSchema(t *testing.T) {
	for _, tt := range []struct {
		route Route
		want  string
	}{
		{Route{Model: ModelLipSync}, ModelLipSync},
		{Route{Model: "acme/wan-i2v"}, Model},
		{Route{Model: "acme/morph", Like: ModelTransition}, ModelTransition},
	} {
		if got := tt.route.Schema().Model; got != tt.want {
			t.Errorf("%+v: schema of %s, want %s", tt.route, got, tt.want)
		}
	}
}
