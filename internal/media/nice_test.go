package media

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestStartNiced checks that a child started at a niceness runs at it and
// that the niceness stays off the threads this process goes on using.
func TestStartNiced(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("niceness is applied on Linux only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := threadNiceness()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ nice, want int }{{0, before}, {10, 10}, {25, 19}} {
		// nice(1) with no arguments prints the niceness it runs at.
		cmd := exec.Command("nice")
		var out strings.Builder
		cmd.Stdout = &out
		if err := start(cmd, tc.nice); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		want := strconv.Itoa(max(tc.want, before))
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("started at %d: the child runs at niceness %s, want %s", tc.nice, got, want)
		}
	}
	if after, _ := threadNiceness(); after != before {
		t.Errorf("this thread's niceness changed from %d to %d", before, after)
	}
}

// threadNiceness returns the niceness of the calling thread.
func threadNiceness() (int, error) {
	// getpriority(2) returns 20 - niceness.
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - p, err
}
