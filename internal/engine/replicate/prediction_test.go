package replicate

import (
	"encoding/json"
	"testing"
)

func TestPickOutput(t *testing.T) {
	tests := []struct {
		output string
		want   string
		others int
	}{
		{`"https://r.delivery/a/out.mp4"`, "https://r.delivery/a/out.mp4", 0},
		{`"data:video/mp4;base64,AAAA"`, "data:video/mp4;base64,AAAA", 0},
		{`["https://x/poster.png", "https://x/out.webm"]`, "https://x/out.webm", 1},
		{`["https://x/a", "https://x/b"]`, "https://x/a", 1},
		{`{"poster": "https://x/p.png", "video": "https://x/v.mp4"}`, "https://x/v.mp4", 1},
		{`{"zeta": "https://x/z", "output": "https://x/o"}`, "https://x/o", 1},
		{`[[{"video": "https://x/deep.gif?sig=1"}]]`, "https://x/deep.gif?sig=1", 0},
		{`"just some text"`, "", 0},
		{`null`, "", 0},
		{`42`, "", 0},
		{``, "", 0},
	}
	for _, tt := range tests {
		got, others := pickOutput(json.RawMessage(tt.output))
		if got != tt.want || others != tt.others {
			t.Errorf("pickOutput(%s) = %q, %d; want %q, %d", tt.output, got, others, tt.want, tt.others)
		}
	}
}

func TestLogProgress(t *testing.T) {
	tests := []struct {
		logs string
		want float64
		ok   bool
	}{
		{"", 0, false},
		{"loading weights\n", 0, false},
		{"  0%|          | 0/50\r 45%|████▌     | 45/100 [00:10<00:12]", 0.45, true},
		{" 45%|████▌ | 45/100\n100%|██████████| 100/100\n", 1, true},
		{"sampling 7%|▋ \nsaved 100% of nothing\n", 0.07, true},
		{"999%| nonsense", 0, false},
		{"%|", 0, false},
	}
	for _, tt := range tests {
		got, ok := logProgress(tt.logs)
		if got != tt.want || ok != tt.ok {
			t.Errorf("logProgress(%q) = %v, %v; want %v, %v", tt.logs, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDetail(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"title":"Input validation failed","detail":"- seed: must be >= 0","status":422}`, "- seed: must be >= 0"},
		{`{"detail":[{"loc":["body","input","seed"],"msg":"field required"},{"loc":["body"],"msg":"bad"}]}`, "input.seed: field required; bad"},
		{`{"error":"At capacity","status":"failed"}`, "At capacity"},
		{`{"detail":{"message":"nested"}}`, "nested"},
		{`<html><body>502 Bad Gateway</body></html>`, ""},
		{`plain words`, "plain words"},
	}
	for _, tt := range tests {
		if got := detail([]byte(tt.body)); got != tt.want {
			t.Errorf("detail(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// FuzzPrediction checks that no prediction object, however malformed,
// makes the parsers panic, and that what they return is consistent.
func FuzzPrediction(f *testing.F) {
	for _, s := range []string{
		`{"id":"p","status":"succeeded","output":"https://x/v.mp4","logs":" 50%|#####"}`,
		`{"id":"p","status":"failed","error":{"message":"boom"},"logs":null}`,
		`{"status":"processing","output":[["data:video/mp4;base64,AA"]],"logs":"100%|"}`,
		`{"status":"starting","output":{"video":{"video":"http://x"}}}`,
		`[]`, `null`, `{"status":5}`, `{"detail":[{"loc":[1,null],"msg":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		detail(b)
		p, err := parsePrediction(b)
		if err != nil {
			return
		}
		if p.Status == "" {
			t.Fatal("a prediction without a status was accepted")
		}
		ref, others := pickOutput(p.Output)
		if ref != "" && !isFileRef(ref) || others < 0 {
			t.Fatalf("pickOutput = %q, %d", ref, others)
		}
		if v, ok := logProgress(p.logs()); ok && (v < 0 || v > 1) {
			t.Fatalf("logProgress = %v", v)
		}
		errorText(p.Error)
		if ref != "" {
			decodeDataURI(ref, 1<<20)
		}
	})
}
