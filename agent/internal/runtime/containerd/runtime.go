// Package containerd runs game servers in containerd: one container per
// server in the agent's own namespace, a runc task for its process, console
// FIFOs at stable paths so that a restarted agent reattaches, CNI networking
// through package network, and images pulled from registries or imported
// from OCI archives.
package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/errdefs"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/network"
)

// Network gives each server's container its network namespace. Both
// network.Host and *network.Bridge implement it.
type Network interface {
	// Path is the namespace file the container joins; "" means the host's.
	Path(id string) string
	// Attach creates and connects the namespace of container id, mapping
	// ports; one already attached is left as it is.
	Attach(ctx context.Context, id string, ports []runtime.Port) error
	// Detach disconnects and removes it; detaching twice does nothing.
	Detach(ctx context.Context, id string) error
}

// Registry holds how to reach one registry host (e.g. "ghcr.io",
// "docker.io", "registry.example.com:5000").
type Registry struct {
	Username string
	Password string
	// PlainHTTP talks HTTP instead of HTTPS. Registries on localhost always do.
	PlainHTTP bool
}

// Labels on every container Catalyst makes.
const (
	labelRole  = "dev.catalyst.role"  // "server" or "installer"
	labelPorts = "dev.catalyst.ports" // comma-separated runtime.Port strings
	roleServer = "server"
	roleInst   = "installer"
)

// Runtime runs game servers in containerd. It implements runtime.Runtime.
type Runtime struct {
	client *client.Client
	opts   options

	mu       sync.Mutex
	consoles map[string]*console // current attachment per container
}

var _ runtime.Runtime = (*Runtime)(nil)

// Opt configures a Runtime.
type Opt func(*options)

type options struct {
	namespace   string
	stateDir    string
	uid, gid    uint32
	network     Network
	registries  map[string]Registry
	snapshotter string
	stopGrace   time.Duration
	tmpBytes    int64
}

// WithNamespace sets the containerd namespace (default "catalyst"). Keep it
// to Catalyst alone: List reports every server container in it.
func WithNamespace(ns string) Opt { return func(o *options) { o.namespace = ns } }

// WithStateDir sets where console FIFOs and, for the default network,
// network namespaces live (default /run/catalyst). A tmpfs suits it.
func WithStateDir(dir string) Opt { return func(o *options) { o.stateDir = dir } }

// WithUser sets the uid:gid game server processes run as and volumes are
// owned by (default 988:988, as Pterodactyl's).
func WithUser(uid, gid uint32) Opt { return func(o *options) { o.uid, o.gid = uid, gid } }

// WithNetwork sets how containers are networked (default: a network.Bridge
// with its defaults, under the state directory). Use network.Host{} for
// host networking.
func WithNetwork(n Network) Opt { return func(o *options) { o.network = n } }

// WithRegistries sets credentials per registry host for image pulls.
func WithRegistries(r map[string]Registry) Opt { return func(o *options) { o.registries = r } }

// WithSnapshotter sets the containerd snapshotter (default "overlayfs").
func WithSnapshotter(name string) Opt { return func(o *options) { o.snapshotter = name } }

// WithStopGrace sets how long Stop waits after SIGTERM before SIGKILL
// (default 10s).
func WithStopGrace(d time.Duration) Opt { return func(o *options) { o.stopGrace = d } }

// WithTmpSize sets the size of the tmpfs every container gets at /tmp
// (default 100 MiB; it counts against the memory limit).
func WithTmpSize(bytes int64) Opt { return func(o *options) { o.tmpBytes = bytes } }

