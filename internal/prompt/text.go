package prompt

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// words returns a pattern matching any of ws as whole words. The words
// are patterns themselves, run on normalized text.
func words(ws ...string) *regexp.Regexp {
	return regexp.MustCompile(`\b(?:` + strings.Join(ws, "|") + `)\b`)
}

// normalize lower-cases text and turns hyphens, underscores, typographic
// apostrophes, line breaks and the accents of common loanwords into plain
// forms, so that "Zoom-in", "Rain-soaked", "don’t" and "café" match, and
// then blanks the decoys. Blanking keeps every other word where it was.
func normalize(text string) string {
	text = strings.NewReplacer("-", " ", "_", " ", "’", "'", "\n", " ", "\t", " ", "\r", " ", "\u00a0", " ",
		"é", "e", "è", "e", "à", "a", "ñ", "n").Replace(strings.ToLower(text))
	return decoys.ReplaceAllStringFunc(text, blank)
}

func blank(s string) string { return strings.Repeat(" ", len(s)) }

// decoys are common phrases that contain a word of the vocabulary and say
// nothing of the camera, the light, the weather or the sound: a bird's eye
// view has no birds, a fire truck no fire, snow white no snow, a frying
// pan no camera move. Words that merely contain one ("rainbow",
// "snowboard", "brainstorm", "pancakes") never match, as every pattern is
// of whole words.
var decoys = words(
	`birds?'?s? eye`, `depth of field`, `field of view`,
	`fire (?:trucks?|engines?|hydrants?|escapes?|fighters?|stations?|alarms?|extinguishers?|exits?|ants?)`,
	`rain (?:boots|coats?|jackets?|gear)`, `storm ?troopers?`, `brain ?storm(?:s|ing)?`,
	`street (?:wear|style)`, `sea (?:green|blue|shells?|salt)`, `ocean blue`, `sky blue`,
	`snow (?:white|leopards?|globes?|boards?|boarding|capped|topped|cones?|peas?)`,
	`lightning (?:fast|quick|speed|mcqueen)`, `wind (?:turbines?|farms?|chimes?|instruments?|tunnel)`,
	`blazing (?:sun|sunlight|heat|hot|colou?rs?|speed|fast)`, `burning (?:sun|heat|desire|question)`,
	`smou?ldering (?:looks?|gaze|eyes|stare|glance)`, `smok(?:y|ey) eyes?`, `misty eyes?`,
	`dusty (?:rose|pink|blue|green)`, `dust (?:jackets?|covers?|pans?)`,
	`glass(?:es)? of water`, `water (?:bottles?|glass(?:es)?|colou?rs?|melons?|guns?|balloons?|towers?)`,
	`frying pans?`, `pots and pans`, `sauce ?pans?`, `pan (?:fried|seared|pizza|flutes?)`, `peter pan`,
	`tilt shift`, `car parks?`, `bay windows?`, `flare (?:jeans|pants|trousers)`,
	`cloud (?:computing|storage|servers?)`, `night ?stands?`,
)

// Intensity is how strong a thing is said to be: a drizzle or a downpour,
// a breeze or a gale. The zero Intensity is Moderate, which is also what
// a word says when nothing beside it says more.
type Intensity int

// The intensities.
const (
	Moderate Intensity = iota
	Light
	Heavy
)

// String returns the intensity's name, such as "heavy".
func (in Intensity) String() string {
	switch in {
	case Light:
		return "light"
	case Heavy:
		return "heavy"
	}
	return "moderate"
}

// saysMore reports whether intensity a says more than b: any intensity
// over Moderate, and Heavy over Light.
func saysMore(a, b Intensity) bool {
	return b == Moderate && a != Moderate || a == Heavy && b == Light
}

var (
	// negators negate what follows them in the same clause ("no rain",
	// "without any wind", "neither rain nor snow", "don't zoom").
	negators = []string{"no", "not", "without", "don't", "dont", "doesn't", "doesnt", "isn't", "isnt",
		"aren't", "arent", "never", "nor", "neither", "avoid", "avoiding", "zero", "lacking"}
	// clauseBreaks end what a negation or a modifier reaches, as
	// punctuation does: "rain but no thunder", "no rain and wind".
	clauseBreaks = []string{"but", "and", "with", "while", "though", "although", "yet", "then"}
	// lightWords and heavyWords set the intensity of the thing beside them.
	lightWords = []string{"light", "lightly", "gentle", "gently", "soft", "softly", "quiet", "quietly",
		"calm", "calmly", "faint", "faintly", "distant", "far", "faraway", "slight", "mild", "little",
		"small", "low", "lazy", "lapping", "trickling", "peaceful", "tranquil", "sparse", "thin",
		"subtle", "hushed", "silent", "serene"}
	heavyWords = []string{"heavy", "heavily", "hard", "strong", "strongly", "loud", "loudly", "pouring",
		"torrential", "violent", "violently", "fierce", "fiercely", "intense", "wild", "raging", "roaring",
		"howling", "crashing", "thundering", "thunderous", "rough", "stormy", "huge", "massive", "big", "giant",
		"powerful", "busy", "bustling", "packed", "hectic", "noisy", "driving", "lashing", "relentless",
		"booming"}
)

