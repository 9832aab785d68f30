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
	"syscall"
	"testing"
	"time"

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
			return comfyEntry(srv.URL)
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

// comfyEntry is an engines file entry for the stand-in ComfyUI at url,
// running its animated-WebP Wan workflow.
func comfyEntry(url string) string {
	return fmt.Sprintf(`kind: comfyui
    url: %s
    workflow: %s
    inputs: {image: "52.image", prompt: "6.text", negative_prompt: "7.text", seed: "3.seed", frames: "50.length", width: "50.width", height: "50.height", fps: "28.fps"}
    output: "28"
    frames_rule: 4n+1`, url, fakecomfy.Workflow("wan_i2v_api.json"))
}

// TestComfyRestartMidJob kills stillmotion while ComfyUI renders its job:
// the restarted server finds the job by its saved id, waits for it and
// serves the video; ComfyUI was given the job once. A request field the
// workflow does not use comes back as a warning.
func TestComfyRestartMidJob(t *testing.T) {
	img := imageServer(t)
	comfy := fakecomfy.New(fakecomfy.Options{StepDelay: 200 * time.Millisecond})
	srv := httptest.NewServer(comfy)
	t.Cleanup(func() { srv.Close(); comfy.Close() })
	file := writeEngines(t, "engines:\n  wan:\n    "+comfyEntry(srv.URL)+"\nmodels:\n  wan-2.2-i2v: wan\n")
	dir, addr := t.TempDir(), freeAddr(t)
	opts := serverOpts{dataDir: dir, addr: addr, workers: 1, allowPrivate: true, extraArgs: []string{"--engines", file}}
	a := startServer(t, opts)
	id := a.submit(t, "/v2/video/generations", map[string]any{
		"model": "wan-2.2-i2v", "prompt": "the rocket lifts off", "image_url": img.URL + "/rocket.jpg", "resolution": "360p", "style": "anime",
	})
	deadline := time.Now().Add(time.Minute)
	for {
		_, m, _ := a.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
		if p, _ := m["progress"].(float64); m["status"] == "generating" && p > 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ComfyUI never got going: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	a = startServer(t, opts)
	m := a.wait(t, "/v2/video/generations", id, 3*time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("after the restart: %v", m)
	}
	if n := comfy.Submissions(); n != 1 {
		t.Errorf("ComfyUI was given the job %d times, want once", n)
	}
	v := m["video"].(map[string]any)
	if w := fmt.Sprint(v["warnings"]); !strings.Contains(w, "style was ignored") {
		t.Errorf("warnings %s, want one about style", w)
	}
	info, err := media.Probe(context.Background(), download(t, a.client, v["url"].(string)))
	if err != nil || info.VideoCodec != "h264" || float64(info.Height) != v["height"].(float64) {
		t.Errorf("the video: %+v, %v", info, err)
	}
}

// TestDoctorEngines checks every engine of an engines file: a ComfyUI
// that answers passes, an upstream that does not fails, naming itself.
func TestDoctorEngines(t *testing.T) {
	comfy := fakecomfy.New(fakecomfy.Options{})
	srv := httptest.NewServer(comfy)
	t.Cleanup(func() { srv.Close(); comfy.Close() })
	good := writeEngines(t, "engines:\n  wan:\n    "+comfyEntry(srv.URL)+"\nmodels:\n  wan-2.2-i2v: wan\n")
	stdout, _, code := run(t, nil, "doctor", "--data-dir", t.TempDir(), "--engines", good)
	if code != 0 || !strings.Contains(stdout, "engine wan (comfyui): ok") || !strings.Contains(stdout, "wan-2.2-i2v → wan") {
		t.Errorf("doctor with a ComfyUI that answers: exit %d\n%s", code, stdout)
	}
	down := "http://" + freeAddr(t)
	bad := writeEngines(t, "engines:\n  b:\n    kind: upstream\n    url: "+down+"\nmodels:\n  remote: b\n  pixverse/v5/image-to-video: builtin\n")
	stdout, _, code = run(t, nil, "doctor", "--data-dir", t.TempDir(), "--engines", bad)
	if code == 0 || !strings.Contains(stdout, "engine b (upstream): cannot reach "+strings.TrimPrefix(down, "http://")) || !strings.Contains(stdout, "engine builtin (builtin): ok") {
		t.Errorf("doctor with an upstream that is down: exit %d\n%s", code, stdout)
	}
	typo := writeEngines(t, "engines:\n  b:\n    kind: upstream\n    ulr: "+down+"\nmodels:\n  remote: b\n")
	stdout, _, code = run(t, nil, "doctor", "--data-dir", t.TempDir(), "--engines", typo)
	if code == 0 || !strings.Contains(stdout, "field ulr not found") {
		t.Errorf("doctor with a typo: exit %d\n%s", code, stdout)
	}
}
