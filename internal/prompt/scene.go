package prompt

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Scene is what a prompt and its negative prompt say, read once for the
// picture and the soundtrack alike.
type Scene struct {
	Camera     Camera
	Light      Lighting
	Weather    Weather
	Atmosphere Atmosphere
	Sound      Sound
	// Negations are what the prompt negates ("rain" of "without any
	// rain", "people" of "no people") and the entries of the negative
	// prompt, in order, each once.
	Negations []string
}

// Level is what the prompt says of one thing that comes in degrees: the
// rain, the wind, the sea. The zero Level is absent.
type Level struct {
	// On reports that the prompt names or implies the thing and does not
	// refuse it.
	On bool
	// Implied reports that no word names the thing and another implies
	// it: "storm" implies wind, "forest" birds, "thunder" rain. What is
	// only implied is heard, faintly, and never drawn.
	Implied bool
	// Intensity is what a modifier says ("heavy rain", "a gentle
	// breeze"), else what the words themselves do ("drizzle",
	// "downpour"); the strongest said wins.
	Intensity Intensity
	// At is where the thing is first mentioned, in bytes of the
	// normalized prompt, so that consumers can keep the prompt's order.
	At int
}

// Named reports that a word names the thing: it is on and not only
// implied.
func (l Level) Named() bool { return l.On && !l.Implied }

// Weather is what the prompt says of the weather.
type Weather struct {
	Rain, Snow, Wind Level
	// Lightning is lightning with its thunder: either word brings both,
	// and refusing either refuses both, as the thunder follows the flash.
	Lightning Level
	// Distance is how far the lightning is said to be.
	Distance Distance
}

// Atmosphere is a set of what moves in the picture's air and over it, as
// the prompt asks: the effects a renderer draws over a still.
type Atmosphere uint16

// The effects. Rain and snow are drawn only where named ("thunder" implies
// rain you hear, not rain you see), and not when a negative prompt
// refuses "particles".
const (
	Rain Atmosphere = 1 << iota
	Snow
	Dust
	Embers
	Fireflies
	Petals
	Fog
	Rays       // light rays
	Water      // ripples on water
	Clouds     // the sky drifting: clouds, smoke, mist
	Sway       // foliage swaying in the wind
	Hair       // hair and cloth moving in the wind
	Flare      // a lens flare
	numEffects = iota
)

var effectNames = [numEffects]string{"rain", "snow", "dust", "embers", "fireflies", "petals", "fog", "light rays",
	"water shimmer", "drifting clouds", "foliage sway", "hair and cloth in wind", "lens flare"}

// Has reports whether a has every effect of e.
func (a Atmosphere) Has(e Atmosphere) bool { return a&e == e }

// String returns the effects in words joined by ", ", or "" for none.
func (a Atmosphere) String() string {
	var names []string
	for i := range numEffects {
		if a&(1<<i) != 0 {
			names = append(names, effectNames[i])
		}
	}
	return strings.Join(names, ", ")
}

// Sound is what the prompt says of the place's sound, beside the weather.
type Sound struct {
	// Sources are the places and things that sound, in the order they are
	// first mentioned.
	Sources []Source
	// Mute asks for no sound at all: "no sound", "soundless", or "sound"
	// or "audio" in the negative prompt.
	Mute bool
	// Hush asks for quiet: "silent", "hushed".
	Hush bool
}

// Has reports whether the sound has a source of kind k.
func (s Sound) Has(k SourceKind) bool {
	return slices.ContainsFunc(s.Sources, func(src Source) bool { return src.Kind == k })
}

// Source is one place or thing that sounds.
type Source struct {
	Kind SourceKind
	Level
}

// SourceKind is a kind of place or thing that sounds.
type SourceKind int

