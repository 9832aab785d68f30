// Command stillmotion is a self-hosted video generation service,
// wire-compatible with the AI/ML API's PixVerse routes: image-to-video (v5
// and v5.5), transition and lip-sync on its built-in engine, and any model
// behind an engines file.
//
// Usage:
//
//	stillmotion serve   [flags]   HTTP API and workers
//	stillmotion worker  [flags]   workers only
//	stillmotion migrate [flags]   bring the database's schema up to date
//	stillmotion render  [flags]   one video without a server
//	stillmotion keys    create|list|revoke
//	stillmotion doctor  [flags]   check ffmpeg, the speech programs, the data dir, database, storage and engines
//	stillmotion version
//
// As a client of a running server:
//
//	stillmotion generate [flags]  submit, wait with progress, download
//	stillmotion status   ID       show a generation
//	stillmotion cancel   ID       cancel a generation
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/server"
	"stillmotion/internal/store"
)

const usage = `stillmotion: a self-hosted video generation service (the PixVerse family's API).

Usage:
  stillmotion serve   [flags]            run the HTTP API with in-process workers
                                         (--engines FILE puts other models behind it: docs/engines.md)
  stillmotion worker  [flags]            run workers only (same database, no HTTP)
  stillmotion worker --remote URL        run a remote worker: take work from an API over HTTP(S)
                                         with a worker token (docs/remote-workers.md)
  stillmotion migrate [flags]            bring the database's schema up to date (every process also does at start)
  stillmotion render  --image IMG --prompt TEXT -o out.mp4 [flags]
                                         render one video without a server (--model: v5.5, transition
                                         with --tail-image, lip-sync with --video and --audio or --speech)
  stillmotion keys create --name N [--credits C] [--test]
  stillmotion keys create --name N --worker --queues Q
  stillmotion keys list
  stillmotion keys revoke ID|NAME        manage API keys and their credits, test keys
                                         (docs/testing.md) and worker tokens
  stillmotion doctor                     check ffmpeg, the speech program, the data dir, the engines (--engines FILE)
  stillmotion generate --server URL --key KEY --image IMG --prompt TEXT -o out.mp4 [flags]
                                         make a video on a running server and download it
  stillmotion status ID [--json]         show a generation's status, progress and video URL
  stillmotion cancel ID                  stop a queued or running generation
  stillmotion version                    print the version

Run 'stillmotion COMMAND -h' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, args, true)
	case "worker":
		err = runServe(ctx, args, false)
	case "migrate":
		err = runMigrate(ctx, args)
	case "render":
		err = runRender(ctx, args)
	case "keys":
		err = runKeys(ctx, args)
	case "doctor":
		err = runDoctor(ctx, args)
	case "generate", "status", "cancel":
		err = runRemote(ctx, cmd, args)
	case "version", "--version", "-v":
		fmt.Println("stillmotion", buildVersion())
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "stillmotion: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "stillmotion:", message(err))
		os.Exit(1)
	}
}

// message is what a user sees of err: the client message of a fault, the
// error text otherwise.
func message(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Message != "" {
		msg := fe.Message
		for _, f := range fe.Fields {
			if f.Message != fe.Message {
				msg += "\n  " + f.Field + ": " + f.Message
			}
		}
		return msg
	}
	return err.Error()
}

// common are the settings every command that touches the data dir shares.
type common struct {
	dataDir, database string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", env("STILLMOTION_DATA_DIR", "./data"), "data directory: database, videos, signing key (env STILLMOTION_DATA_DIR)")
	fs.StringVar(&c.database, "database", env("STILLMOTION_DATABASE_URL", ""), "database: postgres://USER@HOST/DB for the distributed mode, or a SQLite file; default: SQLite file in the data dir (env STILLMOTION_DATABASE_URL)")
}

func (c *common) config() server.Config {
	cfg := server.Config{DataDir: c.dataDir, Database: c.database}
	cfg.Defaults()
	return cfg
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate", "migrate [flags]")
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see 'stillmotion migrate -h'", fs.Args())
	}
	cfg := c.config()
	if err := server.Migrate(ctx, cfg); err != nil {
		return err
	}
	fmt.Printf("%s is migrated (schema version %d)\n", store.Redact(cfg.Database), store.SchemaVersion)
	return nil
}

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: stillmotion %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func runServe(ctx context.Context, args []string, withHTTP bool) error {
	name, synopsis := "serve", "serve [flags]"
	if !withHTTP {
		name, synopsis = "worker", "worker [flags]                      workers on the database and storage\n       stillmotion worker --remote URL [flags]         a remote worker: work from the API over HTTP(S) with a\n                                                       worker token, no database or storage (docs/remote-workers.md)"
	}
	fs := newFlagSet(name, synopsis)
	var c common
	c.register(fs)
	var cfg server.Config
	fs.StringVar(&cfg.Addr, "addr", env("STILLMOTION_ADDR", "127.0.0.1:8080"), "listen address (env STILLMOTION_ADDR)")
	fs.StringVar(&cfg.Storage, "storage", env("STILLMOTION_STORAGE_URL", ""), "video storage: s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or file://DIR; default: files in the data dir (env STILLMOTION_STORAGE_URL)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("STILLMOTION_PUBLIC_URL", ""), "base of the URLs given to clients; default: from --addr (env STILLMOTION_PUBLIC_URL)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("STILLMOTION_TLS_CERT", ""), "PEM certificate file; with --tls-key, serve HTTPS (env STILLMOTION_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("STILLMOTION_TLS_KEY", ""), "PEM private key file for --tls-cert (env STILLMOTION_TLS_KEY)")
	fs.IntVar(&cfg.Workers, "workers", envInt("STILLMOTION_WORKERS", -1), "renders at once; 0 = API only; default: number of CPUs (env STILLMOTION_WORKERS)")
	fs.Int64Var(&cfg.MinFreeMB, "min-free-mb", int64(envInt("STILLMOTION_MIN_FREE_MB", 256)), "free space (MiB) the data dir and temp dir must keep; below it submits get 503, /readyz is not ready and renders end as storage_full; 0 = no check (env STILLMOTION_MIN_FREE_MB)")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", envFloat("STILLMOTION_RATE_LIMIT", 20), "requests per second each key may make, on average; 0 = no limit (env STILLMOTION_RATE_LIMIT)")
	fs.IntVar(&cfg.RateBurst, "rate-burst", envInt("STILLMOTION_RATE_BURST", 40), "requests a key may make at once above --rate-limit (env STILLMOTION_RATE_BURST)")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", envInt("STILLMOTION_MAX_IN_FLIGHT", 50), "generations each key may have queued or rendering; a submit over it gets 429; 0 = no limit (env STILLMOTION_MAX_IN_FLIGHT)")
	bodyBudget := fs.Int64("body-budget-mb", int64(envInt("STILLMOTION_BODY_BUDGET_MB", 64)), "request body MiB each key may be sending at once; a body over it gets 413; 0 = no limit (env STILLMOTION_BODY_BUDGET_MB)")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", envDuration("STILLMOTION_BODY_TIMEOUT", time.Minute), "time a client has to send a request body; a slower one gets 408; 0 = no limit (env STILLMOTION_BODY_TIMEOUT)")
	fs.BoolVar(&cfg.TestMode, "test-mode", env("STILLMOTION_TEST_MODE", "") == "1", "make every key a test key: generations are free, marked \"test\", kept apart from the key's real ones, rendered fast unless a script says render=real, and scriptable (X-Stillmotion-Script); see docs/testing.md (env STILLMOTION_TEST_MODE=1)")
	fs.StringVar(&cfg.SucceededWord, "completed-status", env("STILLMOTION_COMPLETED_STATUS", "completed"), "status word of a finished generation on /v2/video/generations: completed or succeeded (env STILLMOTION_COMPLETED_STATUS)")
	fs.DurationVar(&cfg.URLTTL, "url-ttl", 7*24*time.Hour, "how long download URLs stay valid")
	fs.DurationVar(&cfg.Retention, "retention", envDuration("STILLMOTION_RETENTION", 7*24*time.Hour), "how long generations are kept after they were created: then their records, videos and inputs are deleted (expires_at says when), by the processes with workers; 0 = keep everything (env STILLMOTION_RETENTION)")
	fs.StringVar(&cfg.Engines, "engines", env("STILLMOTION_ENGINES", ""), "engines file (YAML): the engines (builtin, upstream, comfyui, replicate) and the models they serve; see docs/engines.md; default: the built-in engine serves pixverse/v5/image-to-video (env STILLMOTION_ENGINES)")
	queues := fs.String("queues", env("STILLMOTION_QUEUES", ""), "comma-separated render queues this process works, render_ENGINE or render_QUEUE as the engines file names them; default: all (env STILLMOTION_QUEUES)")
	fs.DurationVar(&cfg.JobTimeout, "job-timeout", envDuration("STILLMOTION_JOB_TIMEOUT", 10*time.Minute), "limit of one render attempt (env STILLMOTION_JOB_TIMEOUT)")
	fs.DurationVar(&cfg.RescueAfter, "rescue-after", envDuration("STILLMOTION_RESCUE_AFTER", 0), "how long a render may run before it is given to another worker, its own presumed dead; above --job-timeout; default: the longest attempt (--job-timeout or an engine's timeout) + 1m (env STILLMOTION_RESCUE_AFTER)")
	fs.DurationVar(&cfg.LeaseTime, "lease-time", envDuration("STILLMOTION_LEASE_TIME", 30*time.Second), "how long a remote worker's lease on a job lasts unless renewed; a job whose worker vanished goes to another after about this (env STILLMOTION_LEASE_TIME)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 60*time.Second, "on SIGTERM, how long to let running renders finish before re-queueing them")
	fs.StringVar(&cfg.FFmpeg, "ffmpeg", "ffmpeg", "ffmpeg program")
	fs.IntVar(&cfg.EncoderNice, "encoder-nice", envInt("STILLMOTION_ENCODER_NICE", 10), "niceness (0-19) of renders' ffmpeg encoders and frame-drawing threads: above 0 they yield the CPU to the API when the machine is busy; 0 = this process's (env STILLMOTION_ENCODER_NICE)")
	fs.StringVar(&cfg.Flite, "flite", "flite", "flite (text-to-speech) program")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("STILLMOTION_METRICS_ADDR", ""), "separate listen address for GET /metrics (a worker's only one); the API also serves /metrics on --addr (env STILLMOTION_METRICS_ADDR)")
	fs.Func("webhook-url", "endpoint that receives every generation's webhook events; repeatable (env STILLMOTION_WEBHOOK_URLS, comma-separated)", func(v string) error {
		cfg.WebhookURLs = append(cfg.WebhookURLs, v)
		return nil
	})
	fs.StringVar(&cfg.WebhookSecret, "webhook-secret", env("STILLMOTION_WEBHOOK_SECRET", ""), "webhook signing secret, whsec_ + base64; default: created once in the data dir as webhook.secret (env STILLMOTION_WEBHOOK_SECRET)")
	fs.DurationVar(&cfg.WebhookBackoff, "webhook-backoff", envDuration("STILLMOTION_WEBHOOK_BACKOFF", 10*time.Second), "wait after a webhook's first failed delivery, doubling after each of 15 attempts (about a day at 10s) (env STILLMOTION_WEBHOOK_BACKOFF)")
	var rc server.RemoteConfig
	if !withHTTP {
		fs.StringVar(&rc.API, "remote", env("STILLMOTION_REMOTE", ""), "base URL of an API to take work from as a remote worker, over HTTP(S) with --token: no database or storage needed; see docs/remote-workers.md (env STILLMOTION_REMOTE)")
		fs.StringVar(&rc.Token, "token", env("STILLMOTION_WORKER_TOKEN", ""), "worker token for --remote, made by 'stillmotion keys create --worker'; prefer the env variable, which other users cannot see (env STILLMOTION_WORKER_TOKEN)")
		fs.IntVar(&rc.Jobs, "jobs", envInt("STILLMOTION_JOBS", 1), "with --remote: jobs at once (env STILLMOTION_JOBS)")
	}
	logFormat := fs.String("log-format", env("STILLMOTION_LOG_FORMAT", "json"), "log format on stderr: json or text (env STILLMOTION_LOG_FORMAT)")
	logLevel := fs.String("log-level", env("STILLMOTION_LOG_LEVEL", "info"), "least log level: debug, info, warn or error (env STILLMOTION_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := server.NewLogger(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	cfg.Logger = logger
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see 'stillmotion %s -h'", fs.Args(), name)
	}
	cfg.DataDir, cfg.Database = c.dataDir, c.database
	cfg.BodyBudget = *bodyBudget << 20
	if urls := os.Getenv("STILLMOTION_WEBHOOK_URLS"); urls != "" && len(cfg.WebhookURLs) == 0 {
		cfg.WebhookURLs = strings.Split(urls, ",")
	}
	if *queues != "" {
		cfg.Queues = strings.Split(*queues, ",")
	}
	if keys := os.Getenv("STILLMOTION_API_KEYS"); keys != "" {
		cfg.APIKeys = strings.Split(keys, ",")
	}
	if keys := os.Getenv("STILLMOTION_TEST_KEYS"); keys != "" {
		cfg.TestKeys = strings.Split(keys, ",")
	}
	cfg.AllowPrivateFetch = os.Getenv("STILLMOTION_ALLOW_PRIVATE_FETCH") == "1"
	if !withHTTP {
		if rc.API != "" {
			rc.Queues, rc.Grace = cfg.Queues, cfg.ShutdownTimeout
			return server.WorkRemote(ctx, cfg, rc)
		}
		return server.Work(ctx, cfg)
	}
	return server.Serve(ctx, cfg, nil)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}
