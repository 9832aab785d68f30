package ambience

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// cue is a pattern of words and the layers it brings into a scene. A
// layer of weight 1 is what the words name ("rain"); a lighter one is what
// they imply ("storm" names rain and implies wind).
type cue struct {
	re     *regexp.Regexp
	layers []Layer
}

// words returns a pattern matching any of ws as whole words.
func words(ws ...string) *regexp.Regexp {
	return regexp.MustCompile(`\b(?:` + strings.Join(ws, "|") + `)\b`)
}

func named(k Kind, in Intensity) Layer   { return Layer{Kind: k, Intensity: in, Weight: 1} }
func implied(k Kind, in Intensity) Layer { return Layer{Kind: k, Intensity: in, Weight: 0.5} }

// cues are the words Plan listens for, run on normalized text (lower case,
// hyphens as spaces, accents off the common letters). Verbs and nouns that
// are often something else are matched only in phrases: "waves" alone is
// as often a hand as the sea.
var cues = []cue{
	{words(`rain`, `rains`, `raining`, `rained`, `rainy`, `rainfall`, `raindrops?`, `rainwater`, `wet weather`),
		[]Layer{named(Rain, Moderate)}},
	{words(`drizzle`, `drizzles`, `drizzling`, `drizzly`, `sprinkling`, `spitting rain`),
		[]Layer{named(Rain, Light)}},
	{words(`downpours?`, `torrential`, `monsoons?`, `deluge`, `cloudbursts?`),
		[]Layer{named(Rain, Heavy)}},
	{words(`storms?`, `stormy`, `rainstorms?`, `thunderstorms?`, `tempests?`),
		[]Layer{named(Rain, Heavy), implied(Wind, Heavy)}},
	{words(`hurricanes?`, `typhoons?`, `cyclones?`),
		[]Layer{named(Wind, Heavy), implied(Rain, Heavy)}},
	{words(`thunder`, `thunders`, `thundering`, `thunderous`, `thunderclaps?`, `thunderbolts?`, `lightning`, `electrical storms?`),
		[]Layer{implied(Rain, Moderate)}},

	{words(`wind`, `winds`, `windy`, `windswept`, `wind blown`, `gusts?`, `gusty`, `gusting`, `blustery`),
		[]Layer{named(Wind, Moderate)}},
	{words(`breeze`, `breezes`, `breezy`),
		[]Layer{named(Wind, Light)}},
	{words(`gales?`, `windstorms?`, `sandstorms?`, `dust storms?`, `blizzards?`, `snowstorms?`, `tornado(?:e?s)?`, `twisters?`),
		[]Layer{named(Wind, Heavy)}},
	{words(`deserts?`, `dunes?`, `mountains?`, `mountaintops?`, `summits?`, `cliffs?`, `canyons?`, `snow`, `snowy`,
		`snowfall`, `snowing`, `tundra`, `prairies?`, `plains`, `steppes?`, `glaciers?`, `hilltops?`),
		[]Layer{implied(Wind, Light)}},

	{words(`seas?`, `oceans?`, `surf`, `surfing`, `surfers?`, `seaside`, `seashore`, `beach`, `beaches`, `shore`,
		`shoreline`, `coast`, `coastal`, `coastline`, `tides?`, `bay`, `sea waves?`, `ocean waves?`,
		`(?:crashing|breaking|rolling|big|huge|white|tall|giant) waves`, `waves (?:crash|crashing|break|breaking|roll|rolling|lapping|wash|washing)`),
		[]Layer{named(Sea, Moderate)}},
	{words(`lakes?`, `lakeside`, `lakeshore`, `ponds?`, `harbou?rs?`, `marinas?`, `piers?`, `docks?`, `lagoons?`, `coves?`,
		`lapping`, `(?:gentle|small|little|calm) waves`),
		[]Layer{named(Sea, Light)}},
	{words(`seagulls?`, `gulls?`, `lighthouses?`, `sailboats?`, `sailing`),
		[]Layer{implied(Sea, Moderate)}},

	{words(`brooks?`, `creeks?`, `rivers?`, `riverbank`, `riverside`, `running water`, `flowing water`, `babbling`,
		`(?:a|the|mountain|forest|small|little|rushing|shallow|clear|rocky|winding) stream`,
		`stream (?:of water|flows|flowing|runs|running|bed|bank)`),
		[]Layer{named(Stream, Moderate)}},
	{words(`waterfalls?`, `rapids`, `cascades?`, `white water`, `whitewater`),
		[]Layer{named(Stream, Heavy)}},
	{words(`fountains?`, `trickle`, `trickles`, `trickling`),
		[]Layer{named(Stream, Light)}},

	{words(`city`, `cities`, `cityscape`, `streets?`, `downtown`, `urban`, `traffic`, `metropolis`, `skyscrapers?`,
		`avenues?`, `boulevards?`, `intersections?`, `sidewalks?`, `crosswalks?`, `highways?`, `freeways?`, `motorways?`,
		`cars`, `taxis?`, `cabs`, `buses`, `rush hour`, `traffic jam`, `times square`, `shibuya`),
		[]Layer{named(City, Moderate)}},
	{words(`town`, `towns`, `village`, `villages`, `alleys?`, `alleyways?`, `suburbs?`, `suburban`, `neighbou?rhood`),
		[]Layer{named(City, Light)}},
	{words(`(?:town|city|market|village) squares?`, `piazza`, `plaza`),
		[]Layer{named(City, Light), implied(Crowd, Light)}},

	{words(`forests?`, `woods`, `woodlands?`, `jungles?`, `rainforests?`, `trees`, `tree`, `groves?`, `orchards?`,
		`treetops?`, `canopy`),
		[]Layer{named(Forest, Moderate), implied(Birds, Moderate)}},
	{words(`birds?`, `birdsong`, `songbirds?`, `birdcalls?`, `sparrows?`, `robins?`, `larks?`, `nightingales?`,
		`dawn chorus`),
		[]Layer{named(Birds, Moderate)}},
	{words(`gardens?`, `parks?`, `meadows?`, `(?:a|the|open|green|grass|wheat|corn|flower|rice|poppy|lavender|sunflower) fields?`,
		`fields of`, `countryside`, `farms?`, `farmland`, `grassland`, `vineyards?`,
		`valleys?`, `hills`, `nature`),
		[]Layer{named(Forest, Light), implied(Birds, Light)}},

	{words(`crickets?`, `cicadas?`, `insects`, `katydids?`, `frogs?`),
		[]Layer{named(Night, Moderate)}},
	{words(`night`, `nights`, `nighttime`, `midnight`, `moonlit`, `moonlight`, `starry`, `starlit`),
		[]Layer{implied(Night, Light)}},

	{words(`fire`, `fires`, `flames?`, `flaming`, `campfires?`, `fireplaces?`, `hearth`, `firepit`, `fire pit`, `burning logs?`),
		[]Layer{named(Fire, Moderate)}},
	{words(`embers`, `fireside`, `smoldering`, `smouldering`),
		[]Layer{named(Fire, Light)}},
	{words(`bonfires?`, `blaze`, `blazing`, `wildfires?`, `inferno`, `forest fire`, `burning (?:house|building|forest)`),
		[]Layer{named(Fire, Heavy)}},

	{words(`crowds?`, `crowded`, `audience`, `spectators`, `markets?`, `marketplace`, `bazaars?`, `festivals?`, `carnival`,
		`party`, `parties`, `train station`, `railway station`, `airports?`, `weddings?`, `banquet`, `cafeteria`,
		`people talking`, `chatter`, `chattering`, `many people`, `lots of people`, `shopping mall`, `mall`),
		[]Layer{named(Crowd, Moderate)}},
	{words(`cafes?`, `coffee shops?`, `restaurants?`, `pubs?`, `taverns?`, `diners?`, `lobby`, `bistro`),
		[]Layer{named(Crowd, Light)}},
	{words(`stadiums?`, `arenas?`, `concerts?`, `cheering`, `cheers`, `applause`),
		[]Layer{named(Crowd, Heavy)}},

	{words(`room`, `rooms`, `indoors`, `indoor`, `interior`, `bedroom`, `bathroom`, `office`, `library`, `studio`,
		`kitchen`, `hallway`, `corridor`, `museum`, `gallery`, `apartment`, `church`, `cathedral`, `attic`, `classroom`),
		[]Layer{named(Room, Moderate)}},
}

