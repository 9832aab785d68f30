//go:build !linux

package media

import "os/exec"

// start starts cmd; a niceness is applied on Linux only.
func start(cmd *exec.Cmd, nice int) error { return cmd.Start() }

// niceThread does nothing: a niceness is applied on Linux only.
func niceThread(nice int) {}
