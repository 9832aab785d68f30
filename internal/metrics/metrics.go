// Package metrics exposes stillmotion's Prometheus metrics: HTTP request
// latency by route and status, render queue depth by job state, render time
// by resolution, speech and encode time, and failures by error name.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"stillmotion/internal/generation"
	"stillmotion/internal/remote"
)

// QueueStates returns the number of render jobs in each state
// ("available", "running", ...); a state left out has none.
type QueueStates func(ctx context.Context) (map[string]int, error)

// States are the job states the queue depth gauge always reports.
var States = []string{"available", "scheduled", "running", "retryable"}

// Metrics holds the collectors of one process, in their own registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	renders  *prometheus.HistogramVec
	failures *prometheus.CounterVec
	speech   prometheus.Histogram
	encode   prometheus.Histogram
}

var (
	_ generation.Observer = (*Metrics)(nil)
	_ remote.Observer     = (*Remote)(nil)
)

// New makes the metrics of a process. queue, if not nil, is asked for the
// queue depth at each scrape.
func New(queue QueueStates) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stillmotion_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		renders: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stillmotion_render_duration_seconds",
			Help:    "Wall time of completed renders, by resolution.",
			Buckets: []float64{1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600},
		}, []string{"resolution"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stillmotion_generation_failures_total",
			Help: "Generations ended in error, by error.name.",
		}, []string{"name"}),
		speech: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stillmotion_speech_duration_seconds",
			Help:    "Time spent synthesizing speech, per render with speech.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		encode: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stillmotion_encode_duration_seconds",
			Help:    "Time spent drawing and encoding frames, per render.",
			Buckets: []float64{.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600},
		}),
	}
	m.reg.MustRegister(m.requests, m.renders, m.failures, m.speech, m.encode,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		m.reg.MustRegister(&queueCollector{states: queue})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format. When the
// database does not answer, the queue depth is left out and the rest served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest records one answered HTTP request.
func (m *Metrics) ObserveRequest(route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

// Rendered implements generation.Observer.
func (m *Metrics) Rendered(req *generation.Request, o *generation.Output, elapsed time.Duration) {
	m.renders.WithLabelValues(req.Resolution).Observe(elapsed.Seconds())
	if o.Timings.Speech > 0 {
		m.speech.Observe(o.Timings.Speech.Seconds())
	}
	if o.Timings.Encode > 0 {
		m.encode.Observe(o.Timings.Encode.Seconds())
	}
}

// Failed implements generation.Observer.
func (m *Metrics) Failed(name string) {
	m.failures.WithLabelValues(name).Inc()
}

var queueDesc = prometheus.NewDesc("stillmotion_queue_jobs",
	"Render jobs not yet finished, by state (queried at scrape).", []string{"state"}, nil)

// queueCollector asks the database for the queue depth at each scrape.
type queueCollector struct {
	states QueueStates
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.states(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	for _, s := range States {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n[s]), s)
	}
}

// Remote holds the collectors of a remote worker (package remote), in
// their own registry.
type Remote struct {
	reg         *prometheus.Registry
	running     prometheus.Gauge
	jobs        *prometheus.HistogramVec
	unreachable prometheus.Counter
}

// NewRemote makes the metrics of a remote worker.
func NewRemote() *Remote {
	m := &Remote{
		reg: prometheus.NewRegistry(),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stillmotion_remote_jobs_running",
			Help: "Jobs this remote worker holds a lease on.",
		}),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stillmotion_remote_job_duration_seconds",
			Help:    "Time from lease to the job's end, by outcome (completed, failed, retried, cancelled, lost, handed_back).",
			Buckets: []float64{1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600},
		}, []string{"outcome"}),
		unreachable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stillmotion_remote_api_unreachable_total",
			Help: "Calls to the API that went unanswered (or answered 5xx or 429).",
		}),
	}
	m.reg.MustRegister(m.running, m.jobs, m.unreachable,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Remote) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Started implements remote.Observer.
func (m *Remote) Started() { m.running.Inc() }

// Ended implements remote.Observer.
func (m *Remote) Ended(outcome string, elapsed time.Duration) {
	m.running.Dec()
	m.jobs.WithLabelValues(outcome).Observe(elapsed.Seconds())
}

// Unreachable implements remote.Observer.
func (m *Remote) Unreachable() { m.unreachable.Inc() }
