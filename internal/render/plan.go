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
	Static       Move = iota // the camera does not move
	ZoomIn                   // the view narrows on the centre of the image
	ZoomOut                  // the view widens beyond the edges of the image
	PanLeft                  // the view slides left across a slightly enlarged image
	PanRight                 // the view slides right
	TiltUp                   // the view slides up
	TiltDown                 // the view slides down
	WhipLeft                 // a sudden, motion-blurred pan left in mid-clip
	WhipRight                // a sudden, motion-blurred pan right in mid-clip
	OrbitLeft                // the camera circles left around the subject
	OrbitRight               // the camera circles right around the subject
	TruckLeft                // the camera travels left: near things slide more than far ones
	TruckRight               // the camera travels right
	PedestalUp               // the camera rises (a crane or pedestal up)
	PedestalDown             // the camera sinks
	DollyZoom                // the subject keeps its size while the background grows behind it
	numMoves
)

var moveNames = [...]string{
	Static:       "static",
	ZoomIn:       "zoom in",
	ZoomOut:      "zoom out",
	PanLeft:      "pan left",
	PanRight:     "pan right",
	TiltUp:       "tilt up",
	TiltDown:     "tilt down",
	WhipLeft:     "whip pan left",
	WhipRight:    "whip pan right",
	OrbitLeft:    "orbit left",
	OrbitRight:   "orbit right",
	TruckLeft:    "truck left",
	TruckRight:   "truck right",
	PedestalUp:   "pedestal up",
	PedestalDown: "pedestal down",
	DollyZoom:    "dolly zoom",
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
	case PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown:
		return 0.12
	case WhipLeft, WhipRight:
		return 0.45
	case DollyZoom:
		return 0.2
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
	// Subject is where the subject is, as its offset from the centre of
	// the frame in fractions of the frame's width and height: a zoom in
	// drifts towards it as it narrows. The zero Point is the centre.
	Subject Point
	// Figure is the face of a person in the picture, for a push in to
	// separate from the background and bring forward (parallax); the
	// zero Box means none.
	Figure Box
	// Depth is what New separated into layers for the move's parallax:
	// the figure, a subject found without a face, or the land before the
	// sky. Plans leave it zero; New sets it on the renderer's shot.
	Depth Depth
	// Flat keeps the picture one layer: no parallax, as the negative
	// prompt asks with "parallax" or "3d effect", or the prompt with "no
	// parallax".
	Flat bool
	// Shake is the amplitude of a handheld camera's wander, as a fraction
	// of the frame; zero for a camera on a tripod or dolly.
	Shake float64
	// Seed makes the seeded parts of the shot (the shake) differ.
	Seed int64

	// Style is the look the clip is drawn in (see Style).
	Style Style
	// Light is the colour grade and its change over the clip.
	Light Light
	// Flashes are the frames lit by lightning, in order.
	Flashes []Flash
	// Atmosphere is the particles and fog drawn over the picture.
	Atmosphere Atmosphere
}

// Depth is what the near layer of a shot's parallax is.
type Depth int

// The kinds of layers.
const (
	NoDepth      Depth = iota // one layer: the picture moves as a whole
	FigureDepth               // a person, from the face found in the picture
	SubjectDepth              // a salient subject that stands out from the border
	SkyDepth                  // the land and what stands on it, before the sky
)

var depthNames = [...]string{
	NoDepth:      "no layers",
	FigureDepth:  "figure before background",
	SubjectDepth: "subject before background",
	SkyDepth:     "land before sky",
}

// String returns the layers in words, such as "land before sky".
func (d Depth) String() string {
	if d >= 0 && int(d) < len(depthNames) {
		return depthNames[d]
	}
	return fmt.Sprintf("depth(%d)", int(d))
}