// The kinds of sources.
const (
	Sea     SourceKind = iota // sea, ocean, beach, lake (light)
	Stream                    // river, brook, waterfall (heavy), fountain (light)
	City                      // city, street, traffic; town (light)
	Forest                    // forest, trees; garden, meadow, field (light)
	Birds                     // birds, birdsong
	Insects                   // crickets, cicadas; night (implied)
	Fire                      // fire, campfire; embers (light); bonfire (heavy)
	Crowd                     // crowd, market; café (light); stadium (heavy)
	Room                      // room, indoors, library
	numSources
)

var sourceNames = [numSources]string{"sea", "stream", "city", "forest", "birds", "insects", "fire", "crowd", "room"}

// sourceThings are the things each kind of source is.
var sourceThings = [numSources]thing{sea, stream, city, forest, birds, insects, fire, crowd, room}

// String returns the kind's name, such as "sea".
func (k SourceKind) String() string {
	if k >= 0 && k < numSources {
		return sourceNames[k]
	}
	return "source(" + strconv.Itoa(int(k)) + ")"
}

// Grade is a set of colour grades the prompt asks for.
type Grade uint16

// The grades.
const (
	GoldenHour    Grade = 1 << iota // "golden hour", "sunset", "magic hour"
	Dusk                            // "dusk", "twilight", "blue hour"
	Night                           // "night", "moonlit", "midnight"
	Moody                           // "moody", "gloomy", "overcast", "noir"
	Neon                            // "neon", "synthwave"
	Vintage                         // "vintage", "retro", "sepia"
	BlackAndWhite                   // "black and white", "monochrome"
	HighContrast                    // "high contrast", "chiaroscuro"
	numGrades     = iota
)

var gradeNames = [numGrades]string{"golden hour", "dusk", "night", "moody", "neon", "vintage", "black and white", "high contrast"}

// String returns the grades in words joined by "+", such as
// "golden hour+high contrast", or "natural" for none.
func (g Grade) String() string {
	if g == 0 {
		return "natural"
	}
	var names []string
	for i := range numGrades {
		if g&(1<<i) != 0 {
			names = append(names, gradeNames[i])
		}
	}
	return strings.Join(names, "+")
}

// Lighting is the grade the prompt asks for: From at the start of the clip,
// changing to To over it when they differ ("the sun sets").
type Lighting struct {
	From, To Grade
	// Words are the words that chose the light, normalized.
	Words []string
}

// String describes the light, such as "golden hour" or "natural → night",
// or "" when the prompt says nothing of it.
func (l Lighting) String() string {
	switch {
	case l.From == 0 && l.To == 0:
		return ""
	case l.From == l.To:
		return l.From.String()
	}
	return l.From.String() + " → " + l.To.String()
}

// transitions are the changes of light, in the order they are preferred.
var transitions = []struct {
	thing    thing
	from, to Grade
}{
	{sunSets, 0, GoldenHour | Dusk},
	{nightFalls, 0, Night},
	{sunRises, Night, GoldenHour},
	{lightsComeOn, Night, Neon},
}

// reading is the state of one Read: what each thing is, what is refused,
// and the negations found.
type reading struct {
	levels    [numThings]level
	refused   [numThings]bool
	used      map[int]bool // the negators that negated something known
	covered   [][2]int     // positive phrases with a negator of their own: "no camera movement"
	negations []negated    // what the prompt negates
}

// negated is words the prompt negates, and where their negator is.
type negated struct {
	at    int
	words string
}

// level is what the mentions of one thing say: its intensity and how
// much authority that intensity has: said by a modifier beside a word
// that names the thing 3, beside one that implies it 2; said by a word
// that names the thing 1, by one that implies it 0.
type level struct {
	on, named  bool
	in         Intensity
	authority  int
	words      string // of the first mention
	start, end int    // the first mention
}

// mention merges one mention of fact f at text[start:end] into the
// thing's level. A said intensity beats what words say by themselves, and
// a naming word what an implying one says; between equals, the one that
// says more wins ("the beach, crashing waves" is heavy surf).
func (r *reading) mention(f fact, text string, start, end int, in Intensity, said bool) {
	authority := 1
	if f.implied {
		authority = 0
	}
	if said {
		authority += 2
	} else {
		in = f.in
	}
	l := &r.levels[f.thing]
	if !l.on {
		*l = level{on: true, in: in, authority: authority, words: text[start:end], start: start, end: end}
	} else if authority > l.authority || authority == l.authority && saysMore(in, l.in) {
		l.in, l.authority = in, authority
	}
	if start < l.start {
		l.words, l.start, l.end = text[start:end], start, end
	}
	l.named = l.named || !f.implied
}

