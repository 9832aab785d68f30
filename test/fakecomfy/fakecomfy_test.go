package fakecomfy

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"stillmotion/internal/media"
)

func start(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// call makes a request and decodes a JSON answer into out.
func call(t *testing.T, method, u string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, b)
		}
	}
	return resp.StatusCode
}

// upload sends an image as ComfyUI's frontend does.
func upload(t *testing.T, base, name string, data []byte, overwrite bool) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("image", name)
	fw.Write(data)
	if overwrite {
		mw.WriteField("overwrite", "true")
	}
	mw.Close()
	resp, err := http.Post(base+"/upload/image", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func pngImage(t *testing.T, w, h int, shade uint8) []byte {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = shade + uint8(i%50)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// workflow reads a test workflow with its LoadImage set to image.
func workflow(t *testing.T, name, image string) map[string]map[string]any {
	b, err := os.ReadFile(Workflow(name))
	if err != nil {
		t.Fatal(err)
	}
	var wf map[string]map[string]any
	if err := json.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	wf["52"]["inputs"].(map[string]any)["image"] = image
	wf["50"]["inputs"].(map[string]any)["width"] = 320
	wf["50"]["inputs"].(map[string]any)["height"] = 240
	return wf
}

func TestUploadAndView(t *testing.T) {
	_, base := start(t, Options{})
	a, b := pngImage(t, 8, 8, 10), pngImage(t, 8, 8, 90)
	if got := upload(t, base, "in.png", a, false); got["name"] != "in.png" || got["type"] != "input" {
		t.Errorf("upload: %v", got)
	}
	if got := upload(t, base, "in.png", a, false); got["name"] != "in.png" {
		t.Errorf("the same content again: %v, want the same name", got)
	}
	if got := upload(t, base, "in.png", b, false); got["name"] != "in (1).png" {
		t.Errorf("other content: %v, want a numbered name", got)
	}
	if got := upload(t, base, "in.png", b, true); got["name"] != "in.png" {
		t.Errorf("overwrite: %v", got)
	}
	resp, err := http.Get(base + "/view?" + url.Values{"filename": {"in.png"}, "type": {"input"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, b) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("view: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	for q, want := range map[string]int{
		"filename=../secret&type=input":            400,
		"filename=in.png&type=input&subfolder=../": 403,
		"filename=nope.png":                        404,
		"":                                         404,
	} {
		if code := call(t, "GET", base+"/view?"+q, nil, nil); code != want {
			t.Errorf("view ?%s: %d, want %d", q, code, want)
		}
	}
}

// TestPromptErrors checks POST /prompt's 400 answers, in ComfyUI's shape.
func TestPromptErrors(t *testing.T) {
	s, base := start(t, Options{})
	upload(t, base, "in.png", pngImage(t, 8, 8, 0), true)
	type answer struct {
		Error      apiError             `json:"error"`
		NodeErrors map[string]nodeError `json:"node_errors"`
	}
	for _, tc := range []struct {
		name string
		body func() map[string]any
		want string
		node string
	}{
		{"no prompt", func() map[string]any { return map[string]any{"client_id": "c"} }, "no_prompt", ""},
		{"bad prompt id", func() map[string]any {
			return map[string]any{"prompt": workflow(t, "wan_i2v_api.json", "in.png"), "prompt_id": "Not-A-UUID"}
		}, "invalid_prompt_id", ""},
		{"unknown class", func() map[string]any {
			wf := workflow(t, "wan_i2v_api.json", "in.png")
			wf["8"]["class_type"] = "NoSuchNode"
			return map[string]any{"prompt": wf}
		}, "missing_node_type", ""},
		{"missing input", func() map[string]any {
			wf := workflow(t, "wan_i2v_api.json", "in.png")
			delete(wf["3"]["inputs"].(map[string]any), "steps")
			return map[string]any{"prompt": wf}
		}, "prompt_outputs_failed_validation", "3"},
		{"missing image", func() map[string]any { return map[string]any{"prompt": workflow(t, "wan_i2v_api.json", "other.png")} },
			"prompt_outputs_failed_validation", "52"},
		{"no outputs", func() map[string]any {
			wf := workflow(t, "wan_i2v_api.json", "in.png")
			delete(wf, "28")
			return map[string]any{"prompt": wf}
		}, "prompt_no_outputs", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a answer
			if code := call(t, "POST", base+"/prompt", tc.body(), &a); code != 400 {
				t.Fatalf("status %d, want 400", code)
			}
			if a.Error.Type != tc.want || a.Error.Message == "" {
				t.Errorf("error %+v, want type %s", a.Error, tc.want)
			}
			if tc.node != "" {
				ne, ok := a.NodeErrors[tc.node]
				if !ok || len(ne.Errors) == 0 || !slices.Equal(ne.DependentOutputs, []string{"28"}) || ne.ClassType == "" {
					t.Errorf("node_errors %+v, want node %s's", a.NodeErrors, tc.node)
				}
			}
		})
	}
	if s.Submissions() != 6 {
		t.Errorf("Submissions = %d", s.Submissions())
	}
}

// wsMessage is a websocket message as a client reads it.
type wsMessage struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// TestRun queues a prompt and follows it on the websocket: the messages
// come in ComfyUI's order, the history records the output, and /view
// serves it.
func TestRun(t *testing.T) {
	_, base := start(t, Options{})
	upload(t, base, "in.png", pngImage(t, 96, 64, 40), true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws?clientId=me", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	// The status message comes once the server has registered the
	// client: only then are the prompt's messages sure to reach it.
	if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), `"status"`) {
		t.Fatalf("first message %s, %v; want the status", b, err)
	}
	const id = "0b6a3f5e-8f1c-4c7e-9d2a-2f4b6c8d0e1f"
	var res struct {
		PromptID string  `json:"prompt_id"`
		Number   float64 `json:"number"`
	}
	if code := call(t, "POST", base+"/api/prompt", map[string]any{"prompt": workflow(t, "wan_i2v_vhs_api.json", "in.png"), "client_id": "me", "prompt_id": id}, &res); code != 200 || res.PromptID != id {
		t.Fatalf("POST /prompt: %d %+v", code, res)
	}
	types := []string{"status"}
	binary := 0
	for {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageBinary {
			binary++
			continue
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "executing" && m.Data["node"] == nil {
			break
		}
		if len(types) == 0 || types[len(types)-1] != m.Type {
			types = append(types, m.Type)
		}
	}
	order := []string{"status", "execution_start", "execution_cached", "executing", "progress", "executed", "execution_success"}
	for i, want := 0, 0; i < len(types) && want < len(order); i++ {
		if types[i] == order[want] {
			want++
		}
		if i == len(types)-1 && want < len(order) {
			t.Errorf("messages %v, want %v in that order", types, order)
		}
	}
	if binary == 0 {
		t.Error("no preview image")
	}
	var hist map[string]struct {
		Outputs map[string]map[string][]map[string]any `json:"outputs"`
		Status  struct {
			StatusStr string  `json:"status_str"`
			Completed bool    `json:"completed"`
			Messages  [][]any `json:"messages"`
		} `json:"status"`
	}
	call(t, "GET", base+"/history/"+id, nil, &hist)
	h, ok := hist[id]
	if !ok || h.Status.StatusStr != "success" || !h.Status.Completed || len(h.Status.Messages) != 3 {
		t.Fatalf("history %+v", hist)
	}
	gifs := h.Outputs["60"]["gifs"]
	if len(gifs) != 1 || gifs[0]["format"] != "video/h264-mp4" {
		t.Fatalf("outputs %+v", h.Outputs)
	}
	resp, err := http.Get(base + "/view?" + url.Values{"filename": {gifs[0]["filename"].(string)}, "subfolder": {""}, "type": {"output"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.mp4")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(out, b, 0o644)
	info, err := media.Probe(ctx, out)
	if err != nil || info.Width != 320 || info.Height != 240 || info.Frames != 33 || info.VideoCodec != "h264" {
		t.Errorf("output %+v %v; want 33 H.264 frames of 320x240", info, err)
	}
	var all map[string]any
	if call(t, "GET", base+"/history?max_items=1", nil, &all); len(all) != 1 {
		t.Errorf("GET /history: %v", all)
	}
}

// TestQueueControl deletes a queued prompt and interrupts a running one.
func TestQueueControl(t *testing.T) {
	s, base := start(t, Options{StepDelay: 200 * time.Millisecond})
	upload(t, base, "in.png", pngImage(t, 96, 64, 40), true)
	s.Pause()
	post := func() string {
		var res struct {
			PromptID string `json:"prompt_id"`
		}
		if code := call(t, "POST", base+"/prompt", map[string]any{"prompt": workflow(t, "wan_i2v_api.json", "in.png")}, &res); code != 200 {
			t.Fatalf("POST /prompt: %d", code)
		}
		return res.PromptID
	}
	a, b := post(), post()
	var q struct {
		Running []any   `json:"queue_running"`
		Pending [][]any `json:"queue_pending"`
	}
	call(t, "GET", base+"/queue", nil, &q)
	if len(q.Running) != 0 || len(q.Pending) != 2 || q.Pending[0][1] != a {
		t.Fatalf("queue %+v", q)
	}
	call(t, "POST", base+"/queue", map[string]any{"delete": []string{b}}, nil)
	s.Resume()
	deadline := time.Now().Add(time.Minute)
	for running, _ := s.Queue(); running != a; running, _ = s.Queue() {
		if time.Now().After(deadline) {
			t.Fatal("the prompt did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// An interrupt that names another prompt leaves this one running.
	call(t, "POST", base+"/interrupt", map[string]string{"prompt_id": b}, nil)
	call(t, "POST", base+"/interrupt", map[string]string{"prompt_id": a}, nil)
	var hist map[string]struct {
		Status struct {
			StatusStr string  `json:"status_str"`
			Messages  [][]any `json:"messages"`
		} `json:"status"`
	}
	for call(t, "GET", base+"/history/"+a, nil, &hist); hist[a].Status.StatusStr == ""; call(t, "GET", base+"/history/"+a, nil, &hist) {
		if time.Now().After(deadline) {
			t.Fatal("the prompt did not stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	msgs := hist[a].Status.Messages
	if hist[a].Status.StatusStr != "error" || msgs[len(msgs)-1][0] != "execution_interrupted" {
		t.Errorf("history %+v", hist[a])
	}
	if !slices.Equal(s.Deletes(), []string{b}) || !slices.Equal(s.Interrupts(), []string{b, a}) {
		t.Errorf("deletes %v, interrupts %v", s.Deletes(), s.Interrupts())
	}
	if running, pending := s.Queue(); running != "" || len(pending) != 0 {
		t.Errorf("queue left: %q %v", running, pending)
	}
}

func TestFailures(t *testing.T) {
	s, base := start(t, Options{})
	s.FailNext(2)
	for i, want := range []int{500, 500, 200} {
		if code := call(t, "GET", base+"/system_stats", nil, nil); code != want {
			t.Errorf("request %d: %d, want %d", i, code, want)
		}
	}
	var info map[string]map[string]any
	call(t, "GET", base+"/object_info/VHS_VideoCombine", nil, &info)
	if info["VHS_VideoCombine"]["output_node"] != true {
		t.Errorf("object_info: %v", info)
	}
	var none map[string]any
	call(t, "GET", base+"/object_info/NoSuchNode", nil, &none)
	if len(none) != 0 {
		t.Errorf("object_info of an unknown class: %v", none)
	}
}

// TestTextToVideo runs the text-to-video workflow, which has no LoadImage:
// the fake animates a picture of its own, and the video has the size and
// length of the workflow's EmptyHunyuanLatentVideo.
func TestTextToVideo(t *testing.T) {
	s, base := start(t, Options{})
	b, err := os.ReadFile(Workflow("wan_t2v_api.json"))
	if err != nil {
		t.Fatal(err)
	}
	read := func() map[string]map[string]any {
		var wf map[string]map[string]any
		if err := json.Unmarshal(b, &wf); err != nil {
			t.Fatal(err)
		}
		return wf
	}

	t.Run("latent out of range", func(t *testing.T) {
		wf := read()
		wf["40"]["inputs"].(map[string]any)["width"] = 8
		var a struct {
			Error      apiError             `json:"error"`
			NodeErrors map[string]nodeError `json:"node_errors"`
		}
		if code := call(t, "POST", base+"/prompt", map[string]any{"prompt": wf}, &a); code != 400 {
			t.Fatalf("status %d, want 400", code)
		}
		if ne := a.NodeErrors["40"]; len(ne.Errors) == 0 || ne.Errors[0].Type != "value_smaller_than_min" || ne.ClassType != "EmptyHunyuanLatentVideo" {
			t.Errorf("node_errors %+v, want node 40's width below its minimum", a.NodeErrors)
		}
	})

	wf := read()
	latent := wf["40"]["inputs"].(map[string]any)
	latent["width"], latent["height"] = 240, 432 // 9:16
	var res struct {
		PromptID string `json:"prompt_id"`
	}
	if code := call(t, "POST", base+"/prompt", map[string]any{"prompt": wf}, &res); code != 200 {
		t.Fatalf("POST /prompt: %d", code)
	}
	var hist map[string]struct {
		Outputs map[string]map[string][]map[string]any `json:"outputs"`
		Status  struct {
			StatusStr string  `json:"status_str"`
			Messages  [][]any `json:"messages"`
		} `json:"status"`
	}
	deadline := time.Now().Add(time.Minute)
	for call(t, "GET", base+"/history/"+res.PromptID, nil, &hist); hist[res.PromptID].Status.StatusStr == ""; call(t, "GET", base+"/history/"+res.PromptID, nil, &hist) {
		if time.Now().After(deadline) {
			t.Fatal("the prompt did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h := hist[res.PromptID]
	gifs := h.Outputs["60"]["gifs"]
	if h.Status.StatusStr != "success" || len(gifs) != 1 {
		t.Fatalf("history %+v", h)
	}
	info, err := media.Probe(context.Background(), filepath.Join(s.Dir(), "output", gifs[0]["filename"].(string)))
	if err != nil || info.Width != 240 || info.Height != 432 || info.Frames != 33 || info.VideoCodec != "h264" {
		t.Errorf("output %+v %v; want 33 H.264 frames of 240x432", info, err)
	}
}
