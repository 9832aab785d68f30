package media

import (
	"runtime"
	"sync/atomic"
)

// drawing bounds the frames this process draws at once over every render,
// when LimitDrawing set it: a channel of that many slots.
var drawing atomic.Pointer[chan struct{}]

// LimitDrawing bounds the frames this process draws at once, over all
// its renders, to n (at least 1); each render still draws with up to n
// workers. A process that also serves an API sets it to its cores and
// GOMAXPROCS one higher: drawing then never holds every processor of the
// Go scheduler, and the one left over answers requests as they come
// instead of after a drawing goroutine's time slice (10 ms).
func LimitDrawing(n int) {
	c := make(chan struct{}, max(1, n))
	drawing.Store(&c)
}

// drawers is the number of workers a render draws with.
func drawers() int {
	if c := drawing.Load(); c != nil {
		return cap(*c)
	}
	return runtime.GOMAXPROCS(0)
}

// inSlot runs f in one of the process's drawing slots, if it has a limit.
func inSlot(f func()) {
	if c := drawing.Load(); c != nil {
		*c <- struct{}{}
		defer func() { <-*c }()
	}
	f()
}
