package ambience_test

import (
	"fmt"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/prompt"
)

func ExamplePlan() {
	fmt.Println(ambience.Plan(prompt.Read("Waves crashing on a rocky beach at dusk", "")))
	fmt.Println(ambience.Plan(prompt.Read("A cosy café on a rainy street, no traffic", "")))
	fmt.Println(ambience.Plan(prompt.Read("A forest at night", "birds")))
	fmt.Println(ambience.Plan(prompt.Read("Portrait of an old man, shallow depth of field", "")))
	fmt.Println(ambience.Plan(prompt.Read("A lighthouse, no sound", "")))
	// Output:
	// sea (heavy)
	// crowd (light), rain
	// forest, night (light, 0.5)
	// room
	// silence
}

func ExampleLightning() {
	sc := prompt.Read("Lightning strikes over the harbour", "")
	for _, e := range ambience.Lightning(sc, 8*time.Second, 42) {
		fmt.Printf("flash on frame %d, %v\n", e.Frame(24), e.Kind)
	}
	// Output:
	// flash on frame 38, thunder
	// flash on frame 105, thunder
}

// Example shows how the engine lays a scene under a clip: alone when there
// is no speech, as a ducked bed under it otherwise.
func Example() {
	const seed = 7
	length := 5 * time.Second

	// Read the prompt once, for the picture and the sound alike.
	sc := prompt.Read("A thunderstorm over the city", "")
	scene := ambience.Plan(sc)
	scene.Events = ambience.Lightning(sc, length, seed)

	// Without speech: the scene alone, at -23 LUFS.
	track := ambience.Render(scene, length, seed, false)

	// With speech: a bed 15 LU lower, ducked under the voice.
	voice := make([]int16, len(track)) // speech.Track(audio, speech.Lead, length)
	track = ambience.Mix(voice, ambience.Render(scene, length, seed, true))

	fmt.Println(scene.Kinds(), len(track) == 5*ambience.SampleRate)
	// Output:
	// [rain wind city] true
}
