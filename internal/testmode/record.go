package testmode

import (
	"context"
	"regexp"
	"strconv"
	"time"
)

// Recorded is one request a test key sent, as GET /v2/test/requests lists
// it: what a client's own tests can assert on.
type Recorded struct {
	ID     string    `json:"id"` // the request's X-Request-Id
	At     time.Time `json:"at"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	// Headers are those that shape an answer (Content-Type,
	// Idempotency-Key, Prefer, X-Stillmotion-Script, User-Agent); never
	// Authorization.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the request body with every data: URI's payload elided.
	Body   string `json:"body,omitempty"`
	Status int    `json:"status"` // what the server answered; 0: no answer (a reset)
}

// Recorder keeps the requests of test keys.
type Recorder interface {
	// Record keeps rec for keyID, forgetting the oldest beyond MaxRecorded.
	Record(ctx context.Context, keyID string, rec *Recorded) error
	// Recorded returns keyID's newest requests, at most limit, newest first.
	Recorded(ctx context.Context, keyID string, limit int) ([]*Recorded, error)
	// ResetTests forgets keyID's requests and deletes its test
	// generations that have ended, returning how many of each.
	ResetTests(ctx context.Context, keyID string) (requests, generations int, err error)
}

// MaxRecorded is how many requests are kept per test key.
const MaxRecorded = 1000

// dataURI matches a data: URI's payload long enough to be worth eliding.
var dataURI = regexp.MustCompile(`(data:[a-zA-Z0-9.+/-]*(?:;[a-zA-Z0-9=.+-]*)*,)([A-Za-z0-9+/=_%-]{64,})`)

// Elide replaces the payload of each data: URI in body with a note of its
// length: recorded bodies keep their shape, not their images.
func Elide(body string) string {
	return dataURI.ReplaceAllStringFunc(body, func(m string) string {
		sub := dataURI.FindStringSubmatch(m)
		return sub[1] + "…(" + strconv.Itoa(len(sub[2])) + " bytes elided)"
	})
}
