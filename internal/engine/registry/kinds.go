package registry

import (
	"stillmotion/internal/engine"
	"stillmotion/internal/engine/comfyui"
	"stillmotion/internal/engine/replicate"
	"stillmotion/internal/engine/upstream"
	"stillmotion/internal/generation"
)

// The kinds of engine an entry may have.
func init() {
	kinds[generation.BuiltinEngine] = builtinKind
	kinds["upstream"] = remoteKind(upstream.New, upstream.Fields)
	kinds["replicate"] = remoteKind(replicate.New, replicate.Fields)
	kinds["comfyui"] = remoteKind(comfyui.New, comfyui.Fields)
}

// serves are the kinds of model each kind of engine can render. The
// built-in engine cannot make a picture from words; ComfyUI workflows and
// Replicate models take one image at most.
var serves = map[string][]generation.Kind{
	generation.BuiltinEngine: {generation.ImageToVideo, generation.Transition, generation.LipSync},
	"upstream":               {generation.ImageToVideo, generation.TextToVideo, generation.Transition, generation.LipSync},
	"comfyui":                {generation.ImageToVideo, generation.TextToVideo},
	"replicate":              {generation.ImageToVideo, generation.TextToVideo},
}

// builtinKind is another instance of the built-in renderer (on a queue of
// its own, say); it has no settings.
func builtinKind(e *Entry, env *Env) (generation.Engine, []string, error) {
	var none struct{}
	if err := e.Decode(&none); err != nil {
		return nil, nil, err
	}
	return env.Builtin, generation.AllFields, nil
}

// remoteKind is the Kind of a remote engine's package: its Config, read
// from the entry, and its New and Fields.
func remoteKind[C any, E generation.Engine](newEngine func(string, C, engine.Remote) (E, error), fields func(C) []string) Kind {
	return func(e *Entry, env *Env) (generation.Engine, []string, error) {
		var c C
		if err := e.Decode(&c); err != nil {
			return nil, nil, err
		}
		eng, err := newEngine(e.Name, c, env.Remote)
		if err != nil {
			return nil, nil, err
		}
		return eng, fields(c), nil
	}
}