var (
	// mute asks for no sound at all: the scene is silence.
	// ("muted" alone is not here: in prompts it is mostly about colours.)
	mute = words(`no sound`, `no sounds`, `without (?:any )?sound`, `no audio`, `without audio`, `sound off`,
		`(?:sound|audio) muted`, `muted (?:sound|audio)`, `soundless`, `no ambience`, `no ambient (?:sound|noise)`,
		`no background (?:sound|noise)`)
	// hush asks for quiet: every layer is Light.
	hush = words(`silent`, `silently`, `silence`, `hushed`, `noiseless`)
	// unwanted, in a negative prompt, refuses sound itself.
	unwanted = words(`sounds?`, `audio`, `ambience`, `ambient (?:sound|sounds|noise|audio)`,
		`background (?:sound|sounds|noise|audio)`, `soundtrack`)
)

var (
	negators = []string{"no", "not", "without", "don't", "dont", "doesn't", "doesnt", "isn't", "isnt",
		"never", "nor", "avoid", "avoiding", "zero", "lacking"}
	lightWords = []string{"light", "lightly", "gentle", "gently", "soft", "softly", "quiet", "quietly",
		"calm", "calmly", "faint", "faintly", "distant", "far", "faraway", "slight", "mild", "little",
		"small", "low", "lazy", "lapping", "trickling", "peaceful", "tranquil", "sparse", "thin",
		"subtle", "hushed", "silent", "serene"}
	heavyWords = []string{"heavy", "heavily", "hard", "strong", "strongly", "loud", "loudly", "pouring",
		"torrential", "violent", "violently", "fierce", "fiercely", "intense", "wild", "raging", "roaring",
		"howling", "crashing", "thundering", "rough", "stormy", "huge", "massive", "big", "giant",
		"powerful", "busy", "bustling", "packed", "hectic", "noisy", "driving", "lashing", "relentless",
		"booming"}
	// clauseBreak words end what a negation reaches.
	clauseBreak = []string{"but", "and", "with", "while", "though", "although", "yet", "then"}
)

