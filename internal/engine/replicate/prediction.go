package replicate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The statuses of a prediction, in Replicate's API and Cog's alike.
const (
	statusStarting   = "starting"
	statusProcessing = "processing"
	statusSucceeded  = "succeeded"
	statusFailed     = "failed"
	statusCanceled   = "canceled"
	statusAborted    = "aborted" // Replicate: a deadline passed before it started
)

// prediction is the part of a prediction object the engine reads.
type prediction struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  json.RawMessage `json:"error"` // a string, usually; null while fine
	Logs   *string         `json:"logs"`  // null until the model has written
}

// terminal reports whether the prediction has ended.
func (p *prediction) terminal() bool {
	switch p.Status {
	case statusSucceeded, statusFailed, statusCanceled, statusAborted:
		return true
	}
	return false
}

func (p *prediction) logs() string {
	if p.Logs == nil {
		return ""
	}
	return *p.Logs
}

// parsePrediction decodes a prediction object. A status this package does
// not know is kept: it is read as "still running", so that a status added
// later does not fail renders.
func parsePrediction(b []byte) (*prediction, error) {
	var p prediction
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("the answer is not a prediction object: %v", err)
	}
	if p.Status == "" {
		return nil, fmt.Errorf("the answer has no prediction status")
	}
	return &p, nil
}

// errorText is a prediction's error as one line of text: the string, or
// the message of an error object.
func errorText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		for _, k := range []string{"message", "detail", "error", "msg"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return string(raw)
}

// detail is the message of an API error body: Replicate answers
// {"title": ..., "detail": "..."}, Cog (FastAPI) {"detail": [{"loc": [...],
// "msg": "..."}]} or {"error": "..."}. It is "" when the body says nothing
// readable.
func detail(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		s := strings.TrimSpace(string(body))
		if s == "" || !utf8.ValidString(s) || strings.HasPrefix(s, "<") {
			return "" // an HTML error page says nothing useful
		}
		return s
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(m["detail"], &items) == nil && len(items) > 0 {
		var msgs []string
		for _, it := range items {
			var loc []string
			for _, l := range it.Loc {
				if s := fmt.Sprint(l); s != "body" {
					loc = append(loc, s)
				}
			}
			if len(loc) > 0 {
				msgs = append(msgs, strings.Join(loc, ".")+": "+it.Msg)
			} else {
				msgs = append(msgs, it.Msg)
			}
		}
		return strings.Join(msgs, "; ")
	}
	for _, k := range []string{"detail", "error", "message", "title"} {
		if s := errorText(m[k]); s != "" {
			return s
		}
	}
	return ""
}

// videoExts are the file extensions of the videos a model may return.
var videoExts = map[string]bool{".mp4": true, ".webm": true, ".mov": true, ".m4v": true, ".mkv": true, ".gif": true, ".webp": true}

// looksLikeVideo reports whether a file reference names a video.
func looksLikeVideo(ref string) bool {
	if strings.HasPrefix(ref, "data:") {
		mime, _, _ := strings.Cut(strings.TrimPrefix(ref, "data:"), ";")
		mime, _, _ = strings.Cut(mime, ",")
		return strings.HasPrefix(mime, "video/") || mime == "image/gif" || mime == "image/webp"
	}
	u, err := url.Parse(ref)
	if err != nil {
		return false
	}
	return videoExts[strings.ToLower(path.Ext(u.Path))]
}

// isFileRef reports whether s is something a file can be fetched from.
func isFileRef(s string) bool {
	return strings.HasPrefix(s, "data:") || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// pickOutput finds the video in a prediction's output: a URL or data URI,
// a list of them (a model that returns several files), or an object of
// them. A reference that looks like a video is preferred over the first
// one. It returns "" when the output holds no file.
func pickOutput(raw json.RawMessage) (ref string, others int) {
	var refs []string
	collectRefs(raw, &refs, 0)
	for _, r := range refs {
		if looksLikeVideo(r) {
			return r, len(refs) - 1
		}
	}
	if len(refs) > 0 {
		return refs[0], len(refs) - 1
	}
	return "", 0
}

// collectRefs appends the file references in v, depth first, objects in
// key order with "video" and "output" keys first.
func collectRefs(raw json.RawMessage, refs *[]string, depth int) {
	if depth > 8 {
		return
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && isFileRef(s) {
			*refs = append(*refs, s)
		}
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) == nil {
			for _, x := range a {
				collectRefs(x, refs, depth+1)
			}
		}
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		rank := func(k string) int {
			switch k {
			case "video":
				return 0
			case "output":
				return 1
			}
			return 2
		}
		sort.Slice(keys, func(i, j int) bool {
			if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			collectRefs(m[k], refs, depth+1)
		}
	}
}

// logProgress reads how far a model is from the last progress bar in its
// logs (tqdm's " 45%|████▌     | 45/100"), in 0..1; ok is false when the
// logs have none.
func logProgress(logs string) (p float64, ok bool) {
	// Only the tail matters, and progress bars rewrite themselves with \r.
	if len(logs) > 4096 {
		logs = logs[len(logs)-4096:]
	}
	for end := len(logs); end > 0; {
		i := strings.LastIndex(logs[:end], "%|")
		if i < 0 {
			return 0, false
		}
		j := i
		for j > 0 && j > i-3 && logs[j-1] >= '0' && logs[j-1] <= '9' {
			j--
		}
		if j < i {
			if n, err := strconv.Atoi(logs[j:i]); err == nil && n <= 100 {
				return float64(n) / 100, true
			}
		}
		end = i
	}
	return 0, false
}
