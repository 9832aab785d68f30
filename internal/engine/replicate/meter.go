package replicate

import (
	"math"
	"sync"
	"time"

	"stillmotion/internal/generation"
)

// The stages of a render, as progress: the prediction runs between
// waitFrom and waitTo; downloading and finishing take the rest.
const (
	waitFrom = 0.02
	waitTo   = 0.90
)

// meter reports a render's progress to its task: never backwards, and
// below 1 until the render is done.
type meter struct {
	t      *generation.Task
	expect time.Duration

	mu    sync.Mutex
	last  float64
	start time.Time // when the prediction started, for the estimate
	// logged says the model's logs showed progress: the estimate is then
	// left alone, as the logs know better.
	logged bool
}

func newMeter(t *generation.Task, expect time.Duration) *meter {
	return &meter{t: t, expect: expect}
}

// set reports p unless it is behind what was reported already.
func (m *meter) set(p float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = min(p, 0.99)
	if p <= m.last {
		return
	}
	m.last = p
	m.t.Report(p)
}

// done reports the render complete.
func (m *meter) done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = 1
	m.t.Report(1)
}

// started marks the prediction running, from when the estimate counts.
func (m *meter) started() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.start.IsZero() {
		m.start = time.Now()
	}
}

// logs reports the progress the model's logs show, if they show any.
func (m *meter) logs(logs string) {
	p, ok := logProgress(logs)
	if !ok {
		return
	}
	m.mu.Lock()
	m.logged = true
	m.mu.Unlock()
	m.model(p)
}

// model reports how far the model is (0..1), within the wait stage.
func (m *meter) model(p float64) { m.set(waitFrom + (waitTo-waitFrom)*p) }

// estimate reports progress from the time the prediction has run: it
// approaches the end of the wait stage without reaching it, passing 63%
// of the way at the expected time, so that a slow model still moves.
func (m *meter) estimate() {
	m.mu.Lock()
	start, logged := m.start, m.logged
	m.mu.Unlock()
	if start.IsZero() || logged {
		return
	}
	f := 1 - math.Exp(-float64(time.Since(start))/float64(m.expect))
	m.model(0.95 * f)
}

// tick runs estimate every interval until stop is closed.
func (m *meter) tick(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.estimate()
		}
	}
}
