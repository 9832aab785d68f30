package testmode

import (
	"regexp"
	"slices"
	"strings"
)

// MagicSeed is a seed that stands for a script.
type MagicSeed struct {
	Seed   int64
	Script string
	Means  string // for the docs
}

// MagicSeeds are seeds that script a test key's generation when it sends no
// X-Stillmotion-Script header, for clients that cannot add headers (as
// payment test modes have magic card numbers). They do nothing for a real
// key's generation, whose seed is just a seed.
var MagicSeeds = []MagicSeed{
	{4000001, "then=error:image_fetch_failed", "ends in error image_fetch_failed at once"},
	{4000002, "queue=2s;generate=5s", "queued 2 s, generating 5 s, then completed"},
	{4000003, "generate=2m;then=error:render_failed", "fails after two minutes of generating"},
	{4000004, "generate=1s;then=error:timeout:Generation timeout", "ends in error timeout"},
	{4000429, "submit=429", "the submit is refused with 429 and Retry-After: 1"},
	{4000500, "submit=500", "the submit fails with 500"},
	{4000502, "submit=502", "the submit fails with 502"},
	{4000503, "submit=503", "the submit fails with 503 and Retry-After: 1"},
	{4000504, "poll=1:504", "the first poll fails with 504 Generation timeout"},
	{4001429, "poll=1:429,2:429;generate=1s", "the first two polls are refused with 429"},
	{4002000, "preset=hosted;generate=2s", "answers as the hosted API's samples show (see Presets)"},
}

// marker finds a script in a prompt: [stillmotion-script: ...].
var marker = regexp.MustCompile(`\[stillmotion-script:\s*([^\]]*)\]`)

// Magic returns the script a test key's request carries in its fields: a
// [stillmotion-script: ...] marker in the prompt, else a magic seed.
func Magic(seed int64, seedGiven bool, prompt string) (string, bool) {
	if m := marker.FindStringSubmatch(prompt); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	if !seedGiven {
		return "", false
	}
	i := slices.IndexFunc(MagicSeeds, func(m MagicSeed) bool { return m.Seed == seed })
	if i < 0 {
		return "", false
	}
	return MagicSeeds[i].Script, true
}

// Preset is a way of answering that mirrors what the hosted API's pages
// and samples show, picked by a script's preset=NAME.
type Preset struct {
	Name  string
	Means string
	// Succeeded says "succeeded" for a completed generation.
	Succeeded bool
	// Tokens reports meta.usage.tokens_used instead of credits_used and
	// usd_spent.
	Tokens bool
	// LegacyStatuses says "waiting" for queued and "active" for
	// generating, as older samples poll for.
	LegacyStatuses bool
	// ModelIDs suffixes ids with ":" and the model, as the hosted page's
	// sample output shows.
	ModelIDs bool
}

// Presets are the presets, by the order the docs list them.
var Presets = []Preset{
	{Name: "succeeded", Means: `status "succeeded" instead of "completed"`, Succeeded: true},
	{Name: "tokens", Means: "meta.usage.tokens_used instead of credits_used and usd_spent", Tokens: true},
	{Name: "legacy-statuses", Means: `"waiting" instead of "queued" and "active" instead of "generating"`, LegacyStatuses: true},
	{Name: "model-ids", Means: `ids with a ":MODEL" suffix ("…:pixverse/v5/image-to-video")`, ModelIDs: true},
	{Name: "hosted", Means: "as the hosted page's sample output: model-ids and tokens", Tokens: true, ModelIDs: true},
	{Name: "old-docs", Means: "all of the above", Succeeded: true, Tokens: true, LegacyStatuses: true, ModelIDs: true},
}

// PresetNamed returns the preset called name.
func PresetNamed(name string) (Preset, bool) {
	i := slices.IndexFunc(Presets, func(p Preset) bool { return p.Name == name })
	if i < 0 {
		return Preset{}, false
	}
	return Presets[i], true
}

// PresetNames are the presets' names.
func PresetNames() []string {
	n := make([]string, len(Presets))
	for i, p := range Presets {
		n[i] = p.Name
	}
	return n
}
