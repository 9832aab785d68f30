// Package api serves stillmotion's HTTP API: the AI/ML API v2 video
// generation routes (with an event stream of one generation), the
// OpenAI-compatible /v1/videos routes over the same generations, health
// checks, metrics and file downloads. It decodes and validates, calls the
// generation service, and encodes; errors are mapped to HTTP in one place,
// statusOf, and written in the v2 shape or, on /v1, in OpenAI's.
package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/testmode"
)

// Server is the HTTP API. Set its fields, then serve Handler().
type Server struct {
	Service *generation.Service
	Auth    *auth.Authenticator
	// Files serves download URLs under /files/ (nil: no local files).
	Files FileServer
	// CheckInput validates a request's URL field (image_url,
	// tail_image_url, video_url, audio_url) at submit, without network I/O.
	CheckInput func(field, src string) error
	// CheckSpeech validates lip_sync_tts_content at submit: text with
	// nothing speakable is refused there, not after queueing.
	CheckSpeech func(text string) error
	// Ready reports whether the process can take work (the database answers).
	Ready func(ctx context.Context) error
	// CheckStorage, if set, reports whether the disk has room for new
	// work; its error (fault.StorageFull) refuses submits with a 503 and
	// makes /readyz answer not ready, saying why.
	CheckStorage func() error
	// QueueDepth returns the number of unfinished jobs (nil: not checked).
	QueueDepth func(ctx context.Context) (int, error)
	// MaxQueued is the queue depth at which submits get 503. Defaults to 10,000.
	MaxQueued int
	// MaxBody is the request body limit in bytes. Defaults to 32 MiB, room
	// for a 20 MB image as a base64 data URI.
	MaxBody int64
	// RatePerSecond and RateBurst limit requests per key: a bucket of
	// RateBurst requests refilling at RatePerSecond. 0 turns it off.
	RatePerSecond float64
	RateBurst     int
	// BodyBudget bounds the request body bytes a key may be sending at
	// once (0: no bound); a body that would go over it gets 413.
	BodyBudget int64
	// BodyTimeout bounds the reading of a request body (0: no bound); a
	// body not received in time gets 408.
	BodyTimeout time.Duration
	// SucceededWord, if set, replaces "completed" on the universal route
	// (the hosted service has been seen to answer "succeeded" there).
	SucceededWord string
	// Thumbnail, if set, writes a JPEG of the first frame of the video at
	// url to w; it serves the thumbnail variant on /v1 (nil: not offered).
	Thumbnail func(ctx context.Context, url string, w io.Writer) error
	// EventInterval is how often an event stream checks its generation.
	// Defaults to 500 milliseconds.
	EventInterval time.Duration
	// VoicePreview, if set, returns a short WAV of a voice of
	// generation.Speakers (not Auto), served on GET /v2/voices/{id}/preview.
	VoicePreview func(ctx context.Context, voice string) ([]byte, error)
	// Tests, if set, records what test keys send (GET /v2/test/requests).
	Tests testmode.Recorder
	// Studio, if set, is the web studio, served at / and /assets/.
	Studio http.Handler
	// Metrics, if set, is served at GET /metrics (without authentication:
	// it holds counts and timings, no ids or keys).
	Metrics http.Handler
	// ObserveRequest, if set, is told the route pattern, status and
	// latency of every request.
	ObserveRequest func(route string, status int, elapsed time.Duration)
	Logger         *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// NewRequestID makes request ids. Defaults to generation.NewID.
	NewRequestID func() string

	draining atomic.Bool
	limits   limits
	tests    submitCounts
}

// Drain makes the server refuse new generations with 503 and report not
// ready, while polls and downloads go on.
func (s *Server) Drain() { s.draining.Store(true) }

const (
	universalPath = "/v2/video/generations"
	legacyPath    = "/v2/generate/video/pixverse/generation"
)

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	for _, p := range []string{universalPath, legacyPath} {
		mux.Handle("POST "+p, s.authed(s.submit))
		mux.Handle("GET "+p, s.authed(s.byID(s.Service.Poll)))
		mux.Handle("DELETE "+p, s.authed(s.byID(s.Service.Cancel)))
	}
	mux.Handle("GET "+listPath, s.authed(s.listGenerations))
	mux.Handle("GET /v2/models", s.authed(s.listModels))
	mux.Handle("GET /v1/models", s.authed(s.listOpenAIModels))
	mux.Handle("GET "+eventsPath, s.authed(s.events))
	mux.Handle("GET /v1/billing/balance", s.authed(s.billingBalance))
	mux.Handle("GET "+testRequestsPath, s.authed(s.testRequests))
	mux.Handle("DELETE "+testRequestsPath, s.authed(s.resetTests))
	mux.Handle("GET "+voicesPath, s.authed(s.listVoices))
	mux.Handle("GET "+voicesPath+"/{id}/preview", s.authed(s.voicePreview))
	s.workerRoutes(mux)
	if s.Studio != nil {
		mux.Handle("GET /{$}", s.Studio)
		mux.Handle("GET /assets/", s.Studio)
	}
	mux.Handle("POST "+videosPath, s.authed(s.createVideo))
	mux.Handle("GET "+videosPath, s.authed(s.listVideos))
	mux.Handle("GET "+videosPath+"/{id}", s.authed(s.getVideo))
	mux.Handle("DELETE "+videosPath+"/{id}", s.authed(s.deleteVideo))
	mux.Handle("GET "+videosPath+"/{id}/content", s.authed(s.videoContent))
	if s.Files != nil {
		mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
			if err := s.Files.ServeFile(w, r); err != nil {
				s.fail(w, r, err)
			}
		})
	}
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	return s.withRequestID(s.observed(mux, s.recoverer(s.routed(mux))))
}

func (s *Server) maxBody() int64 {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return 32 << 20
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	apiKeyKey
)

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// withRequestID takes the client's x-request-id if it is sane, or makes one,
// and echoes it.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			if s.NewRequestID != nil {
				id = s.NewRequestID()
			} else {
				id = generation.NewID()
			}
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// recoverer turns a panic into a logged 500; the client sees no stack.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log().Error("panic", "request_id", requestID(r), "panic", v, "stack", string(debug.Stack()))
				s.fail(w, r, fault.E(fault.Internal, ""))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// routed answers unknown routes and wrong methods in the API's error shape
// instead of the mux's plain text.
func (s *Server) routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			// The methods the path has routes for, which Allow must list.
			var allowed []string
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
				probe := r.Clone(r.Context())
				probe.Method = m
				if _, p := mux.Handler(probe); p != "" {
					allowed = append(allowed, m)
				}
			}
			if len(allowed) > 0 {
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				s.fail(w, r, &fault.Error{Kind: methodNotAllowed, Message: fmt.Sprintf("Method %s is not allowed on %s; use %s", r.Method, r.URL.Path, orList(allowed))})
				return
			}
			s.fail(w, r, fault.Errorf(fault.NotFound, "Cannot %s %s", r.Method, r.URL.Path))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// orList words a list as "a", "a or b", "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// methodNotAllowed is an HTTP-only kind: it never leaves this package.
const methodNotAllowed fault.Kind = 255

// statusOf maps the error vocabulary to HTTP. It is the only place that does.
func statusOf(k fault.Kind) int {
	switch k {
	case fault.Invalid, fault.ImageFetch, fault.ImageForbidden, fault.ImageTooLarge, fault.ImageInvalid:
		return http.StatusBadRequest
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case methodNotAllowed:
		return http.StatusMethodNotAllowed
	case fault.Conflict:
		return http.StatusConflict
	case fault.Gone:
		return http.StatusGone
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.RequestTimeout:
		return http.StatusRequestTimeout
	case fault.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case fault.RateLimited:
		return http.StatusTooManyRequests
	case fault.Unavailable, fault.StorageFull:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the one error shape of every API route.
// FileServer serves the files of download URLs (see blob.Disk).
type FileServer interface {
	// ServeFile serves the file r names, or writes nothing and returns a
	// fault.Error saying why not.
	ServeFile(w http.ResponseWriter, r *http.Request) error
}

type errorBody struct {
	Message    string             `json:"message"`
	Path       string             `json:"path"`
	RequestID  string             `json:"requestId"`
	StatusCode int                `json:"statusCode"`
	Timestamp  string             `json:"timestamp"`
	Errors     []fault.FieldError `json:"errors,omitempty"`
}

// StatusClientClosedRequest is the status of a request the client
// abandoned before its answer (nginx's 499): nothing reaches the client,
// and it is not the server's error.
const StatusClientClosedRequest = 499

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && fault.KindOf(err) != fault.RequestTimeout {
		// (A body read that timed out cancels the context too; that
		// client is still there to be told.)
		s.log().Debug("client closed request", "request_id", requestID(r), "path", r.URL.Path)
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = &fault.Error{Kind: fault.Internal, Err: err}
	}
	status := statusOf(fe.Kind)
	msg := fe.Message
	if status == http.StatusInternalServerError {
		s.log().Error("internal error", "request_id", requestID(r), "path", r.URL.Path, "err", err)
		msg = "Internal server error; it has been logged with request id " + requestID(r)
	}
	switch {
	case fe.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(fe.RetryAfter.Seconds()))))
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	s.writeError(w, r, status, fe, msg)
}

