package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"stillmotion/internal/media"
	"stillmotion/test/fakecog"
	"stillmotion/test/fakecomfy"
)

// TestSeedExampleThroughEngines runs the hosted API's lip-sync Python
// example, changed only in base URL, key and image URL, against a server
// whose pixverse/v5/image-to-video is served by each kind of remote
// engine in turn: another stillmotion, a ComfyUI workflow and a Cog
// container (the last two stand-ins that render with the built-in engine).
func TestSeedExampleThroughEngines(t *testing.T) {
	py := pythonWithRequests(t)
	img := imageServer(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed", "lipsync.py"))
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]func(t *testing.T) string{
		"upstream": func(t *testing.T) string {
			b := startServer(t, serverOpts{allowPrivate: true})
			return fmt.Sprintf("kind: upstream\n    url: %s\n    key: %s", b.url, testKey)
		},
		"comfyui": func(t *testing.T) string {
			comfy := fakecomfy.New(fakecomfy.Options{})
			srv := httptest.NewServer(comfy)
			t.Cleanup(func() { srv.Close(); comfy.Close() })
			return fmt.Sprintf(`kind: comfyui
    url: %s
    workflow: %s
    inputs: {image: "52.image", prompt: "6.text", negative_prompt: "7.text", seed: "3.seed", frames: "50.length", width: "50.width", height: "50.height", fps: "28.fps"}
    output: "28"
    frames_rule: 4n+1`, srv.URL, fakecomfy.Workflow("wan_i2v_api.json"))
		},
		"replicate (Cog)": func(t *testing.T) string {
			cog := fakecog.New(fakecog.Options{NoAudio: true})
			srv := httptest.NewServer(cog)
			t.Cleanup(func() { srv.Close(); cog.Close() })
			return fmt.Sprintf("kind: replicate\n    url: %s\n    input: {image: \"{{image_url}}\", prompt: \"{{prompt}}\", seed: \"{{seed}}\"}", srv.URL)
		},
	}
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/files/[^'"\s]+`)
	for name, entry := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := writeEngines(t, "engines:\n  remote:\n    "+entry(t)+"\nmodels:\n  pixverse/v5/image-to-video: remote\n")
			a := startServer(t, serverOpts{allowPrivate: true, extraArgs: []string{"--engines", file}})
			s := strings.NewReplacer(
				"https://api.aimlapi.com", a.url,
				"<YOUR_AIMLAPI_KEY>", testKey,
				"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/news-presenter.jpg", img.URL+"/astronaut.png",
			).Replace(string(src))
			f := filepath.Join(t.TempDir(), "lipsync.py")
			os.WriteFile(f, []byte(s), 0o644)
			out, err := exec.Command(py, f).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "Processing complete") || !strings.Contains(string(out), "'status': 'completed'") {
				t.Fatalf("the example did not complete:\n%s", out)
			}
			u := urlRE.FindString(string(out))
			if !strings.HasPrefix(u, a.url+"/files/") {
				t.Fatalf("no video URL of the server in the output:\n%s", out)
			}
			info, err := media.Probe(context.Background(), download(t, a.client, strings.ReplaceAll(u, `\u0026`, "&")))
			if err != nil {
				t.Fatal(err)
			}
			if info.VideoCodec != "h264" || info.AudioCodec != "aac" || info.Duration < 4.9 {
				t.Errorf("the video: %+v", info)
			}
			// The speech is in the soundtrack.
			if db := audioRMS(t, download(t, a.client, strings.ReplaceAll(u, `\u0026`, "&"))); db < -40 {
				t.Errorf("the soundtrack is silent (%.1f dBFS)", db)
			}
		})
	}
}
