package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors to compare an error from the Client with errors.Is. An *APIError
// matches the one of its status code; a *GenerationError named "cancelled"
// matches ErrCancelled.
var (
	ErrInvalid      = errors.New("invalid request")                                                   // 400
	ErrUnauthorized = errors.New("missing or unknown API key")                                        // 401
	ErrNoCredits    = errors.New("not enough credits")                                                // 403
	ErrNotFound     = errors.New("not found")                                                         // 404
	ErrTimeout      = errors.New("request body not sent in time")                                     // 408
	ErrConflict     = errors.New("generation has already ended")                                      // 409
	ErrGone         = errors.New("download URL expired or video deleted; poll again for a fresh URL") // 410
	ErrTooLarge     = errors.New("request body too large")                                            // 413
	ErrRateLimited  = errors.New("rate limited")                                                      // 429
	ErrUnavailable  = errors.New("service unavailable")                                               // 503
	ErrCancelled    = errors.New("generation cancelled")
)

var statusErrors = map[int]error{
	http.StatusBadRequest:            ErrInvalid,
	http.StatusUnauthorized:          ErrUnauthorized,
	http.StatusForbidden:             ErrNoCredits,
	http.StatusNotFound:              ErrNotFound,
	http.StatusRequestTimeout:        ErrTimeout,
	http.StatusConflict:              ErrConflict,
	http.StatusGone:                  ErrGone,
	http.StatusRequestEntityTooLarge: ErrTooLarge,
	http.StatusTooManyRequests:       ErrRateLimited,
	http.StatusServiceUnavailable:    ErrUnavailable,
}

// APIError is an HTTP error answered by the server, decoded from its error
// body.
type APIError struct {
	// StatusCode is the HTTP status, such as 400 or 404.
	StatusCode int
	// Message is the server's message, such as "Body validation error!".
	Message string
	// RequestID identifies the request in the server's logs.
	RequestID string
	// Fields names each invalid field of a 400, with what was wrong.
	Fields []FieldError
	// RetryAfter is how long the server asked to wait (429 and 503), or 0.
	RetryAfter time.Duration
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns the status, the message and each field's message on one
// line.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Is reports whether target is the sentinel error of e's status code, such
// as ErrNotFound for a 404.
func (e *APIError) Is(target error) bool {
	return target != nil && statusErrors[e.StatusCode] == target
}

// Temporary reports whether the request may succeed if retried unchanged:
// a 429 or a 503, which the server answers before it changes anything.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
}

// gateway reports whether e is a server or gateway failure (500, 502,
// 504) after which a read, which changes nothing, may be retried.
func (e *APIError) gateway() bool {
	switch e.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// decodeError makes an *APIError of a response whose status is not 2xx. A
// body that is not the API's error shape (a proxy's HTML page, say)
// becomes the message, shortened.
func decodeError(res *http.Response, now time.Time) *APIError {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	e := &APIError{
		StatusCode: res.StatusCode,
		RequestID:  res.Header.Get("X-Request-Id"),
		RetryAfter: retryAfter(res.Header.Get("Retry-After"), now),
	}
	var body struct {
		Message   string       `json:"message"`
		RequestID string       `json:"requestId"`
		Errors    []FieldError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &body); err == nil && body.Message != "" {
		e.Message, e.Fields = body.Message, body.Errors
		if body.RequestID != "" {
			e.RequestID = body.RequestID
		}
		return e
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e.Message = msg
	return e
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
