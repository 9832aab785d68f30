package client

import (
	"encoding/json"
	"fmt"
	"time"
)

// DefaultModel is the model a CreateRequest asks for when Model is empty.
const DefaultModel = "pixverse/v5/image-to-video"

// CreateRequest is the body of a new generation. Zero values are left out of
// the request, so the server's defaults apply: 720p, 5 seconds, no style, a
// random seed, the Auto voice.
type CreateRequest struct {
	// Model defaults to DefaultModel.
	Model string `json:"model"`
	// Prompt says what happens in the video (1..2048 characters); every
	// model but pixverse/lip-sync needs one.
	Prompt string `json:"prompt,omitempty"`
	// ImageURL is the first frame: an http(s) URL the server can fetch, or a
	// data: URI such as FileDataURI returns. Image-to-video and transition
	// models need one.
	ImageURL string `json:"image_url,omitempty"`
	// TailImageURL is a transition's last frame, as ImageURL.
	TailImageURL string `json:"tail_image_url,omitempty"`
	// VideoURL is the video a lip-sync re-voices (MP4, MOV or WebM), as a
	// URL or a data: URI.
	VideoURL string `json:"video_url,omitempty"`
	// AudioURL is the speech a lip-sync puts in the video's mouth (WAV,
	// MP3, AAC/M4A, OGG/Opus), as a URL or a data: URI; or send Speech
	// and Speaker instead.
	AudioURL string `json:"audio_url,omitempty"`
	// AspectRatio is a text-to-video's frame shape: "16:9" (the default),
	// "4:3", "1:1", "3:4" or "9:16".
	AspectRatio string `json:"aspect_ratio,omitempty"`
	// Resolution is the short side of the frame: "360p", "540p", "720p" or
	// "1080p".
	Resolution string `json:"resolution,omitempty"`
	// Duration is the length in seconds: 5 or 8, and 10 on v5.5 models
	// (1080p: 5 only).
	Duration int `json:"duration,omitempty"`
	// NegativePrompt says what to avoid.
	NegativePrompt string `json:"negative_prompt,omitempty"`
	// Style is "anime", "3d_animation", "clay", "comic" or "cyberpunk".
	Style string `json:"style,omitempty"`
	// Seed, if set, makes the video reproducible (0..2147483647). It is a
	// pointer because 0 is a valid seed.
	Seed *int64 `json:"seed,omitempty"`
	// Speech is text to speak with the lips in sync (1..200 characters).
	Speech string `json:"lip_sync_tts_content,omitempty"`
	// Speaker is the voice of Speech, such as "Chloe" or "Ethan".
	Speaker string `json:"lip_sync_tts_speaker,omitempty"`
	// GenerateAudio, on v5.5 models, gives the video sound from the scene
	// (off when nil or false: the video is silent).
	GenerateAudio *bool `json:"generate_audio_switch,omitempty"`
	// MultiClip, on v5.5 models, cuts the video into several shots.
	MultiClip bool `json:"generate_multi_clip_switch,omitempty"`
	// ThinkingType, on v5.5 models, is "enabled" (the default), "disabled"
	// or "auto": whether the prompt is read with optimization.
	ThinkingType string `json:"thinking_type,omitempty"`
	// CallbackURL, if set, receives the generation's events as signed
	// webhooks (generation.started, .completed, .failed).
	CallbackURL string `json:"callback_url,omitempty"`
	// IdempotencyKey, if set, is sent as the Idempotency-Key header (up to
	// 255 printable ASCII characters): creating again with the same key and
	// request within 24 hours returns the first generation, not a new one,
	// so a create whose answer was lost can be sent again; the same key
	// with another request gives an *APIError matching ErrConflict.
	IdempotencyKey string `json:"-"`
}

// Status is the state of a generation.
type Status string

// The statuses a generation goes through: Queued, then Generating, then
// Completed (or Succeeded, on servers configured to answer that word) or
// Failed. Waiting and Active are older words for Queued and Generating,
// which the hosted API's samples still poll for.
const (
	Queued     Status = "queued"
	Generating Status = "generating"
	Completed  Status = "completed"
	Succeeded  Status = "succeeded"
	Failed     Status = "error"
	Waiting    Status = "waiting"
	Active     Status = "active"
)

