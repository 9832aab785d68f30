// Package server assembles stillmotion from its parts: configuration in,
// a running API and workers out.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"stillmotion/internal/api"
	"stillmotion/internal/auth"
	"stillmotion/internal/billing"
	"stillmotion/internal/blob"
	"stillmotion/internal/engine"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/queue"
	"stillmotion/internal/speech"
	"stillmotion/internal/store"
)

// Config is every setting of a stillmotion process. The zero Config is
// valid: Defaults fills it in.
type Config struct {
	// Addr is the listen address. Defaults to 127.0.0.1:8080.
	Addr string
	// DataDir holds the database, the videos and the signing secret.
	// Defaults to ./data.
	DataDir string
	// Database is the database URL. Defaults to the SQLite file
	// DataDir/stillmotion.db.
	Database string
	// Storage is where videos go. Defaults to files under DataDir/videos.
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
	// APIKeys are accepted with unlimited credits (STILLMOTION_API_KEYS).
	APIKeys []string
	// AllowPrivateFetch lets image_url reach loopback and private addresses.
	// Defaults to false.
	AllowPrivateFetch bool
	// URLTTL is how long a download URL stays valid. Defaults to 7 days.
	URLTTL time.Duration
	// JobTimeout bounds one render attempt. Defaults to 10 minutes.
	JobTimeout time.Duration
	// ShutdownTimeout is how long SIGTERM waits for running renders before
	// re-queueing them. Defaults to 60 seconds.
	ShutdownTimeout time.Duration
	// FFmpeg and Flite are the external programs. Default to "ffmpeg" and "flite".
	FFmpeg, Flite string
	// SucceededWord, if set ("succeeded"), replaces "completed" in poll
	// responses on the universal route, as the hosted service has been seen
	// to answer. Defaults to "" (always "completed").
	SucceededWord string
	// Prices are the credit prices. Defaults to billing.Default().
	Prices *billing.Prices
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
	if strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://") {
		return fault.E(fault.Invalid, "PostgreSQL (--database postgres://…) is not supported by this build yet; omit --database to use SQLite in the data dir")
	}
	if c.Storage != "" && !strings.HasPrefix(c.Storage, "file://") {
		return fault.E(fault.Invalid, "only local file storage is supported by this build; omit --storage to keep videos in the data dir")
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
	return nil
}

// IntakeOptions are the image fetch rules for c.
func (c *Config) IntakeOptions() intake.Options {
	return intake.Options{AllowPrivate: c.AllowPrivateFetch}
}

// OpenStore opens the configured database with the given queue settings.
func OpenStore(ctx context.Context, c *Config, qc queue.Config) (*store.SQLite, error) {
	return store.OpenSQLite(ctx, c.Database, qc)
}

// node is a process's assembled parts.
type node struct {
	cfg   Config
	files *blob.Disk
	svc   *generation.Service
	store *store.SQLite
}

func assemble(ctx context.Context, c Config) (*node, error) {
	c.Defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tmp := filepath.Join(c.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("creating the data dir: %w", err)
	}
	secret, err := blob.LoadSecret(filepath.Join(c.DataDir, "signing.key"))
	if err != nil {
		return nil, fmt.Errorf("loading the URL signing key: %w", err)
	}
	n := &node{cfg: c}
	n.files = &blob.Disk{Dir: filepath.Join(c.DataDir, "videos"), BaseURL: c.PublicURL, Secret: secret, TTL: c.URLTTL}
	n.svc = &generation.Service{
		Blobs:   n.files,
		Engine:  &engine.Builtin{Intake: c.IntakeOptions(), Speech: &speech.Flite{Program: c.Flite}, FFmpeg: c.FFmpeg, TempDir: tmp},
		Prices:  *c.Prices,
		TempDir: tmp,
		Logger:  c.Logger,
	}
	n.store, err = OpenStore(ctx, &c, queue.Config{Workers: c.Workers, JobTimeout: c.JobTimeout, Run: n.svc.Run, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	n.svc.Store = n.store
	if c.Workers > 0 {
		// This process holds the workers' lock: whatever is in tmp was left
		// by a process that died mid-render.
		clearDir(tmp)
	}
	return n, nil
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

// Work runs workers only, until ctx ends.
func Work(ctx context.Context, c Config) error {
	n, err := assemble(ctx, c)
	if err != nil {
		return err
	}
	defer n.store.Close()
	if err := n.store.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting workers: %w", err)
	}
	n.cfg.Logger.Info("stillmotion worker running", "workers", n.cfg.Workers, "database", n.cfg.Database)
	<-ctx.Done()
	n.cfg.Logger.Info("stopping: finishing running renders", "timeout", n.cfg.ShutdownTimeout)
	n.stopWorkers()
	return nil
}

// Serve runs the API and the workers until ctx ends, then drains: it stops
// taking generations, lets running renders finish (re-queueing those that
// do not within ShutdownTimeout), and returns. ready, if not nil, is called
// with the bound address once the listener is open.
func Serve(ctx context.Context, c Config, ready func(addr string)) error {
	n, err := assemble(ctx, c)
	if err != nil {
		return err
	}
	defer n.store.Close()
	c, log := n.cfg, n.cfg.Logger
	intakeOpts := c.IntakeOptions()
	a := &api.Server{
		Service:    n.svc,
		Auth:       auth.NewAuthenticator(n.store, c.APIKeys),
		Files:      n.files,
		CheckImage: func(src string) error { return intake.Check(src, intakeOpts) },
		CheckSpeech: func(text string) error {
			_, err := speech.CleanText(text)
			return err
		},
		Ready:         n.store.Ping,
		QueueDepth:    n.store.QueueDepth,
		SucceededWord: c.SucceededWord,
		Logger:        log,
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.Addr, err)
	}
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if err := n.store.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("starting workers: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	log.Info("stillmotion serving", "addr", ln.Addr().String(), "public_url", c.PublicURL, "workers", c.Workers, "data_dir", c.DataDir)
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
	n.stopWorkers()
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(hctx)
	log.Info("stopped")
	return nil
}

func clearDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
