// Package replicate renders generations with a model behind Replicate's
// predictions API (the hosted service at https://api.replicate.com) or a
// Cog container, which serves the same prediction objects on its own
// routes.
//
// # Hosted or Cog
//
// An engine is hosted when its config names a model (owner/name) or a
// version; with neither it talks to a Cog container at url:
//
//   - Hosted: POST /v1/models/{owner}/{name}/predictions (or /v1/predictions
//     with the version), Authorization: Bearer key, then GET
//     /v1/predictions/{id} until the prediction ends. The prediction's id is
//     saved with Task.Save before the first poll, so an attempt after a
//     crash resumes it instead of paying for a second one. The API has no
//     idempotency key, so there is one window left: a crash (or a lost
//     answer) between the create request reaching Replicate and its id being
//     saved makes the next attempt create another prediction. A render
//     stopped while its create request is on the way gives the answer half
//     a second more, so that the id is still saved (or, when the client
//     cancelled, the prediction cancelled).
//   - Cog: PUT /predictions/{generation id}, synchronously. Cog's API has no
//     GET for a prediction (its docs: "polling for prediction status is not
//     currently supported"), and forgets a prediction when it ends, so an
//     asynchronous prediction's result can only reach a webhook. The
//     synchronous PUT answers with the result instead. The PUT is
//     idempotent by id: asked again while the prediction runs, Cog answers
//     202 with its state rather than starting another. Such a prediction is
//     an orphan of an attempt that died (its result can no longer reach
//     anyone), so the engine cancels it and asks again. Nothing is saved
//     for a later attempt: there is nothing it could resume.
//
// The input object sent to the model is a template (see Config.Input).
// The model's output (a URL, a data URI, or a list or object of them) is
// downloaded at once (Replicate's output URLs expire) and turned into the
// served MP4 by engine.Finisher, which also adds the request's speech when
// the model made no audio.
//
// When the render's context ends because the client cancelled the
// generation (generation.Cancelled), the prediction is cancelled upstream.
// When it ends otherwise (the worker is stopping, the attempt ran out of
// time) a hosted prediction is left running for the next attempt to
// resume; a Cog prediction is cancelled, since nothing can resume it.
package replicate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"stillmotion/internal/engine"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/redact"
)

// Config is one replicate engine's settings in the engines file:
//
//	kind: replicate
//	url: https://api.replicate.com   # or a Cog container's root, http://gpu-1:5000
//	key: ${REPLICATE_API_TOKEN}      # the API token (hosted); optional for Cog
//	model: wan-video/wan-2.2-i2v-fast  # or version: <hash>; neither: Cog
//	input:                           # the model's input; quote placeholders
//	  image: "{{image_url}}"
//	  prompt: "{{prompt}}"
//	  seed: "{{seed}}"               # exactly one placeholder: sent as a number
//	  num_frames: "{{frames}}"
//	fps: 16                          # the {{fps}} and {{frames}} asked for; default 24
//	poll_interval: 5s                # longest wait between status reads; default 5s
//	expected_time: 2m                # a typical prediction, for progress without logs
//
// The placeholders: {{image_url}} and {{image}} (the request's image: its
// http(s) URL, or a data URI of its bytes when it has none), {{prompt}},
// {{negative_prompt}}, {{style}}, {{seed}}, {{width}} and {{height}} (the
// frame size of the request's resolution at the image's aspect ratio),
// {{resolution}} ("720p"), {{duration}} (seconds), {{fps}} and {{frames}}
// (duration × fps). A value that is exactly one placeholder keeps its JSON
// type: seed, width, height, duration, fps and frames are numbers. In YAML
// a placeholder must be quoted: unquoted, {{seed}} is a mapping.
type Config struct {
	// URL is the root of the API: https://api.replicate.com, or a Cog
	// container's http://host:port.
	URL string `yaml:"url"`
	// Key is sent as "Authorization: Bearer <key>". Required for
	// api.replicate.com; a Cog container needs none (but one behind an
	// authenticating proxy may).
	Key string `yaml:"key"`
	// Model is the hosted model, owner/name: predictions run on its latest
	// version. Version pins one (a hash, or owner/name:hash) instead.
	// With neither, URL is a Cog container.
	Model   string `yaml:"model"`
	Version string `yaml:"version"`
	// Input is the template of the prediction's input object.
	Input map[string]any `yaml:"input"`
	// FPS is the frame rate {{fps}} and {{frames}} ask for. Default 24.
	FPS int `yaml:"fps"`
	// PollInterval is the longest wait between reads of a hosted
	// prediction's status. Default 5s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ExpectedTime is how long a prediction usually takes: progress is
	// estimated from it when the model's logs show no progress bar.
	// Default 2m.
	ExpectedTime time.Duration `yaml:"expected_time"`
}

