package prompt

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Move is a camera move a prompt can ask for. The names follow the
// camera, as render's do: when the camera pans right, the picture's
// content moves left in the frame.
type Move int

// The moves. The zero Move is NoMove: the prompt asks for none.
const (
	NoMove       Move = iota
	Static            // the camera is asked to stay still
	ZoomIn            // "zoom in", "push in", "dolly in"
	ZoomOut           // "zoom out", "pull back"
	PanLeft           // "pan left"
	PanRight          // "pan right"
	TiltUp            // "tilt up"
	TiltDown          // "tilt down"
	WhipLeft          // "whip pan left"
	WhipRight         // "whip pan right", "whip pan"
	OrbitLeft         // "orbit left", "counterclockwise orbit"
	OrbitRight        // "orbit right", "arc shot", "circles around her"
	TruckLeft         // "truck left", "tracking shot left"
	TruckRight        // "truck right"
	PedestalUp        // "crane up", "pedestal up"
	PedestalDown      // "crane down"
	DollyZoom         // "dolly zoom", "vertigo effect"
	numMoves
)

var moveNames = [...]string{
	NoMove: "none", Static: "static", ZoomIn: "zoom in", ZoomOut: "zoom out", PanLeft: "pan left", PanRight: "pan right",
	TiltUp: "tilt up", TiltDown: "tilt down", WhipLeft: "whip pan left", WhipRight: "whip pan right",
	OrbitLeft: "orbit left", OrbitRight: "orbit right", TruckLeft: "truck left", TruckRight: "truck right",
	PedestalUp: "pedestal up", PedestalDown: "pedestal down", DollyZoom: "dolly zoom",
}

// String returns the move in words, such as "zoom in".
func (m Move) String() string {
	if m >= 0 && m < numMoves {
		return moveNames[m]
	}
	return fmt.Sprintf("move(%d)", int(m))
}

// Moves is a set of moves.
type Moves uint32

// Has reports whether m is in the set.
func (s Moves) Has(m Move) bool { return m >= 0 && m < numMoves && s&(1<<m) != 0 }

func movesOf(ms ...Move) Moves {
	var s Moves
	for _, m := range ms {
		s |= 1 << m
	}
	return s
}

// Speed is how fast the prompt asks the camera to move.
type Speed int

// The speeds. The zero Speed is the move's own.
const (
	UsualSpeed Speed = iota
	Slow             // "slowly", "gentle", "subtle"
	Fast             // "quick", "dramatic", "crash"
)

// Ease is how the prompt asks a move to speed up and slow down.
type Ease int

// The easings. The zero Ease is EaseInOut, the default.
const (
	EaseInOut Ease = iota
	Linear         // "steady", "constant speed"
	EaseIn         // "accelerating"
	EaseOut        // "decelerating", "settling", "to a stop"
)

var easeNames = [...]string{EaseInOut: "ease in-out", Linear: "linear", EaseIn: "ease in", EaseOut: "ease out"}

// String returns the easing in words, such as "ease in-out".
func (e Ease) String() string {
	if e >= 0 && int(e) < len(easeNames) {
		return easeNames[e]
	}
	return fmt.Sprintf("ease(%d)", int(e))
}

// Camera is what the prompt says of the camera.
type Camera struct {
	// Move is the first move the prompt asks for and does not negate
	// ("zoom in", "static", "no camera movement"); NoMove when none.
	Move Move
	// Words are the words that asked for Move, as the prompt spells them
	// where its normalized form keeps their place, else normalized.
	Words string
	// Speed and Ease are read beside Move's words ("slowly zooms in",
	// "pan left, decelerating").
	Speed Speed
	Ease  Ease
	// Excluded are the moves the prompt negates ("don't zoom", "no
	// tilting") or the negative prompt names ("zoom", "pan", "camera
	// movement"). The prompt's Move is asked for even if excluded.
	Excluded Moves
	// Handheld asks for a camera that wanders ("handheld", "shaky cam",
	// "documentary style"), unless the prompt puts it on a tripod or the
	// negative prompt refuses shake or movement.
	Handheld bool
	// Flat keeps the picture one layer: the negative prompt names
	// parallax ("parallax", "3d effect") or the prompt negates it ("no
	// parallax"). A bare "depth" is not enough: "depth of field" is blur.
	Flat bool
}

// phrase is a pattern of camera words and the moves it names.
type phrase struct {
	re    *regexp.Regexp
	moves []Move
}

// adv allows one adverb inside a phrase: "zooms slowly in".
const adv = `(?:\s+\w+ly)?`

func camera(pattern string, moves ...Move) phrase {
	return phrase{regexp.MustCompile(`\b(?:` + pattern + `)\b`), moves}
}

var allMoving = []Move{ZoomIn, ZoomOut, PanLeft, PanRight, TiltUp, TiltDown, WhipLeft, WhipRight, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom}

