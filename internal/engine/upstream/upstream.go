// Package upstream is the engine that hands generations to another service
// speaking the AI/ML API's video generation routes (the hosted API, or
// another stillmotion): it submits, persists the upstream's id, polls with
// backoff, downloads the finished video into our storage and keeps the
// upstream's id, key and URLs from our clients. It speaks to the upstream
// with stillmotion's own Go client, adding the retries a gateway needs
// (5xx, resets and timeouts too) and the mapping to our error kinds.
package upstream

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"stillmotion/client"
	"stillmotion/internal/engine"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/redact"
)

// Config is an upstream entry of the engines file.
type Config struct {
	// URL is the upstream's root: it serves /v2/video/generations.
	URL string `yaml:"url"`
	// Key is the upstream's API key, sent as a bearer token.
	Key string `yaml:"key"`
	// Model is the model id sent upstream. Defaults to the model the
	// client asked for.
	Model string `yaml:"model"`
	// Image says how the image travels: "url" sends the client's URL (or
	// a signed URL to our copy of an uploaded image); "data" sends the
	// bytes as a data URI, for an upstream that cannot reach the client's
	// or our addresses. Defaults to "url".
	Image string `yaml:"image"`
	// Poll is the first wait between polls; it grows by half after each
	// poll up to 10 s (with jitter). Defaults to 1 s.
	Poll time.Duration `yaml:"poll"`
	// Retries is how many transient failures in a row (5xx, 429, timeouts,
	// resets) are retried before the generation fails as
	// upstream_unavailable. Defaults to 5.
	Retries int `yaml:"retries"`
	// MaxVideo is the largest video downloaded, in bytes. Defaults to 2 GiB.
	MaxVideo int64 `yaml:"max_video"`
}

// Deps are what an engine is built with besides its settings.
type Deps = engine.Remote

// Engine is an upstream engine.
type Engine struct {
	name   string
	c      Config
	root   *url.URL
	d      Deps
	api    *client.Client
	checks *http.Client // for Check, which the client has no call for
}

// Fields are the request fields an upstream honours: all of them, passed on.
func Fields(Config) []string { return generation.AllFields }

