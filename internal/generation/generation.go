// Package generation is stillmotion's domain: what a generation request is,
// the states a generation moves through, and the Service that accepts,
// reads and runs generations. Storage, rendering and file storage are
// interfaces here, implemented elsewhere.
package generation

import (
	"context"
	"crypto/rand"
	"time"
)

// Status is a generation's state: Queued → Generating → Completed | Failed.
type Status string

// The statuses, as sent on the wire.
const (
	Queued     Status = "queued"
	Generating Status = "generating"
	Completed  Status = "completed"
	Failed     Status = "error"
)

// The webhook events of a generation: it started rendering, completed, or
// failed (cancelled included).
const (
	EventStarted   = "generation.started"
	EventCompleted = "generation.completed"
	EventFailed    = "generation.failed"
)

// Terminal reports whether s is an end state.
func (s Status) Terminal() bool { return s == Completed || s == Failed }

// Generation is one accepted request and what became of it.
type Generation struct {
	ID      string
	KeyID   string // the API key that created it; only that key may read it
	Status  Status
	Request Request
	Engine  string // the engine that renders it
	// Queue is the render queue its job goes to; "" is its engine's name.
	// It is not read back.
	Queue    string
	Credits  int64   // reserved at submit; refunded (and reported as 0) on error
	Progress float64 // 0..1 while generating
	Plan     string  // the renderer's description of the shot, once known
	// EngineState is what the engine's last attempt recorded (Task.Save).
	EngineState string
	Video       *Video // set when Completed
	Failure     *Failure
	// Orphaned reports that the generation has not ended but its render
	// job has: the job ran out of attempts without a worker recording
	// the outcome (each attempt's worker died, or the database was down
	// when it finished). Reading such a generation ends it in error.
	Orphaned bool
	// Deleted reports that the client deleted the generation: the
	// Service answers for it as for an unknown id.
	Deleted bool
	// IdempotencyKey and RequestHash, when set on a generation being
	// inserted, make Store.Insert record the key for KeyID in the same
	// transaction (see KeyReusedError). They are not read back.
	IdempotencyKey string
	RequestHash    string
	// MaxInFlight, when set on a generation being inserted, is how many
	// generations its key may have queued or rendering: Store.Insert
	// refuses the one over with a fault.RateLimited error. InFlight is
	// what Insert counted, this one included. Neither is read back.
	MaxInFlight int
	InFlight    int
	// Test marks a test key's generation: free, marked on reads, seen
	// only by test keys, and run as Script says.
	Test bool
	// Script is the test script it runs, in canonical form (see package
	// testmode); "" for none. Polls counts the polls of a scripted
	// generation, whose faults may be put on the Nth.
	Script string
	Polls  int
	// StartAt, when set on a generation being inserted, is when a worker
	// may take it: until then it stays queued. It is not read back.
	StartAt time.Time
	Created time.Time
	Updated time.Time
}

// IdempotencyWindow is how long an idempotency key is remembered: a key
// last used longer ago than this is free again.
const IdempotencyWindow = 24 * time.Hour

// KeyReusedError is the error Store.Insert returns, creating nothing, when
// the generation's idempotency key was already used by its API key within
// IdempotencyWindow. ID is the generation made then and RequestHash the
// hash of its request.
type KeyReusedError struct {
	ID, RequestHash string
}

func (e *KeyReusedError) Error() string {
	return "idempotency key already used for generation " + e.ID
}

// Video describes a finished file. The download URL is not stored: it is
// signed afresh on every read.
type Video struct {
	Key      string   `json:"key"` // the blob key
	FileName string   `json:"file_name"`
	Size     int64    `json:"file_size"`
	Width    int      `json:"width"`
	Height   int      `json:"height"`
	Duration float64  `json:"duration"`
	FPS      int      `json:"fps"`
	HasAudio bool     `json:"has_audio"`
	Warnings []string `json:"warnings,omitempty"`
}

