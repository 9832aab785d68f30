package replicate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/redact"
)

// cancelWithin bounds the cancel request sent when a render stops, so that
// Render returns within the couple of seconds generation.Engine allows
// (with graceFor, which a create request may take before it).
const cancelWithin = 1200 * time.Millisecond

// tickEvery is how often the time-based progress estimate is reported.
const tickEvery = 250 * time.Millisecond

// state is what a hosted render saves for the attempts after it.
type state struct {
	Prediction string `json:"prediction"`
}

func savedPrediction(s string) string {
	var st state
	if json.Unmarshal([]byte(s), &st) != nil {
		return ""
	}
	return st.Prediction
}

// errNotFound is a prediction the hosted API no longer knows.
var errNotFound = errors.New("no such prediction")

// runHosted renders on Replicate's API: it resumes the prediction an
// earlier attempt saved, or creates one and saves its id, then polls it
// to its end and downloads its video.
func (e *Engine) runHosted(ctx context.Context, t *generation.Task, m *meter) (*result, error) {
	var p *prediction
	resumed := false
	if id := savedPrediction(t.State); id != "" {
		got, err := e.get(ctx, id)
		switch {
		case errors.Is(err, errNotFound):
			e.log.Warn("the saved prediction is gone; creating another", "generation", t.ID, "prediction", id)
		case err != nil:
			return nil, err
		case got.Status == statusCanceled || got.Status == statusAborted:
			// Stopped by someone else, or by a deadline: this attempt
			// still wants the video.
			e.log.Info("the saved prediction was stopped; creating another", "generation", t.ID, "prediction", id, "status", got.Status)
		default:
			p, resumed = got, true
			e.log.Info("resuming the saved prediction", "generation", t.ID, "prediction", id, "status", got.Status)
		}
	}
	for {
		if p == nil {
			var err error
			if p, err = e.create(ctx, t); err != nil {
				return nil, err
			}
			e.log.Info("prediction created", "generation", t.ID, "prediction", p.ID)
			e.save(ctx, t, p.ID)
		}
		m.set(waitFrom)
		m.started()
		var err error
		if p, err = e.await(ctx, p, m); err != nil {
			return nil, err
		}
		r, err := e.outcome(ctx, p)
		var gone *expiredError
		if resumed && errors.As(err, &gone) {
			// The earlier attempt's video expired before this one came.
			e.log.Info("the saved prediction's output expired; creating another", "generation", t.ID, "prediction", p.ID)
			p, resumed = nil, false
			continue
		}
		return r, err
	}
}

// save records a new prediction's id for the attempts after this one. It
// saves even when ctx has just ended because the worker is stopping (the
// next attempt needs the id most then), briefly; not when the client
// cancelled the generation, which no attempt will resume.
func (e *Engine) save(ctx context.Context, t *generation.Task, id string) {
	if generation.Cancelled(ctx) {
		return
	}
	within := 5 * time.Second
	if ctx.Err() != nil {
		within = 300 * time.Millisecond
	}
	b, _ := json.Marshal(state{Prediction: id})
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), within)
	defer cancel()
	if err := t.SaveState(sctx, string(b)); err != nil {
		e.log.Warn("saving the prediction's id failed: an attempt after this one would create another", "generation", t.ID, "prediction", id, "err", err)
	}
}

// create starts a hosted prediction.
func (e *Engine) create(ctx context.Context, t *generation.Task) (*prediction, error) {
	in, err := e.input(ctx, t)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"input": in}
	path := "/v1/models/" + e.owner + "/" + e.model + "/predictions"
	if e.version != "" {
		body["version"], path = e.version, "/v1/predictions"
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "encoding the prediction", err)
	}
	rep, err := e.do(ctx, call{method: http.MethodPost, path: path, body: b, grace: true})
	if err != nil {
		return nil, err
	}
	switch rep.status {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return nil, e.rejected(detail(rep.body), fmt.Errorf("creating the prediction: HTTP %d", rep.status))
	default:
		return nil, e.refused(rep, "creating the prediction")
	}
	p, err := parsePrediction(rep.body)
	if err == nil && p.ID == "" {
		err = errors.New("the prediction has no id")
	}
	if err != nil {
		return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server (engine %s) answered the new prediction with something else; its operator must check url", e.name), err)
	}
	return p, nil
}

