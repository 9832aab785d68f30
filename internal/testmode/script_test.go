package testmode

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Script
	}{
		{"", Script{}},
		{"queue=3s;generate=10s;then=error:image_fetch_failed", Script{Queue: 3 * time.Second, Generate: 10 * time.Second, Then: End{Status: "error", Name: "image_fetch_failed"}}},
		{" then = error:render_failed:The GPU fell over: twice ; render=real ", Script{Then: End{Status: "error", Name: "render_failed", Message: "The GPU fell over: twice"}, Render: Real}},
		{"poll=2:429,4:504;retry_after=5;then=succeeded", Script{Polls: map[int]Fault{2: TooMany, 4: Timeout}, RetryAfter: 5, Then: End{Status: "succeeded"}}},
		{"submit=reset;;", Script{Submit: Reset}},
		{"submit=slow;preset=legacy-statuses", Script{Submit: Slow, Preset: "legacy-statuses"}},
		{"generate=1500ms", Script{Generate: 1500 * time.Millisecond}},
		{"submit=1:429,2:503", Script{Submits: map[int]Fault{1: TooMany, 2: Unavailable}}},
	} {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, *got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"queue", `"queue" is not key=value; the keys are queue, generate, then, submit, poll, retry_after, render, preset`},
		{"wait=3s", `unknown key "wait"; the keys are`},
		{"queue=3s;queue=4s", "queue is given twice"},
		{"queue=forever", `queue="forever": want a duration such as 3s, 1500ms or 2m, from 0 to 10m0s`},
		{"generate=11m", "from 0 to 10m0s"},
		{"queue=-1s", "from 0 to 10m0s"},
		{"then=done", `then="done": want completed, succeeded or error:NAME[:MESSAGE]`},
		{"then=error", "want error:NAME[:MESSAGE], NAME one of image_fetch_failed, image_url_forbidden,"},
		{"then=error:teapot", "NAME one of image_fetch_failed"},
		{"then=error:bad name", "want error:NAME[:MESSAGE]"},
		{"then=completed:x", "only an error has a name"},
		{"then=error:timeout:" + strings.Repeat("m", MaxMessage+1), "the message is 501 bytes"},
		{"submit=418", `submit="418": want one of 429, 500, 502, 503, 504, reset, slow`},
		{"poll=0:429", "N the poll's number from 1 to 1000"},
		{"submit=0:429", "N the submit's number from 1 to 1000"},
		{"submit=1:429,1:500", "submit 1 is given twice"},
		{"poll=2", "want N:FAULT"},
		{"poll=2:429,2:500", "poll 2 is given twice"},
		{"poll=3:teapot", `poll="teapot": want one of`},
		{"retry_after=0", "want whole seconds from 1 to 3600"},
		{"render=slowly", `render="slowly": want fast or real`},
		{"preset=a b", `preset="a b": want one of succeeded, tokens, legacy-statuses, model-ids, hosted, old-docs`},
		{"then=error:timeout:a\tb", "control character at byte 20"},
		{strings.Repeat("a", MaxLen+1), "the script is 2049 bytes; at most 2048"},
	} {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "X-Stillmotion-Script: ") {
			t.Errorf("Parse(%.40q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "queue=3s;generate=10s;then=error:image_fetch_failed", "poll=2:429,4:504;retry_after=5", "then=error:timeout:m:n;render=real;preset=hosted", "submit=slow"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(sc.String())
		if err != nil {
			t.Fatalf("Parse(%q) gave %q, which does not parse: %v", s, sc.String(), err)
		}
		if again.String() != sc.String() || !reflect.DeepEqual(normal(again), normal(sc)) {
			t.Fatalf("Parse(%q) = %+v; its String %q parses to %+v", s, sc, sc.String(), again)
		}
	})
}

// normal is s with an empty poll map as none.
func normal(s *Script) Script {
	c := *s
	if len(c.Polls) == 0 {
		c.Polls = nil
	}
	if len(c.Submits) == 0 {
		c.Submits = nil
	}
	return c
}
