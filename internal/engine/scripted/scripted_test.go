package scripted

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

// TestConformance runs the engines' suite: the script says how long a
// render takes and how it ends.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	scripts := map[*generation.Request]string{}
	with := func(script string) *generation.Request {
		r := &generation.Request{Model: generation.Model, Prompt: "p", ImageURL: "https://example.com/a.png", Resolution: "720p", Duration: 5}
		mu.Lock()
		scripts[r] = script
		mu.Unlock()
		return r
	}
	failure := func(name, script string, k fault.Kind) enginetest.Failure {
		return enginetest.Failure{Name: name, Kind: k, Setup: func(t *testing.T) *generation.Request { return with(script) }}
	}
	enginetest.Run(t, enginetest.Harness{
		Engine:    &Engine{Step: 20 * time.Millisecond},
		Stateless: true,
		Request:   func() *generation.Request { return with("generate=100ms") },
		Slow:      func() *generation.Request { return with("generate=5s") },
		Script: func(r *generation.Request) string {
			mu.Lock()
			defer mu.Unlock()
			return scripts[r]
		},
		Failures: []enginetest.Failure{
			failure("image fetch", "then=error:image_fetch_failed", fault.ImageFetch),
			failure("timeout with a message", "generate=50ms;then=error:timeout:Generation timeout", fault.Timeout),
			failure("unreadable script", "then=maybe", fault.Internal),
		},
	})
}

// TestEnd checks the scripted error's message: the script's, or one that
// names the error.
func TestEnd(t *testing.T) {
	for _, tt := range []struct{ script, msg string }{
		{"then=error:timeout:Generation timeout", "Generation timeout"},
		{"then=error:input_rejected", "The test script ended this generation in input_rejected"},
	} {
		_, err := (&Engine{}).Render(context.Background(), &generation.Task{Script: tt.script, Out: t.TempDir() + "/o.mp4"})
		if m := fault.MessageOf(err); m != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.script, m, tt.msg)
		}
	}
	o, err := (&Engine{}).Render(context.Background(), &generation.Task{Script: "then=succeeded", Out: t.TempDir() + "/o.mp4"})
	if err != nil || !strings.HasPrefix(o.Plan, "test script: then=succeeded") {
		t.Errorf("output %+v, %v", o, err)
	}
}
