package registry

import (
	"stillmotion/internal/engine/comfyui"
	"stillmotion/internal/engine/replicate"
	"stillmotion/internal/engine/upstream"
	"stillmotion/internal/generation"
)

// The kinds of engine an entry may have.
func init() {
	kinds[generation.BuiltinEngine] = builtinKind
	kinds["upstream"] = upstreamKind
	kinds["replicate"] = replicateKind
	kinds["comfyui"] = comfyuiKind
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

func upstreamKind(e *Entry, env *Env) (generation.Engine, []string, error) {
	var c upstream.Config
	if err := e.Decode(&c); err != nil {
		return nil, nil, err
	}
	eng, err := upstream.New(e.Name, c, upstream.Deps{Finisher: env.Finisher, TempDir: env.TempDir, Logger: env.Logger})
	if err != nil {
		return nil, nil, err
	}
	return eng, upstream.Fields(c), nil
}

func replicateKind(e *Entry, env *Env) (generation.Engine, []string, error) {
	var c replicate.Config
	if err := e.Decode(&c); err != nil {
		return nil, nil, err
	}
	eng, err := replicate.New(e.Name, c, replicate.Deps{Finisher: env.Finisher, TempDir: env.TempDir, Logger: env.Logger})
	if err != nil {
		return nil, nil, err
	}
	return eng, replicate.Fields(c), nil
}

func comfyuiKind(e *Entry, env *Env) (generation.Engine, []string, error) {
	var c comfyui.Config
	if err := e.Decode(&c); err != nil {
		return nil, nil, err
	}
	eng, err := comfyui.New(e.Name, c, comfyui.Deps{Dir: env.Dir, Finisher: env.Finisher, TempDir: env.TempDir, Logger: env.Logger})
	if err != nil {
		return nil, nil, err
	}
	return eng, comfyui.Fields(c), nil
}
