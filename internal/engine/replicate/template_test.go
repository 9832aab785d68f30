package replicate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"stillmotion/internal/generation"
	"stillmotion/test/fakecog"
)

func TestTemplateRendering(t *testing.T) {
	req := &generation.Request{Prompt: `a "quoted" sky`, NegativePrompt: "blur", Style: "anime", Seed: 42,
		Resolution: "720p", Duration: 8, ImageURL: "https://example.com/cat.jpg"}
	tests := []struct {
		name  string
		input string // YAML, as in the engines file
		want  string // JSON
	}{
		{"strings", `{prompt: "{{prompt}}", neg: "{{negative_prompt}}", style: "{{style}}"}`,
			`{"neg":"blur","prompt":"a \"quoted\" sky","style":"anime"}`},
		{"numbers keep their type", `{seed: "{{seed}}", w: "{{width}}", h: "{{height}}", d: "{{duration}}", f: "{{frames}}", fps: "{{fps}}"}`,
			`{"d":8,"f":192,"fps":24,"h":720,"seed":42,"w":1280}`},
		{"spaces inside braces", `{seed: "{{ seed }}"}`, `{"seed":42}`},
		{"interpolated numbers are text", `{size: "{{width}}x{{height}}", p: "{{prompt}}, seed {{seed}}"}`,
			`{"p":"a \"quoted\" sky, seed 42","size":"1280x720"}`},
		{"image", `{image: "{{image_url}}", also: "{{image}}", r: "{{resolution}}"}`,
			`{"also":"https://example.com/cat.jpg","image":"https://example.com/cat.jpg","r":"720p"}`},
		{"literals kept", `{steps: 30, guidance: 5.5, fast: true, none: null, name: plain}`,
			`{"fast":true,"guidance":5.5,"name":"plain","none":null,"steps":30}`},
		{"nested", `{a: [{p: "{{prompt}}"}, "{{seed}}"], b: {c: {d: "{{duration}}"}}}`,
			`{"a":[{"p":"a \"quoted\" sky"},42],"b":{"c":{"d":8}}}`},
		{"non-string keys", `{m: {1: one, true: "{{seed}}"}}`, `{"m":{"1":"one","true":42}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in map[string]any
			if err := yaml.Unmarshal([]byte(tt.input), &in); err != nil {
				t.Fatal(err)
			}
			e, err := New("t", Config{URL: "http://cog:5000", Input: in}, Deps{})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := e.input(context.Background(), &generation.Task{Request: req})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTemplateImage(t *testing.T) {
	png := fakecog.SamplePNG() // 640x360
	portrait := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name      string
		image     generation.Input
		imageURL  string
		wantImage string
		wantW     int
	}{
		{"the request's URL", nil, "https://example.com/a.png", "https://example.com/a.png", 640},
		{"a data URI as given", nil, portrait, portrait, 640},
		{"bytes without a URL", bytesImage(png), "https://example.com/a.png", portrait, 640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New("t", Config{URL: "http://cog:5000", Input: map[string]any{"i": "{{image}}", "w": "{{width}}", "h": "{{height}}"}}, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.input(context.Background(), &generation.Task{Inputs: map[string]generation.Input{generation.FieldImage: tt.image},
				Request: &generation.Request{ImageURL: tt.imageURL, Resolution: "360p", Duration: 5}})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				I    string
				W, H int
			}
			json.Unmarshal(b, &got)
			if got.I != tt.wantImage || got.W != tt.wantW || got.H != 360 {
				t.Errorf("image %.40q… %dx%d, want %.40q… %dx360", got.I, got.W, got.H, tt.wantImage, tt.wantW)
			}
		})
	}
}

// TestConfigYAML decodes an engines file entry as the registry does.
func TestConfigYAML(t *testing.T) {
	const entry = `
url: https://api.replicate.com
key: r8_abc
model: wan-video/wan-2.2-i2v-fast
input: {image: "{{image_url}}", prompt: "{{prompt}}", seed: "{{seed}}", steps: 30}
fps: 16
poll_interval: 2s
expected_time: 90s
`
	dec := yaml.NewDecoder(strings.NewReader(entry))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := Config{URL: "https://api.replicate.com", Key: "r8_abc", Model: "wan-video/wan-2.2-i2v-fast",
		Input: map[string]any{"image": "{{image_url}}", "prompt": "{{prompt}}", "seed": "{{seed}}", "steps": 30},
		FPS:   16, PollInterval: 2 * time.Second, ExpectedTime: 90 * time.Second}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("decoded %+v\nwant    %+v", c, want)
	}
	if _, err := New("wan", c, Deps{}); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		input map[string]any
		want  []string
	}{
		{map[string]any{"image": "{{image_url}}"}, []string{generation.FieldSpeech, generation.FieldSpeaker}},
		{map[string]any{"p": "{{prompt}}", "s": "{{seed}}", "n": "{{frames}}", "w": "{{width}}"},
			[]string{generation.FieldPrompt, generation.FieldResolution, generation.FieldDuration, generation.FieldSeed, generation.FieldSpeech, generation.FieldSpeaker}},
		{map[string]any{"x": []any{"{{negative_prompt}} {{style}}"}},
			[]string{generation.FieldNegativePrompt, generation.FieldStyle, generation.FieldSpeech, generation.FieldSpeaker}},
		{map[string]any{"bad": "{{nope}}"}, []string{generation.FieldSpeech, generation.FieldSpeaker}},
	}
	for _, tt := range tests {
		if got := Fields(Config{Input: tt.input}); !slices.Equal(got, tt.want) {
			t.Errorf("Fields(%v) = %v, want %v", tt.input, got, tt.want)
		}
	}
}

// FuzzTemplate checks that any template string either is refused or
// renders valid JSON in which a lone numeric placeholder is a number.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{prompt}}", "{{seed}}", "a {{ seed }} b", "{{", "}}{{", "{{nope}}", "{{width}}x{{height}}", "{{{{seed}}}}", "\xff{{prompt}}"} {
		f.Add(s, `a "sky"`)
	}
	f.Fuzz(func(t *testing.T, s, prompt string) {
		tmpl, err := parseTemplate(map[string]any{"v": s, "l": []any{s}})
		if err != nil {
			if !strings.Contains(s, "{{") {
				t.Fatalf("%q refused without a placeholder: %v", s, err)
			}
			return
		}
		v := values{"prompt": prompt, "negative_prompt": "", "style": "", "seed": int64(7), "width": 640, "height": 360,
			"resolution": "360p", "duration": 5, "frames": 120, "fps": 24, "image": "data:x", "image_url": "data:x"}
		b, err := json.Marshal(tmpl.render(v))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q rendered invalid JSON %s: %v", s, b, err)
		}
		parts, _ := parseText(s)
		if len(parts) == 1 && numeric[parts[0].name] {
			if _, ok := back["v"].(float64); !ok {
				t.Errorf("%q rendered %v, want a number", s, back["v"])
			}
		}
		if !strings.Contains(s, "{{") {
			// The text goes through as JSON has it (invalid UTF-8 replaced).
			var want any
			lit, _ := json.Marshal(s)
			json.Unmarshal(lit, &want)
			if !reflect.DeepEqual(back["v"], want) {
				t.Errorf("%q without placeholders rendered %q", s, back["v"])
			}
		}
	})
}
