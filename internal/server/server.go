// Package server assembles stillmotion from its parts: configuration in,
// a running API and workers out.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/api"
	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/blob"
	"stillmotion/internal/diskspace"
	"stillmotion/internal/engine"
	"stillmotion/internal/engine/registry"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/input"
	"stillmotion/internal/intake"
	"stillmotion/internal/media"
	"stillmotion/internal/metrics"
	"stillmotion/internal/queue"
	"stillmotion/internal/redact"
	"stillmotion/internal/remote"
	"stillmotion/internal/scratch"
	"stillmotion/internal/speech"
	"stillmotion/internal/store"
	"stillmotion/internal/studio"
	"stillmotion/internal/webhook"
)

// Config is every setting of a stillmotion process. The zero Config is
// valid: Defaults fills it in.
type Config struct {
	// Addr is the listen address. Defaults to 127.0.0.1:8080.
	Addr string
	// DataDir holds the database, the videos and the signing secret.
	// Defaults to ./data.
	DataDir string
	// Database is the database: a SQLite file path, or a postgres:// URL
	// for the distributed mode, where any number of API and worker
	// processes share it. Defaults to the SQLite file DataDir/stillmotion.db.
	Database string
	// Storage is where videos go: file://DIR, or
	// s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION for an S3-compatible
	// object store (credentials from AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY). Defaults to files under DataDir/videos.
	Storage string
	// PublicURL is the base of the URLs handed to clients. Defaults to
	// http://Addr (with 127.0.0.1 for an unspecified host).
	PublicURL string
	// TLSCert and TLSKey, when both set, make the API serve HTTPS with
	// this certificate and key (PEM files). Defaults to plain HTTP.
	TLSCert, TLSKey string
	// Workers is how many renders run at once; 0 makes an API-only
	// process. Defaults to the number of CPUs (when negative).
	Workers int
	// Queues are the render queues this process's workers take jobs from,
	// one per engine ("render_builtin"). Defaults to every engine's queue.
	Queues []string
	// Engines is the engines file: the engines and the models they serve
	// (see package registry). Defaults to "" (the built-in engine serves
	// pixverse/v5/image-to-video).
	Engines string
	// APIKeys are accepted with unlimited credits (STILLMOTION_API_KEYS).
	APIKeys []string
	// TestKeys are accepted as unlimited test keys (STILLMOTION_TEST_KEYS).
	TestKeys []string
	// TestMode makes every key a test key: free, scripted generations
	// kept apart from the key's real ones.
	TestMode bool
	// AllowPrivateFetch lets image_url reach loopback and private addresses.
	// Defaults to false.
	AllowPrivateFetch bool
	// MinFreeMB is the free space, in MiB, the data dir and the temp dir
	// must keep: below it submits get a 503, /readyz answers not ready and
	// renders end as storage_full, before they start or while they run.
	// 0 checks nothing.
	MinFreeMB int64
	// RateLimit and RateBurst limit each key's requests: a bucket of
	// RateBurst requests refilling at RateLimit per second (0: none).
	RateLimit float64
	RateBurst int
	// MaxInFlight is how many generations a key may have queued or
	// rendering; a submit over it gets 429 (0: no limit).
	MaxInFlight int
	// BodyBudget is how many request body bytes a key may be sending at
	// once; a body over it gets 413 (0: no bound).
	BodyBudget int64
	// BodyTimeout bounds the reading of one request body; a body not
	// received in time gets 408 (0: no bound).
	BodyTimeout time.Duration
	// URLTTL is how long a download URL stays valid. Defaults to 7 days.
	URLTTL time.Duration
	// Retention is how long a generation is kept after it was created:
	// then every process with workers deletes the ended ones (records,
	// videos and kept inputs), sweeping at start and every few minutes.
	// 0 keeps everything (the flag's default is 7 days).
	Retention time.Duration
	// JobTimeout bounds one render attempt. Defaults to 10 minutes.
	JobTimeout time.Duration
	// RescueAfter is how long a render may run before the queue decides
	// its worker died and gives it to another; it must exceed JobTimeout.
	// A killed worker's generation starts again at most RescueAfter plus
	// about 40 seconds (River's rescuer and scheduler intervals) after it
	// started. Defaults to the longest attempt (JobTimeout, or an engine's
	// longer timeout) + 1 minute.
	RescueAfter time.Duration
	// LeaseTime is how long a remote worker's lease lasts unless renewed:
	// a job whose worker vanished is given to another after about this.
	// Defaults to 30 seconds.
	LeaseTime time.Duration
	// ShutdownTimeout is how long SIGTERM waits for running renders before
	// re-queueing them. Defaults to 60 seconds.
	ShutdownTimeout time.Duration
	// FFmpeg and Flite are the external programs. Default to "ffmpeg" and "flite".
	FFmpeg, Flite string
	// EncoderNice is the niceness (0..19) of the encoders renders run and
	// of the threads drawing their frames, so that on a busy machine they
	// yield the CPU to the API; 0 runs them at this process's. The flag's
	// default is 10.
	EncoderNice int
	// SucceededWord, if set ("succeeded"), replaces "completed" in poll
	// responses on the universal route, as the hosted service has been seen
	// to answer. Defaults to "" (always "completed").
	SucceededWord string
	// Prices are the credit prices. Defaults to billing.Default().
	Prices *billing.Prices
	// MetricsAddr, if set, is a separate listen address for GET /metrics
	// (the only way a worker process exposes its metrics). The API serves
	// /metrics on Addr regardless. Defaults to "" (none).
	MetricsAddr string
	// WebhookURLs receive every generation's events (started, completed,
	// failed), besides each generation's own callback_url. Defaults to none.
	WebhookURLs []string
	// WebhookSecret signs webhooks ("whsec_" + base64). Defaults to the
	// secret kept in DataDir/webhook.secret, created on first use.
	WebhookSecret string
	// WebhookBackoff is the wait after a webhook's first failed attempt;
	// it doubles after each (capped at 6 hours, with jitter) over 15
	// attempts, about a day in all. Defaults to 10 seconds.
	WebhookBackoff time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults fills in the zero fields.
func (c *Config) Defaults() {
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:8080")
	c.DataDir = cmp.Or(c.DataDir, "./data")
	c.Database = cmp.Or(c.Database, filepath.Join(c.DataDir, "stillmotion.db"))
	if c.PublicURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			host, port = c.Addr, "80"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		scheme := "http://"
		if c.TLSCert != "" {
			scheme = "https://"
		}
		c.PublicURL = scheme + net.JoinHostPort(host, port)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.Workers < 0 {
		c.Workers = runtime.NumCPU()
	}
	c.URLTTL = cmp.Or(c.URLTTL, 7*24*time.Hour)
	c.JobTimeout = cmp.Or(c.JobTimeout, 10*time.Minute)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, 60*time.Second)
	c.FFmpeg = cmp.Or(c.FFmpeg, "ffmpeg")
	c.Flite = cmp.Or(c.Flite, "flite")
	c.WebhookBackoff = cmp.Or(c.WebhookBackoff, 10*time.Second)
	if c.Prices == nil {
		p := billing.Default()
		c.Prices = &p
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the settings that cannot be defaulted.
func (c *Config) Validate() error {
	if strings.Contains(c.Database, "://") && !store.IsPostgres(c.Database) && !strings.HasPrefix(c.Database, "sqlite://") {
		return fault.Errorf(fault.Invalid, "invalid --database %q: use a postgres:// URL or a SQLite file path", store.Redact(c.Database))
	}
	switch {
	case c.Storage == "", strings.HasPrefix(c.Storage, "file://"):
	case strings.HasPrefix(c.Storage, "s3://"):
		if _, err := blob.ParseS3URL(c.Storage); err != nil {
			return err
		}
	default:
		return fault.Errorf(fault.Invalid, "invalid --storage %q: use file://DIR or s3://BUCKET?endpoint=URL&region=REGION", c.Storage)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fault.E(fault.Invalid, "--tls-cert and --tls-key go together: give both, or neither for plain HTTP")
	}
	if c.SucceededWord != "" && c.SucceededWord != "succeeded" && c.SucceededWord != "completed" {
		return fault.Errorf(fault.Invalid, "invalid --completed-status %q: use completed or succeeded", c.SucceededWord)
	}
	if _, err := net.ResolveTCPAddr("tcp", c.Addr); err != nil {
		return fault.Errorf(fault.Invalid, "invalid --addr %q: %v", c.Addr, err)
	}
	if c.Retention < 0 {
		return fault.Errorf(fault.Invalid, "invalid --retention %v: use a duration such as 168h, or 0 to keep everything", c.Retention)
	}
	if c.EncoderNice < 0 || c.EncoderNice > 19 {
		return fault.Errorf(fault.Invalid, "invalid --encoder-nice %d: use 0 (as this process) to 19 (yield the most)", c.EncoderNice)
	}
	if c.RescueAfter != 0 && c.RescueAfter <= c.JobTimeout {
		return fault.Errorf(fault.Invalid, "--rescue-after (%v) must exceed --job-timeout (%v): a render still running would be given to a second worker", c.RescueAfter, c.JobTimeout)
	}
	for _, u := range c.WebhookURLs {
		if err := webhook.CheckURL(u, true); err != nil {
			return fault.Errorf(fault.Invalid, "invalid --webhook-url %q: %v", u, err)
		}
	}
	if c.WebhookSecret != "" {
		if _, err := webhook.ParseSecret(c.WebhookSecret); err != nil {
			return fault.Errorf(fault.Invalid, "invalid --webhook-secret: %v", err)
		}
	}
	return nil
}

// queueConfig is the queue configuration of c with the engines of reg,
// whose workers run run. Without --queues, a process works every engine's
// queue.
func (c *Config) queueConfig(reg *registry.Registry, run queue.RunFunc) queue.Config {
	base := c.WebhookBackoff
	qc := queue.Config{Workers: c.Workers, Queues: c.Queues, JobTimeout: c.JobTimeout, RescueAfter: c.RescueAfter, Run: run, Logger: c.Logger,
		Webhooks: c.WebhookURLs, WebhookBackoff: func(attempt int) time.Duration { return webhook.Backoff(base, attempt) },
		Concurrency: map[string]int{}, Timeouts: map[string]time.Duration{}}
	for name, q := range reg.Queues {
		qc.Known = append(qc.Known, name)
		if q.Concurrency > 0 {
			qc.Concurrency[name] = q.Concurrency
		}
		if q.Timeout > 0 {
			qc.Timeouts[name] = q.Timeout
		}
	}
	slices.Sort(qc.Known)
	if len(qc.Queues) == 0 {
		qc.Queues = qc.Known
	}
	if run == nil {
		qc.Run = func(context.Context, queue.Job) error { return nil }
	}
	qc.Defaults()
	return qc
}

// runJob adapts the Service to the queue: a job is an attempt at rendering
// its generation.
func runJob(svc *generation.Service) queue.RunFunc {
	return func(ctx context.Context, job queue.Job) error {
		err := svc.Run(ctx, generation.Attempt{GenerationID: job.GenerationID, Number: job.Attempt, Max: job.MaxAttempts})
		switch {
		case errors.Is(err, generation.ErrCancelled):
			return queue.ErrCancelled
		case errors.Is(err, generation.ErrRequeue):
			return queue.ErrRequeue
		}
		return err
	}
}

// IntakeOptions are the image fetch rules for c.
func (c *Config) IntakeOptions() intake.Options {
	return intake.Options{AllowPrivate: c.AllowPrivateFetch}
}

// OpenStore opens the configured database with the given queue settings.
func OpenStore(ctx context.Context, c *Config, qc queue.Config) (*store.DB, error) {
	return store.Open(ctx, c.Database, qc)
}

// Migrate brings the configured database's schema up to date, as every
// process also does when it starts.
func Migrate(ctx context.Context, c Config) error {
	c.Defaults()
	if err := c.Validate(); err != nil {
		return err
	}
	st, err := store.Open(ctx, c.Database, queue.Config{})
	if err != nil {
		return err
	}
	return st.Close()
}

// node is a process's assembled parts.
type node struct {
	cfg     Config
	engines *registry.Registry
	files   api.FileServer // serves local files; nil with object storage
	svc     *generation.Service
	store   *store.DB
	metrics *metrics.Metrics
	tmp     string // this process's directory for renders in progress
	sweep   *scratch.Sweeper
	floor   *diskspace.Floor
}

// authenticator accepts c's stored, bootstrap and test keys.
func authenticator(st auth.Store, c *Config) *auth.Authenticator {
	a := auth.NewAuthenticator(st, c.APIKeys, c.TestKeys...)
	a.AllTest = c.TestMode
	return a
}

// mediaOrigins are the origins other than the page's own that the studio
// may load videos and thumbnails from: the public URL's (a proxy in front)
// and an S3 store's, whose signed URLs point at it.
func mediaOrigins(c *Config) []string {
	var o []string
	add := func(raw string) {
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			o = append(o, u.Scheme+"://"+u.Host)
		}
	}
	add(c.PublicURL)
	if sc, err := blob.ParseS3URL(c.Storage); err == nil && strings.HasPrefix(c.Storage, "s3://") {
		if sc.Endpoint == "" {
			o = append(o, "https://*.amazonaws.com")
		} else {
			add(sc.Endpoint)
		}
	}
	return o
}

// openBlobs opens the configured video storage. A Disk store also serves
// its files, through the returned handler.
func openBlobs(ctx context.Context, c *Config) (generation.Blobs, api.FileServer, error) {
	if strings.HasPrefix(c.Storage, "s3://") {
		sc, err := blob.ParseS3URL(c.Storage)
		if err != nil {
			return nil, nil, err
		}
		sc.TTL = c.URLTTL
		s3, err := blob.NewS3(ctx, sc)
		return s3, nil, err
	}
	dir := filepath.Join(c.DataDir, "videos")
	if strings.HasPrefix(c.Storage, "file://") {
		dir = strings.TrimPrefix(c.Storage, "file://")
	}
	secret, err := blob.LoadSecret(filepath.Join(c.DataDir, "signing.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("loading the URL signing key: %w", err)
	}
	d := &blob.Disk{Dir: dir, BaseURL: c.PublicURL, Secret: secret, TTL: c.URLTTL}
	return d, d, nil
}

func assemble(ctx context.Context, c Config) (*node, error) {
	c.Defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the data dir: %w", err)
	}
	files, handler, err := openBlobs(ctx, &c)
	if err != nil {
		return nil, err
	}
	if handler != nil && store.IsPostgres(c.Database) {
		c.Logger.Warn("videos are kept in the data dir: every process must share it (videos and signing.key); use --storage s3://… to run processes on several machines",
			"data_dir", c.DataDir)
	}
	// Each process renders in a directory of its own, so that several
	// may share a data dir; what dead processes left is removed.
	tmpRoot := filepath.Join(c.DataDir, "tmp")
	n := &node{cfg: c, files: handler, tmp: filepath.Join(tmpRoot, strconv.Itoa(os.Getpid()))}
	n.floor = &diskspace.Floor{Min: c.MinFreeMB << 20, Dirs: []string{c.DataDir, tmpRoot}}
	n.sweep = &scratch.Sweeper{Root: tmpRoot, Logger: c.Logger}
	n.sweep.ClearDead()
	if err := os.MkdirAll(n.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("creating the data dir: %w", err)
	}
	n.engines, err = loadEngines(&c, n.tmp)
	if err != nil {
		os.RemoveAll(n.tmp)
		return nil, err
	}
	allowPrivate := c.AllowPrivateFetch
	n.svc = &generation.Service{
		Blobs:         files,
		Engines:       n.engines.Engines,
		Routes:        n.engines.Routes,
		Prices:        *c.Prices,
		TempDir:       n.tmp,
		Logger:        c.Logger,
		CheckCallback: func(u string) error { return webhook.CheckURL(u, allowPrivate) },
		Preflight:     n.floor.Check,
		MaxInFlight:   c.MaxInFlight,
		Inputs:        &input.Files{Blobs: files, Intake: c.IntakeOptions(), TempDir: n.tmp},
		Retention:     c.Retention,
	}
	secret, err := webhookSecret(&c)
	if err != nil {
		os.RemoveAll(n.tmp)
		return nil, err
	}
	qc := c.queueConfig(n.engines, runJob(n.svc))
	qc.Deliver = deliverer(n.svc, secret, &c)
	// No attempt runs past its timeout, which RescueAfter exceeds; the
	// margin is for an engine's cleanup after it.
	n.sweep.MaxAge = qc.RescueAfter + 5*time.Minute
	n.store, err = OpenStore(ctx, &c, qc)
	if err != nil {
		os.RemoveAll(n.tmp)
		return nil, err
	}
	n.svc.Store = n.store
	n.svc.Leasing = &generation.Leasing{Store: n.store, Time: c.LeaseTime, AttemptTime: func(q string) time.Duration {
		return cmp.Or(qc.Timeouts[q], qc.JobTimeout)
	}}
	n.metrics = metrics.New(n.store.QueueStates)
	n.svc.Observer = n.metrics
	return n, nil
}

// webhookSecret returns the configured webhook signing secret, or the one
// kept in the data dir (created, and its path logged, the first time).
func webhookSecret(c *Config) (webhook.Secret, error) {
	if c.WebhookSecret != "" {
		return webhook.ParseSecret(c.WebhookSecret)
	}
	path := filepath.Join(c.DataDir, "webhook.secret")
	s, created, err := webhook.LoadSecret(path)
	if err != nil {
		return nil, fmt.Errorf("loading the webhook secret: %w", err)
	}
	if created {
		c.Logger.Info("created the webhook signing secret; give it to your webhook receivers (cat the file), or set --webhook-secret", "path", path)
	}
	return s, nil
}

// LoadEngines builds the engines of c's engines file, for checking them
// (stillmotion doctor).
func LoadEngines(c *Config) (*registry.Registry, error) {
	c.Defaults()
	return loadEngines(c, os.TempDir())
}

// loadEngines builds the engines of c: those of its engines file, or the
// built-in engine alone. Remote engines download into tmp.
func loadEngines(c *Config, tmp string) (*registry.Registry, error) {
	syn := &speech.Flite{Program: c.Flite}
	env := &registry.Env{
		Builtin: &engine.Builtin{Intake: c.IntakeOptions(), Speech: syn, FFmpeg: c.FFmpeg, TempDir: tmp, EncoderNice: c.EncoderNice},
		Remote: engine.Remote{
			Finisher: &engine.Finisher{FFmpeg: c.FFmpeg, Speech: syn, TempDir: tmp},
			TempDir:  tmp,
			Logger:   c.Logger,
		},
	}
	if c.Engines == "" {
		return registry.Default(env), nil
	}
	return registry.Load(c.Engines, env)
}

// thumbnail returns a function that writes a JPEG of the first frame of
// the video at url (its signed download URL) to w, with ffmpeg.
func thumbnail(ffmpeg string) func(ctx context.Context, url string, w io.Writer) error {
	return func(ctx context.Context, url string, w io.Writer) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-i", url, "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "pipe:1")
		cmd.Stdout, cmd.Stderr = w, &stderr
		if err := cmd.Run(); err != nil {
			return fault.Wrap(fault.Internal, "making the thumbnail failed", fmt.Errorf("%w: %s", err, stderr.String()))
		}
		return nil
	}
}

