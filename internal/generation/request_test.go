package generation

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

// body returns a valid request with the given fields replaced (a nil value
// deletes the field).
func body(t *testing.T, changes map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"model":     Model,
		"prompt":    "A calm lake at dawn, zoom in",
		"image_url": "https://example.com/lake.jpg",
	}
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
	return b
}

func TestParseRequestValid(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		check   func(t *testing.T, r *Request)
	}{
		{"defaults", nil, func(t *testing.T, r *Request) {
			if r.Resolution != "720p" || r.Duration != 5 || r.Style != "" || r.SeedGiven || r.Speaker != "" {
				t.Errorf("defaults not applied: %+v", r)
			}
			if r.ShortSide() != 720 {
				t.Errorf("ShortSide = %d", r.ShortSide())
			}
		}},
		{"duration as numeric string", map[string]any{"duration": "8"}, func(t *testing.T, r *Request) {
			if r.Duration != 8 {
				t.Errorf("duration = %d, want 8", r.Duration)
			}
		}},
		{"seed bounds", map[string]any{"seed": 2147483647}, func(t *testing.T, r *Request) {
			if !r.SeedGiven || r.Seed != 2147483647 {
				t.Errorf("seed = %d given=%v", r.Seed, r.SeedGiven)
			}
		}},
		{"seed as numeric string", map[string]any{"seed": "42"}, func(t *testing.T, r *Request) {
			if !r.SeedGiven || r.Seed != 42 {
				t.Errorf("seed = %d given=%v", r.Seed, r.SeedGiven)
			}
		}},
		{"seed zero is given", map[string]any{"seed": 0}, func(t *testing.T, r *Request) {
			if !r.SeedGiven || r.Seed != 0 {
				t.Errorf("seed = %d given=%v", r.Seed, r.SeedGiven)
			}
		}},
		{"speech defaults to Auto", map[string]any{"lip_sync_tts_content": "Hello there."}, func(t *testing.T, r *Request) {
			if r.Speaker != "Auto" || r.Speech != "Hello there." {
				t.Errorf("speech %q speaker %q", r.Speech, r.Speaker)
			}
		}},
		{"unknown fields ignored, nulls are absent", map[string]any{"foo": 1, "style": nil, "negative_prompt": "blur", "seed": nil}, func(t *testing.T, r *Request) {
			if r.NegativePrompt != "blur" || r.SeedGiven {
				t.Errorf("got %+v", r)
			}
		}},
		{"all options", map[string]any{"resolution": "1080p", "duration": 5, "style": "clay", "seed": 7,
			"lip_sync_tts_content": strings.Repeat("é", 200), "lip_sync_tts_speaker": "Chloe"}, func(t *testing.T, r *Request) {
			if r.Resolution != "1080p" || r.Style != "clay" || r.Seed != 7 || r.Speaker != "Chloe" {
				t.Errorf("got %+v", r)
			}
		}},
		{"prompt of 2048 characters", map[string]any{"prompt": strings.Repeat("ж", 2048)}, func(t *testing.T, r *Request) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequest(body(t, tt.changes))
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			tt.check(t, r)
		})
	}
}

// fe is an expected field error.
type fe struct{ field, msg string }

func TestParseRequestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		raw     string // used instead of changes when set
		changes map[string]any
		want    []fe
	}{
		{name: "malformed JSON", raw: `{"model":`, want: []fe{{"body", "malformed JSON: unexpected EOF"}}},
		{name: "not an object", raw: `[1,2]`, want: []fe{{"body", "malformed JSON: cannot unmarshal array into Go value of type map[string]json.RawMessage"}}},
		{name: "trailing data", raw: `{"model":"x"} {}`, want: []fe{{"body", "malformed JSON: unexpected data after the top-level object"}}},
		{name: "empty object", raw: `{}`, want: []fe{{"model", "Required"}, {"prompt", "Required"}, {"image_url", "Required"}}},
		{name: "duplicate key", raw: `{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"u","resolution":"360p","resolution":"1080p"}`, want: []fe{{"resolution", "Duplicate key: the body sends this field more than once; send it once"}}},
		{name: "other model", changes: map[string]any{"model": "kling/v1"}, want: []fe{{"model", "Invalid enum value. Expected 'pixverse/v5/image-to-video' | 'pixverse/v5.5/image-to-video' | 'pixverse/v5/transition' | 'pixverse/lip-sync', received 'kling/v1'"}}},
		{name: "model not a string", changes: map[string]any{"model": 5}, want: []fe{{"model", "Expected string, received number"}}},
		{name: "empty prompt", changes: map[string]any{"prompt": "  "}, want: []fe{{"prompt", "String must contain at least 1 non-blank character(s)"}}},
		{name: "long prompt", changes: map[string]any{"prompt": strings.Repeat("a", 2049)}, want: []fe{{"prompt", "String must contain at most 2048 character(s), received 2049"}}},
		{name: "prompt array", changes: map[string]any{"prompt": []string{"a"}}, want: []fe{{"prompt", "Expected string, received array"}}},
		{name: "image_url object", changes: map[string]any{"image_url": map[string]any{"url": "x"}}, want: []fe{{"image_url", "Expected string, received object"}}},
		{name: "resolution 4k", changes: map[string]any{"resolution": "4k"}, want: []fe{{"resolution", "Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '4k'"}}},
		{name: "resolution number", changes: map[string]any{"resolution": 720}, want: []fe{{"resolution", "Expected string, received number"}}},
		{name: "duration 6", changes: map[string]any{"duration": 6}, want: []fe{{"duration", "Invalid enum value. Expected 5 | 8, received '6'"}}},
		{name: "duration 5.5", changes: map[string]any{"duration": 5.5}, want: []fe{{"duration", "Invalid enum value. Expected 5 | 8, received '5.5'"}}},
		{name: "duration word", changes: map[string]any{"duration": "five"}, want: []fe{{"duration", "Invalid enum value. Expected 5 | 8, received 'five'"}}},
		{name: "duration bool", changes: map[string]any{"duration": true}, want: []fe{{"duration", "Expected number, received boolean"}}},
		{name: "1080p with 8 s", changes: map[string]any{"resolution": "1080p", "duration": 8}, want: []fe{{"duration", "Invalid value. 1080p supports only duration 5; use 5, or a lower resolution for 8 seconds"}}},
		{name: "style", changes: map[string]any{"style": "pixar"}, want: []fe{{"style", "Invalid enum value. Expected 'anime' | '3d_animation' | 'clay' | 'comic' | 'cyberpunk', received 'pixar'"}}},
		{name: "negative prompt too long", changes: map[string]any{"negative_prompt": strings.Repeat("b", 2049)}, want: []fe{{"negative_prompt", "String must contain at most 2048 character(s), received 2049"}}},
		{name: "seed negative", changes: map[string]any{"seed": -1}, want: []fe{{"seed", "Number must be an integer from 0 to 2147483647, received -1"}}},
		{name: "seed too big", changes: map[string]any{"seed": 2147483648}, want: []fe{{"seed", "Number must be an integer from 0 to 2147483647, received 2147483648"}}},
		{name: "seed fraction", changes: map[string]any{"seed": 1.5}, want: []fe{{"seed", "Number must be an integer from 0 to 2147483647, received 1.5"}}},
		{name: "seed word", changes: map[string]any{"seed": "seven"}, want: []fe{{"seed", "Expected integer, received string"}}},
		{name: "seed bool", changes: map[string]any{"seed": false}, want: []fe{{"seed", "Expected integer, received boolean"}}},
		{name: "speech empty", changes: map[string]any{"lip_sync_tts_content": ""}, want: []fe{{"lip_sync_tts_content", "String must contain at least 1 non-blank character(s)"}}},
		{name: "speech too long", changes: map[string]any{"lip_sync_tts_content": strings.Repeat("x", 201)}, want: []fe{{"lip_sync_tts_content", "String must contain at most 200 character(s), received 201"}}},
		{name: "unknown speaker", changes: map[string]any{"lip_sync_tts_content": "hi", "lip_sync_tts_speaker": "Bob"}, want: []fe{{"lip_sync_tts_speaker", "Invalid enum value. Expected 'Harper' | 'Ava' | 'Isabella' | 'Sophia' | 'Emily' | 'Chloe' | 'Julia' | 'Mason' | 'Jack' | 'Liam' | 'James' | 'Oliver' | 'Adrian' | 'Ethan' | 'Auto', received 'Bob'"}}},
		{name: "speaker without speech", changes: map[string]any{"lip_sync_tts_speaker": "Ava"}, want: []fe{{"lip_sync_tts_speaker", "lip_sync_tts_speaker is only allowed together with lip_sync_tts_content"}}},
		{name: "several fields at once", changes: map[string]any{"resolution": "2k", "style": 3, "seed": -5}, want: []fe{
			{"resolution", "Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '2k'"},
			{"style", "Expected string, received number"},
			{"seed", "Number must be an integer from 0 to 2147483647, received -5"}}},
		{name: "long echoed value is clipped", changes: map[string]any{"resolution": strings.Repeat("r", 100)}, want: []fe{{"resolution", "Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '" + strings.Repeat("r", 64) + "…'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.raw)
			if tt.raw == "" {
				b = body(t, tt.changes)
			}
			_, err := ParseRequest(b)
			fe, ok := err.(*fault.Error)
			if !ok || fe.Kind != fault.Invalid {
				t.Fatalf("err = %v, want a fault.Invalid", err)
			}
			if len(fe.Fields) != len(tt.want) {
				t.Fatalf("fields = %+v, want %+v", fe.Fields, tt.want)
			}
			for i := range tt.want {
				if want := (fault.FieldError{Field: tt.want[i].field, Message: tt.want[i].msg}); fe.Fields[i] != want {
					t.Errorf("field %d = %+v, want %+v", i, fe.Fields[i], want)
				}
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"model":"pixverse/v5/image-to-video","prompt":"p","image_url":"https://x/y.png","duration":"8","seed":3}`))
	f.Add([]byte(`{"duration":1e400}`))
	f.Add([]byte(`{"seed":"-0"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"model":"pixverse/v5.5/image-to-video","prompt":"p","image_url":"u","duration":10,"generate_audio_switch":true,"thinking_type":"auto"}`))
	f.Add([]byte(`{"model":"pixverse/v5/transition","prompt":"p","image_url":"u","tail_image_url":"v"}`))
	f.Add([]byte(`{"model":"pixverse/lip-sync","video_url":"v","audio_url":"a","lip_sync_tts_content":"x"}`))
	f.Add([]byte(`{"model":"pixverse/v5-5-text-to-video","prompt":"p","aspect_ratio":"9:16"}`))
	f.Add([]byte(`{"model":"pixverse/v5/text-to-video","prompt":"p","aspect_ratio":"16:9","style":"anime","negative_prompt":"n"}`))
	served := family()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b, served...)
		if err != nil {
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("error of kind %v: %v", fault.KindOf(err), err)
			}
			return
		}
		// Whatever is accepted is within its model's contract.
		sc, ok := SchemaOf(r.Model)
		if !ok || sc.Kind != r.Kind || r.Seed < 0 || r.Seed > MaxSeed {
			t.Fatalf("accepted an out-of-contract request: %+v", r)
		}
		if sc.Kind == LipSync {
			if r.VideoURL == "" || (r.AudioURL == "") == (r.Speech == "") {
				t.Fatalf("accepted a lip-sync without a video or with not exactly one speech: %+v", r)
			}
			return
		}
		if r.Prompt == "" || !slices.Contains(sc.Durations, r.Duration) || (sc.Kind == TextToVideo) != (r.ImageURL == "") ||
			(sc.Kind == Transition) != (r.TailImageURL != "") {
			t.Fatalf("accepted an out-of-contract request: %+v", r)
		}
		if r.Resolution == "1080p" && r.Duration != 5 {
			t.Fatalf("accepted 1080p for %d s", r.Duration)
		}
	})
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 20000 { // about 600 would begin with '-' or '_'
		id := NewID()
		if len(id) != 21 || strings.Trim(id, idAlphabet) != "" || strings.ContainsAny(id[:1], "-_") {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("repeated id %q", id)
		}
		seen[id] = true
	}
}

// FuzzIdempotencyKey: a key is taken only when it is 1..255 printable
// ASCII characters (or empty, for none), and a refused one is a 400 that
// names the header.
func FuzzIdempotencyKey(f *testing.F) {
	f.Add("abc-123")
	f.Add("")
	f.Add("caf\u00e9")
	f.Add(strings.Repeat("k", 256))
	f.Fuzz(func(t *testing.T, key string) {
		ok := validIdempotencyKey(key)
		printable := len(key) <= MaxIdempotencyKey
		for i := 0; i < len(key); i++ {
			printable = printable && key[i] >= ' ' && key[i] <= '~'
		}
		if ok != printable {
			t.Fatalf("validIdempotencyKey(%q) = %v", key, ok)
		}
	})
}