// Failure is why a generation ended in error: Name is a fault.Kind's wire name.
type Failure struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Output is what an Engine reports about the file it wrote.
type Output struct {
	Width, Height int
	Duration      float64
	FPS           int
	HasAudio      bool
	Plan          string   // a short description of the shot, for users
	Warnings      []string // things the user should know ("no face found")
	Timings       Timings  // where the time went, if the engine measured it
}

// Timings says where a render's time went; a zero field was not measured.
type Timings struct {
	Intake, Speech, Encode time.Duration // Encode includes drawing the frames
	Face                   time.Duration // finding the face and preparing its animation
}

// Observer is told how generations end, for metrics. Its methods must be
// quick and safe for concurrent use.
type Observer interface {
	// Rendered is called when a render completes a generation, with the
	// render's wall time.
	Rendered(req *Request, o *Output, elapsed time.Duration)
	// Failed is called when a generation ends in error (cancelled
	// included), with its error.name.
	Failed(name string)
}

// Engine renders generations into MP4 files: the built-in renderer, or a
// remote model behind an adapter. Render writes t.Out and reports what it
// wrote; it calls t.Progress with values in 0..1 that never go backwards. It
// returns a *fault.Error whose Kind says why it failed (Invalid or Rejected
// for input the model refuses, Upstream when the engine's server cannot be
// reached, Timeout, Cancelled); ctx's cancellation stops it within a couple
// of seconds and leaves no file at t.Out.
type Engine interface {
	Render(ctx context.Context, t *Task) (*Output, error)
}

// Task is one attempt at rendering a generation.
type Task struct {
	// ID is the generation's id, the same on every attempt: a remote engine
	// uses it to make its submit idempotent.
	ID      string
	Request *Request
	// Inputs are the request's inputs by URL field (image_url,
	// tail_image_url, video_url, audio_url; see URLFields), those it sets.
	// When one is missing, an engine reads the request's URL itself.
	Inputs map[string]Input
	// Out is the path of the MP4 to write.
	Out string
	// Script is the test script of a test generation ("" for none), for
	// the engine that renders by it (ScriptedEngine).
	Script string
	// Progress is told how far the render is, in 0..1. It may be nil.
	Progress func(float64)
	// State is what an earlier attempt of this generation recorded with
	// Save; "" on the first.
	State string
	// Save records state durably for the attempts after this one: a remote
	// engine saves its job's id before it waits on it, so that an attempt
	// after a crash resumes the job instead of submitting it again. It may
	// be nil (nothing is kept).
	Save func(ctx context.Context, state string) error
}

// Input returns the input of the request's URL field, or nil when Inputs
// has none.
func (t *Task) Input(field string) Input { return t.Inputs[field] }

// Report calls t.Progress if it is set.
func (t *Task) Report(p float64) {
	if t.Progress != nil {
		t.Progress(p)
	}
}

// SaveState calls t.Save if it is set.
func (t *Task) SaveState(ctx context.Context, state string) error {
	if t.Save == nil {
		return nil
	}
	return t.Save(ctx, state)
}

// Input is one of a request's input files (an image, a video, an audio
// file) as engines reach it.
type Input interface {
	// Bytes returns the file's bytes, fetched under the server's address
	// rules and size limits.
	Bytes(ctx context.Context) ([]byte, error)
	// URL returns an http(s) URL a remote engine can fetch the file from
	// (the client's own, or a signed URL to our copy), or "" when there is
	// none and the engine must send the bytes.
	URL(ctx context.Context) (string, error)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// NewID returns a 21-character URL-safe random id (125 bits of entropy)
// that begins with a letter or digit: an id that began with '-' would read
// as a flag on a command line (stillmotion status ID).
func NewID() string {
	var b [21]byte
	rand.Read(b[:])
	for i := range b {
		// 64 symbols: masking to 6 bits keeps the choice uniform.
		b[i] = idAlphabet[b[i]&63]
	}
	if b[0] == '_' || b[0] == '-' {
		b[0] = idAlphabet[b[0]%26] // a capital letter instead
	}
	return string(b[:])
}
