package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/fault"
)

const eventsPath = universalPath + "/events"

// events serves GET /v2/video/generations/events?generation_id=ID: a
// server-sent event stream of one generation. Each change of status,
// progress or queue position is sent as an event "generation" whose data is
// the poll response body; the stream ends after the event of an end state.
// Errors before the stream starts are ordinary JSON errors; a failure after
// it started is an event "error" with {"message"}.
func (s *Server) events(w http.ResponseWriter, r *http.Request, k *auth.Key) {
	id := r.URL.Query().Get("generation_id")
	if id == "" {
		s.fail(w, r, &fault.Error{Kind: fault.Invalid, Message: "Query validation error!",
			Fields: []fault.FieldError{{Field: "generation_id", Message: "Required"}}})
		return
	}
	noteGeneration(r, id)
	ctx := r.Context()
	g, err := s.Service.Poll(ctx, k.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	interval := s.EventInterval
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies: do not buffer the stream
	h.Set("X-Inference-Id", g.ID)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	tick := time.NewTicker(interval)
	defer tick.Stop()
	deadline := time.NewTimer(time.Hour) // a client may reconnect
	defer deadline.Stop()
	lastKeepAlive := time.Now()
	var last string
	seq := 0
	for {
		body, err := s.body(r, g, true)
		if err != nil {
			s.log().Warn("event stream", "request_id", requestID(r), "id", id, "err", err)
			fmt.Fprintf(w, "event: error\ndata: {\"message\":%q}\n\n", "the generation could not be read; poll it instead")
			rc.Flush()
			return
		}
		state := fmt.Sprint(body.Status, body.Progress != nil, progressOf(body), body.QueuePosition)
		if state != last {
			last = state
			seq++
			b, _ := json.Marshal(body)
			fmt.Fprintf(w, "id: %d\nevent: generation\ndata: %s\n\n", seq, b)
			if err := rc.Flush(); err != nil {
				return
			}
			lastKeepAlive = time.Now()
		} else if time.Since(lastKeepAlive) > 15*time.Second {
			fmt.Fprint(w, ": keep-alive\n\n")
			if err := rc.Flush(); err != nil {
				return
			}
			lastKeepAlive = time.Now()
		}
		if g.Status.Terminal() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
		if g, err = s.Service.Poll(ctx, k.ID, id); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(w, "event: error\ndata: {\"message\":%q}\n\n", fault.MessageOf(err))
				rc.Flush()
			}
			return
		}
	}
}

func progressOf(b *generationBody) int {
	if b.Progress == nil {
		return 0
	}
	return *b.Progress
}
