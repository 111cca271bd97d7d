package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"
	"golang.org/x/sys/unix"
)

// A task's console is three FIFOs at fixed paths, <state>/io/<id>/{stdin,
// stdout,stderr}, which the containerd shim opens when the task is created
// and keeps open until the process exits:
//
//   - stdout and stderr: the shim holds a read end of its own, so when no
//     agent reads, output waits in the pipe (and the process blocks once it
//     is full) rather than failing;
//   - stdin: the shim holds a write end of its own, so an agent that goes
//     away does not close the process's stdin.
//
// So any agent process can open the same paths later and carry on: that is
// what makes reattaching after an agent restart work.

func (r *Runtime) ioDir(id string) string { return filepath.Join(r.opts.stateDir, "io", id) }

func (r *Runtime) ioConfig(id string) cio.Config {
	dir := r.ioDir(id)
	return cio.Config{
		Stdin:  filepath.Join(dir, "stdin"),
		Stdout: filepath.Join(dir, "stdout"),
		Stderr: filepath.Join(dir, "stderr"),
	}
}

// creator makes the task's FIFOs. The shim's create blocks until stdout and
// stderr have a reader, so taskIO holds read ends open until the task has
// been created; after that the shim's own ends keep the FIFOs alive.
func (r *Runtime) creator(id string) (cio.Creator, *taskIO) {
	t := &taskIO{cfg: r.ioConfig(id)}
	return func(string) (cio.IO, error) {
		if err := os.MkdirAll(r.ioDir(id), 0o700); err != nil {
			return nil, err
		}
		for _, p := range []string{t.cfg.Stdin, t.cfg.Stdout, t.cfg.Stderr} {
			if err := unix.Mkfifo(p, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, fmt.Errorf("mkfifo %s: %w", p, err)
			}
		}
		for _, p := range []string{t.cfg.Stdout, t.cfg.Stderr} {
			f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Close()
				return nil, err
			}
			t.held = append(t.held, f)
		}
		return t, nil
	}, t
}

// taskIO is the cio.IO handed to containerd at task creation.
type taskIO struct {
	cfg  cio.Config
	once sync.Once
	held []*os.File
}

func (t *taskIO) Config() cio.Config { return t.cfg }
func (t *taskIO) Cancel()            {}
func (t *taskIO) Wait()              {}

// Close lets go of the read ends held for task creation; the FIFOs stay.
func (t *taskIO) Close() error {
	t.once.Do(func() {
		for _, f := range t.held {
			f.Close()
		}
	})
	return nil
}

// taskPaths returns the FIFO paths containerd recorded for id's task, so
// that a Runtime configured with another state directory still finds them.
func (r *Runtime) taskPaths(ctx context.Context, id string) (cio.Config, error) {
	ctr, err := r.container(ctx, id)
	if err != nil {
		return cio.Config{}, err
	}
	var cfg cio.Config
	_, err = ctr.Task(ctx, func(fs *cio.FIFOSet) (cio.IO, error) {
		cfg = fs.Config
		return &taskIO{cfg: cfg}, nil
	})
	if err != nil {
		return cio.Config{}, err
	}
	return cfg, nil
}

// Attach connects out to the process's stdout and stderr and returns a
// writer to its stdin. See runtime.Runtime.
func (r *Runtime) Attach(ctx context.Context, id string, out io.Writer) (io.WriteCloser, error) {
	if _, err := r.liveTask(ctx, id); err != nil {
		return nil, err
	}
	paths, err := r.taskPaths(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := openConsole(paths, out)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", id, err)
	}
	r.mu.Lock()
	prev := r.consoles[id]
	r.consoles[id] = c
	r.mu.Unlock()
	if prev != nil {
		prev.Close()
	}
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-c.closed:
		case <-c.copied: // the process's output ended
		}
	}()
	return c, nil
}

// detach ends id's current attachment, if any.
func (r *Runtime) detach(id string) {
	r.mu.Lock()
	c := r.consoles[id]
	delete(r.consoles, id)
	r.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// console is one attachment to a task's FIFOs.
type console struct {
	stdin  *os.File
	outs   []*os.File
	copied chan struct{} // closed when stdout and stderr reached EOF or were closed
	closed chan struct{} // closed by Close
	once   sync.Once
}

func openConsole(paths cio.Config, out io.Writer) (*console, error) {
	// O_NONBLOCK: a write end opens only while the shim holds the read end
	// (ENXIO otherwise, i.e. the process is gone), and reads go through Go's
	// poller, so Close interrupts them.
	stdin, err := openStdin(paths.Stdin)
	if err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(paths.Stdout, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		stdin.Close()
		return nil, fmt.Errorf("open stdout: %w", err)
	}
	stderr, err := os.OpenFile(paths.Stderr, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, fmt.Errorf("open stderr: %w", err)
	}
	c := &console{
		stdin:  stdin,
		outs:   []*os.File{stdout, stderr},
		copied: make(chan struct{}),
		closed: make(chan struct{}),
	}
	// stdout and stderr interleave into one writer, one read at a time.
	w := &lockedWriter{w: out}
	var wg sync.WaitGroup
	for _, f := range c.outs {
		wg.Go(func() {
			io.Copy(w, f)
			f.Close() // at EOF the process is gone: let go of its pipe
		})
	}
	go func() {
		wg.Wait()
		close(c.copied)
	}()
	return c, nil
}

// Write sends p to the process's stdin.
func (c *console) Write(p []byte) (int, error) { return c.stdin.Write(p) }

// Close detaches: output copying stops (what is unread stays in the pipe
// for the next attachment) and the process's stdin stays open.
func (c *console) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.stdin.Close()
		for _, f := range c.outs {
			f.Close()
		}
	})
	<-c.copied
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// writeStdin writes s to the process's stdin, independently of any
// attachment.
func (r *Runtime) writeStdin(ctx context.Context, id, s string) error {
	paths, err := r.taskPaths(ctx, id)
	if err != nil {
		return err
	}
	f, err := openStdin(paths.Stdin)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, s); err != nil {
		return fmt.Errorf("write stdin of %s: %w", id, err)
	}
	return nil
}

// openStdin opens the write end of a stdin FIFO. Right after task creation
// the shim may still be opening its read end (ENXIO until then): retry for
// a moment.
func openStdin(path string) (*os.File, error) {
	deadline := time.Now().Add(time.Second)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.ENXIO) || time.Now().After(deadline) {
			return nil, fmt.Errorf("open stdin: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
