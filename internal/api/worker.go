package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/workerproto"
)

// The remote worker protocol (package workerproto): worker tokens lease
// render jobs, renew their leases, upload the video and complete or fail
// the job. Every step reads and writes the database only, so that any API
// process can serve any worker.

func (s *Server) workerRoutes(mux *http.ServeMux) {
	mux.Handle("POST "+workerproto.LeasesPath, s.workerAuthed(s.takeLease))
	mux.Handle("POST "+workerproto.HeartbeatPath, s.workerAuthed(s.heartbeat))
	mux.Handle("PUT "+workerproto.PartPath, s.workerAuthed(s.putPart))
	mux.Handle("POST "+workerproto.CompletePath, s.workerAuthed(s.completeLease))
	mux.Handle("POST "+workerproto.FailPath, s.workerAuthed(s.failLease))
	mux.Handle("POST "+workerproto.ReleasePath, s.workerAuthed(s.releaseLease))
	mux.HandleFunc("GET "+workerproto.InputPath, s.leaseInput)
}

// workerAuthed authenticates a worker token, then calls h with it.
func (s *Server) workerAuthed(h func(http.ResponseWriter, *http.Request, *auth.Key)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !k.Worker {
			s.fail(w, r, fault.E(fault.Forbidden, "This is an API key, not a worker token: create one with 'stillmotion keys create --name NAME --worker --queues render_builtin'"))
			return
		}
		noteKey(r, k.ID)
		h(w, r, k)
	})
}

// leasePoll is how often a waiting lease request looks for work again.
const leasePoll = 200 * time.Millisecond

func (s *Server) takeLease(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	var req workerproto.LeaseRequest
	if err := decodeSmall(w, r, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	queues := k.Queues
	if len(req.Queues) > 0 {
		for _, q := range req.Queues {
			if !slices.Contains(k.Queues, q) {
				s.fail(w, r, fault.Errorf(fault.Forbidden, "This token may take work from %s only, not %s", strings.Join(k.Queues, ", "), fault.Echo(q)))
				return
			}
		}
		queues = req.Queues
	}
	if req.WaitSeconds < 0 || req.WaitSeconds > workerproto.MaxWait.Seconds() {
		s.fail(w, r, fault.Errorf(fault.Invalid, "wait_seconds must be 0 to %v", workerproto.MaxWait.Seconds()))
		return
	}
	until := time.Now().Add(time.Duration(req.WaitSeconds * float64(time.Second)))
	for first := true; ; first = false {
		if !first {
			// A token revoked while it waits is refused at once.
			if _, err := s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization")); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if s.draining.Load() {
			// This process is stopping: the worker asks again, of
			// another one.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		l, g, err := s.Service.TakeLease(r.Context(), k.Name, queues)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if l != nil && r.Context().Err() != nil {
			// The worker hung up (it is stopping): the job goes back at
			// once rather than when the lease expires.
			if err := s.Service.ReturnLease(context.WithoutCancel(r.Context()), l.ID); err != nil {
				s.log().Warn("handing back the job of a worker that hung up", "id", g.ID, "err", err)
			}
			return
		}
		if l != nil {
			noteGeneration(r, g.ID)
			body, err := s.leaseBody(l, g)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, body)
			return
		}
		wait := time.Until(until)
		if wait <= 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(min(wait, leasePoll)):
		}
	}
}

// leaseBody is what a worker is told of its lease: the request, its
// inputs' URLs in place of the client's.
func (s *Server) leaseBody(l *generation.Lease, g *generation.Generation) (*workerproto.Lease, error) {
	req := g.Request
	inputs := map[string]string{}
	for _, field := range generation.URLFields {
		if req.URL(field) != "" {
			u := strings.NewReplacer("{id}", l.ID, "{field}", field).Replace(workerproto.InputPath)
			inputs[field] = u
			req.SetURL(field, u)
		}
	}
	b, err := json.Marshal(&req)
	if err != nil {
		return nil, err
	}
	return &workerproto.Lease{
		ID: l.ID, GenerationID: g.ID, Engine: g.Engine, Queue: l.Queue, Attempt: l.Attempt, MaxAttempts: l.MaxAttempts,
		Request: b, Inputs: inputs, Script: g.Script, State: g.EngineState,
		ExpiresAt: l.Until.UTC(), Deadline: l.Deadline.UTC(), HeartbeatMillis: s.Service.HeartbeatInterval().Milliseconds(),
	}, nil
}

