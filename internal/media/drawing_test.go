package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLimitDrawing runs three renders at once in a process that draws at
// most two frames at a time, and checks that no more were drawn at once
// and that the files are the ones an unlimited process writes.
func TestLimitDrawing(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Width: 64, Height: 64, Frames: 48, NoAudio: true}
	encode := func(name string, frame FrameFunc) string {
		out := filepath.Join(dir, name)
		if err := Encode(context.Background(), spec, frame, out, nil); err != nil {
			t.Error(err)
		}
		return out
	}
	want := readFile(t, encode("unlimited.mp4", moving))

	LimitDrawing(2)
	t.Cleanup(func() { LimitDrawing(0) })
	var now, most atomic.Int64
	frame := func(i int, dst *image.RGBA) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		moving(i, dst)
		runtime.Gosched() // let the others in while this one holds its slot
		now.Add(-1)
	}
	var wg sync.WaitGroup
	outs := make([]string, 3)
	for k := range outs {
		wg.Go(func() { outs[k] = encode(fmt.Sprintf("limited%d.mp4", k), frame) })
	}
	wg.Wait()
	if m := most.Load(); m > 2 {
		t.Errorf("drew %d frames at once, want at most 2", m)
	}
	for _, out := range outs {
		if got := readFile(t, out); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the file drawn without a limit", filepath.Base(out))
		}
	}
	if got := drawers(); got != 2 {
		t.Errorf("a render draws with %d workers under a limit of 2", got)
	}
}

// TestDrawingNiced checks that the threads drawing a render's frames run
// at its niceness, and that the niceness stays off the threads this
// process goes on using.
func TestDrawingNiced(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("niceness is applied on Linux only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base, err := threadNiceness()
	if err != nil {
		t.Fatal(err)
	}
	for _, nice := range []int{0, 7} {
		var mu sync.Mutex
		seen := map[int]bool{}
		frame := func(i int, dst *image.RGBA) {
			n, err := threadNiceness()
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			seen[n] = true
			mu.Unlock()
			moving(i, dst)
		}
		spec := Spec{Width: 64, Height: 64, Frames: 24, NoAudio: true, Nice: nice}
		if err := Encode(context.Background(), spec, frame, filepath.Join(t.TempDir(), "out.mp4"), nil); err != nil {
			t.Fatal(err)
		}
		want := max(nice, base)
		if len(seen) != 1 || !seen[want] {
			t.Errorf("at niceness %d: frames drawn at niceness %v, want only %d", nice, seen, want)
		}
	}
	if after, _ := threadNiceness(); after != base {
		t.Errorf("this thread's niceness changed from %d to %d", base, after)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