// normalize lower-cases text and turns hyphens, underscores, typographic
// apostrophes and the accents of common loanwords into plain forms, so
// that "Rain-soaked", "don’t" and "café" match.
func normalize(text string) string {
	text = strings.NewReplacer("-", " ", "_", " ", "’", "'", "\n", " ", "\t", " ",
		"é", "e", "è", "e", "à", "a", "ñ", "n").Replace(strings.ToLower(text))
	return decoys.ReplaceAllStringFunc(text, func(m string) string { return strings.Repeat(" ", len(m)) })
}

// decoys are common prompt phrases that contain a cue's word and say
// nothing about sound; normalize blanks them.
var decoys = words(`bird'?s? eye`, `depth of field`, `field of view`, `fire (?:trucks?|engines?|hydrants?|escapes?|fighters?)`,
	`rain boots`, `storm troopers?`, `street (?:wear|style)`, `sea green`, `ocean blue`)

// trimWord strips the punctuation around a word.
func trimWord(w string) string { return strings.Trim(w, `.,;:!?"()[]{}`) }

// endsClause reports whether the raw word w ends a clause (with a comma, a
// full stop and the like), so that what is said around a cue stops there.
func endsClause(w string) bool { return strings.ContainsAny(w[len(w)-1:], ".,;:!?()") }

// negated reports whether one of the three words before a cue, in the same
// clause, is a negation: "no rain", "without any wind", "not raining", but
// not the wind of "no rain, strong wind". "or" carries a negation on ("no
// rain or wind"); "and", "but" and "with" end it.
func negated(before string) bool {
	f := strings.Fields(before)
	for i := len(f) - 1; i >= max(0, len(f)-3); i-- {
		w := f[i]
		if endsClause(w) {
			return false
		}
		t := trimWord(w)
		if slices.Contains(negators, t) {
			return true
		}
		if slices.Contains(clauseBreak, t) {
			return false
		}
	}
	return false
}

// intensity reads the words in and next to a cue at text[start:end]: the
// nearest modifier ("heavy", "gentle") among the words of the cue itself,
// then alternately the words just before and after it, two each way, in
// the same clause. ok is false when there is none.
func intensity(text string, start, end int) (in Intensity, ok bool) {
	var order []string
	for _, w := range strings.Fields(text[start:end]) {
		order = append(order, trimWord(w))
	}
	before := strings.Fields(text[:start])
	after := strings.Fields(text[end:])
	beforeOpen, afterOpen := true, true
	if len(before) > 0 && endsClause(before[len(before)-1]) {
		beforeOpen = false
	}
	for k := range 2 {
		if i := len(before) - 1 - k; beforeOpen && i >= 0 {
			if k > 0 && endsClause(before[i]) {
				beforeOpen = false
			} else {
				order = append(order, trimWord(before[i]))
			}
		}
		if afterOpen && k < len(after) {
			order = append(order, trimWord(after[k]))
			afterOpen = !endsClause(after[k])
		}
	}
	for _, w := range order {
		switch {
		case slices.Contains(heavyWords, w):
			return Heavy, true
		case slices.Contains(lightWords, w):
			return Light, true
		}
	}
	return Moderate, false
}

