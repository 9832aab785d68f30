package replicate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"stillmotion/internal/fault"
	"stillmotion/internal/redact"
)

// expiredError is a download the server refused for good (403, 404, 410):
// Replicate's output URLs expire an hour after the prediction.
type expiredError struct{ status int }

func (e *expiredError) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// fetch saves the file at ref, an output's http(s) URL (relative ones are
// read against the API root) or data URI, to a temporary file, and
// returns its path.
func (e *Engine) fetch(ctx context.Context, ref string) (string, error) {
	f, err := os.CreateTemp(e.tmp, "replicate-*.out")
	if err != nil {
		return "", fault.Wrap(fault.Internal, "creating a file for the model's output", err)
	}
	name := f.Name()
	if strings.HasPrefix(ref, "data:") {
		err = e.fromDataURI(f, ref)
	} else {
		err = e.download(ctx, f, ref)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fault.Wrap(fault.Internal, "saving the model's output", cerr)
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func (e *Engine) fromDataURI(f *os.File, ref string) error {
	b, err := decodeDataURI(ref, e.maxOutput)
	if err != nil {
		return fault.Wrap(fault.Render, "the model's output is a data URI this server cannot read", err)
	}
	if _, err := f.Write(b); err != nil {
		return fault.Wrap(fault.Internal, "saving the model's output", err)
	}
	return nil
}

// decodeDataURI returns the bytes of a data: URI (base64 or
// percent-encoded) of at most limit bytes.
func decodeDataURI(ref string, limit int64) ([]byte, error) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(ref, "data:"), ",")
	if !ok {
		return nil, errors.New("no comma after the media type")
	}
	if int64(len(data)) > limit/3*4+4 {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	if strings.HasSuffix(meta, ";base64") {
		data = strings.TrimRight(strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' {
				return -1
			}
			return r
		}, data), "=")
		enc := base64.RawStdEncoding
		if strings.ContainsAny(data, "-_") {
			enc = base64.RawURLEncoding
		}
		b, err := enc.DecodeString(data)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	s, err := url.PathUnescape(data)
	if err != nil {
		return nil, err
	}
	if int64(len(s)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return []byte(s), nil
}

// download streams the file at ref into f, trying again when the server
// fails for a passing reason.
func (e *Engine) download(ctx context.Context, f *os.File, ref string) error {
	u, err := e.base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fault.Errorf(fault.Render, "the model's output %q is not an http(s) URL or a data URI", truncate(redact.URL(ref), 100))
	}
	for try := 1; ; try++ {
		err := e.downloadOnce(ctx, f, u.String())
		if err == nil || ctx.Err() != nil {
			return err
		}
		var fe *fault.Error
		var gone *expiredError
		if errors.As(err, &fe) {
			return err
		}
		if errors.As(err, &gone) {
			return fault.Wrap(fault.Upstream, fmt.Sprintf("the model's output could no longer be downloaded (%v): it may have expired; try again", gone), err)
		}
		if try >= e.retry.attempts {
			return fault.Wrap(fault.Upstream, "the model's output could not be downloaded; try again later", err)
		}
		e.log.Warn("retrying the output's download", "url", redact.URL(ref), "err", err, "try", try)
		if err := sleep(ctx, e.retry.backoff(try)); err != nil {
			return err
		}
	}
}

// downloadOnce tries the download once, from the start of f.
func (e *Engine) downloadOnce(ctx context.Context, f *os.File, ref string) error {
	if err := f.Truncate(0); err != nil {
		return fault.Wrap(fault.Internal, "saving the model's output", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Wrap(fault.Internal, "saving the model's output", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return redact.Error(err)
	}
	req.Header.Set("User-Agent", "stillmotion")
	e.authorize(req)
	resp, err := e.client.Do(req)
	if err != nil {
		return redact.Error(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusGone:
		return &expiredError{resp.StatusCode}
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	default:
		return fault.Errorf(fault.Upstream, "the model's output could not be downloaded (HTTP %d)", resp.StatusCode)
	}
	if resp.ContentLength > e.maxOutput {
		return fault.Errorf(fault.Render, "the model's output is larger than %d MiB", e.maxOutput>>20)
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, e.maxOutput+1))
	if err != nil {
		return redact.Error(err)
	}
	if n > e.maxOutput {
		return fault.Errorf(fault.Render, "the model's output is larger than %d MiB", e.maxOutput>>20)
	}
	return nil
}
