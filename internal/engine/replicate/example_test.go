package replicate_test

import (
	"fmt"
	"log/slog"
	"os"

	"stillmotion/internal/engine"
	"stillmotion/internal/engine/replicate"
)

// A hosted model on Replicate: the input template maps the request's
// fields to the model's inputs; a lone {{seed}} is sent as a number.
func Example() {
	c := replicate.Config{
		URL:   "https://api.replicate.com",
		Key:   "r8_example", // in the engines file: key: ${REPLICATE_API_TOKEN}
		Model: "wan-video/wan-2.2-i2v-fast",
		Input: map[string]any{
			"image":      "{{image_url}}",
			"prompt":     "{{prompt}}",
			"seed":       "{{seed}}",
			"num_frames": "{{frames}}",
			"resolution": "{{resolution}}",
		},
		FPS: 16,
	}
	e, err := replicate.New("wan", c, replicate.Deps{
		Finisher: &engine.Finisher{},
		TempDir:  os.TempDir(),
		Logger:   slog.Default(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("hosted:", e.Hosted())
	fmt.Println("fields:", replicate.Fields(c))

	// Without model or version, url is a Cog container.
	cog, err := replicate.New("local", replicate.Config{
		URL:   "http://127.0.0.1:5000",
		Input: map[string]any{"image": "{{image}}", "prompt": "{{prompt}}"},
	}, replicate.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("hosted:", cog.Hosted())

	// Mistakes are caught when the engine is built.
	_, err = replicate.New("typo", replicate.Config{
		URL:   "http://127.0.0.1:5000",
		Input: map[string]any{"prompt": "{{promt}}"},
	}, replicate.Deps{})
	fmt.Println(err != nil)
	// Output:
	// hosted: true
	// fields: [prompt resolution duration seed lip_sync_tts_content lip_sync_tts_speaker]
	// hosted: false
	// true
}
