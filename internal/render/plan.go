package render

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Move is a camera move. The names follow the camera, not the picture: when
// the camera pans right, the view window slides right across the image and
// the content moves left in the frame; when it tilts up, the window slides
// up and the content moves down.
type Move int

// The camera moves.
const (
	Static   Move = iota // the camera does not move
	ZoomIn               // the view narrows on the centre of the image
	ZoomOut              // the view widens beyond the edges of the image
	PanLeft              // the view slides left across a slightly enlarged image
	PanRight             // the view slides right
	TiltUp               // the view slides up
	TiltDown             // the view slides down
	numMoves
)

var moveNames = [...]string{
	Static:   "static",
	ZoomIn:   "zoom in",
	ZoomOut:  "zoom out",
	PanLeft:  "pan left",
	PanRight: "pan right",
	TiltUp:   "tilt up",
	TiltDown: "tilt down",
}

// String returns the move in words, such as "zoom in".
func (m Move) String() string {
	if m >= 0 && m < numMoves {
		return moveNames[m]
	}
	return fmt.Sprintf("move(%d)", int(m))
}

// DefaultAmount returns the strength a move has when a Shot leaves Amount
// zero: the relative change of scale reached on the last frame.
func (m Move) DefaultAmount() float64 {
	switch m {
	case ZoomIn, ZoomOut:
		return 0.15
	case PanLeft, PanRight, TiltUp, TiltDown:
		return 0.12
	}
	return 0
}

// Ease is how a move speeds up and slows down over the clip.
type Ease int

// The easings. The zero Ease is EaseInOut.
const (
	EaseInOut Ease = iota // start and stop gently (smoothstep)
	Linear                // constant speed
	EaseIn                // start gently, stop abruptly
	EaseOut               // start abruptly, stop gently
)

var easeNames = [...]string{
	EaseInOut: "ease in-out",
	Linear:    "linear",
	EaseIn:    "ease in",
	EaseOut:   "ease out",
}

// String returns the easing in words, such as "ease in-out".
func (e Ease) String() string {
	if e >= 0 && int(e) < len(easeNames) {
		return easeNames[e]
	}
	return fmt.Sprintf("ease(%d)", int(e))
}

// at maps the clip's progress t in [0, 1] to the move's progress in [0, 1].
func (e Ease) at(t float64) float64 {
	t = min(max(t, 0), 1)
	switch e {
	case Linear:
		return t
	case EaseIn:
		return t * t
	case EaseOut:
		return 1 - (1-t)*(1-t)
	}
	return t * t * (3 - 2*t)
}

// Shot is the plan for one clip: the camera move, its strength and easing,
// and why it was chosen.
type Shot struct {
	Move Move
	// Amount is the strength of the move: the relative change of scale on
	// the last frame (0.15 zooms in to 1.15x; a pan of 0.12 enlarges the
	// image to 1.12x and slides across all of the margin that gains).
	// Zero means Move.DefaultAmount.
	Amount float64
	Ease   Ease
	// Reason says what chose the move, for Description, such as
	// `from prompt: "zoom in"` or "chosen by seed". It may be empty.
	Reason string
}

// amount returns the shot's strength with the default applied, limited to
// what the renderer can draw sharply.
func (s Shot) amount() float64 {
	if s.Move == Static {
		return 0
	}
	a := s.Amount
	if a <= 0 {
		a = s.Move.DefaultAmount()
	}
	return min(a, 0.5)
}

// Description returns a short summary of the shot for users, such as
// `zoom in, slow, ease in-out (from prompt: "zoom in")`.
func (s Shot) Description() string {
	var b strings.Builder
	b.WriteString(s.Move.String())
	if s.Move != Static {
		speed := "slow"
		switch r := s.amount() / s.Move.DefaultAmount(); {
		case r < 0.8:
			speed = "very slow"
		case r > 1.25:
			speed = "fast"
		}
		fmt.Fprintf(&b, ", %s, %s", speed, s.Ease)
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, " (%s)", s.Reason)
	}
	return b.String()
}

// Speed factors applied to a move's default amount by words such as
// "slowly" and "quick" next to the camera phrase.
const (
	slowFactor = 0.6
	fastFactor = 1.8
)

// phrase is a pattern of camera words and the moves it names. In a prompt
// a specific phrase chooses its move; in a negative prompt, or after a
// negation such as "don't", any phrase excludes its moves.
type phrase struct {
	re    *regexp.Regexp
	moves []Move
}

