package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"stillmotion/internal/blob"
	"stillmotion/internal/queue"
	"stillmotion/internal/server"
	"stillmotion/internal/speech"
	"stillmotion/internal/store"
)

// check is one doctor check: what it looks at, and how to fix a failure.
type check struct {
	name string
	run  func(ctx context.Context) (detail string, err error)
	fix  string
	// optional checks warn: the service works without what they look for.
	optional bool
}

func runDoctor(ctx context.Context, args []string) error {
	fs := newFlagSet("doctor", "doctor [flags]")
	var c common
	c.register(fs)
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg program")
	flite := fs.String("flite", "flite", "flite (text-to-speech) program")
	storage := fs.String("storage", env("STILLMOTION_STORAGE_URL", ""), "video storage URL, as for serve (env STILLMOTION_STORAGE_URL)")
	engines := fs.String("engines", env("STILLMOTION_ENGINES", ""), "engines file, as for serve: checks every engine is configured and reachable (env STILLMOTION_ENGINES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := c.config()
	cfg.Storage, cfg.Engines = *storage, *engines
	checks := []check{
		{name: "ffmpeg", run: func(ctx context.Context) (string, error) {
			v, err := firstLine(ctx, *ffmpeg, "-hide_banner", "-version")
			if err != nil {
				return "", err
			}
			enc, err := output(ctx, *ffmpeg, "-hide_banner", "-encoders")
			if err != nil {
				return "", err
			}
			for _, e := range []string{"libx264", " aac "} {
				if !strings.Contains(enc, e) {
					return "", fmt.Errorf("%s has no %s encoder", *ffmpeg, strings.TrimSpace(e))
				}
			}
			return v, nil
		}, fix: "apt-get install ffmpeg"},
		{name: "ffprobe", run: func(ctx context.Context) (string, error) {
			return firstLine(ctx, "ffprobe", "-hide_banner", "-version")
		}, fix: "apt-get install ffmpeg"},
		{name: "text-to-speech (flite)", run: func(ctx context.Context) (string, error) {
			return speechStatus(ctx, *flite, "flite")
		}, fix: "apt-get install flite"},
		{name: "natural voices (RHVoice)", optional: true, run: func(ctx context.Context) (string, error) {
			return speechStatus(ctx, *flite, "rhvoice")
		}, fix: "add Debian's non-free section and apt-get install rhvoice rhvoice-english (scripts/setup.sh does both); without it the voices fall back to flite"},
		{name: "data dir", run: func(ctx context.Context) (string, error) {
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				return "", err
			}
			f, err := os.CreateTemp(cfg.DataDir, ".doctor-*")
			if err != nil {
				return "", err
			}
			f.Close()
			os.Remove(f.Name())
			abs, _ := filepath.Abs(cfg.DataDir)
			return abs + " is writable", nil
		}, fix: "choose a writable --data-dir (or fix its permissions)"},
		{name: "database", run: func(ctx context.Context) (string, error) {
			st, err := server.OpenStore(ctx, &cfg, queue.Config{})
			if err != nil {
				return "", err
			}
			defer st.Close()
			n, err := st.QueueDepth(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s opens and is migrated; %d jobs waiting or running", store.Redact(cfg.Database), n), nil
		}, fix: "check --database and the data dir's permissions (for PostgreSQL: the server, the user and the database)"},
		{name: "storage", run: func(ctx context.Context) (string, error) {
			if !strings.HasPrefix(cfg.Storage, "s3://") {
				return "videos are kept in the data dir", nil
			}
			sc, err := blob.ParseS3URL(cfg.Storage)
			if err != nil {
				return "", err
			}
			if _, err := blob.NewS3(ctx, sc); err != nil {
				return "", err
			}
			return fmt.Sprintf("the S3 bucket %s answers", sc.Bucket), nil
		}, fix: "check --storage, the bucket, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"},
		{name: "engines", run: func(ctx context.Context) (string, error) {
			if cfg.Engines == "" {
				return "no engines file: the built-in engine serves pixverse/v5/image-to-video", nil
			}
			reg, err := server.LoadEngines(&cfg)
			if err != nil {
				return "", err
			}
			lines, ok := reg.Check(ctx)
			models := make([]string, len(reg.Routes))
			for i, r := range reg.Routes {
				models[i] = r.Model + " → " + r.Engine
			}
			detail := strings.Join(lines, "; ") + "; models: " + strings.Join(models, ", ")
			if !ok {
				return "", errors.New(detail)
			}
			return detail, nil
		}, fix: "correct the engines file (docs/engines.md) or start the engine servers it names"},
	}
	failed := 0
	for _, ch := range checks {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		detail, err := ch.run(cctx)
		cancel()
		if err != nil && ch.optional {
			fmt.Printf("! %s: %s\n    fix: %s\n", ch.name, message(err), ch.fix)
			continue
		}
		if err != nil {
			failed++
			fmt.Printf("✗ %s: %s\n    fix: %s\n", ch.name, message(err), ch.fix)
			continue
		}
		fmt.Printf("✓ %s: %s\n", ch.name, strings.ReplaceAll(detail, "\n", " "))
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed; on Debian, 'apt-get install ffmpeg flite' installs the programs", failed)
	}
	fmt.Println("all checks passed")
	return nil
}

func output(ctx context.Context, prog string, args ...string) (string, error) {
	if _, err := exec.LookPath(prog); err != nil {
		return "", fmt.Errorf("%s not found in PATH", prog)
	}
	b, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v", prog, strings.Join(args, " "), err)
	}
	return string(b), nil
}

func firstLine(ctx context.Context, prog string, args ...string) (string, error) {
	s, err := output(ctx, prog, args...)
	line, _, _ := strings.Cut(s, "\n")
	return line, err
}

// speechStatus reports on one speech engine as the speech package sees it.
func speechStatus(ctx context.Context, program, engine string) (string, error) {
	for _, st := range (&speech.Flite{Program: program}).Check(ctx) {
		if st.Engine != engine {
			continue
		}
		if !st.OK {
			return "", errors.New(st.Detail)
		}
		return fmt.Sprintf("%s; voices %s", st.Detail, strings.Join(st.Voices, ", ")), nil
	}
	return "", fmt.Errorf("no %s engine is known", engine)
}
