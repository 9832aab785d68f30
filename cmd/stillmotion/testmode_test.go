package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"stillmotion/client"
)

// Test keys (STILLMOTION_TEST_KEYS) of the test-mode tests: one for each
// client, so that each one's recorded requests are its own.
const (
	testModeKey = "sm_test_mode_key"
	goTestKey   = "sm_test_mode_go"
	nodeTestKey = "sm_test_mode_node"
)

// scripted is an http.RoundTripper that sends a test script with every
// request, as a Go program using the SDK would add the header.
type scripted struct{ script string }

func (s scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Stillmotion-Script", s.script)
	return http.DefaultTransport.RoundTrip(r)
}

// TestTestMode runs scripted outcomes through three clients against the
// real binary: the hosted page's Python example (with a script in its
// prompt), the Go SDK (with the script header, and a magic seed) and
// OpenAI's Node SDK, whose own retries must get through the faults.
func TestTestMode(t *testing.T) {
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true, extraEnv: []string{"STILLMOTION_TEST_KEYS=" + strings.Join([]string{testModeKey, goTestKey, nodeTestKey}, ",")}})

	t.Run("python", func(t *testing.T) {
		t.Parallel()
		py := pythonWithRequests(t)
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed", "legacy.py"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, script string
			ok           bool     // the example exits 0
			want         []string // in its output
		}{
			{"completed", "", true, []string{"Processing complete", "'status': 'completed'", "'test': True"}},
			{"queued then generating", "queue=1s;generate=1s", true, []string{"Status: queued", "Status: generating", "'status': 'completed'"}},
			{"error", "generate=500ms;then=error:image_fetch_failed:The image host answered 404", true,
				[]string{"'status': 'error'", "'name': 'image_fetch_failed'", "The image host answered 404"}},
			{"hosted preset", "preset=hosted", true, []string{":pixverse/v5/image-to-video", "'tokens_used': 420000"}},
			// The example reads no Retry-After and has no retry loop: a 429
			// on the submit ends it with an error (docs/testing.md).
			{"429 breaks the naive example", "submit=429", false, []string{"Error: 429", "Too many requests (test script)"}},
			// Nor does it know the older words its own JavaScript twin polls
			// for: it stops at the first "waiting".
			{"legacy statuses stop it early", "preset=legacy-statuses;queue=2s", true, []string{"Status: waiting", "Processing complete"}},
		} {
			prompt := "Mona Lisa puts on glasses with her hands."
			if tt.script != "" {
				prompt += " [stillmotion-script: " + tt.script + "]"
			}
			s := strings.NewReplacer(
				"https://api.aimlapi.com", p.url,
				"<YOUR_AIMLAPI_KEY>", testModeKey,
				"https://s2-111386.kwimgs.com/bs2/mmu-aiplatform-temp/kling/20240620/1.jpeg", img.URL+"/astronaut.png",
				"Mona Lisa puts on glasses with her hands.", prompt,
				"time.sleep(10)", "time.sleep(0.2)",
			).Replace(string(src))
			f := filepath.Join(t.TempDir(), "legacy.py")
			os.WriteFile(f, []byte(s), 0o644)
			out, err := exec.Command(py, f).CombinedOutput()
			if (err == nil) != tt.ok {
				t.Errorf("%s: exit %v, want ok=%v\n%s", tt.name, err, tt.ok, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out)
				}
			}
		}
	})

	// The docs' robust client passes every preset and fault; its errors are
	// the script's.
	t.Run("robust python", func(t *testing.T) {
		py := pythonWithRequests(t)
		for _, tt := range []struct {
			script string
			ok     bool
			want   string
		}{
			{"preset=succeeded", true, "Done: "},
			{"preset=tokens", true, "(315000 credits)"},
			{"preset=legacy-statuses;queue=1s;generate=1s", true, "Status: active"},
			{"preset=model-ids", true, "Generation ID: "},
			{"preset=hosted", true, "Done: "},
			{"preset=old-docs;queue=1s", true, "Status: waiting"},
			{"submit=1:429,2:503,3:500;retry_after=1", true, "503: Service unavailable (test script)"},
			{"submit=1:reset", true, "connection failed"},
			{"poll=1:504,2:429,3:500,4:502,5:slow;generate=1s", true, "504: Generation timeout"},
			{"generate=1s;then=error:render_failed:The GPU fell over", false, "The GPU fell over"},
		} {
			t.Run(tt.script, func(t *testing.T) {
				t.Parallel()
				cmd := exec.Command(py, filepath.Join("..", "..", "examples", "testing", "robust.py"))
				cmd.Env = append(os.Environ(), "BASE_URL="+p.url, "API_KEY="+testModeKey, "IMAGE_URL="+img.URL+"/rocket.jpg",
					"SCRIPT="+tt.script, "POLL_SECONDS=0.2")
				out, err := cmd.CombinedOutput()
				if (err == nil) != tt.ok || !strings.Contains(string(out), tt.want) {
					t.Errorf("exit %v, want ok=%v and %q in:\n%s", err, tt.ok, tt.want, out)
				}
			})
		}
	})

	t.Run("go sdk", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		req := &client.CreateRequest{Prompt: "A slow zoom in", ImageURL: img.URL + "/rocket.jpg", Resolution: "360p"}
		for _, tt := range []struct {
			name, script string
			seed         int64
			statuses     []client.Status // seen in order by Wait
			errName      string
		}{
			{"retried faults on the submit and the polls", "submit=1:429,2:503;queue=1s;generate=1s;poll=1:502,2:504,3:500;retry_after=1",
				0, []client.Status{client.Queued, client.Generating, client.Completed}, ""},
			{"older status words", "preset=legacy-statuses;queue=1s;generate=1s", 0, []client.Status{client.Waiting, client.Active, client.Completed}, ""},
			{"succeeded", "preset=succeeded", 0, []client.Status{client.Queued, client.Generating, client.Succeeded}, ""},
			{"succeeded as its end", "generate=300ms;then=succeeded", 0, []client.Status{client.Queued, client.Generating, client.Succeeded}, ""},
			{"a scripted timeout", "generate=500ms;then=error:timeout:Generation timeout", 0, nil, "timeout"},
			{"a magic seed", "", 4000001, nil, "image_fetch_failed"},
		} {
			opts := []client.Option{client.WithRetries(3)}
			if tt.script != "" {
				opts = append(opts, client.WithHTTPClient(&http.Client{Transport: scripted{tt.script}}))
			}
			c := client.New(p.url, goTestKey, opts...)
			r := *req
			if tt.seed != 0 {
				r.Seed = &tt.seed
			}
			g, err := c.Create(ctx, &r)
			if err != nil {
				t.Fatalf("%s: create: %v", tt.name, err)
			}
			var seen []client.Status
			g, err = c.Wait(ctx, g.ID, client.PollInterval(100*time.Millisecond, 300*time.Millisecond), client.OnProgress(func(g *client.Generation) {
				if len(seen) == 0 || seen[len(seen)-1] != g.Status {
					seen = append(seen, g.Status)
				}
			}))
			var ge *client.GenerationError
			switch {
			case tt.errName != "":
				if !errors.As(err, &ge) || ge.Name != tt.errName {
					t.Errorf("%s: Wait = %v, want the error %s", tt.name, err, tt.errName)
				}
			case err != nil:
				t.Errorf("%s: Wait: %v", tt.name, err)
			case !inOrder(seen, tt.statuses):
				t.Errorf("%s: statuses %v, want those of %v in order, ending with the last", tt.name, seen, tt.statuses)
			default:
				checkVideo(t, download(t, http.DefaultClient, g.Video.URL), 128, 72, 1)
			}
		}
		// What the SDK sent is recorded for this key.
		recs := recorded(t, p, goTestKey)
		faults := 0
		for _, r := range recs {
			if r.Method == "POST" && (r.Status == 429 || r.Status == 503) && strings.HasPrefix(r.Headers["X-Stillmotion-Script"], "submit=1:429,2:503;queue=1s") {
				faults++
			}
		}
		if faults != 2 {
			t.Errorf("%d refused submits recorded, want 2 (of %d requests)", faults, len(recs))
		}
	})

	t.Run("openai sdk", func(t *testing.T) {
		t.Parallel()
		node, err := exec.LookPath("node")
		if err != nil {
			t.Fatal("node is not installed: run scripts/setup.sh --test")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "testmode.mjs", p.url, nodeTestKey, img.URL+"/rocket.jpg")
		cmd.Dir = openAIHarness
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node testmode.mjs: %v\n%s%s", err, out, stderr.String())
		}
		var cases []struct {
			Case     string   `json:"case"`
			Statuses []string `json:"statuses"`
			Error    *string  `json:"error"`
		}
		if err := json.Unmarshal(out, &cases); err != nil || len(cases) != 7 {
			t.Fatalf("summary %s: %v", out, err)
		}
		t.Logf("%s", out)
		// The SDK met the faults and retried through them: the recorded
		// answers to its requests under each script.
		got := map[string][]int{}
		for _, r := range recorded(t, p, nodeTestKey) {
			if sc := r.Headers["X-Stillmotion-Script"]; strings.HasPrefix(r.Path, "/v1/videos") && r.Status != 200 {
				got[sc] = append(got[sc], r.Status)
			}
		}
		for script, want := range map[string][]int{
			"submit=1:429,2:503":                 {429, 503},
			"submit=1:500,2:502":                 {500, 502},
			"submit=1:reset":                     {0}, // no answer: the connection was reset
			"generate=1s;poll=1:504,2:429,3:500": {504, 429, 500},
		} {
			g := got[script]
			slices.Reverse(g) // recorded newest first
			if !slices.Equal(g, want) {
				t.Errorf("%s: the SDK met %v, want %v", script, g, want)
			}
		}
	})
}

