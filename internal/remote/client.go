package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/redact"
	"stillmotion/internal/workerproto"
)

// client makes the protocol's calls to one API.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// apiError is an answer other than success from the API.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// errUnreachable marks a call that did not get an answer, or got one that
// says to try again (5xx, 429): the API is away, for now.
var errUnreachable = errors.New("the API is unreachable")

// answerError is the error of an answer with status and body b (the API's
// error shape): marked errUnreachable when trying again may help.
func answerError(status int, b []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	json.Unmarshal(b, &e)
	ae := &apiError{Status: status, Message: e.Message}
	if status >= 500 || status == http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w", errUnreachable, ae)
	}
	return ae
}

// status returns the HTTP status of an apiError, or 0.
func status(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// transient reports whether err may go away if the call is made again.
func transient(err error) bool { return errors.Is(err, errUnreachable) }

// path fills a route pattern of workerproto with values for its
// wildcards, in order.
func path(pattern string, values ...string) string {
	for _, v := range values {
		i := strings.IndexByte(pattern, '{')
		j := strings.IndexByte(pattern, '}')
		pattern = pattern[:i] + url.PathEscape(v) + pattern[j+1:]
	}
	return pattern
}

// resolve makes a URL the API gave (absolute, or relative to its base)
// absolute.
func (c *client) resolve(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return c.base.ResolveReference(u).String(), nil
}

// call sends a request with body (JSON of in, or an io.Reader) and
// decodes a JSON answer into out. It returns the answer's status.
func (c *client) call(ctx context.Context, method, p string, in any, out any, header http.Header) (int, error) {
	u, err := c.resolve(p)
	if err != nil {
		return 0, err
	}
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if _, ok := in.(io.Reader); !ok && in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if r, ok := in.(*io.SectionReader); ok {
		req.ContentLength = r.Size()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("%w: %s", errUnreachable, redact.Error(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("%w: reading the answer: %v", errUnreachable, err)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, answerError(resp.StatusCode, b)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%w: the answer is not the JSON expected: %v", errUnreachable, err)
		}
	}
	return resp.StatusCode, nil
}

// lease asks for a job, waiting up to wait; nil when none came.
func (c *client) lease(ctx context.Context, queues []string, wait time.Duration) (*workerproto.Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer cancel()
	var l workerproto.Lease
	st, err := c.call(ctx, http.MethodPost, workerproto.LeasesPath, workerproto.LeaseRequest{Queues: queues, WaitSeconds: wait.Seconds()}, &l, nil)
	if err != nil || st == http.StatusNoContent {
		return nil, err
	}
	return &l, nil
}

func (c *client) heartbeat(ctx context.Context, id string, hb workerproto.Heartbeat) (*workerproto.HeartbeatReply, error) {
	var r workerproto.HeartbeatReply
	_, err := c.call(ctx, http.MethodPost, path(workerproto.HeartbeatPath, id), hb, &r, nil)
	return &r, err
}

// upload sends the file at p in parts of partSize bytes and returns
// what completes it.
func (c *client) upload(ctx context.Context, id, p string, partSize int64, retry func(context.Context, func() error) error) (workerproto.Completion, error) {
	var done workerproto.Completion
	f, err := os.Open(p)
	if err != nil {
		return done, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return done, err
	}
	whole := sha256.New()
	if _, err := io.Copy(whole, f); err != nil {
		return done, err
	}
	done.Size, done.SHA256 = fi.Size(), hex.EncodeToString(whole.Sum(nil))
	for off, n := int64(0), 1; off < fi.Size() || n == 1; off, n = off+partSize, n+1 {
		size := min(partSize, fi.Size()-off)
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, off, size)); err != nil {
			return done, err
		}
		sum := hex.EncodeToString(h.Sum(nil))
		err := retry(ctx, func() error {
			_, err := c.call(ctx, http.MethodPut, path(workerproto.PartPath, id, strconv.Itoa(n)), io.NewSectionReader(f, off, size), nil,
				http.Header{workerproto.SHA256Header: {sum}, "Content-Type": {"application/octet-stream"}})
			return err
		})
		if err != nil {
			return done, fmt.Errorf("uploading part %d: %w", n, err)
		}
		done.Parts = n
	}
	return done, nil
}

func (c *client) complete(ctx context.Context, id string, done workerproto.Completion) error {
	_, err := c.call(ctx, http.MethodPost, path(workerproto.CompletePath, id), done, nil, nil)
	return err
}

func (c *client) fail(ctx context.Context, id string, e workerproto.Error) (*workerproto.FailureReply, error) {
	var r workerproto.FailureReply
	_, err := c.call(ctx, http.MethodPost, path(workerproto.FailPath, id), workerproto.Failure{Error: e}, &r, nil)
	return &r, err
}

func (c *client) release(ctx context.Context, id string) error {
	_, err := c.call(ctx, http.MethodPost, path(workerproto.ReleasePath, id), nil, nil, nil)
	return err
}

// input fetches an input file the lease names, at most limit bytes.
func (c *client) input(ctx context.Context, ref string, limit int64) ([]byte, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errUnreachable, redact.Error(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, answerError(resp.StatusCode, b)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the input is over %d bytes", limit)
	}
	return b, nil
}