// New returns the engine of entry name.
func New(name string, c Config, d Deps) (*Engine, error) {
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fault.E(fault.Invalid, "url must be the upstream's http(s) root, like https://api.aimlapi.com")
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fault.E(fault.Invalid, "url must not hold credentials or a query; put the key under key")
	}
	switch c.Image {
	case "":
		c.Image = "url"
	case "url", "data":
	default:
		return nil, fault.Errorf(fault.Invalid, "image must be url or data, not %q", c.Image)
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Retries <= 0 {
		c.Retries = 5
	}
	if c.MaxVideo <= 0 {
		c.MaxVideo = 2 << 30
	}
	if d.Finisher == nil {
		d.Finisher = &engine.Finisher{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	hc := d.HTTPClient
	if hc == nil {
		// No overall timeout: a download takes what it takes; each API
		// call is bounded by callTimeout.
		hc = &http.Client{}
	}
	return &Engine{name: name, c: c, root: u, d: d, checks: hc,
		// Our own loop retries (see call), so the client's is off.
		api: client.New(u.String(), c.Key, client.WithHTTPClient(hc), client.WithRetries(0), client.WithUserAgent("stillmotion-upstream")),
	}, nil
}

// callTimeout bounds one API call to the upstream.
const callTimeout = 30 * time.Second

// state is what an attempt saves: the upstream's id of the generation.
type state struct {
	ID string `json:"id"`
}

// Render implements generation.Engine.
func (e *Engine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	var st state
	if t.State != "" {
		if err := json.Unmarshal([]byte(t.State), &st); err != nil {
			return nil, fault.Wrap(fault.Internal, "reading the saved upstream state", err)
		}
	}
	if st.ID == "" {
		id, err := e.submit(ctx, t)
		if err != nil {
			return nil, err
		}
		st.ID = id
		b, _ := json.Marshal(st)
		if err := t.SaveState(ctx, string(b)); err != nil {
			return nil, e.stopped(ctx, st.ID, err)
		}
	} else {
		e.d.Logger.Info("resuming an upstream generation", "engine", e.name, "id", t.ID)
	}
	t.Report(0.01)
	video, err := e.wait(ctx, st.ID, t)
	if err != nil {
		return nil, err
	}
	return e.fetch(ctx, video, t)
}

// submit creates the upstream generation and returns its id. The
// generation's own id is the idempotency key: a worker that dies between
// the upstream's answer and saving its id submits again and gets the same
// generation back.
func (e *Engine) submit(ctx context.Context, t *generation.Task) (string, error) {
	r := t.Request
	var urls [4]string
	for i, field := range generation.URLFields {
		if r.URL(field) == "" {
			continue
		}
		u, err := e.url(ctx, t, field)
		if err != nil {
			return "", err
		}
		urls[i] = u
	}
	seed := r.Seed
	req := &client.CreateRequest{
		Model: cmp.Or(e.c.Model, r.Model), Prompt: r.Prompt, ImageURL: urls[0], TailImageURL: urls[1], VideoURL: urls[2], AudioURL: urls[3],
		Resolution: r.Resolution, AspectRatio: r.AspectRatio, Duration: r.Duration,
		NegativePrompt: r.NegativePrompt, Style: r.Style, Seed: &seed, Speech: r.Speech, Speaker: r.Speaker,
		GenerateAudio: r.GenerateAudio, MultiClip: r.MultiClip, ThinkingType: r.Thinking,
		IdempotencyKey: "stillmotion-" + t.ID,
	}
	var g *client.Generation
	err := e.call(ctx, func(ctx context.Context) (err error) {
		g, err = e.api.Create(ctx, req)
		return err
	})
	if err != nil {
		return "", e.stopped(ctx, "", err)
	}
	e.d.Logger.Info("submitted upstream", "engine", e.name, "id", t.ID, "host", e.root.Host)
	return g.ID, nil
}

// url returns the value of the request's URL field sent upstream: the URL
// the upstream can fetch, or with image: data (or no URL to give) a data
// URI of the bytes.
func (e *Engine) url(ctx context.Context, t *generation.Task, field string) (string, error) {
	in, orig := t.Input(field), t.Request.URL(field)
	if e.c.Image == "url" {
		if in != nil {
			u, err := in.URL(ctx)
			if err != nil || u != "" {
				return u, err
			}
		} else if orig != "" {
			return orig, nil
		}
	}
	if in == nil {
		if strings.HasPrefix(orig, "data:") {
			return orig, nil
		}
		return "", fault.Errorf(fault.Internal, "the upstream engine needs the bytes of %s, which this task lacks", field)
	}
	b, err := in.Bytes(ctx)
	if err != nil {
		return "", err
	}
	if field == generation.FieldImage || field == generation.FieldTailImage {
		return client.ImageDataURI(bytes.NewReader(b))
	}
	return "data:" + http.DetectContentType(b) + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}

// The upstream's statuses.
var (
	doneStatuses    = []string{"completed", "succeeded", "success"}
	pendingStatuses = []string{"queued", "generating", "waiting", "active", "processing", "starting", "pending"}
	failedStatuses  = []string{"error", "failed"}
)

// wait polls the upstream generation id until it ends, and returns its
// video's URL.
func (e *Engine) wait(ctx context.Context, id string, t *generation.Task) (string, error) {
	delay := e.c.Poll
	var (
		polls    int
		last     = 0.01
		status   client.Status
		rendered time.Time // when the upstream started rendering
	)
	for {
		var g *client.Generation
		err := e.call(ctx, func(ctx context.Context) (err error) {
			g, err = e.api.Get(ctx, id)
			return err
		})
		polls++
		if errors.Is(err, client.ErrNotFound) {
			return "", fault.E(fault.Upstream, "the upstream engine no longer knows this generation (it may have expired there); submit it again")
		}
		if err != nil {
			return "", e.stopped(ctx, id, err)
		}
		switch s := string(g.Status); {
		case contains(doneStatuses, s):
			if g.Video == nil || g.Video.URL == "" {
				return "", fault.E(fault.Upstream, "the upstream engine reported the video done but gave no URL for it")
			}
			e.d.Logger.Info("upstream generation completed", "engine", e.name, "id", t.ID, "polls", polls)
			return g.Video.URL, nil
		case contains(failedStatuses, s):
			return "", failure(g.Error)
		case !contains(pendingStatuses, s):
			return "", fault.Errorf(fault.Upstream, "the upstream engine answered the unknown status %q", clip(s))
		}
		if g.Status != status {
			// A new phase (queued, then rendering): start the backoff over.
			status, delay = g.Status, e.c.Poll
			if status != client.Queued {
				rendered = time.Now()
			}
		}
		wait := delay
		if p := g.Progress; p > 0 {
			// The download and check take the last tenth.
			if v := 0.01 + 0.89*min(p, 1); v > last {
				last = v
				t.Report(v)
			}
			wait = min(wait, eta(rendered, p, e.c.Poll))
		}
		delay = min(delay*3/2, maxPoll)
		if err := sleep(ctx, jitter(wait)); err != nil {
			return "", e.stopped(ctx, id, err)
		}
	}
}

// maxPoll bounds the wait between polls.
const maxPoll = 10 * time.Second

// eta is when to poll next a render that started at start and is at p
// (0..1): when it should be done at its pace so far, and no sooner than
// floor. Polling by the progress keeps the time from the upstream ending
// to our noticing it near the poll interval, however long the render.
func eta(start time.Time, p float64, floor time.Duration) time.Duration {
	if start.IsZero() || p < 0.05 {
		return maxPoll
	}
	elapsed := time.Since(start)
	return max(floor, time.Duration(float64(elapsed)*(1-p)/p))
}

// failure is our error for an upstream generation that failed: the
// client's own fault (its image, its text) is a rejection with the
// upstream's message; anything else failed there.
func failure(ge *client.GenerationError) error {
	name, msg := "", "the upstream engine failed to render the video"
	if ge != nil {
		name = ge.Name
		if ge.Message != "" {
			msg = ge.Message
		}
	}
	switch name {
	case fault.ImageFetch.String(), fault.ImageForbidden.String(), fault.ImageTooLarge.String(), fault.ImageInvalid.String(),
		fault.Invalid.String(), fault.Speech.String(), fault.Rejected.String(), "invalid_image", "content_policy_violation", "bad_request":
		return fault.E(fault.Rejected, "The model refused the request: "+clip(msg))
	case fault.Cancelled.String():
		return fault.E(fault.Upstream, "The generation was cancelled on the upstream engine; submit it again")
	}
	return fault.E(fault.Render, "The upstream engine failed to render the video: "+clip(msg))
}

// fetch downloads the finished video and makes it the served file.
func (e *Engine) fetch(ctx context.Context, videoURL string, t *generation.Task) (*generation.Output, error) {
	u, err := url.Parse(videoURL)
	if err != nil || (u.IsAbs() && u.Scheme != "http" && u.Scheme != "https") {
		return nil, fault.E(fault.Upstream, "the upstream engine gave a video URL that is not http(s)")
	}
	dir := e.d.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "upstream-*.video")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "creating the download file", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var n int64
	err = e.call(ctx, func(ctx context.Context) (err error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		n, err = e.api.Download(ctx, u.String(), &limited{w: f, left: e.c.MaxVideo}, nil)
		return err
	})
	var fe *fault.Error
	switch {
	case errors.As(err, &fe) && fe.Kind == fault.TooLarge:
		return nil, fault.Errorf(fault.Upstream, "the upstream engine's video is larger than the %d-byte limit (max_video)", e.c.MaxVideo)
	case err != nil && ctx.Err() == nil && !errors.As(err, &fe):
		return nil, fault.Wrap(fault.Upstream, "downloading the finished video from the upstream engine failed; try again later", redact.Error(err))
	case err != nil:
		return nil, e.stopped(ctx, "", err)
	}
	if err := f.Close(); err != nil {
		return nil, fault.Wrap(fault.Internal, "writing the download file", err)
	}
	e.d.Logger.Info("downloaded the upstream video", "engine", e.name, "id", t.ID, "bytes", n)
	t.Report(0.95)
	o, err := e.d.Finisher.Finish(ctx, f.Name(), t)
	if err != nil {
		return nil, err
	}
	t.Report(1)
	return o, nil
}

// limited writes at most left bytes to w; more is a TooLarge fault.
type limited struct {
	w    io.Writer
	left int64
}

func (l *limited) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, fault.E(fault.TooLarge, "the video is over the limit")
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// stopped turns err into the engine's error. When ctx has ended: if the
// client cancelled the generation, the upstream generation id (if any) is
// cancelled too; otherwise it is left to run for the next attempt.
func (e *Engine) stopped(ctx context.Context, id string, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if generation.Cancelled(ctx) && id != "" {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_, _ = e.api.Cancel(cctx, id)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "the generation ran out of time waiting for the upstream engine", ctx.Err())
	}
	return fault.Wrap(fault.Cancelled, "the generation was cancelled", ctx.Err())
}

