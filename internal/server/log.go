package server

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the process's logger writing to w: format "json" (one
// JSON object a line, for log collectors) or "text" (key=value); level
// "debug", "info", "warn" or "error". Request log lines carry request_id,
// key_id and generation_id, never keys, bodies or image data.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(cmp.Or(level, "info"))); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "", "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: use json or text", format)
}
