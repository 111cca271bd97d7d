package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"github.com/hashicorp/go-plugin/runner"
)

// procRunner runs a plugin executable for go-plugin. It exists (instead of
// go-plugin's own command runner) so the host controls the process: the
// launch goes through the spawner so the kernel kills the plugin if the host
// dies, Kill takes the plugin's whole process group, exits are observed the
// moment they happen, and the pid is known for status pages.
type procRunner struct {
	name    string
	cmd     *exec.Cmd
	spawner *spawner
	stdout  io.ReadCloser
	stderr  io.ReadCloser
	pid     int
	exited  chan struct{} // closed once the process has been reaped
}

var _ runner.Runner = (*procRunner)(nil)

func newProcRunner(name string, cmd *exec.Cmd, sp *spawner) (*procRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	setProcAttr(cmd)
	return &procRunner{name: name, cmd: cmd, spawner: sp, stdout: stdout, stderr: stderr, exited: make(chan struct{})}, nil
}

func (r *procRunner) Start(ctx context.Context) error {
	if err := r.spawner.start(ctx, r.cmd); err != nil {
		return fmt.Errorf("start %s: %w", r.cmd.Path, err)
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

// Wait is called once, by go-plugin's process watcher.
func (r *procRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	close(r.exited)
	return err
}

func (r *procRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	select {
	case <-r.exited:
		return nil // reaped: its pid (and group id) may belong to someone else now
	default:
	}
	err := killTree(r.cmd.Process)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }

// Name is what go-plugin names the plugin's forwarded logger after.
func (r *procRunner) Name() string { return r.name }
func (r *procRunner) ID() string   { return strconv.Itoa(r.pid) }

func (r *procRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("%s did not complete the Catalyst plugin handshake: is it a Catalyst plugin built for this platform, calling plugin.Serve, and writing nothing else to stdout?", r.cmd.Path)
}

func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }
