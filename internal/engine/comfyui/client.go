package comfyui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/redact"
)

// server is one ComfyUI server of an engine.
type server struct {
	base  *url.URL      // scheme, host and path prefix: no credentials, no query
	user  *url.Userinfo // sent as basic auth
	query url.Values    // sent with every request
	host  string        // the host (and port), for messages
	key   string        // base as a string: what the saved state names
}

// parseServer reads a configured server URL.
func parseServer(raw string) (*server, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: write the ComfyUI server's http(s) address, like http://127.0.0.1:8188", redact.URL(raw))
	}
	s := &server{user: u.User, query: u.Query(), host: u.Host}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	s.base, s.key = u, u.String()
	return s, nil
}

// endpoint is the URL of path (like "/history/ID") with query q.
func (s *server) endpoint(path string, q url.Values) string {
	u := *s.base
	u.Path += path
	v := url.Values{}
	for k, vs := range s.query {
		v[k] = vs
	}
	for k, vs := range q {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// statusError is a response the server gave that retrying will not change.
type statusError struct {
	code int
	body []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, clip(string(e.body)))
}

// payload makes a request body afresh for each try.
type payload func() (body io.Reader, contentType string)

func jsonBody(v any) payload {
	b, _ := json.Marshal(v)
	return func() (io.Reader, string) { return bytes.NewReader(b), "application/json" }
}

// do calls the server and decodes a JSON answer into out (when not nil).
// It retries refused or reset connections, timeouts and 5xx or 429
// answers with backoff, e.retries times; then it returns an Upstream fault
// that names the host. A 4xx answer is returned at once as a
// *statusError. timeout bounds each try; 0 means e.timeout.
func (e *Engine) do(ctx context.Context, s *server, method, path string, q url.Values, body payload, out any, timeout time.Duration) error {
	return e.try(ctx, s, method, path, func(ctx context.Context) error {
		return e.request(ctx, s, method, path, q, body, out, timeout)
	})
}

// request is one try of do.
func (e *Engine) request(ctx context.Context, s *server, method, path string, q url.Values, body payload, out any, timeout time.Duration) error {
	var rd io.Reader
	var ct string
	if body != nil {
		rd, ct = body()
	}
	if timeout == 0 {
		timeout = e.timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := e.send(cctx, s, method, path, q, rd, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &statusError{resp.StatusCode, b}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fault.Wrap(fault.Upstream, fmt.Sprintf("the server %s answered %s %s with something other than ComfyUI's JSON; check that url points at ComfyUI", s.host, method, path), err)
		}
	}
	return nil
}

// send makes one request.
func (e *Engine) send(ctx context.Context, s *server, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.endpoint(path, q), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.user != nil {
		pw, _ := s.user.Password()
		req.SetBasicAuth(s.user.Username(), pw)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// The url.Error names the URL, query and all: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}

// try runs call until it succeeds, fails for good, or has failed
// transiently e.retries+1 times.
func (e *Engine) try(ctx context.Context, s *server, method, path string, call func(context.Context) error) error {
	var err error
	for i := 0; ; i++ {
		err = call(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		if !transient(err) {
			var se *statusError
			if errors.As(err, &se) {
				return se
			}
			return err
		}
		if i >= e.retries {
			break
		}
		e.log.Warn("ComfyUI call failed; retrying", "server", s.host, "call", method+" "+path, "err", err, "try", i+1)
		if werr := sleep(ctx, backoff(i)); werr != nil {
			break
		}
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fault.Wrap(fault.Upstream, fmt.Sprintf("the ComfyUI server %s is not answering (%s %s: %s); check that it is running and reachable",
		s.host, method, path, describe(err)), err)
}

// transient reports whether a failed call may succeed if tried again.
func transient(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests || se.code == http.StatusRequestTimeout
	}
	var fe *fault.Error
	return !errors.As(err, &fe)
}

// describe says briefly why a call failed, for a message.
func describe(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "unknown host"
	}
	return "connection failed"
}

// backoff is the pause before retry i+1: 250 ms doubling, at most 4 s,
// with jitter so that renders do not retry in step.
func backoff(i int) time.Duration {
	d := 250 * time.Millisecond << min(i, 4)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// uploaded is POST /upload/image's answer.
type uploaded struct {
	Name      string `json:"name"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// upload sends an input image as ComfyUI's LoadImage reads it, replacing
// a file of the same name (the name is the generation's, so a retry
// uploads the same file). It returns the name LoadImage takes.
func (e *Engine) upload(ctx context.Context, s *server, name string, data []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("image", name)
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		err = mw.WriteField("overwrite", "true")
	}
	if err == nil {
		err = mw.WriteField("type", "input")
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", fault.Wrap(fault.Internal, "preparing the image upload", err)
	}
	body := buf.Bytes()
	var res uploaded
	err = e.do(ctx, s, http.MethodPost, "/upload/image", nil, func() (io.Reader, string) {
		return bytes.NewReader(body), mw.FormDataContentType()
	}, &res, max(e.timeout, 2*time.Minute))
	if err != nil {
		return "", e.callFault(s, "uploading the input image", err)
	}
	if res.Name == "" {
		return "", fault.Errorf(fault.Upstream, "the ComfyUI server %s did not name the uploaded image; check that url points at ComfyUI", s.host)
	}
	if res.Subfolder != "" {
		return res.Subfolder + "/" + res.Name, nil
	}
	return res.Name, nil
}

// download saves an output file (GET /view) at path.
func (e *Engine) download(ctx context.Context, s *server, f outFile, path string) error {
	q := url.Values{"filename": {f.Filename}, "subfolder": {f.Subfolder}, "type": {f.folder()}}
	err := e.try(ctx, s, http.MethodGet, "/view", func(ctx context.Context) error {
		resp, err := e.send(ctx, s, http.MethodGet, "/view", q, nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			return &statusError{resp.StatusCode, b}
		}
		out, err := os.Create(path)
		if err != nil {
			return fault.Wrap(fault.Internal, "creating the download file", err)
		}
		_, err = io.Copy(out, resp.Body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return e.callFault(s, "downloading the video "+f.Filename, err)
	}
	return nil
}

// callFault turns a failed call into the fault a render returns: a
// context's end stays as it is (the caller says why it ended), an
// answer the server refused becomes an Upstream fault naming it.
func (e *Engine) callFault(s *server, doing string, err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	var se *statusError
	if errors.As(err, &se) {
		return fault.Wrap(fault.Upstream, fmt.Sprintf("the ComfyUI server %s refused %s (HTTP %d); check the server and its log",
			s.host, doing, se.code), err)
	}
	return err
}