// writeError answers with fe as status, in the shape of r's route.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, fe *fault.Error, msg string) {
	if isOpenAI(r) {
		writeJSON(w, status, newOpenAIError(fe, status, msg))
		return
	}
	writeJSON(w, status, errorBody{
		Message:    msg,
		Path:       r.URL.Path,
		RequestID:  requestID(r),
		StatusCode: status,
		Timestamp:  s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Errors:     fe.Fields,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs keep their '&'
	b := []byte(`{"message":"encoding the response failed"}`)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.fail(w, r, fault.E(fault.Unavailable, "Shutting down"))
		return
	}
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.log().Warn("not ready", "err", err)
			s.fail(w, r, fault.E(fault.Unavailable, "Not ready: the database does not answer"))
			return
		}
	}
	if s.CheckStorage != nil {
		if err := s.CheckStorage(); err != nil {
			s.log().Warn("not ready", "err", err)
			s.fail(w, r, fault.E(fault.Unavailable, "Not ready: "+fault.MessageOf(err)))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// authed authenticates and rate-limits, then calls h with the key.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *auth.Key)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if k.Worker {
			s.fail(w, r, fault.E(fault.Forbidden, "This is a worker token: it may only take render work from its queues, not call the API; use an API key ('stillmotion keys create')"))
			return
		}
		if err := s.rateLimit(w, k.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		noteKey(r, k.ID)
		if k.Test && s.Tests != nil && !strings.HasPrefix(r.URL.Path, testRequestsPath) {
			var done func()
			w, r, done = s.recording(w, r, k)
			defer done()
		}
		h(w, r, k)
	})
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	if s.draining.Load() {
		s.fail(w, r, fault.E(fault.Unavailable, "Shutting down: not accepting new generations; retry on another instance or later"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/plain") {
			s.fail(w, r, fault.Errorf(fault.UnsupportedMedia, "Unsupported Content-Type %q: send the body as application/json", ct))
			return
		}
	}
	limit := s.maxBody()
	done, err := s.guardBody(w, r, k.ID, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	done(err)
	if err != nil {
		s.fail(w, r, s.bodyError(err, limit, "send large images as an http(s) image_url"))
		return
	}
	req, err := generation.ParseRequest(body, s.Service.RoutesServed()...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.admit(r, req); err != nil {
		s.fail(w, r, err)
		return
	}
	g, replayed, w, ok := s.submitOnce(w, r, k, req)
	if !ok {
		return
	}
	g, waited, err := s.wait(w, r, k, g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.respondAs(w, r, g, replayed || waited)
}

// admit runs the checks a valid request must pass before it is queued:
// its input URLs and speech, and the queue's depth.
func (s *Server) admit(r *http.Request, req *generation.Request) error {
	if s.CheckInput != nil {
		var bad []fault.FieldError
		var first error
		for _, field := range generation.URLFields {
			if u := req.URL(field); u != "" {
				if err := s.CheckInput(field, u); err != nil {
					bad = append(bad, fault.FieldError{Field: field, Message: fault.MessageOf(err)})
					first = cmp.Or(first, err)
				}
			}
		}
		if len(bad) > 0 {
			return &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Err: first, Fields: bad}
		}
	}
	if s.CheckSpeech != nil && req.Speech != "" {
		if err := s.CheckSpeech(req.Speech); err != nil {
			return &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Err: err,
				Fields: []fault.FieldError{{Field: "lip_sync_tts_content", Message: fault.MessageOf(err)}}}
		}
	}
	if s.CheckStorage != nil {
		if err := s.CheckStorage(); err != nil {
			return err
		}
	}
	if s.QueueDepth != nil {
		max := s.MaxQueued
		if max <= 0 {
			max = 10_000
		}
		if n, err := s.QueueDepth(r.Context()); err == nil && n >= max {
			return fault.Errorf(fault.Unavailable, "Overloaded: %d generations are waiting; retry later", n)
		}
	}
	return nil
}

// byID serves a route that acts on the generation named by the query
// parameter generation_id (poll: Service.Poll; cancel: Service.Cancel) and
// answers with the generation.
func (s *Server) byID(act func(ctx context.Context, keyID, id string) (*generation.Generation, error)) func(http.ResponseWriter, *http.Request, *auth.Key) {
	return func(w http.ResponseWriter, r *http.Request, k *auth.Key) {
		id := r.URL.Query().Get("generation_id")
		if id == "" {
			s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!",
				Fields: []fault.FieldError{{Field: "generation_id", Message: "Required"}}})
			return
		}
		g, err := act(r.Context(), k.ID, withoutModel(id))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if r.Method == http.MethodGet {
			var ok bool
			if w, ok = s.pollFaulted(w, r, g); !ok {
				return
			}
		}
		s.respond(w, r, g)
	}
}