// serveMetrics serves GET /metrics on MetricsAddr, if set, until ctx ends.
func (n *node) serveMetrics(ctx context.Context) error {
	return serveMetrics(ctx, n.cfg.MetricsAddr, n.metrics.Handler(), n.cfg.Logger)
}

// serveMetrics serves GET /metrics from h on addr, if set, until ctx ends.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on --metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}

// close releases the node's database and render directory.
func (n *node) close() {
	n.store.Close()
	os.RemoveAll(n.tmp)
}

// stopWorkers lets running renders finish within ShutdownTimeout, then
// re-queues the rest.
func (n *node) stopWorkers() {
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	if err := n.store.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		n.cfg.Logger.Warn("stopping workers", "err", err)
	}
}

// keepProcessorForAPI keeps processors of the Go scheduler for the API in
// a process that also renders, once.
var keepProcessorForAPI sync.Once

// keepProcessor bounds the frames drawn at once to GOMAXPROCS and doubles
// GOMAXPROCS. Drawing goroutines never block; if they held every
// processor, a request would wait for one's time slice to end (10 ms)
// before it was even read. With as many again left over, requests are
// answered as they come on as many cores as the drawing has, and the
// drawing threads, niced like the encoders (media.Spec.Nice), yield the
// cores to them. One processor left over did the first but not the
// second: it left the API one core (BENCHMARKS.md, "Speed, third round").
func keepProcessor() {
	n := runtime.GOMAXPROCS(0)
	media.LimitDrawing(n)
	runtime.GOMAXPROCS(2 * n)
}