// Done reports whether s is final. Like the hosted API's own examples, it
// treats every status but the four of a generation in progress as final,
// so a server that answers a new word does not keep a client polling
// forever.
func (s Status) Done() bool { return s != Queued && s != Generating && s != Waiting && s != Active }

// Generation is what the server says of a generation, on create, poll and
// cancel. Its JSON form is the wire format.
type Generation struct {
	ID     string
	Status Status
	// Plan describes how the renderer read the prompt (camera move, speed,
	// voice), once rendering has begun.
	Plan string
	// Progress is the rendered fraction, 0..1, while Generating (the wire
	// carries it as a percentage, 0..100).
	Progress float64
	// QueuePosition is the number of generations ahead of this one while
	// Queued, when the server reports it; 0 otherwise.
	QueuePosition int
	// Video is set when the generation has completed.
	Video *Video
	// Error is set when the generation has failed.
	Error *GenerationError
	// Usage is what the generation costs; a failed one is refunded.
	Usage Usage
	// ExpiresAt is when the server deletes the generation, its video and
	// its inputs (its retention); zero when it keeps them.
	ExpiresAt time.Time
}

// Video is a finished generation's file.
type Video struct {
	// URL is a signed, expiring download URL; see Client.Download.
	URL         string  `json:"url"`
	ContentType string  `json:"content_type"`
	FileName    string  `json:"file_name"`
	FileSize    int64   `json:"file_size"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	FPS         int     `json:"fps,omitempty"`
	HasAudio    bool    `json:"has_audio,omitempty"`
	// Warnings are things the server could not do as asked, such as speech
	// cut short to fit the video.
	Warnings []string `json:"warnings,omitempty"`
}

// Usage is the price of a generation.
type Usage struct {
	CreditsUsed int64   `json:"credits_used"`
	USDSpent    float64 `json:"usd_spent"`
}

// GenerationError is why a generation failed, such as
// {Name: "image_fetch_failed"} or {Name: "cancelled"}. Wait returns it as
// its error when the generation ends in Failed.
type GenerationError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *GenerationError) Error() string {
	if e.Message == "" {
		return "generation failed: " + e.Name
	}
	return fmt.Sprintf("generation failed: %s: %s", e.Name, e.Message)
}

// Is makes errors.Is(err, ErrCancelled) true for a cancelled generation.
func (e *GenerationError) Is(target error) bool {
	return target == ErrCancelled && e.Name == "cancelled"
}

// wireGeneration is the response body of the generation routes.
type wireGeneration struct {
	ID            string           `json:"id"`
	Status        Status           `json:"status"`
	Progress      *float64         `json:"progress,omitempty"`
	QueuePosition int              `json:"queue_position,omitempty"`
	Plan          string           `json:"plan,omitempty"`
	Video         *Video           `json:"video,omitempty"`
	Error         *GenerationError `json:"error,omitempty"`
	ExpiresAt     *time.Time       `json:"expires_at,omitempty"`
	Meta          struct {
		Usage Usage `json:"usage"`
	} `json:"meta"`
}

// MarshalJSON encodes g in the wire format. Its receiver is a value so
// that a Generation, not only a pointer to one, encodes so.
func (g Generation) MarshalJSON() ([]byte, error) {
	w := wireGeneration{ID: g.ID, Status: g.Status, QueuePosition: g.QueuePosition, Plan: g.Plan, Video: g.Video, Error: g.Error}
	if g.Status == Generating {
		p := g.Progress * 100
		w.Progress = &p
	}
	w.Meta.Usage = g.Usage
	if !g.ExpiresAt.IsZero() {
		w.ExpiresAt = &g.ExpiresAt
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes g from the wire format.
func (g *Generation) UnmarshalJSON(b []byte) error {
	var w wireGeneration
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*g = Generation{ID: w.ID, Status: w.Status, QueuePosition: w.QueuePosition, Plan: w.Plan, Video: w.Video, Error: w.Error, Usage: w.Meta.Usage}
	if w.Progress != nil {
		g.Progress = *w.Progress / 100
	}
	if w.ExpiresAt != nil {
		g.ExpiresAt = *w.ExpiresAt
	}
	return nil
}
