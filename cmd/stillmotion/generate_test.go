package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGenerateCommand(t *testing.T) {
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true})
	env := []string{"STILLMOTION_SERVER=" + p.url, "STILLMOTION_API_KEY=" + testKey}
	dir := t.TempDir()

	tests := []struct {
		name, image string
	}{
		{"url", img.URL + "/rocket.jpg"},
		{"local file", "testdata/rocket.jpg"}, // sent as a data: URI
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".mp4")
			stdout, stderr, code := run(t, env, "generate", "--image", tt.image, "--prompt", "pan right across the launch pad",
				"--resolution", "360p", "--seed", "5", "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			m := regexp.MustCompile(`generation ([A-Za-z0-9_-]{21}) queued`).FindStringSubmatch(stderr)
			if m == nil || !strings.Contains(stderr, "downloading") {
				t.Errorf("progress lines: %q", stderr)
			}
			info := checkVideo(t, out, 540, 360, 5)
			if m != nil && !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, m[1]) || !strings.Contains(stdout, "bytes") {
				t.Errorf("summary %q does not give the path, id and size (video %+v)", stdout, info)
			}
			if matches, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(matches) > 0 {
				t.Errorf("temporary files left: %v", matches)
			}
		})
	}
}

func TestStatusAndCancelCommands(t *testing.T) {
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true})
	env := []string{"STILLMOTION_SERVER=" + p.url, "STILLMOTION_API_KEY=" + testKey}
	done := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "slow zoom in", "image_url": img.URL + "/rocket.jpg", "resolution": "360p",
	})
	p.wait(t, "/v2/video/generations", done, 2*time.Minute)

	stdout, stderr, code := run(t, env, "status", done)
	if code != 0 || !strings.Contains(stdout, "status:  completed") || !strings.Contains(stdout, "video:   "+p.url+"/files/"+done) || !strings.Contains(stdout, "540x360") {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, args := range [][]string{{"status", "--json", done}, {"status", done, "--json"}} {
		stdout, stderr, code := run(t, env, args...)
		var body struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Video  struct {
				URL string `json:"url"`
			} `json:"video"`
			Meta struct {
				Usage struct {
					CreditsUsed int64 `json:"credits_used"`
				} `json:"usage"`
			} `json:"meta"`
		}
		if err := json.Unmarshal([]byte(stdout), &body); code != 0 || err != nil || body.ID != done || body.Status != "completed" ||
			!strings.Contains(body.Video.URL, "&signature=") || body.Meta.Usage.CreditsUsed != 5*63000 {
			t.Errorf("%v: exit %d, %v\n%s%s", args, code, err, stdout, stderr)
		}
	}

	// Cancel a queued generation: an API-only server never starts it.
	q := startServer(t, serverOpts{apiOnly: true})
	qenv := []string{"STILLMOTION_SERVER=" + q.url, "STILLMOTION_API_KEY=" + testKey}
	queued := q.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": "https://example.com/a.png",
	})
	stdout, stderr, code = run(t, qenv, "cancel", queued)
	if code != 0 || !strings.Contains(stdout, "cancelled "+queued) {
		t.Errorf("cancel queued: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, _, _ = run(t, qenv, "status", queued)
	if !strings.Contains(stdout, "status:  error") || !strings.Contains(stdout, "error:   cancelled") || !strings.Contains(stdout, "usage:   0 credits") {
		t.Errorf("status after cancel:\n%s", stdout)
	}

	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"cancel completed", env, []string{"cancel", done}, []string{"has already completed", "HTTP 409"}},
		{"cancel cancelled", qenv, []string{"cancel", queued}, []string{"HTTP 409"}},
		{"status unknown id", env, []string{"status", "nope"}, []string{`Generation "nope" not found`, "HTTP 404"}},
		{"status without id", env, []string{"status"}, []string{"status needs one generation ID"}},
		{"status with two ids", env, []string{"status", "a", "b"}, []string{"status needs one generation ID"}},
		{"wrong key", append(env, "STILLMOTION_API_KEY=wrong"), []string{"status", done}, []string{"HTTP 401"}},
		{"no key", append(env, "STILLMOTION_API_KEY="), []string{"cancel", done}, []string{"no API key"}},
		{"no server", env, []string{"status", "--server", "http://" + freeAddr(t), done}, []string{"is a server running at"}},
		{"generate without flags", env, []string{"generate"}, []string{"generate needs --image, --prompt and -o"}},
		{"generate bad field", env, []string{"generate", "--image", img.URL + "/rocket.jpg", "--prompt", "p", "--resolution", "4k", "-o", filepath.Join(t.TempDir(), "x.mp4")},
			[]string{"Body validation error! (HTTP 400", "--resolution (resolution): Invalid enum value. Expected '360p' | '540p' | '720p' | '1080p', received '4k'"}},
		{"generate bad voice", env, []string{"generate", "--image", img.URL + "/rocket.jpg", "--prompt", "p", "--speech", "hi", "--voice", "Bob", "-o", filepath.Join(t.TempDir(), "x.mp4")},
			[]string{"--voice (lip_sync_tts_speaker): Invalid enum value"}},
		{"generate missing file", env, []string{"generate", "--image", "testdata/nope.png", "--prompt", "p", "-o", filepath.Join(t.TempDir(), "x.mp4")}, []string{"reading --image"}},
		{"generate failed render", env, []string{"generate", "--image", img.URL + "/nope.png", "--prompt", "p", "--resolution", "360p", "-o", filepath.Join(t.TempDir(), "x.mp4")},
			[]string{"failed: image_fetch_failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tt.env, tt.args...)
			if code == 0 {
				t.Errorf("exit 0, stdout %q", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

func TestGenerateHelp(t *testing.T) {
	for _, cmd := range []string{"generate", "status", "cancel"} {
		_, stderr, code := run(t, nil, cmd, "-h")
		if code != 0 || !strings.Contains(stderr, "-server") || !strings.Contains(stderr, "STILLMOTION_API_KEY") {
			t.Errorf("%s -h: exit %d\n%s", cmd, code, stderr)
		}
	}
	stdout, _, _ := run(t, nil, "help")
	for _, cmd := range []string{"generate", "status ID", "cancel ID"} {
		if !strings.Contains(stdout, "stillmotion "+cmd) {
			t.Errorf("usage does not list %q", cmd)
		}
	}
}

// TestGenerateInterrupted checks that ^C while waiting says how to follow or
// stop the generation, which goes on on the server.
func TestGenerateInterrupted(t *testing.T) {
	p := startServer(t, serverOpts{apiOnly: true}) // nothing renders: it stays queued
	cmd := exec.Command(binPath, "generate", "--server", p.url, "--key", testKey, "--image", "https://example.com/a.png",
		"--prompt", "p", "-o", filepath.Join(t.TempDir(), "x.mp4"))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "queued") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	m := regexp.MustCompile(`generation ([A-Za-z0-9_-]{21}) queued`).FindStringSubmatch(stderr.String())
	if err == nil || m == nil || !strings.Contains(stderr.String(), "'stillmotion cancel "+m[1]+"' stops it") {
		t.Errorf("exit %v, stderr %q", err, stderr.String())
	}
}