// New connects to containerd at address (its API socket).
func New(ctx context.Context, address string, opts ...Opt) (*Runtime, error) {
	o := options{
		namespace:   "catalyst",
		stateDir:    "/run/catalyst",
		uid:         988,
		gid:         988,
		snapshotter: "overlayfs",
		stopGrace:   10 * time.Second,
		tmpBytes:    100 << 20,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := identifiers.Validate(o.namespace); err != nil {
		return nil, fmt.Errorf("containerd runtime: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(o.stateDir, "io"), 0o700); err != nil {
		return nil, fmt.Errorf("containerd runtime: %w", err)
	}
	if o.network == nil {
		b, err := network.NewBridge(network.BridgeConfig{Dir: filepath.Join(o.stateDir, "network")})
		if err != nil {
			return nil, fmt.Errorf("containerd runtime: %w", err)
		}
		o.network = b
	}
	c, err := client.New(address,
		client.WithDefaultNamespace(o.namespace),
		client.WithDefaultRuntime("io.containerd.runc.v2"),
		client.WithTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", address, err)
	}
	if _, err := c.Version(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to containerd at %s: %w", address, err)
	}
	return &Runtime{client: c, opts: o, consoles: map[string]*console{}}, nil
}

// Close detaches every console and closes the connection. Containers and
// their processes keep running.
func (r *Runtime) Close() error {
	r.mu.Lock()
	cs := r.consoles
	r.consoles = map[string]*console{}
	r.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	return r.client.Close()
}

// Client is the underlying containerd client, for what the Runtime does not
// cover (and for tests that check behind its back).
func (r *Runtime) Client() *client.Client { return r.client }

// Namespace is the containerd namespace the Runtime works in.
func (r *Runtime) Namespace() string { return r.opts.namespace }

// List returns the IDs of every server container (installers excluded).
func (r *Runtime) List(ctx context.Context) ([]string, error) {
	ctrs, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q==%q", labelRole, roleServer))
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ids := make([]string, 0, len(ctrs))
	for _, c := range ctrs {
		ids = append(ids, c.ID())
	}
	return ids, nil
}

// State reports whether the server's process runs, from containerd's view.
func (r *Runtime) State(ctx context.Context, id string) (runtime.State, error) {
	ctr, err := r.container(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) {
		return runtime.StateAbsent, nil
	}
	if err != nil {
		return "", err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return runtime.StateStopped, nil
	}
	if err != nil {
		return "", fmt.Errorf("load task %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if errdefs.IsNotFound(err) {
		return runtime.StateStopped, nil
	}
	if err != nil {
		return "", fmt.Errorf("task status %s: %w", id, err)
	}
	if running(st.Status) {
		return runtime.StateRunning, nil
	}
	return runtime.StateStopped, nil
}

func running(s client.ProcessStatus) bool {
	return s == client.Running || s == client.Paused || s == client.Pausing
}

func (r *Runtime) container(ctx context.Context, id string) (client.Container, error) {
	if err := identifiers.Validate(id); err != nil {
		return nil, fmt.Errorf("server id: %w", err)
	}
	ctr, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load container %s: %w", id, err)
	}
	return ctr, nil
}

// liveTask returns the container's task when it has one that is not
// stopped, and ErrNotRunning otherwise.
func (r *Runtime) liveTask(ctx context.Context, id string) (client.Task, error) {
	ctr, err := r.container(ctx, id)
	if err != nil {
		return nil, err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", id, runtime.ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("load task %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if errdefs.IsNotFound(err) || (err == nil && st.Status == client.Stopped) {
		return nil, fmt.Errorf("%s: %w", id, runtime.ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("task status %s: %w", id, err)
	}
	return task, nil
}

func encodePorts(ports []runtime.Port) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func decodePorts(label string) ([]runtime.Port, error) {
	if label == "" {
		return nil, nil
	}
	var ports []runtime.Port
	for _, s := range strings.Split(label, ",") {
		p, err := runtime.ParsePort(s)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func containerPorts(ctx context.Context, ctr client.Container) ([]runtime.Port, error) {
	labels, err := ctr.Labels(ctx)
	if err != nil {
		return nil, fmt.Errorf("container labels %s: %w", ctr.ID(), err)
	}
	return decodePorts(labels[labelPorts])
}

// Version names containerd and its version, e.g. "containerd v2.1.4".
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.client.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("containerd version: %w", err)
	}
	return "containerd " + v.Version, nil
}