// usage is what a generation cost: credits and dollars, or, for a test
// generation whose preset says so, tokens (as older hosted docs show).
type usage struct {
	CreditsUsed *int64   `json:"credits_used,omitempty"`
	USDSpent    *float64 `json:"usd_spent,omitempty"`
	TokensUsed  *int64   `json:"tokens_used,omitempty"`
}

func usageOf(credits int64) usage {
	usd := billing.USD(credits)
	return usage{CreditsUsed: &credits, USDSpent: &usd}
}

type meta struct {
	Usage usage `json:"usage"`
}

type video struct {
	URL         string   `json:"url"`
	ContentType string   `json:"content_type"`
	FileName    string   `json:"file_name"`
	FileSize    int64    `json:"file_size"`
	Width       int      `json:"width"`
	Height      int      `json:"height"`
	Duration    float64  `json:"duration"`
	FPS         int      `json:"fps"`
	HasAudio    bool     `json:"has_audio"`
	Warnings    []string `json:"warnings,omitempty"`
}

// generationBody is the one response shape of submit and poll.
type generationBody struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Progress *int   `json:"progress,omitempty"` // percent, 0..100, while generating
	// QueuePosition is the generation's place in the queue while queued,
	// from 1 for the next to start.
	QueuePosition int `json:"queue_position,omitempty"`
	// Plan says how the renderer reads the prompt: the camera move, its
	// speed and why, once rendering has begun.
	Plan  string              `json:"plan,omitempty"`
	Video *video              `json:"video,omitempty"`
	Error *generation.Failure `json:"error,omitempty"`
	// ExpiresAt is when the generation and its files are deleted (RFC
	// 3339, UTC); absent when the server keeps them forever.
	ExpiresAt string `json:"expires_at,omitempty"`
	Meta      meta   `json:"meta"`
	// Test marks a test key's generation (test mode).
	Test bool `json:"test,omitempty"`
}

// credits is what g costs its key: nothing once it failed (refunded).
func credits(g *generation.Generation) int64 {
	if g.Status == generation.Failed {
		return 0
	}
	return g.Credits
}

// Body returns the v2 poll body describing g, as it stands: the one shape
// that polls, submits and webhook events share. A completed generation's
// video URL is signed afresh.
func Body(ctx context.Context, svc *generation.Service, g *generation.Generation) (any, error) {
	return pollBody(ctx, svc, g)
}