// transient reports whether err is worth retrying: the upstream was
// unreachable, timed out, reset, or answered 5xx, 408 or 429.
func transient(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout
	}
	var fe *fault.Error
	return !errors.As(err, &fe)
}

// call runs one call to the upstream, each try bounded by callTimeout.
// Transient failures are retried with backoff (honouring Retry-After) up
// to Retries times; then the error is an Upstream fault. A 4xx is the
// request's fault: Rejected with the upstream's message (401 and 403 are
// the operator's: Upstream).
func (e *Engine) call(ctx context.Context, do func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err := do(cctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		err = redact.Error(err)
		if !transient(err) {
			return e.refused(err)
		}
		if attempt >= e.c.Retries {
			e.d.Logger.Warn("the upstream engine keeps failing", "engine", e.name, "host", e.root.Host, "err", err)
			return fault.Wrap(fault.Upstream, fmt.Sprintf("the upstream engine (%s) did not answer after %d tries; it may be down or overloaded: try again later", e.root.Host, attempt+1), err)
		}
		wait := jitter(backoff(attempt))
		var ae *client.APIError
		if errors.As(err, &ae) && ae.RetryAfter > wait {
			wait = min(ae.RetryAfter, 2*time.Minute)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// refused maps a non-transient error.
func (e *Engine) refused(err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.Message
	for _, f := range ae.Fields {
		msg += "; " + f.Field + ": " + f.Message
	}
	switch ae.StatusCode {
	case http.StatusUnauthorized:
		return fault.Wrap(fault.Upstream, "the upstream engine refused this server's key; the operator must check the engine's key", err)
	case http.StatusForbidden:
		return fault.Wrap(fault.Upstream, "the upstream engine refused the work (its account may be out of credits): "+clip(msg), err)
	}
	return fault.Wrap(fault.Rejected, "The model refused the request: "+clip(msg), err)
}

// Check implements registry.Checker: the upstream answers, and takes the key.
func (e *Engine) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(e.root.String(), "/")+"/v2/models", nil)
	if err != nil {
		return err
	}
	if e.c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+e.c.Key)
	}
	resp, err := e.checks.Do(req)
	if err != nil {
		return fault.Wrap(fault.Upstream, fmt.Sprintf("cannot reach %s: is the upstream running, and its url right?", e.root.Host), redact.Error(err))
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fault.Errorf(fault.Upstream, "%s refuses the key (HTTP %d)", e.root.Host, resp.StatusCode)
	case resp.StatusCode >= 500:
		return fault.Errorf(fault.Upstream, "%s answers HTTP %d", e.root.Host, resp.StatusCode)
	}
	return nil
}

func backoff(attempt int) time.Duration {
	return min(250*time.Millisecond<<attempt, 8*time.Second)
}

// jitter spreads d by ±20%, so that many workers do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + time.Duration(rand.Int64N(int64(d*2/5)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// clip bounds an upstream's text in our messages.
func clip(s string) string {
	if r := []rune(s); len(r) > 300 {
		return string(r[:300]) + "…"
	}
	return s
}
