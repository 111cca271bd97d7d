//go:build !linux

package host

import (
	"os"
	"os/exec"
)

// Elsewhere the plugin's own parent watch (see plugin.Serve) ends it when
// the host dies.
func setProcAttr(*exec.Cmd) {}

func killTree(p *os.Process) error { return p.Kill() }
