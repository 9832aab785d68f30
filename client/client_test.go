package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// script is a test server that answers each request with the next of its
// replies, the last one repeated, and counts the requests.
type script struct {
	replies []reply
	n       atomic.Int32
	srv     *httptest.Server
}

type reply struct {
	status     int
	retryAfter string
	body       string
}

func newScript(t *testing.T, replies ...reply) *script {
	t.Helper()
	s := &script{replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.n.Add(1)) - 1
		rp := s.replies[min(i, len(s.replies)-1)]
		if r.Header.Get("Authorization") != "Bearer k" {
			rp = reply{status: 401, body: `{"message":"Missing or unknown API key","statusCode":401}`}
		}
		if rp.retryAfter != "" {
			w.Header().Set("Retry-After", rp.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rp.status)
		io.WriteString(w, rp.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func gen(status string, extra string) reply {
	return reply{status: 200, body: `{"id":"abc","status":"` + status + `"` + extra + `,"meta":{"usage":{"credits_used":315000,"usd_spent":0.1575}}}`}
}

var (
	tooMany     = reply{status: 429, retryAfter: "0", body: `{"message":"Too many requests for this key; retry after the time in Retry-After","statusCode":429}`}
	unavailable = reply{status: 503, retryAfter: "0", body: `{"message":"Overloaded: 10000 generations are waiting; retry later","statusCode":503}`}
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"Tue, 24 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Tue, 24 Nov 2026 09:00:00 GMT", 0},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt  int
		lo, hi   time.Duration
		min, max time.Duration
	}{
		{0, 250 * time.Millisecond, 5 * time.Second, 125 * time.Millisecond, 250 * time.Millisecond},
		{1, 250 * time.Millisecond, 5 * time.Second, 250 * time.Millisecond, 500 * time.Millisecond},
		{4, 250 * time.Millisecond, 5 * time.Second, 2 * time.Second, 4 * time.Second},
		{5, 250 * time.Millisecond, 5 * time.Second, 2500 * time.Millisecond, 5 * time.Second},
		{1000, 250 * time.Millisecond, 5 * time.Second, 2500 * time.Millisecond, 5 * time.Second},
		{3, time.Second, time.Second, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt, tt.lo, tt.hi), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := backoff(tt.attempt, tt.lo, tt.hi)
				if d < tt.min || d > tt.max {
					t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.min, tt.max)
				}
				seen[d] = true
			}
			if len(seen) < 10 {
				t.Errorf("backoff(%d) took only %d values in 200 draws: no jitter", tt.attempt, len(seen))
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		replies  []reply
		retries  int
		wantReqs int32
		wantErr  error
	}{
		{"429 then success", []reply{tooMany, tooMany, gen("queued", "")}, 3, 3, nil},
		{"503 then success", []reply{unavailable, gen("queued", "")}, 3, 2, nil},
		{"retries exhausted", []reply{tooMany}, 2, 3, ErrRateLimited},
		{"retries off", []reply{unavailable, gen("queued", "")}, 0, 1, ErrUnavailable},
		{"400 is not retried", []reply{{status: 400, body: `{"message":"Body validation error!","errors":[{"field":"prompt","message":"Required"}]}`}, gen("queued", "")}, 3, 1, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(t, tt.replies...)
			c := New(s.srv.URL, "k", WithRetries(tt.retries))
			g, err := c.Create(context.Background(), &CreateRequest{Prompt: "p", ImageURL: "https://example.com/a.png"})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (g.ID != "abc" || g.Status != Queued || g.Usage.CreditsUsed != 315000) {
				t.Errorf("generation %+v", g)
			}
			if n := s.n.Load(); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s := newScript(t, reply{status: 503, retryAfter: "1", body: `{"message":"Shutting down"}`}, gen("queued", ""))
	start := time.Now()
	if _, err := New(s.srv.URL, "k").Get(context.Background(), "abc"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v; Retry-After said 1 s", d)
	}
	// A context that ends first ends the wait for Retry-After.
	s = newScript(t, reply{status: 429, retryAfter: "30", body: `{"message":"slow down"}`})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := New(s.srv.URL, "k").Get(ctx, "abc")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v; want the context's deadline", err, time.Since(start))
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		name       string
		replies    []reply
		wantStatus Status
		wantErr    error
		wantSeen   string
	}{
		{
			name: "completed",
			replies: []reply{gen("queued", ""), tooMany, gen("generating", `,"progress":25`), unavailable,
				gen("generating", `,"progress":75`), gen("completed", `,"video":{"url":"http://x/files/abc/output.mp4","content_type":"video/mp4","file_name":"output.mp4","file_size":1234}`)},
			wantStatus: Completed,
			wantSeen:   "queued generating:0.25 generating:0.75 completed",
		},
		{
			name:       "succeeded",
			replies:    []reply{gen("generating", `,"progress":50`), gen("succeeded", `,"video":{"url":"u","file_size":1}`)},
			wantStatus: Succeeded,
			wantSeen:   "generating:0.5 succeeded",
		},
		{
			name:       "cancelled",
			replies:    []reply{gen("queued", ""), gen("error", `,"error":{"name":"cancelled","message":"Cancelled by the client"}`)},
			wantStatus: Failed,
			wantErr:    ErrCancelled,
			wantSeen:   "queued error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(t, tt.replies...)
			var seen []string
			g, err := New(s.srv.URL, "k").Wait(context.Background(), "abc",
				PollInterval(time.Millisecond, 10*time.Millisecond),
				OnProgress(func(g *Generation) {
					if g.Status == Generating {
						seen = append(seen, fmt.Sprintf("%s:%g", g.Status, g.Progress))
						return
					}
					seen = append(seen, string(g.Status))
				}))
			if (err == nil) != (tt.wantErr == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if g == nil || g.Status != tt.wantStatus {
				t.Fatalf("generation %+v, want status %s", g, tt.wantStatus)
			}
			if got := strings.Join(seen, " "); got != tt.wantSeen {
				t.Errorf("progress saw %q, want %q", got, tt.wantSeen)
			}
			var ge *GenerationError
			if tt.wantErr != nil && (!errors.As(err, &ge) || ge != g.Error) {
				t.Errorf("error %v is not the generation's error %v", err, g.Error)
			}
		})
	}
}

func TestWaitStops(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		s := newScript(t, gen("queued", ""))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		g, err := New(s.srv.URL, "k").Wait(ctx, "abc")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Wait returned %v after the context ended", d-300*time.Millisecond)
		}
		if g == nil || g.Status != Queued {
			t.Errorf("Wait returned %+v; want the last generation seen", g)
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newScript(t, reply{status: 404, body: `{"message":"No generation with id abc","statusCode":404}`})
		_, err := New(s.srv.URL, "k").Wait(context.Background(), "abc")
		if !errors.Is(err, ErrNotFound) || s.n.Load() != 1 {
			t.Errorf("err = %v after %d polls; want one 404", err, s.n.Load())
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		s := newScript(t, gen("queued", ""))
		_, err := New(s.srv.URL, "wrong").Wait(context.Background(), "abc")
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("err = %v, want ErrUnauthorized", err)
		}
	})
}

