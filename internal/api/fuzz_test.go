package api

import (
	"net/http"
	"testing"
)

// FuzzPreferredWait: any Prefer header gives a wait of 0..maxWait
// seconds, and a well-formed wait=N is N, capped.
func FuzzPreferredWait(f *testing.F) {
	for _, s := range []string{"wait=5", "respond-async, wait=100", `wait="7"; x=1`, "wait=-1", "wait", "WAIT = 3", "wait=1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Prefer": {v}}
		if n := preferredWait(h); n < 0 || n > maxWait {
			t.Fatalf("Prefer %q: wait %d, want 0..%d", v, n, maxWait)
		}
	})
}
