package comfyui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/test/fakecomfy"
)

// textConfig maps the fake's text-to-video workflow (no LoadImage; node 40
// EmptyHunyuanLatentVideo has the frame's size and length) as an engines
// file would: no image, so the engine serves text-to-video.
func textConfig(urls ...string) Config {
	return Config{URLs: urls, Workflow: fakecomfy.Workflow("wan_t2v_api.json"), Output: "60", FramesRule: "4n+1", PollInterval: 200 * time.Millisecond,
		Inputs: Inputs{Prompt: Targets{"6.text"}, NegativePrompt: Targets{"7.text"}, Seed: Targets{"3.seed"},
			Frames: Targets{"40.length"}, Width: Targets{"40.width"}, Height: Targets{"40.height"}}}
}

// textRequest is a request for the hosted PixVerse text-to-video model.
func textRequest(prompt, ratio string) *generation.Request {
	return &generation.Request{Kind: generation.TextToVideo, Model: "pixverse/v5/text-to-video", Prompt: prompt,
		NegativePrompt: "blurry", AspectRatio: ratio, Resolution: "360p", Duration: 5, Seed: 42}
}

// textSizes are the frames the engine asks the workflow for at 360p, by
// aspect ratio: the short side 360 → 368 in blocks of 16, the long side
// 360 × the ratio, in blocks of 16.
var textSizes = map[string][2]int{"16:9": {640, 368}, "4:3": {480, 368}, "1:1": {368, 368}, "3:4": {368, 480}, "9:16": {368, 640}}

// shaped is an engine whose every video must have its request's aspect
// ratio at textSizes, and 5 s at 16 fps: 81 frames (4n+1).
type shaped struct {
	*Engine
	t       *testing.T
	renders *atomic.Int32 // the renders checked
}

func (s shaped) Render(ctx context.Context, tk *generation.Task) (*generation.Output, error) {
	o, err := s.Engine.Render(ctx, tk)
	if err != nil {
		return o, err
	}
	s.renders.Add(1)
	ratio := tk.Request.AspectRatio
	want, ok := textSizes[ratio]
	if !ok {
		s.t.Errorf("a render of ratio %q, which the test does not know", ratio)
	}
	info, perr := media.Probe(ctx, tk.Out)
	switch {
	case perr != nil:
		s.t.Errorf("probing the %s render: %v", ratio, perr)
	case info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || info.Width != want[0] || info.Height != want[1]:
		s.t.Errorf("the %s render is %s/%s %dx%d, want h264/yuv420p %dx%d", ratio, info.VideoCodec, info.PixFmt, info.Width, info.Height, want[0], want[1])
	case info.Frames < 80 || info.Frames > 82 || math.Abs(info.FPS-16) > 0.01 || math.Abs(info.Duration-81.0/16) > 0.3:
		s.t.Errorf("the %s render has %d frames at %.2f fps, %.2f s; want 81 at 16, %.2f s", ratio, info.Frames, info.FPS, info.Duration, 81.0/16)
	}
	if o.Width != want[0] || o.Height != want[1] {
		s.t.Errorf("the %s render reported %+v", ratio, o)
	}
	// A resumed render's plan too names the frame the job asked for.
	if plan := fmt.Sprintf("asked for %d×%d, 81 frames at 16 fps", want[0], want[1]); !strings.Contains(o.Plan, plan) {
		s.t.Errorf("the %s render's plan %q does not say %q", ratio, o.Plan, plan)
	}
	return o, err
}

// textScript is slowly with shorter steps: the text-to-video workflow's
// sampler takes 30 steps (20 for image-to-video), 3 s in all.
func textScript(prompt string) fakecomfy.Script {
	s := slowly(prompt)
	if s.StepDelay > 0 {
		s.StepDelay = 100 * time.Millisecond
	}
	return s
}

// TestTextToVideo runs the engines' conformance suite on the fake's
// text-to-video workflow, every video checked for its shape and length:
// the request's aspect ratio at the resolution's short side, in the
// engine's blocks of 16, for 5 s at 16 fps (81 frames, 4n+1). The
// renders are a 9:16 one (Renders) and a 1:1 one (Resume); the
// transport's failures are left to TestConformance (the same code runs
// them).
func TestTextToVideo(t *testing.T) {
	f := newFake(t, fakecomfy.Options{Script: textScript})
	c := textConfig(f.ts.URL)
	e := newEngine(t, c)
	if got := e.Serves(); !slices.Equal(got, []generation.Kind{generation.TextToVideo}) {
		t.Errorf("Serves() = %v, want text-to-video", got)
	}
	if fields := Fields(c); !slices.Contains(fields, generation.FieldAspectRatio) || !slices.Contains(fields, generation.FieldResolution) {
		t.Errorf("Fields = %v, want aspect_ratio and resolution among them", fields)
	}
	var renders atomic.Int32
	enginetest.Run(t, enginetest.Harness{
		Engine:  shaped{e, t, &renders},
		Request: func() *generation.Request { return textRequest("a lighthouse on a cliff at dusk, waves below", "9:16") },
		Slow:    func() *generation.Request { return textRequest("a slow pan over a lake at dawn", "1:1") },
		Failures: []enginetest.Failure{
			{Name: "failing node", Kind: fault.Rejected, Setup: func(t *testing.T) *generation.Request { return textRequest("fail please", "4:3") }},
			{Name: "out of memory", Kind: fault.Render, Setup: func(t *testing.T) *generation.Request { return textRequest("oom please", "16:9") }},
		},
		Submissions: f.Submissions,
	})
	if n := renders.Load(); n < 2 {
		t.Errorf("%d renders checked, want the 9:16 and the 1:1 ones", n)
	}
}
