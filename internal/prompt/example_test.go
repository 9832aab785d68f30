package prompt_test

import (
	"fmt"

	"stillmotion/internal/prompt"
)

func ExampleRead() {
	sc := prompt.Read("Slow push in on a busy street at golden hour, light rain, no people", "lightning")
	fmt.Println(sc)
	fmt.Println(sc.Weather.Rain.Intensity, sc.Atmosphere.Has(prompt.Rain), sc.Sound.Has(prompt.City))
	// Output:
	// camera: slow zoom in; light: golden hour; weather: light rain; atmosphere: rain; sound: heavy city; without: people, lightning
	// light true true
}