// Work runs workers only, until ctx ends.
func Work(ctx context.Context, c Config) error {
	if c.Workers == 0 {
		return fault.E(fault.Invalid, "a worker with --workers 0 would do nothing")
	}
	n, err := assemble(ctx, c)
	if err != nil {
		return err
	}
	defer n.close()
	go n.sweep.Run(ctx)
	go n.svc.ExpireEvery(ctx, generation.ExpireInterval(c.Retention))
	if err := n.serveMetrics(ctx); err != nil {
		return err
	}
	if err := n.store.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting workers: %w", err)
	}
	n.cfg.Logger.Info("stillmotion worker running", "workers", n.cfg.Workers, "queues", n.queues(), "database", store.Redact(n.cfg.Database))
	<-ctx.Done()
	n.cfg.Logger.Info("stopping: finishing running renders", "timeout", n.cfg.ShutdownTimeout)
	n.stopWorkers()
	return nil
}

func (n *node) queues() string {
	qc := n.cfg.queueConfig(n.engines, nil)
	return strings.Join(qc.Queues, ",")
}

// Serve runs the API and the workers (none with Workers 0) until ctx ends,
// then drains: it stops taking generations, lets running renders finish
// (re-queueing those that do not within ShutdownTimeout), and returns.
// ready, if not nil, is called with the bound address once the listener is
// open.
func Serve(ctx context.Context, c Config, ready func(addr string)) error {
	n, err := assemble(ctx, c)
	if err != nil {
		return err
	}
	defer n.close()
	go n.sweep.Run(ctx)
	c, log := n.cfg, n.cfg.Logger
	inputs := &input.Files{Intake: c.IntakeOptions()}
	a := &api.Server{
		Service:    n.svc,
		Auth:       authenticator(n.store, &c),
		Files:      n.files,
		CheckInput: inputs.Check,
		CheckSpeech: func(text string) error {
			_, err := speech.CleanText(text)
			return err
		},
		Ready:          n.store.Ping,
		CheckStorage:   n.floor.Check,
		QueueDepth:     n.store.QueueDepth,
		SucceededWord:  c.SucceededWord,
		RatePerSecond:  c.RateLimit,
		RateBurst:      c.RateBurst,
		BodyBudget:     c.BodyBudget,
		BodyTimeout:    c.BodyTimeout,
		Thumbnail:      thumbnail(c.FFmpeg),
		VoicePreview:   (&speech.Previews{Synthesizer: &speech.Flite{Program: c.Flite}}).WAV,
		Studio:         studio.Handler(mediaOrigins(&c)...),
		Tests:          n.store,
		Metrics:        n.metrics.Handler(),
		ObserveRequest: n.metrics.ObserveRequest,
		Logger:         log,
	}
	if err := n.serveMetrics(ctx); err != nil {
		return err
	}
	// Every API process expires the leases of remote workers that
	// vanished: no process holds them.
	go n.svc.ExpireLeasesEvery(ctx, n.svc.LeaseSweepInterval())
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.Addr, err)
	}
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if c.Workers > 0 {
		keepProcessorForAPI.Do(keepProcessor)
		if err := n.store.Start(context.WithoutCancel(ctx)); err != nil {
			ln.Close()
			return fmt.Errorf("starting workers: %w", err)
		}
		// Processes with workers expire generations; API-only ones stay
		// front ends that only read and submit.
		go n.svc.ExpireEvery(ctx, generation.ExpireInterval(c.Retention))
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	log.Info("stillmotion serving", "addr", ln.Addr().String(), "public_url", c.PublicURL, "workers", c.Workers, "queues", n.queues(),
		"data_dir", c.DataDir, "database", store.Redact(c.Database), "storage", c.Storage)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("draining: refusing new generations, finishing running renders", "timeout", c.ShutdownTimeout)
	a.Drain()
	if c.Workers > 0 {
		n.stopWorkers()
	}
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(hctx)
	log.Info("stopped")
	return nil
}

