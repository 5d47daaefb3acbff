//go:build !linux

package firebaseauthtest

import "os/exec"

// setProcessGroup leaves cmd in the test's process group: only Linux's
// process groups are used here.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills cmd.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.Process.Kill()
}
