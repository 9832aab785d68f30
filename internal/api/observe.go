package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// requestLog is what a request's log line says beyond the request itself;
// handlers fill it in as they learn it.
type requestLog struct {
	keyID        string
	generationID string
}

type requestLogKey struct{}

// noteGeneration records the generation a request acted on, for its log line.
func noteGeneration(r *http.Request, id string) {
	if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
		l.generationID = id
	}
}

func noteKey(r *http.Request, id string) {
	if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
		l.keyID = id
	}
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observed logs every request (one structured line, with the request id,
// the route pattern, the key id and the generation id; never the
// Authorization header, the body or the query) and reports its latency to
// ObserveRequest by route pattern, not raw path.
func (s *Server) observed(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestLog{}
		r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			elapsed := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			_, route := mux.Handler(r)
			if route == "" {
				route = "unmatched"
			}
			if s.ObserveRequest != nil {
				s.ObserveRequest(route, status, elapsed)
			}
			level := slog.LevelInfo
			if route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics" || strings.HasPrefix(route, "GET /files/") {
				level = slog.LevelDebug
			}
			attrs := []slog.Attr{
				slog.String("request_id", requestID(r)),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			}
			if info.keyID != "" {
				attrs = append(attrs, slog.String("key_id", info.keyID))
			}
			if info.generationID != "" {
				attrs = append(attrs, slog.String("generation_id", info.generationID))
			}
			s.log().LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}