// negate notes that the negator at position at negates words.
func (r *reading) negate(at int, words string) {
	r.used[at] = true
	r.negations = append(r.negations, negated{at, words})
}

// governs notes a positive phrase, whose own negator ("no camera
// movement") is no negation of something else.
func (r *reading) governs(start, end int) { r.covered = append(r.covered, [2]int{start, end}) }

// without returns what the prompt negates, in its order, and then the
// entries of the negative prompt (its own "no" dropped), each once.
func (r *reading) without(negative string) []string {
	slices.SortStableFunc(r.negations, func(a, b negated) int { return a.at - b.at })
	var out []string
	note := func(words []string) {
		if w := strings.Join(words, " "); w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, n := range r.negations {
		note(strings.Fields(n.words))
	}
	for _, entry := range strings.FieldsFunc(strings.ToLower(negative), func(c rune) bool { return strings.ContainsRune(",;.\n", c) }) {
		f := strings.Fields(entry)
		if len(f) > 1 && slices.Contains([]string{"no", "not", "without"}, f[0]) {
			f = f[1:]
		}
		note(f)
	}
	return out
}

// found is one match of a term.
type found struct {
	term       term
	start, end int
}

// matches returns the matches of the vocabulary in text, term by term:
// the whole terms on text, the others on text with the whole terms'
// words blanked.
func matches(text string) []found {
	var fs []found
	rest := []byte(text)
	for _, t := range vocabulary {
		if !t.whole {
			continue
		}
		for _, loc := range t.re.FindAllStringIndex(text, -1) {
			fs = append(fs, found{t, loc[0], loc[1]})
			copy(rest[loc[0]:loc[1]], blank(text[loc[0]:loc[1]]))
		}
	}
	others := string(rest)
	for _, t := range vocabulary {
		if t.whole {
			continue
		}
		for _, loc := range t.re.FindAllStringIndex(others, -1) {
			fs = append(fs, found{t, loc[0], loc[1]})
		}
	}
	return fs
}

// Read reads a prompt and its negative prompt.
//
// Text is normalized (lower case; hyphens, underscores and typographic
// apostrophes made plain) and decoys blanked ("bird's eye view", "depth of
// field", "fire truck", "snow white"). Then every word of one vocabulary
// is looked for, and for each mention:
//
//   - A negation refuses what the words name, wherever else the prompt
//     names it: "no", "not", "without", "never", "don't", "neither"...
//     up to three words before them in the same clause ("without any
//     rain"), carried on by "or" and "nor" ("neither rain nor snow") and
//     stopped by punctuation and by "and", "but", "with", "then" ("rain
//     but no thunder"); "free" after them ("smoke-free"). What they only
//     imply is not refused: "no thunder" leaves the rain.
//   - Every word of the negative prompt refuses what it names; there a
//     negation is the same as the word ("no lightning" is "lightning").
//   - An intensity is read beside the words in their clause ("heavy rain",
//     "a gentle breeze", "waves crashing").
//
// The camera move is the exception to "negation wins": the first move
// the prompt asks for and does not negate is the move, even if the
// negative prompt or a later negation names it (see Camera). Read is
// deterministic and never fails: a prompt it cannot read is an empty
// Scene.
func Read(prompt, negative string) *Scene {
	p, neg := newPassage(normalize(prompt)), newPassage(normalize(negative))
	text := p.text
	r := &reading{used: make(map[int]bool)}
	for _, m := range matches(neg.text) {
		r.refuse(m.term)
	}
	fs := matches(text)
	heads := make(map[int]bool)
	for _, m := range fs {
		heads[m.start] = true
	}
	for _, m := range fs {
		if at := negation(p, m.start, m.end); at >= 0 {
			r.refuse(m.term)
			r.negate(at, text[m.start:m.end])
			continue
		}
		if len(m.term.refuses) > 0 {
			for _, t := range m.term.refuses {
				r.refused[t] = true
			}
			r.governs(m.start, m.end)
			continue
		}
		in, said := intensity(p, m.start, m.end, heads)
		for _, f := range m.term.facts {
			r.mention(f, text, m.start, m.end, in, said)
		}
	}
	s := &Scene{Camera: readCamera(prompt, p, neg, r)}
	s.Light = r.light()
	s.Weather = Weather{Rain: r.level(rain), Snow: r.level(snow), Wind: r.level(wind), Lightning: r.level(lightning)}
	if l := r.levels[lightning]; s.Weather.Lightning.On {
		s.Weather.Distance = distance(p, l.start, l.end)
	}
	s.Atmosphere = r.atmosphere()
	s.Sound = r.sound()
	r.unknownNegations(p)
	s.Negations = r.without(negative)
	return s
}

// refuse refuses what the words of t name.
func (r *reading) refuse(t term) {
	for _, f := range t.facts {
		if !f.implied {
			r.refused[f.thing] = true
		}
	}
}

// on reports whether thing t is brought and not refused.
func (r *reading) on(t thing) bool { return r.levels[t].on && !r.refused[t] }

// level returns the Level of thing t.
func (r *reading) level(t thing) Level {
	if !r.on(t) {
		return Level{}
	}
	l := r.levels[t]
	return Level{On: true, Implied: !l.named, Intensity: l.in, At: l.start}
}

// light reads the grades and a change of light. A change's end replaces
// the time of day the prompt names, so "a golden hour beach as the sun
// sets" ends at dusk; a refused grade is left out, even of a change.
func (r *reading) light() Lighting {
	var l Lighting
	for _, tr := range transitions {
		if r.on(tr.thing) {
			l.From, l.To = tr.from, tr.to
			l.Words = append(l.Words, r.levels[tr.thing].words)
			break
		}
	}
	var static Grade
	for i := range numGrades {
		g, t := Grade(1<<i), goldenHour+thing(i)
		if r.refused[t] {
			l.From &^= g
			l.To &^= g
			continue
		}
		w := r.levels[t].words
		if r.on(t) && (l.From|l.To)&g == 0 && !slices.ContainsFunc(l.Words, func(q string) bool { return strings.Contains(q, w) }) {
			static |= g
			l.Words = append(l.Words, w)
		}
	}
	if l.From != l.To {
		static &^= GoldenHour | Dusk | Night
	}
	l.From |= static
	l.To |= static
	return l
}

// atmosphere reads what the picture moves. Foliage sways, and hair and
// cloth move, in a wind that is named and not refused ("a forest, no
// wind" stands still).
func (r *reading) atmosphere() Atmosphere {
	var a Atmosphere
	add := func(e Atmosphere, ok bool) {
		if ok {
			a |= e
		}
	}
	named := func(t thing) bool { return r.on(t) && r.levels[t].named }
	calm := r.refused[wind]
	loose := !r.refused[particles]
	add(Rain, named(rain) && loose)
	add(Snow, named(snow) && loose)
	add(Dust, named(dust) && loose)
	add(Embers, named(embers) && loose)
	add(Fireflies, named(fireflies) && loose)
	add(Petals, named(petals) && loose)
	add(Fog, named(fog))
	add(Rays, named(rays))
	add(Water, named(water))
	add(Clouds, named(clouds))
	add(Sway, (named(foliage) || named(wind)) && !calm && !r.refused[foliage])
	add(Hair, (named(hair) || named(wind)) && !calm && !r.refused[hair])
	add(Flare, named(flare))
	return a
}

// sound reads the sources of sound, in order of first mention, what is
// named before what is implied.
func (r *reading) sound() Sound {
	s := Sound{Mute: r.refused[audio], Hush: r.on(hush)}
	for k := range numSources {
		if l := r.level(sourceThings[k]); l.On {
			s.Sources = append(s.Sources, Source{Kind: k, Level: l})
		}
	}
	slices.SortStableFunc(s.Sources, func(a, b Source) int {
		if a.At != b.At {
			return a.At - b.At
		}
		if a.Implied != b.Implied {
			if a.Implied {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return s
}

// unknownNegations notes what the negators that negated nothing known
// reach: "no people", "without music", up to two words and a preposition
// ("no people in the rain" negates the people).
func (r *reading) unknownNegations(p passage) {
	determiners := []string{"any", "a", "an", "the", "more", "some"}
	prepositions := []string{"in", "on", "at", "of", "from", "over", "under", "by", "near", "for", "to", "into", "through", "across", "around"}
	ws := p.words
	for i, w := range ws {
		if !slices.Contains(negators, trim(w.raw)) || endsClause(w.raw) || r.used[w.at] || slices.ContainsFunc(r.covered, func(c [2]int) bool {
			return c[0] <= w.at && w.at < c[1]
		}) {
			continue
		}
		var phrase []string
		for _, next := range ws[i+1:] {
			n := trim(next.raw)
			if n == "" && !endsClause(next.raw) {
				continue // a blanked decoy
			}
			if n == "" || slices.Contains(clauseBreaks, n) || slices.Contains(negators, n) || slices.Contains(prepositions, n) || len(phrase) == 2 {
				break
			}
			if len(phrase) > 0 || !slices.Contains(determiners, n) {
				phrase = append(phrase, n)
			}
			if endsClause(next.raw) {
				break
			}
		}
		r.negations = append(r.negations, negated{w.at, strings.Join(phrase, " ")})
	}
}

// String describes what was understood, such as "camera: slow zoom in;
// light: golden hour; weather: light rain; sound: city; without: people",
// or "nothing recognised".
func (s *Scene) String() string {
	if s == nil {
		return "nothing recognised"
	}
	var parts []string
	add := func(label, what string) {
		if what != "" {
			parts = append(parts, label+": "+what)
		}
	}
	add("camera", s.Camera.String())
	add("light", s.Light.String())
	add("weather", s.Weather.String())
	add("atmosphere", s.Atmosphere.String())
	add("sound", s.Sound.String())
	add("without", strings.Join(s.Negations, ", "))
	if len(parts) == 0 {
		return "nothing recognised"
	}
	return strings.Join(parts, "; ")
}

// String describes the weather, such as "heavy rain, wind (implied),
// distant lightning", or "" for none.
func (w Weather) String() string {
	var parts []string
	for _, x := range []struct {
		name string
		l    Level
	}{{"rain", w.Rain}, {"snow", w.Snow}, {"wind", w.Wind}, {"lightning", w.Lightning}} {
		if !x.l.On {
			continue
		}
		if x.name == "lightning" {
			// Lightning has a distance rather than an intensity.
			x.l.Intensity = Moderate
			if w.Distance != Unsaid {
				x.name = w.Distance.String() + " " + x.name
			}
		}
		parts = append(parts, describe(x.name, x.l))
	}
	return strings.Join(parts, ", ")
}

// String describes the sound, such as "sea, birds (implied)", "hushed:
// forest" or "none", or "" when the prompt says nothing of it.
func (s Sound) String() string {
	if s.Mute {
		return "none"
	}
	var parts []string
	for _, src := range s.Sources {
		parts = append(parts, describe(src.Kind.String(), src.Level))
	}
	d := strings.Join(parts, ", ")
	if s.Hush {
		return strings.TrimSuffix("hushed: "+d, ": ")
	}
	return d
}

// describe puts a level's intensity before a name and its being implied
// after: "heavy rain", "wind (implied)".
func describe(name string, l Level) string {
	if l.Intensity != Moderate {
		name = l.Intensity.String() + " " + name
	}
	if l.Implied {
		name += " (implied)"
	}
	return name
}
