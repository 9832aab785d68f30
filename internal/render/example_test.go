package render_test

import (
	"fmt"

	"stillmotion/internal/render"
)

func ExamplePlan() {
	shot := render.Plan("The camera slowly zooms in on the lighthouse", "blurry", 42)
	fmt.Println(shot.Description())

	shot = render.Plan("A lighthouse at dusk", "no zoom, no pan", 42)
	fmt.Println(shot.Move == render.TiltUp || shot.Move == render.TiltDown)
	// Output:
	// zoom in, slow, ease in-out (from prompt: "zooms in")
	// true
}

func ExampleFrameSize() {
	fmt.Println(render.FrameSize(4032, 3024, 720)) // a 4:3 phone photo
	fmt.Println(render.FrameSize(1080, 2400, 540)) // a tall screenshot, clamped to 9:16
	// Output:
	// 960 720
	// 540 960
}
