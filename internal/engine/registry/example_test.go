package registry_test

import (
	"fmt"

	"stillmotion/internal/engine"
	"stillmotion/internal/engine/registry"
)

func ExampleParse() {
	r, err := registry.Parse([]byte(`
engines:
  b:
    kind: upstream
    url: http://127.0.0.1:8081
    model: pixverse/v5/image-to-video
models:
  pixverse/v5/image-to-video: builtin
  remote/v5: b
`), &registry.Env{Builtin: &engine.Builtin{}, Remote: engine.Remote{Finisher: &engine.Finisher{}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rt := range r.Routes {
		fmt.Println(rt.Model, "→", rt.Engine, "("+rt.Kind+")")
	}
	// Output:
	// pixverse/v5/image-to-video → builtin (builtin)
	// remote/v5 → b (upstream)
}
