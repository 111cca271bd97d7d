package host

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group (so Kill reaches
// anything it started) and asks the kernel to SIGKILL it if the host dies,
// even by SIGKILL, when no deferred cleanup runs.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killTree(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err == nil {
		return nil
	}
	return p.Kill()
}