// golden reads one of the API's golden responses: status, headers, body.
func golden(t *testing.T, path string) (int, http.Header, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := bytes.Cut(b, []byte("\n\n"))
	r := bufio.NewScanner(bytes.NewReader(head))
	r.Scan()
	var status int
	if _, err := fmt.Sscanf(r.Text(), "HTTP %d", &status); err != nil {
		t.Fatalf("%s: status line %q", path, r.Text())
	}
	h := http.Header{}
	for r.Scan() {
		k, v, _ := strings.Cut(r.Text(), ": ")
		h.Add(k, v)
	}
	return status, h, body
}

// TestStatusErrors decodes every error body of the API's golden files, the
// bytes the server answers.
func TestStatusErrors(t *testing.T) {
	files, _ := filepath.Glob("../internal/api/testdata/error_*.golden")
	if len(files) == 0 {
		t.Skip("no golden files in ../internal/api/testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".golden"), func(t *testing.T) {
			status, h, body := golden(t, f)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range h {
					w.Header()[k] = v
				}
				w.WriteHeader(status)
				w.Write(body)
			}))
			defer srv.Close()
			_, err := New(srv.URL, "k", WithRetries(0)).Get(context.Background(), "abc")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			var want struct {
				Message    string       `json:"message"`
				RequestID  string       `json:"requestId"`
				StatusCode int          `json:"statusCode"`
				Errors     []FieldError `json:"errors"`
			}
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatal(err)
			}
			if ae.StatusCode != status || ae.Message != want.Message || ae.RequestID != cmp.Or(want.RequestID, h.Get("X-Request-Id")) || len(ae.Fields) != len(want.Errors) {
				t.Errorf("decoded %+v from %s", ae, body)
			}
			for i, fe := range want.Errors {
				if ae.Fields[i] != fe {
					t.Errorf("field %d = %+v, want %+v", i, ae.Fields[i], fe)
				}
			}
			if ra := h.Get("Retry-After"); ra != "" && ae.RetryAfter != retryAfter(ra, time.Now()) {
				t.Errorf("RetryAfter = %v, header %q", ae.RetryAfter, ra)
			}
			if sentinel, ok := statusErrors[status]; ok && !errors.Is(err, sentinel) {
				t.Errorf("errors.Is(%v, %v) is false", err, sentinel)
			}
			if !strings.Contains(ae.Error(), want.Message) {
				t.Errorf("Error() = %q does not carry the message", ae.Error())
			}
		})
	}
}

func TestAPIErrorNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := New(srv.URL, "k").Get(context.Background(), "abc")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Message != "<html>Bad Gateway</html>" {
		t.Errorf("err = %#v", err)
	}
}

