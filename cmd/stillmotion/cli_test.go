package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestRenderCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "clip.mp4")
	_, stderr, code := run(t, nil, "render", "--image", "testdata/astronaut.png", "--prompt", "pan left",
		"--resolution", "360p", "--duration", "8", "--seed", "3", "--speech", "Good evening.", "--voice", "Ethan", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "pan left") || !strings.Contains(stderr, "voice Ethan") {
		t.Errorf("summary does not say what was rendered: %s", stderr)
	}
	checkVideo(t, out, 360, 360, 8)
	if db := audioRMS(t, out); db < -40 {
		t.Errorf("speech at %.1f dBFS", db)
	}
}

func TestRenderCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"render"}, "render needs -o (or --contact-sheet)"},
		{"missing fields", []string{"render", "-o", "x.mp4"}, "prompt: Required"},
		{"bad resolution", []string{"render", "--image", "testdata/rocket.jpg", "--prompt", "p", "--resolution", "4k", "-o", "x.mp4"}, "resolution: Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '4k'"},
		{"1080p for 8 s", []string{"render", "--image", "testdata/rocket.jpg", "--prompt", "p", "--resolution", "1080p", "--duration", "8", "-o", "x.mp4"}, "1080p supports only duration 5"},
		{"missing file", []string{"render", "--image", "testdata/nope.png", "--prompt", "p", "-o", "x.mp4"}, "reading --image"},
		{"not an image", []string{"render", "--image", "testdata/README.md", "--prompt", "p", "-o", "x.mp4"}, "supported formats are JPEG, PNG, WebP and GIF"},
		{"unknown voice", []string{"render", "--image", "testdata/rocket.jpg", "--prompt", "p", "--speech", "hi", "--voice", "Bob", "-o", "x.mp4"}, "lip_sync_tts_speaker: Invalid enum value"},
		{"unknown command", []string{"paint"}, `unknown command "paint"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, nil, tt.args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want failure saying %q", code, stderr, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "-h"}, {"render", "-h"}, {"keys", "--help"}, {"doctor", "-h"}} {
		stdout, stderr, code := run(t, nil, args...)
		if code != 0 || len(stdout+stderr) < 100 {
			t.Errorf("%v: exit %d, %q", args, code, stdout+stderr)
		}
	}
	_, stderr, _ := run(t, nil, "serve", "-h")
	for _, flag := range []string{"-addr", "-data-dir", "-database", "-storage", "-public-url", "-workers", "STILLMOTION_ADDR"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("serve -h does not mention %s", flag)
		}
	}
}

func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	env := []string{"STILLMOTION_DATA_DIR=" + dir}
	secret, stderr, code := run(t, env, "keys", "create", "--name", "ci", "--credits", "500000")
	secret = strings.TrimSpace(secret)
	if code != 0 || !regexp.MustCompile(`^sm_[A-Za-z0-9]{32}$`).MatchString(secret) {
		t.Fatalf("create: exit %d, %q %s", code, secret, stderr)
	}
	if _, stderr, code := run(t, env, "keys", "create", "--name", "ci"); code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("duplicate name: exit %d %s", code, stderr)
	}
	list, _, _ := run(t, env, "keys", "list")
	if !strings.Contains(list, "ci") || !strings.Contains(list, "500000") || strings.Contains(list, secret) {
		t.Errorf("list: %s", list)
	}

	// The key works against a server on the same data dir, and is debited.
	// API only: a worker failing the fetch would refund it before we look.
	p := startServer(t, serverOpts{dataDir: dir, apiOnly: true})
	p.client.Timeout = 0
	req := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": "https://example.com/a.png"}
	code2, m := postWithKey(t, p, secret, req)
	if code2 != 200 {
		t.Fatalf("submit with the new key: %d %v", code2, m)
	}
	code2, m = postWithKey(t, p, secret, req)
	if code2 != 403 {
		t.Errorf("second submit over the balance: %d %v, want 403", code2, m)
	}
	list, _, _ = run(t, env, "keys", "list")
	if !strings.Contains(list, "80000") {
		t.Errorf("balance not debited: %s", list)
	}
	if _, _, code := run(t, env, "keys", "revoke", "ci"); code != 0 {
		t.Fatal("revoke failed")
	}
	if code2, _ := postWithKey(t, p, secret, req); code2 != 401 {
		t.Errorf("revoked key: %d, want 401", code2)
	}
}

func TestDoctor(t *testing.T) {
	stdout, _, code := run(t, nil, "doctor", "--data-dir", t.TempDir())
	if code != 0 || !strings.Contains(stdout, "all checks passed") {
		t.Errorf("doctor: exit %d\n%s", code, stdout)
	}
	stdout, stderr, code := run(t, nil, "doctor", "--data-dir", t.TempDir(), "--ffmpeg", "/nonexistent/ffmpeg", "--flite", "no-such-flite")
	if code == 0 || !strings.Contains(stdout, "apt-get install ffmpeg") || !strings.Contains(stdout, "apt-get install flite") {
		t.Errorf("doctor with missing programs: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestWorkerTokens creates worker tokens: they need queues, are listed
// with them, and are refused by the API, which they may not call.
func TestWorkerTokens(t *testing.T) {
	dir := t.TempDir()
	env := []string{"STILLMOTION_DATA_DIR=" + dir}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "w", "--worker"}, "a worker token needs --queues"},
		{[]string{"--name", "w", "--worker", "--queues", "builtin"}, `"builtin" is not a render queue`},
		{[]string{"--name", "w", "--worker", "--queues", "render_builtin", "--credits", "5"}, "leave out --credits and --test"},
		{[]string{"--name", "w", "--queues", "render_builtin"}, "--queues is for worker tokens: add --worker"},
	} {
		if _, stderr, code := run(t, env, append([]string{"keys", "create"}, tt.args...)...); code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("keys create %q: exit %d %s, want an error with %q", tt.args, code, stderr, tt.want)
		}
	}
	secret, stderr, code := run(t, env, "keys", "create", "--name", "gpu-1", "--worker", "--queues", "render_builtin,render_comfy")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.Contains(stderr, "for render_builtin, render_comfy") {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	if list, _, _ := run(t, env, "keys", "list"); !strings.Contains(list, "worker:render_builtin,render_comfy") {
		t.Errorf("list: %s", list)
	}
	p := startServer(t, serverOpts{dataDir: dir, apiOnly: true})
	req := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": "https://example.com/a.png"}
	if code, m := postWithKey(t, p, secret, req); code != 403 || !strings.Contains(fmt.Sprint(m), "This is a worker token") {
		t.Errorf("submit with a worker token: %d %v, want 403", code, m)
	}
}