func pollBody(ctx context.Context, svc *generation.Service, g *generation.Generation) (*generationBody, error) {
	c := credits(g)
	body := &generationBody{
		ID:     g.ID,
		Status: string(g.Status),
		Plan:   g.Plan,
		Error:  g.Failure,
		Meta:   meta{Usage: usageOf(c)},
		Test:   g.Test,
	}
	if t := svc.ExpiresAt(g); !t.IsZero() {
		body.ExpiresAt = t.UTC().Format(time.RFC3339)
	}
	switch g.Status {
	case generation.Generating:
		p := int(g.Progress * 100)
		body.Progress = &p
	case generation.Completed:
		u, err := svc.VideoURL(ctx, g)
		if err != nil {
			return nil, err
		}
		v := g.Video
		body.Video = &video{URL: u, ContentType: "video/mp4", FileName: v.FileName, FileSize: v.Size,
			Width: v.Width, Height: v.Height, Duration: v.Duration, FPS: v.FPS, HasAudio: v.HasAudio, Warnings: v.Warnings}
	}
	return body, nil
}

// body is the response body describing g on the route r asked. withQueue
// adds the queue position of a queued generation (a database query).
func (s *Server) body(r *http.Request, g *generation.Generation, withQueue bool) (*generationBody, error) {
	body, err := pollBody(r.Context(), s.Service, g)
	if err != nil {
		return nil, err
	}
	switch g.Status {
	case generation.Queued:
		if withQueue {
			n, err := s.Service.QueuePosition(r.Context(), g)
			if err != nil {
				return nil, err
			}
			body.QueuePosition = n
		}
	case generation.Completed:
		if s.SucceededWord != "" && strings.HasPrefix(r.URL.Path, universalPath) {
			body.Status = s.SucceededWord
		}
	}
	if sc := scriptOf(g); sc != nil {
		if p, _ := testmode.PresetNamed(sc.Preset); p.ModelIDs && g.Request.Model == "" {
			// Read without its request: the model is needed.
			if full, err := s.Service.Get(r.Context(), g.KeyID, g.ID); err == nil {
				g = full
			}
		}
		presented(body, g, sc)
	}
	return body, nil
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request, g *generation.Generation) {
	s.respondAs(w, r, g, r.Method == http.MethodGet)
}

// respondAs answers with g; asPoll gives the body a poll's queue position.
func (s *Server) respondAs(w http.ResponseWriter, r *http.Request, g *generation.Generation, asPoll bool) {
	noteGeneration(r, g.ID)
	body, err := s.body(r, g, asPoll)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := credits(g)
	h := w.Header()
	h.Set("X-Inference-Id", g.ID)
	h.Set("X-Aimlapi-Credits-Used", strconv.FormatInt(c, 10))
	h.Set("X-Aimlapi-Usd-Spent", strconv.FormatFloat(billing.USD(c), 'f', -1, 64))
	writeJSON(w, http.StatusOK, body)
}

// submitOnce submits req for k under the request's Idempotency-Key and
// marks a replay in the answer's headers. ok is false when it failed, the
// error already written.
//
// A test key's script may put a fault on the submit: then the generation is
// not made (or, for a slow answer, made and answered through the returned
// writer, which trickles).
func (s *Server) submitOnce(w http.ResponseWriter, r *http.Request, k *auth.Key, req *generation.Request) (g *generation.Generation, replayed bool, _ http.ResponseWriter, ok bool) {
	sc, err := testScript(r, k, req)
	if err != nil {
		s.fail(w, r, err)
		return nil, false, w, false
	}
	if sc != nil {
		f := sc.Submit
		if len(sc.Submits) > 0 {
			f = sc.Submits[s.tests.countSubmit(k.ID, sc.String())]
		}
		if s.writeFault(w, r, f, sc.RetryAfter) {
			return nil, false, w, false
		}
		if f == testmode.Slow {
			w = slowly(w)
		}
	}
	g, replayed, err = s.Service.SubmitAs(r.Context(), submitter(k, sc), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false, w, false
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	} else if g.MaxInFlight > 0 {
		w.Header().Set("x-ratelimit-limit-generations", strconv.Itoa(g.MaxInFlight))
		w.Header().Set("x-ratelimit-remaining-generations", strconv.Itoa(max(0, g.MaxInFlight-g.InFlight)))
	}
	return g, replayed, w, true
}
