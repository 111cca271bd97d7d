// Package runtime declares what the agent asks of the thing that runs game
// server processes, so that the server manager does not depend on how they
// run. Package runtime/containerd runs them in containerd; runtime/network
// gives their containers a network.
//
// A server is one long-lived container (Create … Delete) whose process may be
// started and stopped many times. Everything is keyed by the server's ID, and
// everything can be found again by a new agent process: containers keep
// running while the agent restarts, and List, State, Attach and WaitExit work
// on the processes a previous agent started.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Runtime runs game servers, one container per server.
type Runtime interface {
	// Create makes the server's container (image pulled when missing, limits,
	// volume, ports). It starts nothing.
	Create(ctx context.Context, spec Spec) error
	// Start starts the server's process. Output produced before anyone
	// attaches waits in the console pipe (the process blocks once it is full).
	Start(ctx context.Context, id string) error
	// Stop writes stopCommand (plus a newline) to the process's stdin and
	// waits up to timeout for it to exit; then sends SIGTERM and waits a
	// grace period; then SIGKILL. stopCommand "^C" means SIGINT, "" (or a
	// process whose stdin is closed) goes straight to SIGTERM. Stopping a
	// stopped server does nothing.
	Stop(ctx context.Context, id, stopCommand string, timeout time.Duration) error
	// Kill sends SIGKILL and waits for the process to exit.
	Kill(ctx context.Context, id string) error
	// Attach connects to the running process's console: its stdout and stderr
	// are copied to out until the process exits, ctx ends or the returned
	// writer is closed; what is written to the returned writer goes to the
	// process's stdin. Closing it detaches without closing the process's
	// stdin, and returns once nothing more will be written to out. A server
	// has one attachment at a time; attaching again ends the previous one.
	// out must not block for long or fail: a slow out holds the process up
	// once the pipe is full, a failing one ends the copying.
	Attach(ctx context.Context, id string, out io.Writer) (io.WriteCloser, error)
	// WaitExit blocks until the process has exited and reports how, or
	// returns ErrNotRunning when there is no process (never started, or
	// removed since).
	WaitExit(ctx context.Context, id string) (ExitState, error)
	// State reports what the server's process is doing now, asked of the
	// runtime underneath each time (never a cached guess).
	State(ctx context.Context, id string) (State, error)
	// Stats samples the running process's resource usage.
	Stats(ctx context.Context, id string) (Stats, error)
	// Delete kills the process if it runs and removes the container, its
	// snapshot, console pipes and network. The volume stays (RemoveVolume).
	Delete(ctx context.Context, id string) error
	// Install runs a one-shot installer container with the server's volume
	// at /mnt/server, copies its output to out, removes it and returns its
	// exit code.
	Install(ctx context.Context, spec InstallSpec, out io.Writer) (exitCode int, err error)
	// List returns the IDs of every server container, running or not.
	List(ctx context.Context) ([]string, error)
}

// Errors callers branch on.
var (
	// ErrNotFound: the server has no container.
	ErrNotFound = errors.New("server container not found")
	// ErrNotRunning: the server has no running process.
	ErrNotRunning = errors.New("server process not running")
	// ErrExists: Create found a container with the same ID.
	ErrExists = errors.New("server container already exists")
)

// Spec describes a server's container.
type Spec struct {
	// ID names the container; containerd allows [A-Za-z0-9._-], 76 at most.
	ID string
	// Image is an image reference, e.g. "ghcr.io/pterodactyl/yolks:java_21".
	Image string
	// Argv is the process to run, already split; empty means the image's
	// entrypoint and command. A shell is the caller's choice:
	// []string{"/bin/sh", "-c", line} where the image has one.
	Argv []string
	// Env is added to the image's environment, as KEY=VALUE.
	Env []string
	// Volume is the host directory mounted read-write at /home/container,
	// the process's working directory. It is created and chowned to the
	// runtime's user when missing.
	Volume string
	// Ports are the server's allocations; each maps host IP:port to the same
	// port in the container, for TCP and UDP alike as listed.
	Ports []Port
	// Limits caps the process's resources.
	Limits Limits
	// ReadOnlyRootfs mounts the image read-only; only the volume and /tmp
	// (a size-limited tmpfs) stay writable.
	ReadOnlyRootfs bool
}

