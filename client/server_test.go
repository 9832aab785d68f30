package client_test

// Tests against the real server: the stillmotion binary, built from this
// module and started as a process, rendering with real ffmpeg.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"stillmotion/client"
)

const testKey = "client-test-key"

var real struct {
	once sync.Once
	dir  string
	url  string
	cmd  *exec.Cmd
	log  bytes.Buffer
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if real.cmd != nil {
		real.cmd.Process.Kill()
		real.cmd.Wait()
		if code != 0 {
			fmt.Fprintf(os.Stderr, "server log:\n%s", real.log.String())
		}
	}
	if real.dir != "" {
		os.RemoveAll(real.dir)
	}
	os.Exit(code)
}

// realServer builds and starts the server once, on first use, and returns
// its base URL. It is shared by the tests: each makes its own generations.
func realServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real server")
	}
	real.once.Do(func() {
		real.dir, real.err = os.MkdirTemp("", "stillmotion-client-")
		if real.err != nil {
			return
		}
		bin := filepath.Join(real.dir, "stillmotion")
		if out, err := exec.Command("go", "build", "-o", bin, "../cmd/stillmotion").CombinedOutput(); err != nil {
			real.err = fmt.Errorf("building the server: %v\n%s", err, out)
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			real.err = err
			return
		}
		addr := ln.Addr().String()
		ln.Close()
		real.cmd = exec.Command(bin, "serve", "--addr", addr, "--data-dir", filepath.Join(real.dir, "data"), "--workers", "2")
		real.cmd.Env = append(os.Environ(), "STILLMOTION_API_KEYS="+testKey, "STILLMOTION_ALLOW_PRIVATE_FETCH=1")
		real.cmd.Stdout, real.cmd.Stderr = &real.log, &real.log
		if real.err = real.cmd.Start(); real.err != nil {
			return
		}
		real.url = "http://" + addr
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if res, err := http.Get(real.url + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return
				}
			}
		}
		real.err = errors.New("the server did not become ready")
	})
	if real.err != nil {
		t.Fatal(real.err)
	}
	return real.url
}

func imageServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	return srv.URL
}

func seed(n int64) *int64 { return &n }

func TestGenerateEndToEnd(t *testing.T) {
	url := realServer(t)
	img := imageServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := client.New(url, testKey)

	g, err := c.Create(ctx, &client.CreateRequest{
		Prompt: "pan right across the launch pad", ImageURL: img + "/rocket.jpg",
		Resolution: "360p", Seed: seed(7),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ID) != 21 || g.Status != client.Queued || g.Usage.CreditsUsed != 5*63000 {
		t.Fatalf("created %+v", g)
	}
	var statuses []client.Status
	g, err = c.Wait(ctx, g.ID, client.OnProgress(func(g *client.Generation) {
		if len(statuses) == 0 || statuses[len(statuses)-1] != g.Status {
			statuses = append(statuses, g.Status)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != client.Completed || g.Video == nil || g.Video.Width != 540 || g.Video.Height != 360 || !g.Video.HasAudio {
		t.Fatalf("finished %+v, video %+v", g, g.Video)
	}
	if statuses[len(statuses)-1] != client.Completed {
		t.Errorf("progress saw %v", statuses)
	}

	var buf bytes.Buffer
	var lastWritten int64
	n, err := c.Download(ctx, g.Video.URL, &buf, func(w, total int64) { lastWritten = w })
	if err != nil {
		t.Fatal(err)
	}
	if n != g.Video.FileSize || int64(buf.Len()) != n || lastWritten != n || !bytes.Equal(buf.Bytes()[4:8], []byte("ftyp")) {
		t.Errorf("downloaded %d bytes (progress %d), file_size %d, head %q", n, lastWritten, g.Video.FileSize, buf.Bytes()[:min(8, buf.Len())])
	}

	// The legacy routes see the same generation.
	lg, err := client.New(url, testKey, client.WithLegacyRoutes()).Get(ctx, g.ID)
	if err != nil || lg.Status != client.Completed || lg.Video.FileSize != g.Video.FileSize {
		t.Errorf("legacy Get = %+v, %v", lg, err)
	}

	// It has ended: cancelling it is a conflict.
	_, err = c.Cancel(ctx, g.ID)
	var ae *client.APIError
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &ae) || ae.StatusCode != 409 || ae.Message == "" {
		t.Errorf("Cancel of a completed generation: %v", err)
	}
}

func TestCancelRealServer(t *testing.T) {
	url := realServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New(url, testKey)
	// A local file goes as a data: URI; 1080p takes long enough to cancel.
	img, err := client.FileDataURI("testdata/rocket.jpg")
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Create(ctx, &client.CreateRequest{Prompt: "slow zoom in", ImageURL: img, Resolution: "1080p"})
	if err != nil {
		t.Fatal(err)
	}
	cg, err := c.Cancel(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cg.Status != client.Failed || cg.Error == nil || cg.Error.Name != "cancelled" || cg.Usage.CreditsUsed != 0 {
		t.Errorf("cancelled %+v (error %+v)", cg, cg.Error)
	}
	wg, err := c.Wait(ctx, g.ID)
	if !errors.Is(err, client.ErrCancelled) || wg == nil || wg.Status != client.Failed {
		t.Errorf("Wait after Cancel = %+v, %v; want ErrCancelled", wg, err)
	}
}

func TestStatusErrorsRealServer(t *testing.T) {
	url := realServer(t)
	ctx := context.Background()
	c := client.New(url, testKey)
	tests := []struct {
		name   string
		call   func() error
		want   error
		status int
		field  string
	}{
		{"unknown id", func() error { _, err := c.Get(ctx, "nope"); return err }, client.ErrNotFound, 404, ""},
		{"cancel unknown id", func() error { _, err := c.Cancel(ctx, "nope"); return err }, client.ErrNotFound, 404, ""},
		{"wrong key", func() error { _, err := client.New(url, "wrong").Get(ctx, "nope"); return err }, client.ErrUnauthorized, 401, ""},
		{"bad resolution", func() error {
			_, err := c.Create(ctx, &client.CreateRequest{Prompt: "p", ImageURL: "https://example.com/a.png", Resolution: "4k"})
			return err
		}, client.ErrInvalid, 400, "resolution"},
		{"bad voice", func() error {
			_, err := c.Create(ctx, &client.CreateRequest{Prompt: "p", ImageURL: "https://example.com/a.png", Speech: "hi", Speaker: "Bob"})
			return err
		}, client.ErrInvalid, 400, "lip_sync_tts_speaker"},
		{"unknown model", func() error {
			_, err := c.Create(ctx, &client.CreateRequest{Model: "pixverse/v4", Prompt: "p", ImageURL: "https://example.com/a.png"})
			return err
		}, client.ErrInvalid, 400, "model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *client.APIError
			if !errors.Is(err, tt.want) || !errors.As(err, &ae) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if ae.StatusCode != tt.status || ae.RequestID == "" || ae.Message == "" {
				t.Errorf("APIError %+v", ae)
			}
			if tt.field != "" && (len(ae.Fields) != 1 || ae.Fields[0].Field != tt.field || ae.Fields[0].Message == "") {
				t.Errorf("fields %+v, want one about %s", ae.Fields, tt.field)
			}
		})
	}
}