// inOrder reports whether seen holds some of want's statuses, in want's
// order, and ends with want's last: polls may miss a short status.
func inOrder(seen, want []client.Status) bool {
	if len(seen) == 0 || seen[len(seen)-1] != want[len(want)-1] {
		return false
	}
	i := 0
	for _, s := range seen {
		for i < len(want) && want[i] != s {
			i++
		}
		if i == len(want) {
			return false
		}
	}
	return true
}

// recordedRequest is one entry of GET /v2/test/requests.
type recordedRequest struct {
	Method, Path string
	Status       int
	Headers      map[string]string
}

// recorded returns what the test key sent, newest first.
func recorded(t *testing.T, p *proc, key string) []recordedRequest {
	t.Helper()
	res, err := p.client.Do(authed(t, "GET", p.url+"/v2/test/requests?limit=1000", key))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var recs struct{ Data []recordedRequest }
	if err := json.NewDecoder(res.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	return recs.Data
}

// authed is a request with the key.
func authed(t *testing.T, method, url, key string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+key)
	return r
}

// TestTestModeKeepsKeysApart checks that a key in a server run with
// --test-mode does not see its real generations, and that its test ones
// are free and marked.
func TestTestModeKeepsKeysApart(t *testing.T) {
	dir := t.TempDir()
	img := imageServer(t)
	body := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "zoom", "image_url": img.URL + "/rocket.jpg", "resolution": "360p"}
	real := startServer(t, serverOpts{dataDir: dir, apiOnly: true, allowPrivate: true})
	realID := real.submit(t, "/v2/video/generations", body)
	real.kill()

	p := startServer(t, serverOpts{dataDir: dir, allowPrivate: true, extraArgs: []string{"--test-mode"}})
	if code, _, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+realID, nil); code != http.StatusNotFound {
		t.Errorf("the real generation polled in test mode: %d, want 404", code)
	}
	id := p.submit(t, "/v2/video/generations", body)
	g := p.wait(t, "/v2/video/generations", id, time.Minute)
	if g["test"] != true || g["status"] != "completed" {
		t.Errorf("test-mode generation %v", g)
	}
	_, list, _ := p.do(t, "GET", "/v2/video/generations/list", nil)
	if data, _ := list["data"].([]any); len(data) != 1 {
		t.Errorf("test mode lists %d generations, want only its own one: %v", len(data), list)
	}
}
