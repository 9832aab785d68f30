package server

import (
	"runtime"
	"testing"

	"stillmotion/internal/media"
)

// TestKeepProcessor checks that a process that serves and renders draws
// on as many processors as it had and has as many again for the API.
func TestKeepProcessor(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(n)
		media.LimitDrawing(0)
	})
	keepProcessor()
	if got := media.DrawingLimit(); got != n {
		t.Errorf("frames drawn at once: %d, want %d (GOMAXPROCS before)", got, n)
	}
	if got := runtime.GOMAXPROCS(0); got != 2*n {
		t.Errorf("GOMAXPROCS %d, want %d", got, 2*n)
	}
}
