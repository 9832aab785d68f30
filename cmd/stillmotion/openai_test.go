package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/media"
)

// openAIHarness is the folder of the Node script that drives the server
// with the official openai npm package (version pinned in its lock file).
const openAIHarness = "../../test/openai-node"

// TestOpenAISDK runs OpenAI's own Node SDK against the real binary: create
// (an uploaded file, and an image URL deleted while queued), retrieve until
// completed, list with cursor pages, download the content and its
// thumbnail, delete; the SDK's typed errors parse ours.
func TestOpenAISDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run scripts/setup.sh --test (it installs nodejs)")
	}
	if _, err := os.Stat(filepath.Join(openAIHarness, "node_modules", "openai", "package.json")); err != nil {
		t.Fatal("the openai npm package is not installed: run scripts/setup.sh --test, or npm ci --ignore-scripts --prefix test/openai-node")
	}
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true})
	out := filepath.Join(t.TempDir(), "content.mp4")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs", p.url, testKey, filepath.Join(mustAbs(t, "testdata"), "rocket.jpg"), img.URL+"/rocket.jpg", out)
	cmd.Dir = openAIHarness
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s%s", err, stdout, stderr.String())
	}
	var summary struct {
		SDK      string   `json:"sdk"`
		Created  string   `json:"created"`
		Progress []int    `json:"progress"`
		Size     string   `json:"size"`
		Listed   []string `json:"listed"`
		Bytes    int      `json:"bytes"`
		Thumb    int      `json:"thumbnail_bytes"`
	}
	if err := json.Unmarshal(stdout, &summary); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	t.Logf("openai %s: %s, progress %v, size %s, %d bytes, thumbnail %d bytes", summary.SDK, summary.Created, summary.Progress, summary.Size, summary.Bytes, summary.Thumb)

	info, err := media.Probe(ctx, out)
	if err != nil {
		t.Fatalf("the downloaded content is not a video: %v", err)
	}
	if info.VideoCodec != "h264" || min(info.Width, info.Height) != 360 || !info.HasAudio {
		t.Errorf("content %+v, want H.264 with audio, short side 360", info)
	}
	if d := info.Duration; d < 5-1.0/24 || d > 5+1.0/24 {
		t.Errorf("duration %.3f s, want 5", d)
	}
	if want := strings.Join([]string{itoa(info.Width), itoa(info.Height)}, "x"); summary.Size != want {
		t.Errorf("size %q, want the video's %q", summary.Size, want)
	}
	if files := files(t, filepath.Join(p.dataDir, "videos")); len(files) != 0 {
		t.Errorf("files left after delete: %v", files)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
