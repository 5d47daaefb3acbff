package firebaseauthtest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a process group of its own, and has the
// kernel kill cmd when the test binary dies before its cleanup runs.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killProcessGroup kills cmd and everything it started.
func killProcessGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