// adv allows one adverb inside a phrase: "zooms slowly in".
const adv = `(?:\s+\w+ly)?`

func mustPhrase(pattern string, moves ...Move) phrase {
	return phrase{regexp.MustCompile(`\b(?:` + pattern + `)\b`), moves}
}

var allMoving = []Move{ZoomIn, ZoomOut, PanLeft, PanRight, TiltUp, TiltDown}

// specific phrases name one move; the first is the static phrase. The
// patterns run on normalised text: lower case, hyphens as spaces.
var specific = []phrase{
	mustPhrase(`(?:no|without) camera (?:movement|motion|moves?)|camera (?:does not|doesn't|doesnt|never) moves?|static|still camera|camera (?:is |stays |remains )?(?:still|fixed|stationary)|(?:fixed|stationary|locked) (?:camera|shot)|locked (?:off|down)|tripod`, Static),
	mustPhrase(`(?:zoom|zooms|zoomed|zooming)`+adv+` (?:in|into|closer)|(?:push|pushes|pushed|pushing)`+adv+` (?:in|into|closer)|(?:dolly|dollies|dollying)`+adv+` (?:in|into|forward)`, ZoomIn),
	mustPhrase(`(?:zoom|zooms|zoomed|zooming)`+adv+` out|(?:pull|pulls|pulled|pulling)`+adv+` (?:back|out)|(?:dolly|dollies|dollying)`+adv+` (?:out|back|backward)`, ZoomOut),
	mustPhrase(`(?:pan|pans|panned|panning|truck|trucks|trucking|camera (?:moves|slides|glides|drifts|tracks))`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, PanLeft),
	mustPhrase(`(?:pan|pans|panned|panning|truck|trucks|trucking|camera (?:moves|slides|glides|drifts|tracks))`+adv+` (?:to (?:the )?)?right(?:ward|wards)?`, PanRight),
	mustPhrase(`(?:tilt|tilts|tilted|tilting|crane|cranes|craning|pedestal|camera (?:moves|rises|glides|drifts))`+adv+` up(?:ward|wards)?`, TiltUp),
	mustPhrase(`(?:tilt|tilts|tilted|tilting|crane|cranes|craning|pedestal|camera (?:moves|sinks|glides|drifts))`+adv+` down(?:ward|wards)?`, TiltDown),
}

// generic phrases name a kind of move; they only exclude.
var generic = []phrase{
	mustPhrase(`zoom|zooms|zoomed|zooming|dolly|dollies|dollying`, ZoomIn, ZoomOut),
	mustPhrase(`pan|pans|panned|panning`, PanLeft, PanRight),
	mustPhrase(`tilt|tilts|tilted|tilting`, TiltUp, TiltDown),
	mustPhrase(`camera (?:movement|movements|motion|moves|move|moving)|moving camera|camera shake|shaky camera|handheld`, allMoving...),
}

