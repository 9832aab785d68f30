package engine

import (
	"testing"

	"stillmotion/internal/engine/enginetest"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
)

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("renders several videos")
	}
	small := func() *generation.Request {
		return &generation.Request{Model: generation.Model, Prompt: "zoom in", ImageURL: dataURI(t, "rocket.jpg"),
			Resolution: "360p", Duration: 5, Seed: 4, Speech: "Lift off.", Speaker: "Chloe"}
	}
	enginetest.Run(t, enginetest.Harness{
		Engine:    &Builtin{},
		Stateless: true,
		Request:   small,
		Slow: func() *generation.Request {
			r := small()
			r.Resolution, r.Duration = "1080p", 5
			return r
		},
		Failures: []enginetest.Failure{
			{Name: "not an image", Kind: fault.ImageInvalid, Setup: func(t *testing.T) *generation.Request {
				r := small()
				r.ImageURL = "data:image/png;base64,aGVsbG8gd29ybGQ="
				return r
			}},
			{Name: "unknown voice", Kind: fault.Invalid, Setup: func(t *testing.T) *generation.Request {
				r := small()
				r.Speaker = "Nobody"
				return r
			}},
		},
	})
}