// Plan reads the prompt and the negative prompt and picks the scene's
// layers (Events are left to Lightning, which needs the clip's length and
// seed). It is deterministic and has no state.
//
//   - Words name kinds, with a weight of 1 ("rain", "beach", "campfire",
//     "crowd"; see the package documentation for the lists), or imply them
//     with a weight of 0.5: "storm" implies wind beside its rain, a forest
//     or a garden implies birds unless it is night, raining, blowing a gale
//     or burning, and "night" implies crickets unless the place is a city,
//     a crowd or a room. Layers come in the order their words first appear,
//     what is named before what is implied.
//   - A word's intensity comes with it ("drizzle" is light rain, "gale"
//     heavy wind) or from a modifier beside it in the same clause ("heavy
//     rain", "a gentle breeze", "waves crashing"). The strongest said of a
//     kind anywhere wins.
//   - A negated word ("no rain", "without wind", "not raining") or any
//     word in the negative prompt excludes its kinds, even where the prompt
//     names them elsewhere.
//   - "No sound", "no audio", "sound off" in the prompt, or "sound",
//     "audio", "ambience" in the negative prompt, give silence: a Scene
//     with no layers. "Silent", "silence" and "hushed" make every layer
//     light.
//   - Room tone stands alone: beside any other kind it is dropped. When
//     nothing is recognised the scene is Room: a clip that is meant to have
//     sound should never be digital silence, which sounds like a fault;
//     the air of a quiet room is what film editors lay under stillness.
func Plan(prompt, negative string) Scene {
	text, neg := normalize(prompt), normalize(negative)
	if hasCue(text, mute) || unwanted.MatchString(neg) {
		return Scene{}
	}

	excluded := make(map[Kind]bool)
	for _, c := range cues {
		if c.re.MatchString(neg) {
			for _, l := range c.layers {
				excluded[l.Kind] = true
			}
		}
	}
	type found struct {
		layer Layer
		at    int // where the kind is first mentioned
	}
	byKind := make(map[Kind]*found)
	for _, c := range cues {
		for _, loc := range c.re.FindAllStringIndex(text, -1) {
			if negated(text[:loc[0]]) {
				for _, l := range c.layers {
					excluded[l.Kind] = true
				}
				continue
			}
			in, said := intensity(text, loc[0], loc[1])
			for _, l := range c.layers {
				if said {
					l.Intensity = in
				}
				f, ok := byKind[l.Kind]
				if !ok {
					byKind[l.Kind] = &found{l, loc[0]}
					continue
				}
				// What a word implies does not override what is named.
				if (said || l.Weight >= f.layer.Weight) && stronger(l.Intensity, f.layer.Intensity) {
					f.layer.Intensity = l.Intensity
				}
				f.layer.Weight = max(f.layer.Weight, l.Weight)
				f.at = min(f.at, loc[0])
			}
		}
	}

	var all []*found
	for k, f := range byKind {
		if !excluded[k] {
			all = append(all, f)
		}
	}
	slices.SortFunc(all, func(a, b *found) int {
		// By first mention; what words name before what they imply.
		if a.at != b.at {
			return a.at - b.at
		}
		if a.layer.Weight != b.layer.Weight {
			return cmp.Compare(b.layer.Weight, a.layer.Weight)
		}
		return int(a.layer.Kind - b.layer.Kind)
	})
	var s Scene
	for _, f := range all {
		s.Layers = append(s.Layers, f.layer)
	}
	// What a place implies gives way to what is said about it: no crickets
	// in a city at night; no birds at night, in the rain, in a gale or a
	// blaze (unless the prompt names them).
	if f := byKind[Night]; f != nil && f.layer.Weight < 1 && (s.Has(City) || s.Has(Crowd) || s.Has(Room)) {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Night })
	}
	if f := byKind[Birds]; f != nil && f.layer.Weight < 1 && (s.Has(Night) || s.Has(Rain) || heavy(s, Wind) || heavy(s, Fire)) {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Birds })
	}
	if len(s.Layers) > 1 {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Room })
	}
	if len(s.Layers) == 0 {
		s.Layers = []Layer{named(Room, Moderate)}
	}
	if hasCue(text, hush) {
		for i := range s.Layers {
			s.Layers[i].Intensity = Light
		}
	}
	return s
}

// heavy reports whether s has a heavy layer of kind k.
func heavy(s Scene, k Kind) bool {
	return slices.ContainsFunc(s.Layers, func(l Layer) bool { return l.Kind == k && l.Intensity == Heavy })
}

// stronger reports whether intensity a says more than b: any said
// intensity over Moderate, and Heavy over Light.
func stronger(a, b Intensity) bool {
	return b == Moderate && a != Moderate || a == Heavy && b == Light
}

// hasCue reports whether re matches text somewhere not negated.
func hasCue(text string, re *regexp.Regexp) bool {
	for _, loc := range re.FindAllStringIndex(text, -1) {
		if !negated(text[:loc[0]]) {
			return true
		}
	}
	return false
}