var (
	negators  = []string{"no", "not", "without", "don't", "dont", "doesn't", "doesnt", "never", "avoid", "avoiding", "nor"}
	slowWords = []string{"slow", "slowly", "gentle", "gently", "subtle", "subtly", "gradual", "gradually", "soft", "softly", "leisurely"}
	fastWords = []string{"fast", "quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "dramatic", "dramatically", "sudden", "suddenly", "crash", "whip"}
)

// seedMoves are the moves the seed chooses among. Zoom out is left to
// prompts that ask for it: it is the one move that shows invented content
// (the blurred surround beyond the image's edges).
var seedMoves = []Move{ZoomIn, PanLeft, PanRight, TiltUp, TiltDown}

// mention is one phrase found in a text.
type mention struct {
	start, end int
	moves      []Move
	negated    bool
}

// normalize lower-cases text and turns hyphens and typographic apostrophes
// into their plain forms so that "Zoom-in" and "don’t" match.
func normalize(text string) string {
	return strings.NewReplacer("-", " ", "_", " ", "’", "'", "\n", " ", "\t", " ").Replace(strings.ToLower(text))
}

// mentions finds the phrases in normalised text, in order of position.
// The generic phrases are only looked for where no specific phrase
// matched, so that "zoom in" does not also read as a bare "zoom".
func mentions(text string, specific []phrase) []mention {
	var ms []mention
	blank := []byte(text)
	for _, p := range specific {
		for _, loc := range p.re.FindAllStringIndex(text, -1) {
			ms = append(ms, mention{start: loc[0], end: loc[1], moves: p.moves, negated: negated(text[:loc[0]])})
			for i := loc[0]; i < loc[1]; i++ {
				blank[i] = ' '
			}
		}
	}
	rest := string(blank)
	for _, p := range generic {
		for _, loc := range p.re.FindAllStringIndex(rest, -1) {
			ms = append(ms, mention{start: loc[0], end: loc[1], moves: p.moves, negated: negated(text[:loc[0]])})
		}
	}
	slices.SortStableFunc(ms, func(a, b mention) int { return a.start - b.start })
	return ms
}

// negated reports whether the text before a phrase ends in a negation, as
// in "don't zoom" or "without panning".
func negated(before string) bool {
	f := strings.Fields(before)
	return len(f) > 0 && slices.Contains(negators, strings.Trim(f[len(f)-1], `.,;:!?"()`))
}

// Plan reads the prompt and negative prompt and picks the shot. Camera
// words in the prompt win: the first one that is not negated chooses the
// move ("zoom in", "push in", "zooms out", "pull back", "pan left", "pans
// right", "tilt up", "tilt down", "static", "still camera", "locked-off",
// "no camera movement"...), and words beside it set the speed ("slowly",
// "quick") and easing ("steady", "accelerating"). Otherwise a negative
// prompt naming a move ("no zoom", "camera movement", "pan"), or a negated
// move in the prompt ("don't zoom"), excludes it, and the seed picks among
// the remaining moves deterministically. When every move is excluded the
// camera is static.
func Plan(prompt, negative string, seed int64) Shot {
	text := normalize(prompt)
	excluded := make(map[Move]bool)
	for _, m := range mentions(text, specific) {
		if m.negated {
			for _, mv := range m.moves {
				excluded[mv] = true
			}
			continue
		}
		if len(m.moves) != 1 {
			continue // a bare "zoom" says no direction
		}
		mv := m.moves[0]
		words := text[m.start:m.end]
		if len(prompt) == len(text) {
			words = prompt[m.start:m.end] // quote the user's own spelling
		}
		shot := Shot{Move: mv, Reason: fmt.Sprintf("from prompt: %q", words)}
		if mv != Static {
			shot.Amount, shot.Ease = modifiers(text, m.start, m.end, mv)
		}
		return shot
	}
	// In a negative prompt "no camera movement" means the same as "camera
	// movement", so the static phrases are not looked for there.
	for _, m := range mentions(normalize(negative), specific[1:]) {
		for _, mv := range m.moves {
			excluded[mv] = true
		}
	}
	var allowed []Move
	for _, mv := range seedMoves {
		if !excluded[mv] {
			allowed = append(allowed, mv)
		}
	}
	if len(allowed) == 0 {
		return Shot{Move: Static, Reason: "every camera move is excluded"}
	}
	mv := allowed[mix(uint64(seed))%uint64(len(allowed))]
	return Shot{Move: mv, Amount: mv.DefaultAmount(), Reason: "chosen by seed"}
}

// modifiers reads the speed and easing words next to the phrase at
// text[start:end]: the two words before it, the words inside it and the
// four after it.
func modifiers(text string, start, end int, mv Move) (amount float64, ease Ease) {
	before := strings.Fields(text[:start])
	window := strings.Fields(text[start:end])
	window = append(window, before[max(0, len(before)-2):]...)
	after := strings.Fields(text[end:])
	window = append(window, after[:min(4, len(after))]...)
	for i, w := range window {
		window[i] = strings.Trim(w, `.,;:!?"()`)
	}
	amount = mv.DefaultAmount()
	switch {
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(slowWords, w) }):
		amount *= slowFactor
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(fastWords, w) }):
		amount *= fastFactor
	}
	joined := " " + strings.Join(window, " ") + " "
	switch {
	case strings.Contains(joined, " steady ") || strings.Contains(joined, " linear ") || strings.Contains(joined, " constant speed "):
		ease = Linear
	case strings.Contains(joined, " accelerat"):
		ease = EaseIn
	case strings.Contains(joined, " decelerat") || strings.Contains(joined, " to a stop ") || strings.Contains(joined, " settl"):
		ease = EaseOut
	}
	return amount, ease
}

// mix is SplitMix64's finaliser: it spreads nearby seeds over all values.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
