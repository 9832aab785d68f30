package media

import (
	"runtime"
	"sync/atomic"
)

// drawing bounds the frames this process draws at once over every render,
// when LimitDrawing set it: a channel of that many slots.
var drawing atomic.Pointer[chan struct{}]

// LimitDrawing bounds the frames this process draws at once, over all
// its renders, to n; each render then draws with up to n workers. 0 or
// less removes the bound. A process that also serves an API sets it to
// its cores and GOMAXPROCS higher: drawing then never holds every
// processor of the Go scheduler, and the ones left over answer requests
// as they come instead of after a drawing goroutine's time slice (10 ms).
func LimitDrawing(n int) {
	if n <= 0 {
		drawing.Store(nil)
		return
	}
	c := make(chan struct{}, n)
	drawing.Store(&c)
}

// DrawingLimit returns the bound LimitDrawing set, 0 for none.
func DrawingLimit() int {
	if c := drawing.Load(); c != nil {
		return cap(*c)
	}
	return 0
}

// drawers is the number of workers a render draws with.
func drawers() int {
	if n := DrawingLimit(); n > 0 {
		return n
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