// RemoteConfig configures a remote worker: its API, token and jobs; its
// engines come from the Config (Engines, FFmpeg, Flite...).
type RemoteConfig struct {
	API, Token string
	// Queues narrow the queues taken from; default: every queue of the
	// engines (the test-mode queue aside).
	Queues []string
	Jobs   int
	// Grace is how long running jobs may finish on SIGTERM before they
	// are handed back.
	Grace time.Duration
}

// WorkRemote runs a remote worker until ctx ends: it takes jobs from the
// API with a worker token and renders them with c's engines, reaching
// neither the database nor the video storage.
func WorkRemote(ctx context.Context, c Config, rc RemoteConfig) error {
	c.Defaults()
	if rc.Token == "" {
		return fault.E(fault.Invalid, "no worker token: pass --token or set STILLMOTION_WORKER_TOKEN ('stillmotion keys create --name NAME --worker --queues render_builtin' makes one)")
	}
	tmp, err := os.MkdirTemp("", "stillmotion-worker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	reg, err := loadEngines(&c, tmp)
	if err != nil {
		return err
	}
	queues := rc.Queues
	if len(queues) == 0 {
		for q := range reg.Queues {
			if q != queue.For(generation.ScriptedEngine) {
				queues = append(queues, q)
			}
		}
		slices.Sort(queues)
	}
	for _, q := range queues {
		if _, ok := reg.Queues[q]; !ok {
			return fault.Errorf(fault.Invalid, "queue %q has no engine here: the engines give %s", q, strings.Join(slices.Sorted(maps.Keys(reg.Queues)), ", "))
		}
	}
	m := metrics.NewRemote()
	mctx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMetrics() // served until the jobs are handed back
	if err := serveMetrics(mctx, c.MetricsAddr, m.Handler(), c.Logger); err != nil {
		return err
	}
	w := &remote.Worker{
		API: rc.API, Token: rc.Token, Engines: reg.Engines, Queues: queues, Jobs: rc.Jobs,
		TempDir: tmp, Grace: rc.Grace, Observer: m, Logger: c.Logger,
	}
	c.Logger.Info("stillmotion remote worker running", "api", redact.URL(rc.API), "queues", strings.Join(queues, ","), "jobs", max(rc.Jobs, 1))
	return w.Run(ctx)
}
