package fakecog

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// index is Cog's discovery document.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"cog_version": "fake", "docs_url": "/docs", "openapi_url": "/openapi.json",
		"healthcheck_url": "/health-check", "predictions_url": "/predictions",
		"predictions_idempotent_url": "/predictions/{prediction_id}",
		"predictions_cancel_url":     "/predictions/{prediction_id}/cancel",
	})
}

func (s *Server) healthCheck(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status := s.health
	if status == "" {
		status = "READY"
		if s.opts.Slots > 0 && len(s.inflight) >= s.opts.Slots {
			status = "BUSY"
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"status":  status,
		"setup":   map[string]any{"status": "succeeded", "logs": ""},
		"version": map[string]any{"coglet": "fake"},
	})
}

// cogPredict is POST /predictions (id "") and PUT /predictions/{id}.
func (s *Server) cogPredict(w http.ResponseWriter, r *http.Request, id string) {
	pr, err := readRequest(r)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{
			"loc": []string{"body"}, "msg": "invalid JSON: " + err.Error(), "type": "value_error.jsondecode"}}})
		return
	}
	if id == "" {
		id = pr.ID
		if id == "" {
			id = newID()
		}
	} else if pr.ID != "" && pr.ID != id {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{
			"loc": []string{"body", "id"}, "msg": "prediction ID must match the ID supplied in the URL", "type": "value_error"}}})
		return
	}
	s.mu.Lock()
	if p := s.inflight[id]; p != nil && r.Method == http.MethodPut {
		// Idempotent: the running prediction's state, and no new one.
		v := s.view(p)
		s.mu.Unlock()
		writeJSON(w, http.StatusAccepted, v)
		return
	}
	if s.opts.Slots > 0 && len(s.inflight) >= s.opts.Slots {
		s.mu.Unlock()
		writeJSON(w, http.StatusConflict, map[string]any{"error": "At capacity - all prediction slots busy", "status": "failed"})
		return
	}
	s.mu.Unlock()
	j, errs := parseInput(pr.Input)
	if len(errs) > 0 {
		var detail []any
		for _, e := range errs {
			detail = append(detail, map[string]any{"loc": []string{"body", "input", e.field}, "msg": e.msg, "type": "value_error"})
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": detail})
		return
	}
	s.mu.Lock()
	p := s.start(pr, j, id, "", "", root(r), true)
	s.mu.Unlock()
	if r.Header.Get("Prefer") == "respond-async" {
		writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "starting"})
		return
	}
	if !wait(r.Context(), p) {
		// The client hung up on a synchronous prediction: cancel it.
		s.cancel(p)
		<-p.done
		return
	}
	s.mu.Lock()
	v := s.view(p)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// cancel cancels a running prediction.
func (s *Server) cancel(p *prediction) {
	s.mu.Lock()
	if !terminal(p.status) {
		p.status = "canceled"
	}
	s.mu.Unlock()
	p.cancel()
}

func (s *Server) cogCancel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.cancels++
	p := s.inflight[r.PathValue("id")]
	s.mu.Unlock()
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{})
		return
	}
	s.cancel(p)
	writeJSON(w, http.StatusOK, map[string]any{})
}

// authorized checks the hosted API's token.
func (s *Server) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		token := s.token
		s.mu.Unlock()
		if token == "" {
			h(w, r)
			return
		}
		got := r.Header.Get("Authorization")
		if got == "Bearer "+token || got == "Token "+token {
			h(w, r)
			return
		}
		// The presented token is echoed on purpose: a client must not
		// pass a server's words on with its secret in them.
		writeJSON(w, http.StatusUnauthorized, map[string]any{"title": "Unauthenticated",
			"detail": "Invalid token: " + strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(got, "Bearer"), "Token")), "status": 401})
	}
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"title": "Not found", "detail": "The requested resource could not be found.", "status": 404})
}

// knownVersion reports whether v (a hash, or owner/name:hash) is one the
// fake serves.
func (s *Server) knownVersion(v string) bool {
	if s.opts.Version == "" {
		return v != ""
	}
	if m, hash, ok := strings.Cut(v, ":"); ok {
		return hash == s.opts.Version && (s.opts.Model == "" || m == s.opts.Model)
	}
	return v == s.opts.Version
}

func (s *Server) hostedCreate(w http.ResponseWriter, r *http.Request) {
	pr, err := readRequest(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"title": "Invalid JSON", "detail": err.Error(), "status": 400})
		return
	}
	model, version := "", pr.Version
	if owner := r.PathValue("owner"); owner != "" {
		model = owner + "/" + r.PathValue("name")
		if s.opts.Model != "" && model != s.opts.Model {
			notFound(w)
			return
		}
		version = s.opts.Version
	} else if !s.knownVersion(pr.Version) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"title": "Invalid version", "detail": "Invalid version or not permitted", "status": 422})
		return
	} else {
		model = s.opts.Model
		if _, hash, ok := strings.Cut(version, ":"); ok {
			version = hash
		}
	}
	j, errs := parseInput(pr.Input)
	if len(errs) > 0 {
		var lines []string
		for _, e := range errs {
			lines = append(lines, "- "+e.field+": "+e.msg)
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"title": "Input validation failed", "detail": strings.Join(lines, "\n"), "status": 422})
		return
	}
	s.mu.Lock()
	p := s.start(pr, j, newID(), model, version, root(r), false)
	s.mu.Unlock()
	if d, ok := preferWait(r.Header.Get("Prefer")); ok {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		wait(ctx, p)
		cancel()
	}
	s.mu.Lock()
	v := s.view(p)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

// preferWait reads "Prefer: wait" (60 s) or "wait=n".
func preferWait(h string) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "wait" {
		return time.Minute, true
	}
	if n, ok := strings.CutPrefix(h, "wait="); ok {
		if s, err := strconv.Atoi(n); err == nil && s > 0 && s <= 60 {
			return time.Duration(s) * time.Second, true
		}
	}
	return 0, false
}

func (s *Server) hostedGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.preds[r.PathValue("id")]
	if p == nil || p.cog {
		s.mu.Unlock()
		notFound(w)
		return
	}
	v := s.view(p)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) hostedCancel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.cancels++
	p := s.preds[r.PathValue("id")]
	s.mu.Unlock()
	if p == nil || p.cog {
		notFound(w)
		return
	}
	s.cancel(p)
	s.mu.Lock()
	v := s.view(p)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) hostedModel(w http.ResponseWriter, r *http.Request) {
	model := r.PathValue("owner") + "/" + r.PathValue("name")
	if s.opts.Model != "" && model != s.opts.Model {
		notFound(w)
		return
	}
	version := s.opts.Version
	if v := r.PathValue("version"); v != "" {
		if version != "" && v != version {
			notFound(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": v, "created_at": time.Now().UTC().Format(time.RFC3339)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"owner": r.PathValue("owner"), "name": r.PathValue("name"),
		"visibility": "public", "latest_version": map[string]any{"id": version}})
}