// negationReach is how many words before a thing a negation reaches:
// "without any rain" and "there is no more rain" are negated, "not a
// breath of wind" is not.
const negationReach = 3

// word is a field of text, punctuation and all, and where it starts.
type word struct {
	at  int
	raw string
}

// fieldsOf splits s like strings.Fields, keeping where each field starts.
func fieldsOf(s string) []word {
	var ws []word
	start := -1
	for i := 0; i <= len(s); i++ {
		space := i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f'
		switch {
		case space && start >= 0:
			ws = append(ws, word{start, s[start:i]})
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	return ws
}

// passage is normalized text split into words once, so that the words
// around each mention are found without splitting the text again.
type passage struct {
	text  string
	words []word
}

func newPassage(text string) passage { return passage{text, fieldsOf(text)} }

// before returns the last n words of text[:start], as strings.Fields
// would split it: a word that runs past start is cut there.
func (p passage) before(start, n int) []word {
	i := sort.Search(len(p.words), func(i int) bool { return p.words[i].at >= start })
	out := slices.Clone(p.words[max(0, i-n):i])
	if k := len(out) - 1; k >= 0 && out[k].at+len(out[k].raw) > start {
		out[k].raw = p.text[out[k].at:start]
	}
	return out
}

// after returns the first n words of text[end:], as strings.Fields would
// split it: a word that starts before end is cut there.
func (p passage) after(end, n int) []word {
	i := sort.Search(len(p.words), func(i int) bool { return p.words[i].at+len(p.words[i].raw) > end })
	var out []word
	for ; i < len(p.words) && len(out) < n; i++ {
		w := p.words[i]
		if w.at < end {
			w = word{end, p.text[end : w.at+len(w.raw)]}
		}
		out = append(out, w)
	}
	return out
}

// trim strips the punctuation around a word.
func trim(w string) string { return strings.Trim(w, `.,;:!?"()[]{}`) }

// endsClause reports whether the raw word w ends a clause: a comma, a
// full stop and the like after it, or a bracket.
func endsClause(w string) bool { return w != "" && strings.ContainsAny(w[len(w)-1:], ".,;:!?()[]") }

// negation finds the negation that reaches the words p.text[start:end]
// and returns where its word starts, or -1. A negator reaches up to
// negationReach words forward in its clause; "or" carries it on ("no rain
// or wind"), and a clause break ("and", "but", "with") or punctuation ends
// it ("no rain, strong wind"). "Free" negates the word before it
// ("smoke-free") and, as "free of", the words after ("a street free of
// rain" has a street).
func negation(p passage, start, end int) int {
	before := p.before(start, negationReach)
	for i := len(before) - 1; i >= 0; i-- {
		w := before[i]
		if endsClause(w.raw) {
			break
		}
		t := trim(w.raw)
		if slices.Contains(negators, t) {
			return w.at
		}
		if t == "free" && i+1 < len(before) && slices.Contains([]string{"of", "from"}, trim(before[i+1].raw)) {
			return w.at
		}
		if slices.Contains(clauseBreaks, t) {
			break
		}
	}
	after := p.after(end, 2)
	if len(after) > 0 && strings.TrimRight(after[0].raw, `.,;:!?"()[]{}`) == "free" &&
		(len(after) == 1 || endsClause(after[0].raw) || !slices.Contains([]string{"of", "from"}, trim(after[1].raw))) {
		return after[0].at
	}
	return -1
}

// nearby returns the words that can modify the thing at p.text[start:end]:
// its own, then alternately those before and after it, reach each way,
// in its clause. A word just after it that ends the clause still counts
// ("waves crashing.").
func nearby(p passage, start, end, reach int) []word {
	order := fieldsOf(p.text[start:end])
	for i := range order {
		order[i].at += start
	}
	before := p.before(start, reach)
	after := p.after(end, reach)
	beforeOpen := len(before) == 0 || !endsClause(before[len(before)-1].raw)
	afterOpen := true
	for k := range reach {
		if i := len(before) - 1 - k; beforeOpen && i >= 0 {
			if k > 0 && endsClause(before[i].raw) {
				beforeOpen = false
			} else {
				order = append(order, before[i])
			}
		}
		if afterOpen && k < len(after) {
			order = append(order, after[k])
			afterOpen = !endsClause(after[k].raw)
		}
	}
	return order
}

// intensity reads the modifier nearest to the thing at p.text[start:end]
// ("heavy rain", "a gentle breeze", "waves crashing"), two words each way
// in its clause; said is false when there is none. A modifier after the
// thing that stands right before another (heads holds where things'
// words start) is that one's: the forest of "a forest in heavy rain" is
// not heavy.
func intensity(p passage, start, end int, heads map[int]bool) (in Intensity, said bool) {
	for _, w := range nearby(p, start, end, 2) {
		t := trim(w.raw)
		heavy, light := slices.Contains(heavyWords, t), slices.Contains(lightWords, t)
		if !heavy && !light {
			continue
		}
		if w.at >= end && !endsClause(w.raw) {
			if next := p.after(w.at+len(w.raw), 1); len(next) > 0 && heads[next[0].at] {
				continue
			}
		}
		if heavy {
			return Heavy, true
		}
		return Light, true
	}
	return Moderate, false
}
