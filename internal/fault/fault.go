// Package fault is stillmotion's one error vocabulary. Every layer builds its
// errors with E and a Kind; the HTTP edge maps a Kind to a status code, and a
// failed generation reports the Kind's wire name as error.name. Kinds are
// append-only: their names are part of the wire contract.
package fault

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Kind classifies an error. The zero Kind is Internal.
type Kind uint8

// The kinds. Request kinds come first, then the kinds a generation can end with.
const (
	Internal         Kind = iota // a bug or an unexpected failure
	Invalid                      // the request is malformed or a field is invalid
	Unauthenticated              // missing or unknown API key
	Forbidden                    // not enough credits, or not allowed
	NotFound                     // no such route or generation (for this key)
	TooLarge                     // request body over the limit
	UnsupportedMedia             // request body is not JSON
	RateLimited                  // too many requests
	Unavailable                  // overloaded or shutting down
	Conflict                     // the request conflicts with the current state

	ImageFetch     // the image could not be fetched
	ImageForbidden // the image URL points at a forbidden address
	ImageTooLarge  // the image is over the byte or pixel limit
	ImageInvalid   // the bytes are not a supported, decodable image
	Speech         // speech synthesis failed
	Render         // rendering or encoding failed
	Cancelled      // the generation was cancelled
	Timeout        // the generation ran out of time
	Upstream       // the engine's server could not be reached or kept failing
	Rejected       // the engine's model refused the request (its message says why)
	StorageFull    // the server's disk is too full to render or store the video
	RequestTimeout // the client did not send its request body in time
	Gone           // a download URL has expired, or its file was deleted
)

var names = [...]string{
	Internal:         "internal_error",
	Invalid:          "invalid_request",
	Unauthenticated:  "unauthenticated",
	Forbidden:        "forbidden",
	NotFound:         "not_found",
	TooLarge:         "payload_too_large",
	UnsupportedMedia: "unsupported_media_type",
	RateLimited:      "rate_limited",
	Unavailable:      "unavailable",
	Conflict:         "conflict",
	ImageFetch:       "image_fetch_failed",
	ImageForbidden:   "image_url_forbidden",
	ImageTooLarge:    "image_too_large",
	ImageInvalid:     "image_invalid",
	Speech:           "speech_failed",
	Render:           "render_failed",
	Cancelled:        "cancelled",
	Timeout:          "timeout",
	Upstream:         "upstream_unavailable",
	Rejected:         "input_rejected",
	StorageFull:      "storage_full",
	RequestTimeout:   "request_timeout",
	Gone:             "gone",
}

// String returns the kind's wire name, as used in a generation's error.name.
func (k Kind) String() string {
	if int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("kind_%d", k)
}

// Ending are the kinds a generation can end with, in order.
func Ending() []Kind {
	var ks []Kind
	for k := ImageFetch; k <= StorageFull; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Named returns the kind whose wire name is name.
func Named(name string) (Kind, bool) {
	for i, n := range names {
		if n == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// MaxEcho is the most characters of a client's value a message repeats.
const MaxEcho = 64

// Echo returns s cut to MaxEcho characters (runes), with "…" when cut: a
// message that repeats what a client sent stays short whatever was sent.
func Echo(s string) string {
	if utf8.RuneCountInString(s) <= MaxEcho {
		return s
	}
	return string([]rune(s)[:MaxEcho]) + "…"
}

// FieldError names one invalid request field and says what is allowed.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the error type every stillmotion package returns for failures a
// caller may act on.
type Error struct {
	Kind    Kind
	Message string       // for the client: what went wrong and what to do
	Fields  []FieldError // for Invalid: each invalid field
	Err     error        // the underlying cause, logged, never sent to a client
	// RetryAfter, if set, is when a retry may succeed (the Retry-After of
	// a 429 or 503); otherwise the HTTP edge picks one for the kind.
	RetryAfter time.Duration
}

// E builds an Error of kind k whose client message is msg.
func E(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Wrap builds an Error of kind k with message msg and cause err.
func Wrap(k Kind, msg string, err error) *Error { return &Error{Kind: k, Message: msg, Err: err} }

// Errorf builds an Error of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Kind.String() + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Kind.String() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf reports the Kind of err: the Kind of the first *Error in its chain,
// Cancelled for context.Canceled, Timeout for context.DeadlineExceeded, and
// Internal otherwise.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, context.Canceled):
		return Cancelled
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	return Internal
}

// MessageOf returns the client-facing message of err, or a generic one when
// err carries none (internal details are never shown to clients).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error; the server logged the details"
}
