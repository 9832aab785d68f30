package generation

import (
	"slices"
	"strconv"
	"strings"
)

// Kind is what a model makes its video from.
type Kind string

// The kinds of model.
const (
	// ImageToVideo animates image_url, the first frame, as the prompt says.
	ImageToVideo Kind = "image-to-video"
	// TextToVideo makes the video from the prompt alone.
	TextToVideo Kind = "text-to-video"
	// Transition goes from image_url, the first frame, to tail_image_url,
	// the last.
	Transition Kind = "transition"
	// LipSync re-voices video_url with audio_url or spoken text.
	LipSync Kind = "lip-sync"
)

// Schema is a model's request schema as the hosted API publishes it: the
// fields it takes and the values they allow.
type Schema struct {
	Model string // the hosted model id
	Kind  Kind
	// Durations are the allowed durations in seconds, the first the
	// default; none for a model whose video is as long as its input.
	Durations []int
	// Speech reports whether the model speaks lip_sync_tts_content with
	// lip_sync_tts_speaker over its clip (lip-sync takes them as its
	// audio instead).
	Speech bool
	// Switches reports whether the model takes v5.5's
	// generate_audio_switch, generate_multi_clip_switch and thinking_type.
	Switches bool
}

// The hosted models whose schemas stillmotion speaks.
const (
	ModelV55ImageToVideo = "pixverse/v5.5/image-to-video"
	ModelTransition      = "pixverse/v5/transition"
	ModelTextToVideo     = "pixverse/v5/text-to-video"
	ModelV55TextToVideo  = "pixverse/v5.5/text-to-video"
	ModelLipSync         = "pixverse/lip-sync"
)

// Schemas are the hosted PixVerse family's request schemas, in the order
// the models are listed.
var Schemas = []Schema{
	{Model: Model, Kind: ImageToVideo, Durations: []int{5, 8}, Speech: true},
	{Model: ModelV55ImageToVideo, Kind: ImageToVideo, Durations: []int{5, 8, 10}, Switches: true},
	{Model: ModelTransition, Kind: Transition, Durations: []int{5, 8}, Speech: true},
	{Model: ModelTextToVideo, Kind: TextToVideo, Durations: []int{5, 8}, Speech: true},
	{Model: ModelV55TextToVideo, Kind: TextToVideo, Durations: []int{5, 8, 10}, Switches: true},
	{Model: ModelLipSync, Kind: LipSync},
}

// aliases are other spellings of hosted model ids that the hosted API's
// own code samples send (its v5.5 samples say "pixverse/v5-5-...").
var aliases = map[string]string{
	"pixverse/v5-5-image-to-video": ModelV55ImageToVideo,
	"pixverse/v5-5-text-to-video":  ModelV55TextToVideo,
}

// Canonical returns the hosted id that model spells, or model itself.
func Canonical(model string) string {
	if c, ok := aliases[model]; ok {
		return c
	}
	return model
}

// SchemaOf returns the schema of the hosted model id, or false when the id
// is not one of Schemas.
func SchemaOf(model string) (Schema, bool) {
	i := slices.IndexFunc(Schemas, func(s Schema) bool { return s.Model == model })
	if i < 0 {
		return Schema{}, false
	}
	return Schemas[i], true
}

// AspectRatios are the frame shapes a text-to-video model makes, the
// first the default.
var AspectRatios = []string{"16:9", "4:3", "1:1", "3:4", "9:16"}

// Aspect returns the sides of the frame shape a text-to-video request asks
// for ("9:16" gives 9, 16); 16, 9 when it asks for none.
func (r *Request) Aspect() (w, h int) {
	a, b, ok := strings.Cut(r.AspectRatio, ":")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return 16, 9
	}
	return w, h
}

// ThinkingTypes are the values of thinking_type, the first the default.
var ThinkingTypes = []string{"enabled", "disabled", "auto"}

// Understands reports whether the model reads its prompt with the prompt
// optimization of thinking_type on ("enabled" or "auto").
func (r *Request) Understands() bool {
	return r.Thinking == "enabled" || r.Thinking == "auto"
}
