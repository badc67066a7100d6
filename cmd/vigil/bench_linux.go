package main

import (
	"os/exec"
	"syscall"
)

// endWithBench makes the kernel kill a server the bench started when the
// bench process dies, however it dies: a bench stopped with kill -9 would
// otherwise leave its vigil serve running, holding its port and its
// temporary database.
func endWithBench(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
