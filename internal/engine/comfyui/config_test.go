package comfyui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// TestNewRefuses checks the engine's settings against the workflow: every
// error names what is wrong and what to write instead.
func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"no url", func(c *Config) { c.URLs = nil }, []string{"url:", "http://127.0.0.1:8188"}},
		{"bad url", func(c *Config) { c.URLs = []string{"ftp://user:pw@host/x?token=y"} }, []string{"ftp://host/x", "http(s) address"}},
		{"url twice", func(c *Config) { c.URL = c.URLs[0] }, []string{"listed twice"}},
		{"no workflow", func(c *Config) { c.Workflow = "" }, []string{"workflow:", "API format"}},
		{"missing workflow", func(c *Config) { c.Workflow = "nope.json" }, []string{"cannot read", "nope.json", "no such file"}},
		{"UI format", func(c *Config) { c.Workflow = "testdata/ui_format.json" },
			[]string{"ui_format.json is in ComfyUI's UI format", "Export (API)", "Save (API Format)"}},
		{"not JSON", func(c *Config) { c.Workflow = writeFile(t, "x.json", "{nodes: 1") }, []string{"not a JSON object", "Export (API)"}},
		{"no class_type", func(c *Config) { c.Workflow = writeFile(t, "x.json", `{"1": {"inputs": {}}}`) }, []string{`node "1" has no class_type`}},
		{"neither image nor prompt", func(c *Config) { c.Inputs.Image, c.Inputs.Prompt = nil, nil }, []string{"inputs: map image", "LoadImage", "52 (LoadImage)", "prompt alone for a text-to-video"}},
		{"unknown node", func(c *Config) { c.Inputs.Prompt = Targets{"99.text"} },
			[]string{`inputs.prompt: workflow wan_i2v_vhs_api.json has no node "99"`, "6 (CLIPTextEncode)", "60 (VHS_VideoCombine)"}},
		{"unknown input", func(c *Config) { c.Inputs.Seed = Targets{"3.noise_seed"} },
			[]string{`node 3 (KSampler) has no input "noise_seed"`, "seed, steps"}},
		{"not NODE.INPUT", func(c *Config) { c.Inputs.Frames = Targets{"50"} }, []string{`"50" is not of the form "NODE_ID.INPUT_NAME"`}},
		{"linked input", func(c *Config) { c.Inputs.Width = Targets{"50.positive"} }, []string{"50.positive is linked from node 6 (CLIPTextEncode)"}},
		{"text into a number", func(c *Config) { c.Inputs.Seed = Targets{"6.text"} }, []string{"not a number"}},
		{"number into text", func(c *Config) { c.Inputs.Prompt = Targets{"3.steps"} }, []string{"not text"}},
		{"width alone", func(c *Config) { c.Inputs.Height = nil }, []string{"both width and height"}},
		{"no output", func(c *Config) { c.Output = "" }, []string{"output:", "VHS_VideoCombine"}},
		{"unknown output", func(c *Config) { c.Output = "61" }, []string{`output: workflow wan_i2v_vhs_api.json has no node "61"`}},
		{"input the output does not need", func(c *Config) { c.Output = "8" }, []string{"inputs.fps: node 60 (VHS_VideoCombine) does not lead to the output node 8 (VAEDecode)"}},
		{"frames rule", func(c *Config) { c.FramesRule = "4x+1" }, []string{`frames_rule "4x+1"`, "8n+1"}},
		{"size multiple", func(c *Config) { c.SizeMultiple = 15 }, []string{"size_multiple: 15", "even"}},
		{"fps", func(c *Config) { c.FPS = 500 }, []string{"fps: 500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("vhs", "http://127.0.0.1:8188")
			c.Workflow = filepath.Base(c.Workflow)
			tc.edit(&c)
			dir := filepath.Dir(config("vhs").Workflow)
			if strings.HasPrefix(c.Workflow, "testdata/") || filepath.IsAbs(c.Workflow) {
				dir = "."
			}
			_, err := New("wan", c, Deps{Dir: dir})
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("error %v, want an Invalid fault", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(fault.MessageOf(err), w) {
					t.Errorf("message %q does not say %q", fault.MessageOf(err), w)
				}
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigYAML reads the settings as the engines file has them: a
// target is one string or a list, and unknown keys are refused.
func TestConfigYAML(t *testing.T) {
	const doc = `
urls: [http://a:8188, http://b:8188]
workflow: wan.json
inputs:
  image: "52.image"
  prompt: "6.text"
  seed: ["3.seed", "40.noise_seed"]
output: "60"
frames_rule: 4n+1
poll_interval: 2s
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Inputs.Seed, Targets{"3.seed", "40.noise_seed"}) || !slices.Equal(c.Inputs.Prompt, Targets{"6.text"}) ||
		c.PollInterval.Seconds() != 2 || len(c.URLs) != 2 {
		t.Errorf("decoded %+v", c)
	}
	dec = yaml.NewDecoder(strings.NewReader("inputs:\n  promt: 6.text\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err == nil || !strings.Contains(err.Error(), "promt") {
		t.Errorf("a misspelt input: %v", err)
	}
}

func TestFields(t *testing.T) {
	all := Fields(config("vhs"))
	want := []string{generation.FieldPrompt, generation.FieldNegativePrompt, generation.FieldResolution, generation.FieldDuration,
		generation.FieldSeed, generation.FieldSpeech, generation.FieldSpeaker}
	if !slices.Equal(all, want) {
		t.Errorf("Fields = %v, want %v", all, want)
	}
	few := Fields(Config{Inputs: Inputs{Image: Targets{"52.image"}, Prompt: Targets{"6.text"}}})
	if !slices.Equal(few, []string{generation.FieldPrompt, generation.FieldSpeech, generation.FieldSpeaker}) {
		t.Errorf("Fields = %v", few)
	}
}

func TestFramesRule(t *testing.T) {
	for _, tc := range []struct {
		rule         string
		seconds, fps int
		want         int
	}{
		{"", 5, 16, 80},
		{"4n+1", 5, 16, 81},
		{"4n+1", 8, 16, 129},
		{"8n+1", 5, 24, 121},
		{"8n+1", 8, 25, 201},
		{"4n", 5, 15, 76},
		{" 4n + 1 ", 5, 16, 81},
	} {
		r, err := parseFramesRule(tc.rule)
		if err != nil {
			t.Fatalf("%q: %v", tc.rule, err)
		}
		if got := r.frames(tc.seconds, tc.fps); got != tc.want {
			t.Errorf("%q: %d s at %d fps = %d frames, want %d", tc.rule, tc.seconds, tc.fps, got, tc.want)
		}
	}
	for _, bad := range []string{"n+1", "4n+4", "4n-1", "0n", "x", "4n+", "65n"} {
		if _, err := parseFramesRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFrameSize(t *testing.T) {
	for _, tc := range []struct{ w, h, short, m, ww, wh int }{
		{480, 320, 360, 16, 544, 368},
		{320, 480, 360, 16, 368, 544},
		{1920, 1080, 480, 16, 848, 480},
		{1920, 1080, 720, 32, 1280, 736}, // 22.5 blocks round up
		{1000, 1000, 540, 16, 544, 544},
		{4000, 100, 360, 16, 14400, 368},
	} {
		if w, h := frameSize(tc.w, tc.h, tc.short, tc.m); w != tc.ww || h != tc.wh {
			t.Errorf("%dx%d at %dp in blocks of %d = %dx%d, want %dx%d", tc.w, tc.h, tc.short, tc.m, w, h, tc.ww, tc.wh)
		}
	}
}

func TestPromptID(t *testing.T) {
	a, b := promptID("V1StGXR8_Z5jdHi6B-myT", 0), promptID("V1StGXR8_Z5jdHi6B-myT", 1)
	if a != promptID("V1StGXR8_Z5jdHi6B-myT", 0) || a == b {
		t.Errorf("prompt ids %s, %s: want the same for the same generation and try only", a, b)
	}
	for _, id := range []string{a, b, newUUID()} {
		if len(id) != 36 || id != strings.ToLower(id) || id[8] != '-' || id[14] != '5' && id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Errorf("%q is not a canonical UUID", id)
		}
	}
}

// TestBuild writes values into a copy of the workflow, keeping the rest
// of each node (its _meta) and big numbers exact.
func TestBuild(t *testing.T) {
	b, _ := os.ReadFile(config("vhs").Workflow)
	wf, err := parseWorkflow("wf.json", b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wf.build(map[target]any{{"6", "text"}: "a fox", {"50", "length"}: 81})
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]struct {
		ClassType string                     `json:"class_type"`
		Inputs    map[string]json.RawMessage `json:"inputs"`
		Meta      map[string]string          `json:"_meta"`
	}
	if err := json.Unmarshal(out, &g); err != nil {
		t.Fatal(err)
	}
	if string(g["6"].Inputs["text"]) != `"a fox"` || string(g["50"].Inputs["length"]) != "81" || string(g["3"].Inputs["seed"]) != "982394639404573" ||
		g["6"].Meta["title"] == "" || g["60"].ClassType != "VHS_VideoCombine" || len(g) != len(wf.nodes) {
		t.Errorf("built %s", out)
	}
	if string(wf.nodes["6"].inputs["text"]) == `"a fox"` {
		t.Error("build changed the workflow")
	}
}
