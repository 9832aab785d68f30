// Package client is the Go SDK of stillmotion, a self-hosted image-to-video
// service that speaks the AI/ML API's pixverse/v5/image-to-video wire
// format. It works as well against the hosted API: only the base URL and
// the key differ.
//
// A generation is created, waited for, then downloaded:
//
//	c := client.New("http://127.0.0.1:8080", key)
//	g, err := c.Create(ctx, &client.CreateRequest{Prompt: "slow zoom in", ImageURL: img})
//	...
//	g, err = c.Wait(ctx, g.ID)
//	...
//	_, err = c.Download(ctx, g.Video.URL, f, nil)
//
// Errors the server answers are *APIError values, comparable with
// errors.Is to ErrNotFound, ErrConflict and the other sentinels; a
// generation that fails makes Wait return a *GenerationError.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Routes of the generation API.
const (
	universalPath = "/v2/video/generations"
	legacyPath    = "/v2/generate/video/pixverse/generation"
)

// Client talks to one server with one key. It is safe for concurrent use.
type Client struct {
	base      string
	key       string
	http      *http.Client
	userAgent string
	path      string
	retries   int
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc. It defaults
// to a client without a timeout: contexts bound each call, and a download
// may rightly take long.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header. It defaults to
// "stillmotion-go-client".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithLegacyRoutes makes the Client use the legacy route,
// /v2/generate/video/pixverse/generation, instead of /v2/video/generations.
func WithLegacyRoutes() Option { return func(c *Client) { c.path = legacyPath } }

// WithRetries sets how many times Create, Get and Cancel are retried after
// a 429 or a 503, waiting as the Retry-After header says (or backing off
// when it is absent). The server answers these before it changes anything,
// so a retried Create never makes two generations. It defaults to 3; 0
// turns retries off.
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// New returns a Client of the server at baseURL (such as
// "http://127.0.0.1:8080") that authenticates with key.
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		key:       key,
		http:      &http.Client{},
		userAgent: "stillmotion-go-client",
		path:      universalPath,
		retries:   3,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Create submits a generation and returns it, normally Queued. A req
// without Model asks for DefaultModel.
func (c *Client) Create(ctx context.Context, req *CreateRequest) (*Generation, error) {
	if req == nil {
		return nil, errors.New("client: Create needs a request")
	}
	r := *req
	if r.Model == "" {
		r.Model = DefaultModel
	}
	body, err := json.Marshal(&r)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, http.MethodPost, c.path, body, c.retries, r.IdempotencyKey)
}

// Get returns the generation id as it is now.
func (c *Client) Get(ctx context.Context, id string) (*Generation, error) {
	return c.get(ctx, id, c.retries)
}

func (c *Client) get(ctx context.Context, id string, retries int) (*Generation, error) {
	return c.do(ctx, http.MethodGet, c.path+"?generation_id="+url.QueryEscape(id), nil, retries, "")
}

// Cancel stops the generation id and returns it, Failed with the error
// name "cancelled" and refunded. A generation that has already ended gives
// an *APIError matching ErrConflict.
func (c *Client) Cancel(ctx context.Context, id string) (*Generation, error) {
	return c.do(ctx, http.MethodDelete, c.path+"?generation_id="+url.QueryEscape(id), nil, c.retries, "")
}

// do sends one API request (with an Idempotency-Key header unless idem is
// ""), retrying a 429 or 503 up to retries times (a poll also a 500, 502
// or 504, which a read may safely retry), and decodes the generation it
// answers.
func (c *Client) do(ctx context.Context, method, path string, body []byte, retries int, idem string) (*Generation, error) {
	for attempt := 0; ; attempt++ {
		g, err := c.send(ctx, method, path, body, idem)
		var ae *APIError
		if err == nil || attempt >= retries || !errors.As(err, &ae) || !(ae.Temporary() || method == http.MethodGet && ae.gateway()) {
			return g, err
		}
		if err := sleep(ctx, max(ae.RetryAfter, backoff(attempt, minPoll, maxPoll))); err != nil {
			return nil, err
		}
	}
}

func (c *Client) send(ctx context.Context, method, path string, body []byte, idem string) (*Generation, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, decodeError(res, time.Now())
	}
	var g Generation
	if err := json.NewDecoder(res.Body).Decode(&g); err != nil {
		return nil, fmt.Errorf("client: decoding the response of %s %s: %w", method, path, err)
	}
	if g.ID == "" || g.Status == "" {
		return nil, fmt.Errorf("client: response of %s %s has no id or status", method, path)
	}
	return &g, nil
}

// Default bounds of the delay between polls and between retries.
const (
	minPoll = 250 * time.Millisecond
	maxPoll = 5 * time.Second
)

// backoff returns the delay before retry or poll number attempt (from 0):
// lo doubled attempt times, capped at hi, then with "equal jitter" (a
// random point in its upper half) so that many clients started together
// do not poll in step.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for range attempt {
		if d >= hi/2 {
			d = hi
			break
		}
		d *= 2
	}
	d = min(d, hi)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
