// Package webhook tells other services how generations end: it signs
// events as Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature: HMAC-SHA256 under a whsec_ secret) and delivers them
// over HTTP, refusing the addresses intake refuses. Delivery runs in queue
// jobs (queue.WebhookArgs), retried with backoff for about a day.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/redact"
)

// Prefix starts every secret; base64 of the key bytes follows it.
const Prefix = "whsec_"

// Secret is a signing key.
type Secret []byte

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 16

// ParseSecret decodes "whsec_" + base64 (the prefix is optional) of at
// least MinSecret bytes.
func ParseSecret(s string) (Secret, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), Prefix))
	if err != nil || len(b) < MinSecret {
		return nil, fmt.Errorf("invalid webhook secret: want %s followed by the base64 of at least %d bytes", Prefix, MinSecret)
	}
	return Secret(b), nil
}

// String returns the secret in its whsec_ form.
func (s Secret) String() string { return Prefix + base64.StdEncoding.EncodeToString(s) }

// LoadSecret reads the secret kept at path, creating a random 32-byte one
// there first if there is none. created reports that it did.
func LoadSecret(path string) (s Secret, created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		s, err := ParseSecret(string(b))
		return s, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	s = make(Secret, 32)
	rand.Read(s)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process sharing the data dir won the race: use its secret.
		return LoadSecret(path)
	}
	if err != nil {
		return nil, false, err
	}
	if _, err := f.WriteString(s.String() + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	return s, true, f.Close()
}

// Sign returns the webhook-signature value of a message: "v1," followed by
// base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)).
func Sign(secret Secret, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s.%d.", id, timestamp)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether header, a webhook-signature value (one or more
// space-separated "v1,..." signatures), holds a valid signature of the
// message. It does not check the timestamp's age.
func Verify(secret Secret, id string, timestamp int64, body []byte, header string) bool {
	want := Sign(secret, id, timestamp, body)
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// MessageID is the webhook-id of an event: stable across retries, so that
// receivers can drop duplicates.
func MessageID(generationID, event string) string { return "msg_" + generationID + "_" + event }

// ErrGiveUp wraps a delivery failure that retrying will not fix (a 4xx
// answer other than 408 and 429, a refused address, a malformed URL).
var ErrGiveUp = errors.New("webhook: giving up")

// Sender posts signed events.
type Sender struct {
	Secret Secret
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (see intake.IsForbiddenIP). Defaults to false.
	AllowPrivate bool
	// Timeout bounds one delivery attempt. Defaults to 10 seconds.
	Timeout time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// Send posts body to url, signed with id. A 2xx answer is success; an
// error wrapping ErrGiveUp should not be retried; any other error should.
// Redirects are not followed (a 3xx is a failure to retry).
func (s *Sender) Send(ctx context.Context, url, id string, body []byte) error {
	if err := CheckURL(url, s.AllowPrivate); err != nil {
		return fmt.Errorf("%w: %v", ErrGiveUp, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrGiveUp, redact.Error(err))
	}
	ts := now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stillmotion-webhook")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(s.Secret, id, ts, body))
	client := &http.Client{
		Transport:     transport(s.AllowPrivate, timeout),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error is logged, and the URL may carry a token.
		err = redact.Error(err)
		if _, denied := errors.AsType[*deniedAddr](err); denied {
			return fmt.Errorf("%w: %v", ErrGiveUp, err)
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s answered %s", ErrGiveUp, redact.URL(url), resp.Status)
	default:
		return fmt.Errorf("webhook: %s answered %s", redact.URL(url), resp.Status)
	}
}

// Backoff returns how long to wait before delivery attempt attempt+1 after
// attempt failed: base·2^(attempt-1), capped at 6 hours, ±25% jitter. With
// a base of 10 seconds and 15 attempts the retries span about a day.
func Backoff(base time.Duration, attempt int) time.Duration {
	if base <= 0 {
		base = 10 * time.Second
	}
	d := base << min(max(attempt-1, 0), 30)
	if d <= 0 || d > 6*time.Hour {
		d = 6 * time.Hour
	}
	var b [8]byte
	rand.Read(b[:])
	j := float64(uint64(b[0])|uint64(b[1])<<8|uint64(b[2])<<16) / float64(1<<24) // 0..1
	return time.Duration(float64(d) * (0.75 + 0.5*j))
}
