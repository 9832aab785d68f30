package registry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/billing"
	"stillmotion/internal/engine"
	"stillmotion/internal/generation"
)

func env() *Env {
	return &Env{Builtin: &engine.Builtin{}, Remote: engine.Remote{Finisher: &engine.Finisher{}, TempDir: os.TempDir()}}
}

func TestParse(t *testing.T) {
	t.Setenv("B_KEY", "sekrit")
	r, err := Parse([]byte(`
engines:
  b:
    kind: upstream
    url: http://127.0.0.1:8081
    key: ${B_KEY}
    queue: remote
    concurrency: 8
    timeout: 30m
    prices: {per_second: {720p: 100000}}
  local:
    kind: builtin
    fields: [prompt, seed]
models:
  pixverse/v5/image-to-video: builtin
  hosted/v5: b
  plain: local
`), env())
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, rt := range r.Routes {
		models = append(models, rt.Model+"="+rt.Engine+"/"+rt.Kind)
	}
	if got := strings.Join(models, " "); got != "pixverse/v5/image-to-video=builtin/builtin hosted/v5=b/upstream plain=local/builtin" {
		t.Errorf("routes %s", got)
	}
	b := r.Routes[1]
	if b.Queue != "remote" || b.Prices == nil || b.Prices.Cost(billing.Usage{Resolution: "720p", Seconds: 5}) != 500000 || len(b.Fields) != len(generation.AllFields) {
		t.Errorf("upstream route %+v", b)
	}
	if q := r.Queues["render_remote"]; q.Concurrency != 8 || q.Timeout != 30*time.Minute {
		t.Errorf("queue %+v", q)
	}
	if _, ok := r.Queues["render_builtin"]; !ok {
		t.Errorf("queues %v: the built-in engine's queue is missing", r.Queues)
	}
	if f := r.Routes[2].Fields; strings.Join(f, ",") != "prompt,seed" {
		t.Errorf("fields override: %v", f)
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("SET", "x")
	os.Unsetenv("UNSET_VAR_FOR_TEST")
	for _, tt := range []struct{ name, file, want string }{
		{"not yaml", "engines: [", "did not find expected"},
		{"unknown top key", "engine: {}\nmodels: {m: builtin}", `unknown key "engine"`},
		{"no models", "engines: {}", "no models"},
		{"unknown kind", "engines: {x: {kind: sora}}\nmodels: {m: x}", `unknown kind "sora"; the kinds are builtin, comfyui, `},
		{"no kind", "engines: {x: {url: http://h}}\nmodels: {m: x}", `engine "x" has no kind`},
		{"undefined engine", "models: {m: gpu}", `names the engine "gpu", which is not defined; the engines are builtin`},
		{"unset variable", "engines: {b: {kind: upstream, url: http://h, key: '${UNSET_VAR_FOR_TEST}'}}\nmodels: {m: b}", "UNSET_VAR_FOR_TEST is not set"},
		{"unknown setting", "engines: {b: {kind: upstream, url: http://h, ky: x}}\nmodels: {m: b}", `field ky not found`},
		{"bad url", "engines: {b: {kind: upstream, url: ftp://h}}\nmodels: {m: b}", `engine "b" (upstream): url must be`},
		{"bad timeout", "engines: {b: {kind: upstream, url: http://h, timeout: soon}}\nmodels: {m: b}", `timeout: time: invalid duration`},
		{"bad concurrency", "engines: {b: {kind: upstream, url: http://h, concurrency: 0}}\nmodels: {m: b}", "concurrency must be at least 1"},
		{"bad field", "engines: {b: {kind: builtin, fields: [colour]}}\nmodels: {m: b}", `unknown field "colour"`},
		{"bad name", "engines: {'a b': {kind: builtin}}\nmodels: {m: builtin}", `engine name "a b"`},
		{"builtin text-to-video", "models: {pixverse/v5/text-to-video: builtin}",
			`model "pixverse/v5/text-to-video" is a text-to-video model, which the builtin engine "builtin" cannot render (it renders image-to-video, transition, lip-sync)`},
		{"replicate lip-sync", "engines: {w: {kind: replicate, url: http://cog:5000, input: {prompt: '{{prompt}}'}}}\nmodels: {pixverse/lip-sync: w}", `lip-sync model, which the replicate engine "w" cannot render`},
		{"like unknown", "models: {m: {engine: builtin, like: pixverse/v9}}", `like "pixverse/v9" is not a hosted model; it is one of pixverse/v5/image-to-video, `},
		{"like text-to-video on builtin", "models: {m: {engine: builtin, like: pixverse/v5.5/text-to-video}}", `is a text-to-video model, which the builtin engine "builtin" cannot render`},
		{"model without engine", "models: {m: {like: pixverse/v5/transition}}", `model "m": no engine`},
		{"model unknown key", "models: {m: {engine: builtin, price: 1}}", `unknown key "price"; a model takes engine, like and prices`},
		{"model prices unknown key", "models: {m: {engine: builtin, prices: {per_minute: 1}}}", `unknown key "per_minute"`},
		{"model prices unknown extra", "models: {m: {engine: builtin, prices: {extras: {hdr: 1}}}}", `unknown extra "hdr"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file), env())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseModelEntries(t *testing.T) {
	r, err := Parse([]byte(`
engines:
  up: {kind: upstream, url: http://127.0.0.1:8081}
models:
  pixverse/v5/text-to-video: up
  acme/morph: {engine: builtin, like: pixverse/v5/transition}
  pixverse/lip-sync: {engine: builtin, prices: {per_video: 300000}}
  pixverse/v5.5/image-to-video: {engine: builtin, prices: {extras: {audio: 1000}}}
`), env())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rt := range r.Routes {
		got = append(got, rt.Model+"="+rt.Engine+"/"+string(rt.Schema().Kind))
	}
	if s := strings.Join(got, " "); s != "pixverse/v5/text-to-video=up/text-to-video acme/morph=builtin/transition pixverse/lip-sync=builtin/lip-sync pixverse/v5.5/image-to-video=builtin/image-to-video" {
		t.Errorf("routes %s", s)
	}
	if p := r.Routes[2].Prices; p == nil || billing.ForModel(generation.ModelLipSync, *p).Cost(billing.Usage{}) != 300000 {
		t.Errorf("lip-sync prices %+v, want 300000 a video", p)
	}
	if p := r.Routes[3].Prices; p == nil || p.Cost(billing.Usage{Resolution: "720p", Seconds: 5, Extras: []string{"audio"}}) != 425000 {
		t.Errorf("v5.5 prices %+v, want 1000 a second for sound", p)
	}
}

func TestLoad(t *testing.T) {
	f := filepath.Join(t.TempDir(), "engines.yaml")
	os.WriteFile(f, []byte("models: {pixverse/v5/image-to-video: builtin}\n"), 0o644)
	r, err := Load(f, env())
	if err != nil || len(r.Routes) != 1 {
		t.Fatalf("Load = %+v, %v", r, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env()); err == nil || !strings.Contains(err.Error(), "reading the engines file") {
		t.Errorf("Load of a missing file = %v", err)
	}
	lines, ok := r.Check(context.Background())
	if !ok || len(lines) != 1 || lines[0] != "engine builtin (builtin): ok" {
		t.Errorf("Check = %v, %v", lines, ok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("engines: {b: {kind: upstream, url: http://h}}\nmodels: {m: b}"))
	f.Add([]byte("models: {m: builtin}"))
	f.Add([]byte("engines: {x: {kind: builtin, queue: q, prices: {speech: 1}}}\nmodels: {a: x, b: builtin}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b, env())
		if err != nil {
			return
		}
		if len(r.Routes) == 0 {
			t.Error("a registry without routes")
		}
		for _, rt := range r.Routes {
			if r.Engines[rt.Engine] == nil {
				t.Errorf("route %+v names no engine", rt)
			}
		}
	})
}
