package media

import (
	"os/exec"
	"runtime"
	"syscall"
)

// start starts cmd at the niceness nice (1..19; 0 or less starts it as
// this process is). Linux keeps a niceness per thread, and a child takes
// its starting thread's: cmd is started from a thread of its own that is
// given the niceness first (see niceThread).
func start(cmd *exec.Cmd, nice int) error {
	if nice <= 0 {
		return cmd.Start()
	}
	done := make(chan error, 1)
	go func() {
		niceThread(nice)
		done <- cmd.Start()
	}()
	return <-done
}

// niceThread locks the calling goroutine to its thread and gives the
// thread the niceness nice (1..19; 0 or less does nothing). That thread
// cannot be given back its own (an unprivileged process may not lower a
// niceness), so it is never handed back to the runtime: it stays locked
// and ends with its goroutine.
func niceThread(nice int) {
	if nice <= 0 {
		return
	}
	runtime.LockOSThread()
	// Failing (a niceness already above nice), it runs as it is.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), min(nice, 19))
}
