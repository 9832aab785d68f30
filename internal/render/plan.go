package render

import (
	"fmt"
	"slices"
	"strings"

	"stillmotion/internal/prompt"
	"stillmotion/internal/splitmix"
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
	// Clock places the shot in a clip of several shots cut together: the
	// zero Clock is a clip of one shot.
	Clock Clock

	// Style is the look the clip is drawn in (see Style).
	Style Style
	// Light is the colour grade and its change over the clip.
	Light Light
	// Flashes are the frames lit by lightning, in order.
	Flashes []Flash
	// Atmosphere is the particles and fog drawn over the picture.
	Atmosphere Atmosphere
}

// Clock says where a shot falls in a clip of cut shots: frame i of the
// shot is frame Start+i of a clip of Total frames. The looks (the grade
// and its change, flashes, the atmosphere) follow the clip's frames, so
// they run on across a cut as the light of one scene would; the camera
// follows the shot's.
type Clock struct {
	Start, Total int
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

// seedMoves are the moves the seed chooses among. Zoom out is left to
// prompts that ask for it: it is the one move that shows invented content
// (the blurred surround beyond the image's edges).
var seedMoves = []Move{ZoomIn, PanLeft, PanRight, TiltUp, TiltDown}

// promptMoves are the moves of the prompt's words, and promptEases its
// easings.
var (
	promptMoves = [...]Move{
		prompt.Static: Static, prompt.ZoomIn: ZoomIn, prompt.ZoomOut: ZoomOut, prompt.PanLeft: PanLeft,
		prompt.PanRight: PanRight, prompt.TiltUp: TiltUp, prompt.TiltDown: TiltDown, prompt.WhipLeft: WhipLeft,
		prompt.WhipRight: WhipRight, prompt.OrbitLeft: OrbitLeft, prompt.OrbitRight: OrbitRight,
		prompt.TruckLeft: TruckLeft, prompt.TruckRight: TruckRight, prompt.PedestalUp: PedestalUp,
		prompt.PedestalDown: PedestalDown, prompt.DollyZoom: DollyZoom,
	}
	promptEases = [...]Ease{prompt.EaseInOut: EaseInOut, prompt.Linear: Linear, prompt.EaseIn: EaseIn, prompt.EaseOut: EaseOut}
)

// Plan reads the prompt and negative prompt (see prompt.Read) and plans
// the shot's camera as PlanFor does for an image nothing is known of.
func Plan(text, negative string, seed int64) Shot {
	return PlanFor(prompt.Read(text, negative), seed, Hint{})
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

// PlanFor picks the shot's camera from what the prompt says of it
// (sc.Camera). The move the prompt asks for wins ("zoom in", "push in",
// "dolly in", "zooms out", "pull back", "pan left", "truck right", "tilt
// up", "crane up", "pedestal down", "dolly zoom", "whip pan left",
// "static", "locked-off", "no camera movement"...), at the speed ("slowly",
// "quick") and easing ("steady", "accelerating") said beside it. A truck
// or pedestal ("crane up") travels the camera: with a figure (see
// Shot.Figure) the figure slides more than the background behind it;
// without one it is drawn as a pan or tilt, and only its name says
// otherwise. A dolly zoom ("hitchcock", "vertigo effect") keeps the
// subject's size while the background grows behind it: with a figure the
// figure stays fixed and the background zooms in; without one the centre
// of the picture stays put while the outer part zooms in around it. An
// orbit ("orbit left", "arc shot", "circles around her") slides the
// background behind a subject that stays put (with a figure) or the whole
// picture. Otherwise the seed picks deterministically among the moves the
// prompt does not exclude ("no zoom" in the negative prompt, "don't pan"
// in the prompt), and suits the shot to the image: when the image shows a
// face the camera mostly pushes in on it, and any zoom in drifts towards
// the face; across a wide scene it mostly pans or trucks. When every move
// is excluded the camera is static.
//
// A handheld camera (sc.Camera.Handheld) adds a seeded wander to any move
// (Shot.Shake); a flat one (sc.Camera.Flat) keeps the picture one layer.
func PlanFor(sc *prompt.Scene, seed int64, h Hint) Shot {
	s := planMove(sc.Camera, seed, h)
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
	if sc.Camera.Handheld {
		s.Shake = defaultShake
	}
	s.Flat = sc.Camera.Flat
	return s
}

// defaultShake is a handheld camera's wander: 0.4% of the frame.
const defaultShake = 0.004

// planMove chooses the move of PlanFor.
func planMove(c prompt.Camera, seed int64, h Hint) Shot {
	if c.Move != prompt.NoMove {
		mv := promptMoves[c.Move]
		shot := Shot{Move: mv, Reason: fmt.Sprintf("from prompt: %q", c.Words)}
		if mv != Static {
			shot.Amount = mv.DefaultAmount()
			switch c.Speed {
			case prompt.Slow:
				shot.Amount *= slowFactor
			case prompt.Fast:
				shot.Amount *= fastFactor
			}
			shot.Ease = promptEases[c.Ease]
		}
		return shot
	}
	excluded := make(map[Move]bool)
	for pm, mv := range promptMoves {
		if c.Excluded.Has(prompt.Move(pm)) {
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
	if h.Face && slices.Contains(allowed, ZoomIn) && splitmix.Mix(uint64(seed)^1)%3 != 0 {
		return Shot{Move: ZoomIn, Amount: ZoomIn.DefaultAmount(), Reason: "a push in on the face"}
	}
	// A wide scene usually wants a drift across it.
	if h.Wide && !h.Face && splitmix.Mix(uint64(seed)^2)%4 != 0 {
		var drifts []Move
		for _, mv := range driftMoves {
			if !excluded[mv] {
				drifts = append(drifts, mv)
			}
		}
		if len(drifts) > 0 {
			mv := drifts[splitmix.Mix(uint64(seed))%uint64(len(drifts))]
			return Shot{Move: mv, Amount: mv.DefaultAmount(), Reason: "a drift across the scene"}
		}
	}
	mv := allowed[splitmix.Mix(uint64(seed))%uint64(len(allowed))]
	return Shot{Move: mv, Amount: mv.DefaultAmount(), Reason: "chosen by seed"}
}

// IsWide reports whether a w x h picture is wide enough for Hint.Wide.
func IsWide(w, h int) bool { return float64(w) >= wideAspect*float64(h) }