func TestGenerationJSON(t *testing.T) {
	for _, name := range []string{"poll_completed", "poll_generating", "poll_error", "poll_queued"} {
		t.Run(name, func(t *testing.T) {
			status, _, body := golden(t, "../internal/api/testdata/"+name+".golden")
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			var g Generation
			if err := json.Unmarshal(body, &g); err != nil {
				t.Fatal(err)
			}
			if g.ID == "" || g.Status == "" || (g.Status == Completed) != (g.Video != nil) || (g.Status == Failed) != (g.Error != nil) {
				t.Errorf("decoded %+v", g)
			}
			// The JSON form is the wire form: it survives a round trip.
			b, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			var a, w any
			json.Unmarshal(b, &a)
			json.Unmarshal(body, &w)
			if ab, wb := fmt.Sprint(a), fmt.Sprint(w); ab != wb {
				t.Errorf("round trip:\n got %s\nwant %s", ab, wb)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "two credentials", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/files/abc/output.mp4":
			w.Header().Set("Content-Type", "video/mp4")
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.Write(content)
		case "/files/short/output.mp4":
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.Write(content[:1000])
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"The link has expired"}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "k")

	var buf bytes.Buffer
	var calls int
	var last, total int64
	n, err := c.Download(context.Background(), srv.URL+"/files/abc/output.mp4", &buf, func(w, t int64) { calls, last, total = calls+1, w, t })
	if err != nil || n != int64(len(content)) || !bytes.Equal(buf.Bytes(), content) {
		t.Fatalf("Download = %d, %v", n, err)
	}
	if calls == 0 || last != n || total != n {
		t.Errorf("progress: %d calls, last %d of %d", calls, last, total)
	}

	// A relative URL is the server's own.
	buf.Reset()
	if n, err := c.Download(context.Background(), "/files/abc/output.mp4", &buf, nil); err != nil || n != int64(len(content)) {
		t.Errorf("relative URL: %d, %v", n, err)
	}
	if _, err := c.Download(context.Background(), srv.URL+"/files/short/output.mp4", io.Discard, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: err = %v", err)
	}
	_, err = c.Download(context.Background(), srv.URL+"/files/old/output.mp4", io.Discard, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Message != "The link has expired" {
		t.Errorf("expired link: err = %v", err)
	}
}

func TestImageDataURI(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"png", "\x89PNG\r\n\x1a\n", "data:image/png;base64,iVBORw0KGgo="},
		{"jpeg", "\xff\xd8\xff", "data:image/jpeg;base64,/9j/"},
		{"not an image", "hello", "data:image/unknown;base64,aGVsbG8="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImageDataURI(strings.NewReader(tt.in))
			if err != nil || got != tt.want {
				t.Errorf("ImageDataURI = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	uri, err := FileDataURI("testdata/rocket.jpg")
	if err != nil || !strings.HasPrefix(uri, "data:image/jpeg;base64,/9j/") {
		t.Errorf("FileDataURI = %.40q…, %v", uri, err)
	}
	if _, err := FileDataURI("testdata/nope.png"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestWaitNetworkErrors(t *testing.T) {
	tests := []struct {
		name     string
		drops    int32 // requests whose connection is closed unanswered
		wantErr  bool
		wantReqs int32
	}{
		{"a server restarting", 2, false, 3},
		{"a server gone", 1000, true, maxNetworkFailures + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= tt.drops {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				io.WriteString(w, gen("completed", `,"video":{"url":"u","file_size":1}`).body)
			}))
			defer srv.Close()
			g, err := New(srv.URL, "k").Wait(context.Background(), "abc", PollInterval(time.Millisecond, 5*time.Millisecond))
			if (err != nil) != tt.wantErr || n.Load() != tt.wantReqs {
				t.Fatalf("Wait = %+v, %v after %d requests; want error %v after %d", g, err, n.Load(), tt.wantErr, tt.wantReqs)
			}
			if !tt.wantErr && g.Status != Completed {
				t.Errorf("status %s", g.Status)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	for _, key := range []string{"", "order-42"} {
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = append(got, r.Header.Get("Idempotency-Key"))
			if len(got) == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				io.WriteString(w, `{"message":"Overloaded","statusCode":503}`)
				return
			}
			io.WriteString(w, gen("queued", "").body)
		}))
		c := New(srv.URL, "k", WithRetries(1))
		if _, err := c.Create(context.Background(), &CreateRequest{Prompt: "p", ImageURL: "https://example.com/a.png", IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if len(got) != 2 || got[0] != key || got[1] != key {
			t.Errorf("key %q: sent %q on the attempts", key, got)
		}
	}
}

// TestDownloadGone: a download URL past its time, or of a deleted video,
// is ErrGone, whose message says to poll again.
func TestDownloadGone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, `{"message":"This download URL expired at 2026-12-01T10:00:00Z: poll the generation again for a fresh video.url","statusCode":410}`)
	}))
	defer srv.Close()
	_, err := New(srv.URL, "k").Download(context.Background(), srv.URL+"/files/g/output.mp4?expires=1&signature=x", io.Discard, nil)
	if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "poll the generation again") {
		t.Errorf("Download of an expired URL: %v, want ErrGone with the server's message", err)
	}
}
