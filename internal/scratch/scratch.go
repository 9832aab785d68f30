// Package scratch keeps the directories renders work in: one per process,
// named by its pid, under a root that the processes sharing a data dir
// share. It removes what renders that are over left there: a killed
// process's files, and the files of a render that died without cleaning
// up.
package scratch

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Sweeper removes, every Every, what renders that are over left under
// Root: the directories of processes that are no longer running, and in
// this process's own directory what has not changed for MaxAge.
type Sweeper struct {
	// Root holds one directory per process, named by its pid.
	Root string
	// PID is this process; its directory is Root/PID. Defaults to
	// os.Getpid().
	PID int
	// MaxAge is how long a live render's files may go unchanged: the
	// longest a render attempt may run, plus a margin. Nothing changed
	// more recently is removed; 0 leaves this process's directory alone.
	MaxAge time.Duration
	// Every is how often Run sweeps. Defaults to 10 minutes.
	Every time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	alive func(pid int) bool // defaults to running; tests set it
}

func (s *Sweeper) pid() int {
	if s.PID != 0 {
		return s.PID
	}
	return os.Getpid()
}

func (s *Sweeper) running(pid int) bool {
	if s.alive != nil {
		return s.alive(pid)
	}
	return running(pid)
}

func (s *Sweeper) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ClearDead removes everything under Root but the directories of running
// processes: what processes that have died left, and any loose file of
// older releases. A process calls it as it starts.
func (s *Sweeper) ClearDead() {
	entries, _ := os.ReadDir(s.Root)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && (pid == s.pid() || s.running(pid)) {
			continue
		}
		os.RemoveAll(filepath.Join(s.Root, e.Name()))
	}
}

// Sweep removes, as of now, the directories of processes that are no
// longer running and the entries of this process's directory in which
// nothing changed for MaxAge (no live render's files are that old: every
// attempt ends at its timeout). It returns what it removed. Loose files
// and the directories of running processes, which have their own sweeps,
// are left alone.
func (s *Sweeper) Sweep(now time.Time) (removed []string, err error) {
	entries, err := os.ReadDir(s.Root)
	if err != nil {
		return nil, err
	}
	var errs []error
	remove := func(path string) {
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			return
		}
		removed = append(removed, path)
	}
	for _, e := range entries {
		pid, perr := strconv.Atoi(e.Name())
		switch {
		case perr != nil || !e.IsDir():
		case pid == s.pid():
			if s.MaxAge <= 0 {
				continue
			}
			own := filepath.Join(s.Root, e.Name())
			files, err := os.ReadDir(own)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, f := range files {
				path := filepath.Join(own, f.Name())
				if t, err := newest(path); err == nil && now.Sub(t) > s.MaxAge {
					remove(path)
				}
			}
		case !s.running(pid):
			remove(filepath.Join(s.Root, e.Name()))
		}
	}
	return removed, errors.Join(errs...)
}

// Run sweeps every Every until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		removed, err := s.Sweep(time.Now())
		if len(removed) > 0 {
			s.log().Info("removed what ended renders left in the temp dir", "paths", removed)
		}
		if err != nil {
			s.log().Warn("sweeping the temp dir", "err", err)
		}
	}
}

// newest returns the latest modification time of path and, for a
// directory, of everything in it: a directory is as recent as what it
// holds.
func newest(path string) (time.Time, error) {
	var latest time.Time
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if t := fi.ModTime(); t.After(latest) {
			latest = t
		}
		return nil
	})
	return latest, err
}

// running reports whether a process with this pid exists.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
