package comfyui

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// FuzzParseEvent reads websocket messages as ComfyUI sends them, and
// anything else: no panic, and the progress stays in 0..1.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}, "sid": "abc"}}`,
		`{"type": "execution_start", "data": {"prompt_id": "p", "timestamp": 1}}`,
		`{"type": "execution_cached", "data": {"nodes": ["37", "38", 39], "prompt_id": "p"}}`,
		`{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "p"}}`,
		`{"type": "progress", "data": {"value": 7, "max": 20, "prompt_id": "p", "node": "3"}}`,
		`{"type": "progress_state", "data": {"prompt_id": "p", "nodes": {"3": {"value": 4, "max": 20, "state": "running"}, "8": {"state": "finished"}}}}`,
		`{"type": "executed", "data": {"node": "60", "output": {"gifs": [{"filename": "a.mp4"}]}, "prompt_id": "p"}}`,
		`{"type": "execution_error", "data": {"prompt_id": "p", "node_id": "3", "node_type": "KSampler", "exception_message": "boom", "exception_type": "RuntimeError"}}`,
		`{"type": "execution_interrupted", "data": {"prompt_id": "p", "node_id": "3", "node_type": "KSampler", "executed": []}}`,
		`{"type": "executing", "data": {"node": null, "prompt_id": "p"}}`,
		`{"type": "progress", "data": {"value": 1e308, "max": 1e-308}}`,
		`{"type": 5}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, ok := parseEvent(b)
		if ok && ev.typ == "" {
			t.Fatal("an event without a type")
		}
		tr := newTracker(map[string]float64{"3": 0.85, "8": 0.1, "60": 0.05})
		for range 2 {
			tr.apply(ev)
			if p := tr.fraction(); p < 0 || p > 1 || math.IsNaN(p) {
				t.Fatalf("progress %v after %s", p, b)
			}
		}
	})
}

// FuzzParseHistory reads /history answers: no panic, and no file name
// that would leave the download directory.
func FuzzParseHistory(f *testing.F) {
	for _, s := range []string{
		`{"p": {"prompt": [0, "p", {}, {}, ["60"]], "outputs": {"60": {"gifs": [{"filename": "Wan_00001.mp4", "subfolder": "", "type": "output", "format": "video/h264-mp4"}]}}, "status": {"status_str": "success", "completed": true, "messages": [["execution_start", {"prompt_id": "p"}]]}}}`,
		`{"p": {"outputs": {"28": {"images": [{"filename": "ComfyUI_00001_.webp", "subfolder": "", "type": "output"}], "animated": [true]}}, "status": {"status_str": "success", "completed": true, "messages": []}}}`,
		`{"p": {"outputs": {}, "status": {"status_str": "error", "completed": false, "messages": [["execution_error", {"node_id": "3", "node_type": "KSampler", "exception_message": "boom"}]]}}}`,
		`{"p": {"outputs": {}, "status": {"status_str": "error", "completed": false, "messages": [["execution_interrupted", {"node_id": "3"}]]}}}`,
		`{"p": {"outputs": {"9": {"images": [{"filename": "../../etc/passwd"}]}}}}`,
		`{}`, `{"p": null}`, `{"p": {"status": {"messages": [1, [2], ["a"]]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHistory(b, "p")
		if err != nil || h == nil {
			return
		}
		if h.status == "error" && h.err == nil {
			t.Fatal("a failed entry without its error")
		}
		for node := range h.outputs {
			videos, images := h.files(node)
			for _, f := range append(videos, images...) {
				if f.Filename == "" || strings.ContainsAny(f.Filename, "/\\") {
					t.Fatalf("file %q", f.Filename)
				}
			}
		}
	})
}

// FuzzWorkflow reads workflows and writes a value into a mapped input:
// what it builds is a workflow again, with the value in place.
func FuzzWorkflow(f *testing.F) {
	wan, _ := os.ReadFile(config("vhs").Workflow)
	f.Add(wan, "6.text", "a fox")
	f.Add([]byte(`{"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["2", 0]}}, "2": {"class_type": "CLIPLoader", "inputs": {}}}`), "1.text", "y")
	f.Add([]byte(`{"nodes": [], "links": []}`), "1.text", "")
	f.Add([]byte(`{"1": {"class_type": "A", "inputs": {"t": ["1", 0]}}}`), "1.t", "z")
	f.Fuzz(func(t *testing.T, b []byte, spec, value string) {
		wf, err := parseWorkflow("fuzz.json", b)
		if err != nil {
			return
		}
		wf.ancestors(spec)
		tg, err := wf.resolve("prompt", spec, kindString)
		if err != nil {
			return
		}
		out, err := wf.build(map[target]any{tg: value})
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseWorkflow("again.json", out)
		if err != nil {
			t.Fatalf("built workflow does not read back: %v\n%s", err, out)
		}
		// JSON carries text as UTF-8: what the value reads back as.
		var got, want string
		b, _ = json.Marshal(value)
		_ = json.Unmarshal(b, &want)
		if json.Unmarshal(again.nodes[tg.node].inputs[tg.input], &got) != nil || got != want {
			t.Fatalf("input %s is %s, want %q", tg, again.nodes[tg.node].inputs[tg.input], value)
		}
		if len(again.nodes) != len(wf.nodes) {
			t.Fatalf("%d nodes, want %d", len(again.nodes), len(wf.nodes))
		}
	})
}