// ownLease returns the lease the route names if it is k's.
func (s *Server) ownLease(r *http.Request, k *auth.Key) (*generation.Lease, error) {
	id := r.PathValue("id")
	l, err := s.Service.Lease(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if l.Worker != k.Name {
		return nil, fault.Errorf(fault.NotFound, "Lease %s is not this token's", fault.Echo(id))
	}
	noteGeneration(r, l.GenerationID)
	return l, nil
}

// leaseCall reads the JSON body of a call on a lease into body (unless
// nil; an empty body is its zero value if optional) and returns the lease
// if it is k's. ok is false when it failed, the error already written.
func (s *Server) leaseCall(w http.ResponseWriter, r *http.Request, k *auth.Key, body any, optional bool) (*generation.Lease, bool) {
	if body != nil {
		if err := decodeSmall(w, r, body, optional); err != nil {
			s.fail(w, r, err)
			return nil, false
		}
	}
	l, err := s.ownLease(r, k)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return l, true
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	var hb workerproto.Heartbeat
	l, ok := s.leaseCall(w, r, k, &hb, true)
	if !ok {
		return
	}
	l, err := s.Service.RenewLease(r.Context(), l.ID, hb.Progress, hb.State)
	if errors.Is(err, generation.ErrCancelled) {
		writeJSON(w, http.StatusOK, workerproto.HeartbeatReply{Cancelled: true})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, workerproto.HeartbeatReply{ExpiresAt: l.Until.UTC()})
}

func (s *Server) putPart(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	n, err := strconv.Atoi(r.PathValue("part"))
	if err != nil || n < 1 || n > generation.MaxOutputParts {
		s.fail(w, r, fault.Errorf(fault.Invalid, "The part number must be 1 to %d", generation.MaxOutputParts))
		return
	}
	want := strings.ToLower(r.Header.Get(workerproto.SHA256Header))
	if len(want) != sha256.Size*2 {
		s.fail(w, r, fault.Errorf(fault.Invalid, "Send the part's hex SHA-256 in the %s header", workerproto.SHA256Header))
		return
	}
	if r.ContentLength > workerproto.MaxPartBytes {
		s.fail(w, r, fault.Errorf(fault.TooLarge, "A part may have %d bytes at most; upload the video in more parts", workerproto.MaxPartBytes))
		return
	}
	l, ok := s.leaseCall(w, r, k, nil, false)
	if !ok {
		return
	}
	f, err := os.CreateTemp(s.Service.TempDir, "part-*")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(f.Name())
	sum := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, sum), http.MaxBytesReader(w, r.Body, workerproto.MaxPartBytes))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fail(w, r, s.bodyError(err, workerproto.MaxPartBytes, "upload the video in more parts"))
		return
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != want {
		s.fail(w, r, fault.Errorf(fault.Invalid, "Part %d arrived with SHA-256 %s, not %s: upload it again", n, got, fault.Echo(want)))
		return
	}
	if err := s.Service.PutPart(r.Context(), l.ID, n, f.Name()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, workerproto.Part{Part: n, Size: size, SHA256: want})
}

func (s *Server) completeLease(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	var c workerproto.Completion
	l, ok := s.leaseCall(w, r, k, &c, false)
	if !ok {
		return
	}
	o := &generation.Output{Width: c.Output.Width, Height: c.Output.Height, Duration: c.Output.Duration, FPS: c.Output.FPS,
		HasAudio: c.Output.HasAudio, Plan: c.Output.Plan, Warnings: c.Output.Warnings}
	err := s.Service.CompleteLease(r.Context(), l.ID, generation.Upload{Parts: c.Parts, Size: c.Size, SHA256: strings.ToLower(c.SHA256)}, o)
	if errors.Is(err, generation.ErrCancelled) {
		err = fault.E(fault.Conflict, "The generation was cancelled: its video is not kept; drop the job")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": string(generation.Completed)})
}

func (s *Server) failLease(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	var f workerproto.Failure
	l, ok := s.leaseCall(w, r, k, &f, false)
	if !ok {
		return
	}
	retried, err := s.Service.FailLease(r.Context(), l.ID, generation.Failure{Name: f.Error.Name, Message: f.Error.Message})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, workerproto.FailureReply{Retried: retried})
}

func (s *Server) releaseLease(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	l, ok := s.leaseCall(w, r, k, nil, false)
	if !ok {
		return
	}
	if err := s.Service.ReturnLease(r.Context(), l.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// leaseInput serves an input of a leased generation. It needs no token:
// the lease id in its URL is a secret that lasts as long as the lease.
func (s *Server) leaseInput(w http.ResponseWriter, r *http.Request) {
	b, err := s.Service.LeaseInput(r.Context(), r.PathValue("id"), r.PathValue("field"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", http.DetectContentType(b))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

// maxWorkerBody bounds the JSON bodies of the worker routes.
const maxWorkerBody = 64 << 10

// decodeSmall decodes r's JSON body into v; an empty body is v's zero
// value if optional.
func decodeSmall(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWorkerBody))
	if err != nil {
		return fault.Errorf(fault.TooLarge, "The body may have %d bytes at most", maxWorkerBody)
	}
	if len(b) == 0 && optional {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fault.Errorf(fault.Invalid, "The body is not the JSON this route takes: %s", fault.Echo(err.Error()))
	}
	return nil
}