// Point is a point in fractions of the frame's size.
type Point struct{ X, Y float64 }

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
// `zoom in, steady, ease in-out (from prompt: "zoom in")`.
func (s Shot) Description() string {
	var b strings.Builder
	b.WriteString(s.Move.String())
	if s.Move != Static {
		// The default pace is already gentle; "slow" in a prompt slows it further.
		speed := "steady"
		switch r := s.amount() / s.Move.DefaultAmount(); {
		case r < 0.8:
			speed = "slow"
		case r > 1.25 || s.Move == WhipLeft || s.Move == WhipRight:
			speed = "fast"
		}
		fmt.Fprintf(&b, ", %s, %s", speed, s.Ease)
	}
	if s.Move == ZoomIn && s.Subject != (Point{}) {
		b.WriteString(", towards the subject")
	}
	if s.Depth != NoDepth && s.Move != Static {
		fmt.Fprintf(&b, ", %s", s.Depth)
	} else if s.Move == DollyZoom {
		b.WriteString(", centre held")
	}
	if s.Flat && layered(s.Move) {
		b.WriteString(", no parallax")
	}
	if s.Shake > 0 {
		b.WriteString(", handheld")
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, " (%s)", s.Reason)
	}
	if s.Style != NoStyle {
		fmt.Fprintf(&b, "; style %s", s.Style)
	}
	if s.Light.From != 0 || s.Light.To != 0 {
		fmt.Fprintf(&b, "; light %s", s.Light.Description())
		if s.Light.Reason != "" {
			fmt.Fprintf(&b, " (%s)", s.Light.Reason)
		}
	}
	if s.Atmosphere != 0 {
		fmt.Fprintf(&b, "; atmosphere %s", s.Atmosphere)
	}
	if len(s.Flashes) > 0 {
		b.WriteString("; lightning at frame")
		if len(s.Flashes) > 1 {
			b.WriteString("s")
		}
		for i, f := range s.Flashes {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %d", f.Frame)
		}
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

var allMoving = []Move{ZoomIn, ZoomOut, PanLeft, PanRight, TiltUp, TiltDown, WhipLeft, WhipRight, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom}

// specific phrases name one move; the first is the static phrase. The
// patterns run on normalised text: lower case, hyphens as spaces.
var specific = []phrase{
	mustPhrase(`(?:no|without) camera (?:movement|motion|moves?)|camera (?:does not|doesn't|doesnt|never) moves?|static|still camera|camera (?:is |stays |remains )?(?:still|fixed|stationary)|(?:fixed|stationary|locked) (?:camera|shot)|locked (?:off|down)|tripod`, Static),
	mustPhrase(`(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)(?: shot)?`+adv+`(?: around(?: (?:the|her|his|them|it)(?: \w+)?)?)? (?:to (?:the )?)?left(?:ward|wards)?|(?:counter ?clockwise|anti ?clockwise) orbit`, OrbitLeft),
	mustPhrase(`(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)(?: shot)?`+adv+`(?: around(?: (?:the|her|his|them|it)(?: \w+)?)?)? (?:to (?:the )?)?right(?:ward|wards)?|clockwise orbit|(?:orbit|orbiting|orbital|arc|360) shot|camera (?:orbits|circles|arcs)|(?:orbit|orbits|orbiting|circle|circles|circling) around`, OrbitRight),
	mustPhrase(`whip(?:s|ped|ping)?(?: pans?| panning)?`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, WhipLeft),
	mustPhrase(`whip(?:s|ped|ping)?(?: pans?| panning)?`+adv+` (?:to (?:the )?)?right(?:ward|wards)?|whip pans?|whip panning|swish pans?`, WhipRight),
	mustPhrase(`dolly zoom(?:s|ing)?|zolly|hitchcock(?: zoom| shot| effect)?|vertigo(?: zoom| shot| effect)?|contra zoom|trombone shot`, DollyZoom),
	mustPhrase(`(?:truck|trucks|trucking|tracking shot|camera (?:travels|tracks))`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, TruckLeft),
	mustPhrase(`(?:truck|trucks|trucking|tracking shot|camera (?:travels|tracks))`+adv+` (?:to (?:the )?)?right(?:ward|wards)?`, TruckRight),
	mustPhrase(`(?:crane|cranes|craning|pedestal|pedestals|boom|booms|camera (?:rises|lifts|climbs))(?: shot)?`+adv+` up(?:ward|wards)?|(?:crane|jib) shot|camera rises`, PedestalUp),
	mustPhrase(`(?:crane|cranes|craning|pedestal|pedestals|boom|booms|camera (?:sinks|lowers|descends))(?: shot)?`+adv+` down(?:ward|wards)?|camera (?:sinks|descends)`, PedestalDown),
	mustPhrase(`(?:zoom|zooms|zoomed|zooming)`+adv+` (?:in|into|closer)|(?:push|pushes|pushed|pushing)`+adv+` (?:in|into|closer)|(?:dolly|dollies|dollying)`+adv+` (?:in|into|forward)`, ZoomIn),
	mustPhrase(`(?:zoom|zooms|zoomed|zooming)`+adv+` out|(?:pull|pulls|pulled|pulling)`+adv+` (?:back|out)|(?:dolly|dollies|dollying)`+adv+` (?:out|back|backward)`, ZoomOut),
	mustPhrase(`(?:pan|pans|panned|panning|camera (?:moves|slides|glides|drifts))`+adv+` (?:to (?:the )?)?left(?:ward|wards)?`, PanLeft),
	mustPhrase(`(?:pan|pans|panned|panning|camera (?:moves|slides|glides|drifts))`+adv+` (?:to (?:the )?)?right(?:ward|wards)?`, PanRight),
	mustPhrase(`(?:tilt|tilts|tilted|tilting|camera (?:moves|glides|drifts))`+adv+` up(?:ward|wards)?`, TiltUp),
	mustPhrase(`(?:tilt|tilts|tilted|tilting|camera (?:moves|glides|drifts))`+adv+` down(?:ward|wards)?`, TiltDown),
}

// generic phrases name a kind of move; they only exclude.
var generic = []phrase{
	mustPhrase(`zoom|zooms|zoomed|zooming|dolly|dollies|dollying`, ZoomIn, ZoomOut, DollyZoom),
	mustPhrase(`truck|trucks|trucking|tracking`, TruckLeft, TruckRight),
	mustPhrase(`crane|cranes|craning|pedestal|pedestals|boom|jib`, PedestalUp, PedestalDown),
	mustPhrase(`pan|pans|panned|panning`, PanLeft, PanRight, WhipLeft, WhipRight),
	mustPhrase(`tilt|tilts|tilted|tilting`, TiltUp, TiltDown),
	mustPhrase(`camera (?:movement|movements|motion|moves|move|moving)|moving camera`, allMoving...),
}

var (
	negators  = []string{"no", "not", "without", "don't", "dont", "doesn't", "doesnt", "never", "avoid", "avoiding", "nor"}
	slowWords = []string{"slow", "slowly", "gentle", "gently", "subtle", "subtly", "gradual", "gradually", "soft", "softly", "leisurely"}
	fastWords = []string{"fast", "quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "dramatic", "dramatically", "sudden", "suddenly", "crash"}
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
// move ("zoom in", "push in", "dolly in", "zooms out", "pull back", "pan
// left", "truck right", "tilt up", "crane up", "pedestal down", "dolly
// zoom", "whip pan left", "static", "still camera", "locked-off", "no
// camera movement"...), and words beside it set the speed ("slowly",
// "quick") and easing ("steady", "accelerating"). A truck or pedestal
// ("crane up") travels the camera: with a figure (see Shot.Figure) the
// figure slides more than the background behind it; without one it is
// drawn as a pan or tilt, and only its name says otherwise. A dolly zoom
// ("hitchcock", "vertigo effect") keeps the subject's size while the
// background grows behind it: with a figure the figure stays fixed and the
// background zooms in; without one the centre of the picture stays put
// while the outer part zooms in around it. An orbit ("orbit left", "arc
// shot", "circles around her") slides the background behind a subject
// that stays put (with a figure) or the whole picture. Otherwise a negative prompt naming a move ("no
// zoom", "camera movement", "pan"), or a negated move in the prompt ("don't
// zoom"), excludes it, and the seed picks among the remaining moves
// deterministically. When every move is excluded the camera is static.
//
// Handheld words ("handheld", "shaky cam", "documentary style") add a
// seeded wander to any move (Shot.Shake), unless the negative prompt names
// camera shake or camera movement, or the prompt asks for a tripod.
func Plan(prompt, negative string, seed int64) Shot {
	return PlanFor(prompt, negative, seed, Hint{})
}

// Hint is what is known of the image that helps choose its shot.
type Hint struct {
	// Face reports that the image shows a face, centred at Subject (an
	// offset from the frame's centre, see FramePoint).
	Face    bool
	Subject Point
	// FaceBox is the face's extent, for depth (see Shot.Figure).
	FaceBox Box
	// Wide reports a picture at least wideAspect times as wide as it is
	// tall with no face: a landscape or a scene, which the seed's camera
	// mostly drifts across rather than tilts over.
	Wide bool
}

// wideAspect is the width-to-height ratio from which a picture without a
// face counts as Wide: 4:3 and wider.
const wideAspect = 1.3

// driftMoves are the moves that carry the camera across a wide scene.
var driftMoves = []Move{PanLeft, PanRight, TruckLeft, TruckRight}

// PlanFor plans like Plan, and also suits the shot to the image: when the
// seed chooses the move and the image shows a face, the camera mostly
// pushes in on it, and any zoom in drifts towards the face; across a wide
// scene it mostly pans or trucks.
func PlanFor(prompt, negative string, seed int64, h Hint) Shot {
	s := planMove(prompt, negative, seed, h)
	if h.Face {
		switch s.Move {
		case ZoomIn:
			s.Subject = h.Subject
			s.Figure = h.FaceBox
		case PanLeft, PanRight, TiltUp, TiltDown, OrbitLeft, OrbitRight, TruckLeft, TruckRight, PedestalUp, PedestalDown, DollyZoom:
			s.Figure = h.FaceBox
		}
	}
	s.Seed = seed
	if handheld(prompt, negative) {
		s.Shake = defaultShake
	}
	s.Flat = flat(prompt, negative)
	return s
}

var depthWords = regexp.MustCompile(`\b(?:parallax|depth effect|3d effect|depth layers)\b`)

// flat reports whether the negative prompt names parallax ("parallax",
// "depth effect", "3d effect") or the prompt negates it ("no parallax").
// A bare "depth" is not enough: "depth of field" is about blur.
func flat(prompt, negative string) bool {
	neg := normalize(negative)
	if depthWords.MatchString(neg) {
		return true
	}
	text := normalize(prompt)
	for _, loc := range depthWords.FindAllStringIndex(text, -1) {
		if negated(text[:loc[0]]) {
			return true
		}
	}
	return false
}

// defaultShake is a handheld camera's wander: 0.4% of the frame.
const defaultShake = 0.004

var (
	handheldWords = regexp.MustCompile(`\b(?:handheld|hand held|shaky|shaking camera|camera shake|shaky cam|documentary style|found footage)\b`)
	steadyWords   = regexp.MustCompile(`\b(?:locked (?:off|down)|tripod|steadicam|gimbal|smooth camera)\b`)
	stillWords    = regexp.MustCompile(`\bcamera (?:movement|movements|motion|moves?|moving)\b|\bmoving camera\b`)
)

// handheld reports whether the prompt asks for a handheld camera
// ("handheld", "shaky cam", "documentary style") that the negative prompt
// ("camera shake", "shaky") and the prompt ("no camera shake", "on a
// tripod") do not refuse.
func handheld(prompt, negative string) bool {
	text, neg := normalize(prompt), normalize(negative)
	if handheldWords.MatchString(neg) || steadyWords.MatchString(neg) || stillWords.MatchString(neg) || steadyWords.MatchString(text) {
		return false
	}
	for _, loc := range handheldWords.FindAllStringIndex(text, -1) {
		if !negated(text[:loc[0]]) {
			return true
		}
	}
	return false
}

// planMove chooses the move of Plan.
func planMove(prompt, negative string, seed int64, h Hint) Shot {
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
	// A face usually wants a push in, but not always, so that seeds
	// still give different shots.
	if h.Face && slices.Contains(allowed, ZoomIn) && mix(uint64(seed)^1)%3 != 0 {
		return Shot{Move: ZoomIn, Amount: ZoomIn.DefaultAmount(), Reason: "a push in on the face"}
	}
	// A wide scene usually wants a drift across it.
	if h.Wide && !h.Face && mix(uint64(seed)^2)%4 != 0 {
		var drifts []Move
		for _, mv := range driftMoves {
			if !excluded[mv] {
				drifts = append(drifts, mv)
			}
		}
		if len(drifts) > 0 {
			mv := drifts[mix(uint64(seed))%uint64(len(drifts))]
			return Shot{Move: mv, Amount: mv.DefaultAmount(), Reason: "a drift across the scene"}
		}
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

// IsWide reports whether a w x h picture is wide enough for Hint.Wide.
func IsWide(w, h int) bool { return float64(w) >= wideAspect*float64(h) }