// Limits caps a container's resources; a zero field means no limit.
type Limits struct {
	// MemoryBytes caps memory (swap included, where the kernel accounts it).
	MemoryBytes int64
	// CPUPercent caps CPU time: 100 is one core, 250 two and a half.
	CPUPercent int
	// Pids caps the number of processes and threads.
	Pids int64
}

// Port is one allocation.
type Port struct {
	// HostIP is the host address to listen on; "" or "0.0.0.0" means all.
	HostIP string
	Port   uint16
	// Protocol is "tcp" or "udp".
	Protocol string
}

// String formats p as host:port/protocol, e.g. "0.0.0.0:25565/tcp".
func (p Port) String() string {
	host := p.HostIP
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, strconv.Itoa(int(p.Port))) + "/" + p.Protocol
}

// ParsePort reads what Port.String writes.
func ParsePort(s string) (Port, error) {
	hostport, proto, ok := strings.Cut(s, "/")
	if !ok || (proto != "tcp" && proto != "udp") {
		return Port{}, fmt.Errorf("port %q: want host:port/tcp or host:port/udp", s)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return Port{}, fmt.Errorf("port %q: %w", s, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return Port{}, fmt.Errorf("port %q: bad port number", s)
	}
	return Port{HostIP: host, Port: uint16(n), Protocol: proto}, nil
}

// InstallSpec describes an installer run.
type InstallSpec struct {
	// ID is the server's ID; the installer container is named after it.
	ID    string
	Image string
	// Argv is the installer process, e.g. ["/bin/bash", "/mnt/install/install.sh"].
	Argv []string
	Env  []string
	// Script, when set, is written to a file the installer sees read-only
	// at InstallScriptPath (typically run by Argv's interpreter).
	Script string
	// Volume is the server's volume, mounted at /mnt/server. The installer
	// runs as root; afterwards the volume is chowned to the runtime's user.
	Volume string
	Limits Limits
}

// InstallScriptPath is where the installer finds InstallSpec.Script.
const InstallScriptPath = "/mnt/install/install.sh"

// State is a server's process state as containerd reports it.
type State string

const (
	// StateRunning: the process runs (or is paused).
	StateRunning State = "running"
	// StateStopped: the container exists, the process does not run.
	StateStopped State = "stopped"
	// StateAbsent: there is no container.
	StateAbsent State = "absent"
)

// ExitState is how a process ended.
type ExitState struct {
	// Code is the exit status; 128+n when killed by signal n.
	Code int
	// OOMKilled is true when the kernel's OOM killer ended the process for
	// exceeding its memory limit. It is only known to an agent that was
	// watching when it happened.
	OOMKilled bool
	ExitedAt  time.Time
}

// Stats is one sample of a process's resource usage.
type Stats struct {
	// At is when the sample was taken.
	At time.Time
	// CPU is the CPU time used since start, all cores added up.
	CPU time.Duration
	// MemoryBytes is the working set: usage less reclaimable page cache.
	MemoryBytes uint64
	// MemoryLimitBytes is the memory limit; 0 means none.
	MemoryLimitBytes uint64
	// Pids is the number of processes and threads.
	Pids uint64
	// NetRxBytes and NetTxBytes count traffic on the container's own
	// network interfaces; both are 0 with host networking.
	NetRxBytes uint64
	NetTxBytes uint64
}

// CPUPercent is the CPU used between prev and s, where 100 is one core
// busy all the time (the same unit as Limits.CPUPercent).
func (s Stats) CPUPercent(prev Stats) float64 {
	wall := s.At.Sub(prev.At)
	if wall <= 0 || s.CPU < prev.CPU {
		return 0
	}
	return float64(s.CPU-prev.CPU) / float64(wall) * 100
}

// RemoveVolume deletes a server's volume directory and everything in it.
// It refuses relative paths and the file-system root.
func RemoveVolume(dir string) error {
	clean := filepath.Clean(dir)
	if !filepath.IsAbs(clean) || clean == "/" {
		return fmt.Errorf("remove volume %q: not an absolute directory below /", dir)
	}
	if err := os.RemoveAll(clean); err != nil {
		return fmt.Errorf("remove volume: %w", err)
	}
	return nil
}
