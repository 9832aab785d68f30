package fakecomfy

import (
	"context"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/generation"
)

func TestScratch(t *testing.T) {
	ctx := context.Background()
	f := &engine.Finisher{}
	tk := &generation.Task{Request: &generation.Request{Duration: 5}, Out: t.TempDir() + "/o.mp4"}
	t0 := time.Now()
	o, err := f.Finish(ctx, "/tmp/t.webp", tk)
	t.Logf("finish webp %v %+v %v", time.Since(t0), o, err)
	png, _ := os.ReadFile("/work/main/internal/engine/testdata/" + os.Getenv("IMG"))
	for _, res := range []string{"360p", "240p"} {
		t0 = time.Now()
		b := &engine.Builtin{}
		o, err = b.Render(ctx, &generation.Task{Request: &generation.Request{Prompt: "a calm lake", ImageURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), Resolution: res, Duration: 5, Seed: 1}, Out: t.TempDir() + "/b.mp4"})
		t.Logf("builtin %s %v %+v %v", res, time.Since(t0), o, err)
	}
}