// specific phrases name one move; the first is the static phrase, which
// in a negative prompt means what the moves it refuses mean.
var specific = []phrase{
	camera(`(?:no|without) camera (?:movement|motion|moves?)|camera (?:does not|doesn't|doesnt|never) moves?|static|still camera|camera (?:is |stays |remains )?(?:still|fixed|stationary)|(?:fixed|stationary|locked) (?:camera|shot)|locked (?:off|down)|tripod`, Static),
	camera(`(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)(?: shot)?`+adv+`(?: around(?: (?:the|her|his|them|it)(?: \w+)?)?)? (?:to (?:the )?)?left(?:ward|wards)?|(?:counter ?clockwise|anti ?clockwise) orbit`, OrbitLeft),
	camera(`(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)(?: shot)?`+adv+`(?: around(?: (?:the|her|his|them|it)(?: \w+)?)?)? (?:to (?:the )?)?right(?:ward|wards)?|clockwise orbit|(?:orbit|orbiting|orbital|arc|360) shot|camera (?:orbits|circles|arcs)|(?:orbit|orbits|orbiting|circle|circles|circling) around`, OrbitRight),
	camera(`whip(?:s|ped|ping)?(?: pans?| panning)?`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, WhipLeft),
	camera(`whip(?:s|ped|ping)?(?: pans?| panning)?`+adv+` (?:to (?:the )?)?right(?:ward|wards)?|whip pans?|whip panning|swish pans?`, WhipRight),
	camera(`dolly zoom(?:s|ing)?|zolly|hitchcock(?: zoom| shot| effect)?|vertigo(?: zoom| shot| effect)?|contra zoom|trombone shot`, DollyZoom),
	camera(`(?:truck|trucks|trucking|tracking shot|camera (?:travels|tracks))`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, TruckLeft),
	camera(`(?:truck|trucks|trucking|tracking shot|camera (?:travels|tracks))`+adv+` (?:to (?:the )?)?right(?:ward|wards)?`, TruckRight),
	camera(`(?:crane|cranes|craning|pedestal|pedestals|boom|booms|camera (?:rises|lifts|climbs))(?: shot)?`+adv+` up(?:ward|wards)?|(?:crane|jib) shot|camera rises`, PedestalUp),
	camera(`(?:crane|cranes|craning|pedestal|pedestals|boom|booms|camera (?:sinks|lowers|descends))(?: shot)?`+adv+` down(?:ward|wards)?|camera (?:sinks|descends)`, PedestalDown),
	camera(`(?:zoom|zooms|zoomed|zooming)`+adv+` (?:in|into|closer)|(?:push|pushes|pushed|pushing)`+adv+` (?:in|into|closer)|(?:dolly|dollies|dollying)`+adv+` (?:in|into|forward)`, ZoomIn),
	camera(`(?:zoom|zooms|zoomed|zooming)`+adv+` out|(?:pull|pulls|pulled|pulling)`+adv+` (?:back|out)|(?:dolly|dollies|dollying)`+adv+` (?:out|back|backward)`, ZoomOut),
	camera(`(?:pan|pans|panned|panning|camera (?:moves|slides|glides|drifts))`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, PanLeft),
	camera(`(?:pan|pans|panned|panning|camera (?:moves|slides|glides|drifts))`+adv+` (?:to (?:the )?)?right(?:ward|wards)?`, PanRight),
	camera(`(?:tilt|tilts|tilted|tilting|camera (?:moves|glides|drifts))`+adv+` up(?:ward|wards)?`, TiltUp),
	camera(`(?:tilt|tilts|tilted|tilting|camera (?:moves|glides|drifts))`+adv+` down(?:ward|wards)?`, TiltDown),
}

// generic phrases name a kind of move without its direction; they only
// exclude.
var generic = []phrase{
	camera(`zoom|zooms|zoomed|zooming|dolly|dollies|dollying`, ZoomIn, ZoomOut, DollyZoom),
	camera(`truck|trucks|trucking|tracking`, TruckLeft, TruckRight),
	camera(`crane|cranes|craning|pedestal|pedestals|boom|jib`, PedestalUp, PedestalDown),
	camera(`pan|pans|panned|panning`, PanLeft, PanRight, WhipLeft, WhipRight),
	camera(`tilt|tilts|tilted|tilting`, TiltUp, TiltDown),
	camera(`camera (?:movement|movements|motion|moves|move|moving)|moving camera`, allMoving...),
}

