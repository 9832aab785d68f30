package comfyui_test

import (
	"fmt"

	"stillmotion/internal/engine/comfyui"
	"stillmotion/test/fakecomfy"
)

// An engine for a Wan 2.1 image-to-video workflow exported from ComfyUI in
// API format, whose VHS_VideoCombine node (60) writes an MP4. New checks
// the mapping against the workflow without calling the server.
func Example() {
	c := comfyui.Config{
		URL:      "http://127.0.0.1:8188",
		Workflow: fakecomfy.Workflow("wan_i2v_vhs_api.json"),
		Inputs: comfyui.Inputs{
			Image:          comfyui.Targets{"52.image"},
			Prompt:         comfyui.Targets{"6.text"},
			NegativePrompt: comfyui.Targets{"7.text"},
			Seed:           comfyui.Targets{"3.seed"},
			Frames:         comfyui.Targets{"50.length"},
			Width:          comfyui.Targets{"50.width"},
			Height:         comfyui.Targets{"50.height"},
			FPS:            comfyui.Targets{"60.frame_rate"},
		},
		Output:     "60",
		FramesRule: "4n+1", // Wan takes 4n+1 frames: 5 s at 16 fps is 81
	}
	e, err := comfyui.New("wan", c, comfyui.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = e // the registry serves it; e.Render renders, e.Check reaches the server
	fmt.Println(comfyui.Fields(c))

	c.Inputs.Prompt = comfyui.Targets{"6.txt"}
	_, err = comfyui.New("wan", c, comfyui.Deps{})
	fmt.Println(err)
	// Output:
	// [prompt negative_prompt resolution duration seed lip_sync_tts_content lip_sync_tts_speaker]
	// invalid_request: inputs.prompt: node 6 (CLIPTextEncode) has no input "txt"; its inputs are clip, text
}