// Deps are what an engine is built with besides its config.
type Deps = engine.Remote

// Engine renders with a Replicate model or a Cog container.
type Engine struct {
	name    string
	cfg     Config
	hosted  bool
	base    *url.URL // the API root, without a trailing slash
	owner   string   // hosted model, when set
	model   string
	version string // the version hash, when set
	tmpl    *template

	client *http.Client
	fin    *engine.Finisher
	tmp    string
	log    *slog.Logger

	retry     retryPolicy
	pollFirst time.Duration // the first wait between status reads
	maxOutput int64         // the largest output downloaded, in bytes
}

var _ generation.Engine = (*Engine)(nil)

// The defaults of Config's optional fields.
const (
	defaultFPS          = 24
	defaultPollInterval = 5 * time.Second
	defaultExpectedTime = 2 * time.Minute
	// maxOutput bounds a downloaded video; a 10 s 1080p clip is tens of MB.
	maxOutput = 256 << 20
)

var (
	ownerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	versionID = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// New builds the engine called name from c, checking every setting.
func New(name string, c Config, d Deps) (*Engine, error) {
	bad := func(format string, args ...any) (*Engine, error) {
		return nil, fault.Errorf(fault.Invalid, format, args...)
	}
	c.URL = strings.TrimSpace(c.URL)
	c.Key = strings.TrimSpace(c.Key)
	if c.URL == "" {
		return bad("url is missing: set it to https://api.replicate.com or to a Cog container's root, like http://127.0.0.1:5000")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("url %q must be an http(s) URL with a host, like https://api.replicate.com", redact.URL(c.URL))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return bad("url %s must have no user info, query or fragment: put the token in key", redact.URL(c.URL))
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
	u.RawPath = ""
	e := &Engine{name: name, cfg: c, base: u, retry: defaultRetry, maxOutput: maxOutput}
	if c.Model != "" && c.Version != "" {
		return bad("set model or version, not both: model runs the model's latest version, version pins one")
	}
	switch {
	case c.Model != "":
		if !ownerName.MatchString(c.Model) {
			return bad("model %q must be owner/name, like wan-video/wan-2.2-i2v-fast", c.Model)
		}
		e.hosted = true
		e.owner, e.model, _ = strings.Cut(c.Model, "/")
	case c.Version != "":
		v := c.Version
		if m, hash, ok := strings.Cut(v, ":"); ok {
			if !ownerName.MatchString(m) {
				return bad("version %q must be a version id, or owner/name:id", v)
			}
			e.owner, e.model, _ = strings.Cut(m, "/")
			v = hash
		}
		if !versionID.MatchString(v) {
			return bad("version %q must be a version id (letters and digits), or owner/name:id", c.Version)
		}
		e.hosted, e.version = true, v
	case strings.EqualFold(u.Hostname(), "api.replicate.com"):
		return bad("url is Replicate's API but neither model nor version is set: add model: owner/name (or version: <id>); leave both out only for a Cog container")
	}
	if e.hosted && c.Key == "" && strings.EqualFold(u.Hostname(), "api.replicate.com") {
		return bad("key is missing: Replicate's API needs a token, like key: ${REPLICATE_API_TOKEN}")
	}
	if len(c.Input) == 0 {
		return bad("input is missing: map the model's inputs to placeholders, like input: {image: \"{{image_url}}\", prompt: \"{{prompt}}\"}")
	}
	if e.tmpl, err = parseTemplate(c.Input); err != nil {
		return bad("%v", err)
	}
	switch {
	case c.FPS == 0:
		e.cfg.FPS = defaultFPS
	case c.FPS < 1 || c.FPS > 120:
		return bad("fps %d must be between 1 and 120", c.FPS)
	}
	switch {
	case c.PollInterval == 0:
		e.cfg.PollInterval = defaultPollInterval
	case c.PollInterval < 10*time.Millisecond:
		return bad("poll_interval %v is too short: use 1s or more", c.PollInterval)
	}
	switch {
	case c.ExpectedTime == 0:
		e.cfg.ExpectedTime = defaultExpectedTime
	case c.ExpectedTime < 0:
		return bad("expected_time %v must be positive", c.ExpectedTime)
	}
	e.pollFirst = min(500*time.Millisecond, e.cfg.PollInterval)
	e.fin = d.Finisher
	if e.fin == nil {
		e.fin = &engine.Finisher{}
	}
	e.tmp = cmp.Or(d.TempDir, os.TempDir())
	e.log = d.Logger
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("engine", name)
	e.client = d.HTTPClient
	if e.client == nil {
		e.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return e, nil
}

// Fields returns the request fields an engine built from c honours: those
// whose placeholders its input template uses, and speech, which the
// Finisher adds as a track when the model makes no audio. A config New
// refuses honours speech only.
func Fields(c Config) []string {
	t, err := parseTemplate(c.Input)
	if err != nil {
		return []string{generation.FieldSpeech, generation.FieldSpeaker}
	}
	return t.fields()
}

// Hosted reports whether the engine talks to Replicate's hosted API (it
// names a model or version) rather than a Cog container.
func (e *Engine) Hosted() bool { return e.hosted }

// what names the model for messages and plans.
func (e *Engine) what() string {
	switch {
	case e.model != "" && e.version != "":
		return fmt.Sprintf("%s/%s:%.8s", e.owner, e.model, e.version)
	case e.model != "":
		return e.owner + "/" + e.model
	case e.version != "":
		return fmt.Sprintf("version %.12s", e.version)
	}
	return "the Cog model"
}

// Check reaches the engine's server without rendering: for the hosted
// API, the model (or the account, for a bare version), which also checks
// the key; for Cog, its health check, which must say READY (or BUSY).
func (e *Engine) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if e.hosted {
		p := "/v1/account"
		switch {
		case e.model != "" && e.version != "":
			p = "/v1/models/" + e.owner + "/" + e.model + "/versions/" + e.version
		case e.model != "":
			p = "/v1/models/" + e.owner + "/" + e.model
		}
		rep, err := e.once(ctx, call{method: http.MethodGet, path: p})
		if err != nil {
			return e.unreachable(err)
		}
		if rep.status != http.StatusOK {
			return e.refused(rep, "checking "+e.what())
		}
		return nil
	}
	rep, err := e.once(ctx, call{method: http.MethodGet, path: "/health-check"})
	if err != nil {
		return e.unreachable(err)
	}
	if rep.status != http.StatusOK {
		return e.refused(rep, "checking the Cog container's health")
	}
	var h struct {
		Status    string `json:"status"`
		UserError string `json:"user_healthcheck_error"`
	}
	if err := json.Unmarshal(rep.body, &h); err != nil {
		return fault.Wrap(fault.Upstream, "the Cog container's /health-check did not answer JSON: check that url is a Cog container's root", err)
	}
	switch h.Status {
	case "READY", "BUSY":
		return nil
	case "STARTING":
		return fault.E(fault.Upstream, "the Cog container is still starting (its model's setup is running): try again shortly")
	case "SETUP_FAILED":
		return fault.E(fault.Upstream, "the Cog container's model setup failed: read the container's logs")
	}
	msg := fmt.Sprintf("the Cog container is %s", cmp.Or(h.Status, "in an unknown state"))
	if h.UserError != "" {
		msg += ": " + truncate(e.scrub(h.UserError), 300)
	}
	return fault.E(fault.Upstream, msg+"; restart it")
}

// Render implements generation.Engine.
func (e *Engine) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	m := newMeter(t, e.cfg.ExpectedTime)
	m.set(0.01)
	var (
		r   *result
		err error
	)
	if e.hosted {
		r, err = e.runHosted(ctx, t, m)
	} else {
		r, err = e.runCog(ctx, t, m)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxFault(ctx, err)
		}
		return nil, err
	}
	defer os.Remove(r.file)
	m.set(0.95)
	o, err := e.fin.Finish(ctx, r.file, t)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxFault(ctx, err)
		}
		return nil, err
	}
	o.Plan = fmt.Sprintf("rendered by %s (prediction %s)", e.what(), r.id)
	m.done()
	return o, nil
}

// result is a finished prediction's video, downloaded.
type result struct {
	id   string
	file string
}

// ctxFault is the fault of a render whose context has ended.
func ctxFault(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "the generation ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "the generation was cancelled", err)
}