var (
	slowWords = []string{"slow", "slowly", "gentle", "gently", "subtle", "subtly", "gradual", "gradually", "soft", "softly", "leisurely"}
	fastWords = []string{"fast", "quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "dramatic", "dramatically", "sudden", "suddenly", "crash"}

	handheldWords = words(`handheld`, `hand held`, `shaky`, `shaking camera`, `camera shake`, `shaky cam`, `documentary style`, `found footage`)
	steadyWords   = words(`locked (?:off|down)`, `tripod`, `steadicam`, `gimbal`, `smooth camera`)
	stillWords    = words(`camera (?:movement|movements|motion|moves?|moving)`, `moving camera`)
	depthWords    = words(`parallax`, `depth effect`, `3d effect`, `depth layers`)
)

// mention is one camera phrase found in a text.
type mention struct {
	start, end int
	moves      []Move
	negation   int // where the negation that reaches it starts; -1 for none
}

// mentions finds the camera phrases in normalized text, in order of
// position. The generic phrases are only looked for where no specific
// phrase matched, so that "zoom in" does not also read as a bare "zoom".
func mentions(p passage, specific []phrase) []mention {
	text := p.text
	var ms []mention
	rest := []byte(text)
	for _, ph := range specific {
		for _, loc := range ph.re.FindAllStringIndex(text, -1) {
			ms = append(ms, mention{loc[0], loc[1], ph.moves, negation(p, loc[0], loc[1])})
			copy(rest[loc[0]:loc[1]], blank(text[loc[0]:loc[1]]))
		}
	}
	for _, ph := range generic {
		for _, loc := range ph.re.FindAllStringIndex(string(rest), -1) {
			ms = append(ms, mention{loc[0], loc[1], ph.moves, negation(p, loc[0], loc[1])})
		}
	}
	slices.SortStableFunc(ms, func(a, b mention) int { return a.start - b.start })
	return ms
}

// readCamera reads the camera of the normalized prompt p (prompt as
// given) and negative prompt neg, noting the negations it finds in r.
func readCamera(prompt string, p, neg passage, r *reading) Camera {
	text := p.text
	var c Camera
	for _, m := range mentions(p, specific) {
		if m.negation >= 0 {
			c.Excluded |= movesOf(m.moves...)
			r.negate(m.negation, text[m.start:m.end])
			continue
		}
		r.governs(m.start, m.end)
		if c.Move != NoMove || len(m.moves) != 1 {
			continue // a bare "zoom" says no direction
		}
		c.Move = m.moves[0]
		c.Words = text[m.start:m.end]
		if len(prompt) == len(text) {
			c.Words = prompt[m.start:m.end] // the user's own spelling
		}
		if c.Move != Static {
			c.Speed, c.Ease = manner(p, m.start, m.end)
		}
	}
	// In a negative prompt "no camera movement" means the same as "camera
	// movement", so the static phrase is not looked for there.
	for _, m := range mentions(neg, specific[1:]) {
		c.Excluded |= movesOf(m.moves...)
	}
	c.Handheld = handheld(p, neg.text)
	c.Flat = depthWords.MatchString(neg.text) || slices.ContainsFunc(depthWords.FindAllStringIndex(text, -1), func(loc []int) bool {
		return negation(p, loc[0], loc[1]) >= 0
	})
	return c
}

// handheld reports whether the prompt asks for a handheld camera that
// the negative prompt ("camera shake", "shaky", "camera movement") and
// the prompt ("no camera shake", "on a tripod") do not refuse.
func handheld(p passage, neg string) bool {
	if handheldWords.MatchString(neg) || steadyWords.MatchString(neg) || stillWords.MatchString(neg) || steadyWords.MatchString(p.text) {
		return false
	}
	return slices.ContainsFunc(handheldWords.FindAllStringIndex(p.text, -1), func(loc []int) bool {
		return negation(p, loc[0], loc[1]) < 0
	})
}

// manner reads the speed and easing words next to the camera phrase at
// text[start:end]: the two words before it, its own and the four after.
// They reach past a comma, unlike an intensity: there is one camera, and
// "pan left, slowly" is still about it.
func manner(p passage, start, end int) (Speed, Ease) {
	var window []string
	for _, w := range slices.Concat(fieldsOf(p.text[start:end]), p.before(start, 2), p.after(end, 4)) {
		window = append(window, trim(w.raw))
	}
	var speed Speed
	switch {
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(slowWords, w) }):
		speed = Slow
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(fastWords, w) }):
		speed = Fast
	}
	var ease Ease
	joined := " " + strings.Join(window, " ") + " "
	switch {
	case strings.Contains(joined, " steady ") || strings.Contains(joined, " linear ") || strings.Contains(joined, " constant speed "):
		ease = Linear
	case strings.Contains(joined, " accelerat"):
		ease = EaseIn
	case strings.Contains(joined, " decelerat") || strings.Contains(joined, " to a stop ") || strings.Contains(joined, " settl"):
		ease = EaseOut
	}
	return speed, ease
}

// String describes the camera, such as "slow zoom in, linear, handheld",
// or "" when the prompt says nothing of it.
func (c Camera) String() string {
	var parts []string
	if c.Move != NoMove {
		m := c.Move.String()
		switch c.Speed {
		case Slow:
			m = "slow " + m
		case Fast:
			m = "fast " + m
		}
		parts = append(parts, m)
		if c.Ease != EaseInOut {
			parts = append(parts, c.Ease.String())
		}
	}
	if c.Handheld {
		parts = append(parts, "handheld")
	}
	if c.Flat {
		parts = append(parts, "no parallax")
	}
	return strings.Join(parts, ", ")
}