// get reads a hosted prediction.
func (e *Engine) get(ctx context.Context, id string) (*prediction, error) {
	rep, err := e.do(ctx, call{method: http.MethodGet, path: "/v1/predictions/" + url.PathEscape(id)})
	if err != nil {
		return nil, err
	}
	switch rep.status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("the prediction disappeared from the model's server (engine %s); try again", e.name), errNotFound)
	default:
		return nil, e.refused(rep, "reading the prediction")
	}
	p, err := parsePrediction(rep.body)
	if err != nil {
		return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server (engine %s) answered a prediction's status with something else", e.name), err)
	}
	return p, nil
}

// await polls p until it ends, reporting its progress. When ctx ends it
// cancels the prediction if the client cancelled the generation, and
// leaves it running for the next attempt otherwise.
func (e *Engine) await(ctx context.Context, p *prediction, m *meter) (*prediction, error) {
	stop := make(chan struct{})
	defer close(stop)
	go m.tick(tickEvery, stop)
	interval := e.pollFirst
	id := p.ID
	for {
		m.logs(p.logs())
		if p.terminal() {
			return p, nil
		}
		// ±20% so that many renders polling at once spread out.
		wait := interval*4/5 + time.Duration(float64(interval)*0.4*rand.Float64())
		if err := sleep(ctx, wait); err != nil {
			e.stopped(ctx, "/v1/predictions/"+url.PathEscape(id)+"/cancel", id)
			return nil, err
		}
		next, err := e.get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				e.stopped(ctx, "/v1/predictions/"+url.PathEscape(id)+"/cancel", id)
			}
			return nil, err
		}
		p = next
		interval = min(interval*3/2, e.cfg.PollInterval)
	}
}

// stopped handles a hosted render whose context ended while its
// prediction ran.
func (e *Engine) stopped(ctx context.Context, cancelPath, id string) {
	if generation.Cancelled(ctx) {
		e.cancelUpstream(ctx, cancelPath, id)
		return
	}
	e.log.Info("render stopped; the prediction is left running for the next attempt", "prediction", id, "cause", context.Cause(ctx))
}

// cancelUpstream asks the server to cancel a prediction, once and briefly:
// the render has already been stopped.
func (e *Engine) cancelUpstream(ctx context.Context, path, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelWithin)
	defer cancel()
	rep, err := e.once(cctx, call{method: http.MethodPost, path: path})
	switch {
	case err != nil:
		e.log.Warn("cancelling the prediction failed", "prediction", id, "err", err)
	case rep.status >= 300 && rep.status != http.StatusNotFound:
		e.log.Warn("cancelling the prediction failed", "prediction", id, "status", rep.status)
	default:
		e.log.Info("prediction cancelled", "prediction", id)
	}
}

// runCog renders on a Cog container with a synchronous, idempotent PUT
// named by the generation's id.
func (e *Engine) runCog(ctx context.Context, t *generation.Task, m *meter) (*result, error) {
	in, err := e.input(ctx, t)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(map[string]any{"id": t.ID, "input": in})
	if err != nil {
		return nil, fault.Wrap(fault.Internal, "encoding the prediction", err)
	}
	path := "/predictions/" + url.PathEscape(t.ID)
	cancelPath := path + "/cancel"
	m.set(waitFrom)
	m.started()
	stop := make(chan struct{})
	defer close(stop)
	go m.tick(tickEvery, stop)
	for try := 1; ; try++ {
		rep, err := e.do(ctx, call{method: http.MethodPut, path: path, body: b, wait: true, busy: true})
		if err != nil {
			if ctx.Err() != nil {
				// Cog cannot hand a prediction's result to a later
				// attempt: cancel it whatever ended ctx, so that it frees
				// the container for that attempt.
				e.cancelUpstream(ctx, cancelPath, t.ID)
			}
			return nil, err
		}
		switch rep.status {
		case http.StatusOK:
			p, err := parsePrediction(rep.body)
			if err != nil {
				return nil, fault.Wrap(fault.Upstream, fmt.Sprintf("the Cog container (engine %s) answered the prediction with something else", e.name), err)
			}
			if p.terminal() {
				p.ID = t.ID
				return e.outcome(ctx, p)
			}
		case http.StatusAccepted:
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return nil, e.rejected(detail(rep.body), fmt.Errorf("creating the prediction: HTTP %d", rep.status))
		default:
			return nil, e.refused(rep, "running the prediction")
		}
		// A prediction with this id is already running: an earlier
		// attempt's, whose result can reach no one. Cancel it and ask
		// again once it has gone.
		if try >= e.retry.attempts {
			return nil, fault.Errorf(fault.Upstream, "an earlier attempt's prediction is still running on the Cog container and would not stop (engine %s); try again later", e.name)
		}
		e.log.Warn("an earlier attempt's prediction is still running; cancelling it", "generation", t.ID)
		e.cancelUpstream(ctx, cancelPath, t.ID)
		if err := sleep(ctx, e.retry.backoff(try)); err != nil {
			return nil, err
		}
	}
}

// outcome is what a prediction that has ended gives: its video,
// downloaded, or the fault that says why there is none.
func (e *Engine) outcome(ctx context.Context, p *prediction) (*result, error) {
	switch p.Status {
	case statusSucceeded:
		ref, others := pickOutput(p.Output)
		if ref == "" {
			return nil, fault.Wrap(fault.Render, "the model finished without returning a video file", fmt.Errorf("prediction %s: an output of %d bytes with no http(s) URL or data URI", p.ID, len(p.Output)))
		}
		if others > 0 {
			e.log.Info("the model returned several files; using one", "prediction", p.ID, "files", others+1, "used", redact.URL(truncate(ref, 200)))
		}
		file, err := e.fetch(ctx, ref)
		if err != nil {
			return nil, err
		}
		return &result{id: p.ID, file: file}, nil
	case statusFailed:
		return nil, e.modelFailed(p)
	case statusAborted:
		return nil, fault.Errorf(fault.Upstream, "the prediction was aborted before it started, as its deadline passed (engine %s); try again", e.name)
	}
	return nil, fault.Errorf(fault.Upstream, "the prediction was canceled on the model's server, not by this server (engine %s); try again", e.name)
}

// passing are the words of a model error that says the machine failed,
// not the input: such a prediction is worth running again.
var passing = []string{"please retry", "(code: pa)", "out of memory", "cuda error", "worker died", "internal server error"}

// modelFailed is the fault of a prediction that failed.
func (e *Engine) modelFailed(p *prediction) error {
	msg := truncate(e.scrub(errorText(p.Error)), 500)
	if msg == "" {
		msg = "it gave no reason"
	}
	low := strings.ToLower(msg)
	for _, w := range passing {
		if strings.Contains(low, w) {
			return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's server failed while rendering: %s; try again", msg), fmt.Errorf("prediction %s failed", p.ID))
		}
	}
	return e.rejected(msg, fmt.Errorf("prediction %s failed", p.ID))
}

// rejected is the fault of input the model refused, with its reason.
func (e *Engine) rejected(reason string, cause error) error {
	reason = truncate(e.scrub(reason), 500)
	if reason == "" {
		reason = "it gave no reason"
	}
	return fault.Wrap(fault.Rejected, "the model refused the request: "+reason, cause)
}
