// Package network gives each game server's container its network: either the
// host's (Host), or a network namespace of its own on a CNI bridge with the
// server's allocations port-mapped into it (Bridge).
package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	gocni "github.com/containerd/go-cni"
	"golang.org/x/sys/unix"

	"catalyst.dev/agent/internal/runtime"
)

// Host is host networking: containers share the node's network namespace,
// so a server listens on the node's addresses directly and allocations need
// no mapping. Per-container traffic counters are not available.
type Host struct{}

// Path returns "", the host's namespace.
func (Host) Path(string) string { return "" }

// Attach does nothing.
func (Host) Attach(context.Context, string, []runtime.Port) error { return nil }

// Detach does nothing.
func (Host) Detach(context.Context, string) error { return nil }

// BridgeConfig configures a Bridge. Zero fields take the defaults noted.
type BridgeConfig struct {
	// Dir holds the namespace files (netns/) and the IP allocations (ipam/).
	// Required; a tmpfs such as /run/catalyst/network suits it, since both
	// lose their meaning at reboot.
	Dir string
	// Name is the CNI network name (default "catalyst").
	Name string
	// Bridge is the Linux bridge device (default "catalyst0"), at most 15
	// bytes.
	Bridge string
	// Subnet is the private IPv4 range containers get addresses from
	// (default 10.88.0.0/16); the bridge takes its first address.
	Subnet string
	// MTU of the bridge and container interfaces; 0 keeps the plugin's
	// default (1500). Set it to the uplink's MTU when that is smaller.
	MTU int
	// PluginDirs are searched for the CNI plugins (default /usr/lib/cni,
	// where Debian installs them, and /opt/cni/bin).
	PluginDirs []string
}

// Bridge connects each container to a Linux bridge through a veth pair
// (CNI "bridge" with "host-local" addresses and outbound masquerading) and
// publishes its ports with CNI "portmap": DNAT from host IP:port to the
// container's address, the same port inside.
//
// Connections from the node itself to 127.0.0.1:port work as well: portmap's
// "snat" masquerades them and sets net.ipv4.conf.<bridge>.route_localnet=1,
// without which the kernel drops 127.0.0.0/8 packets routed off the loopback
// device. The bridge plugin enables net.ipv4.ip_forward for outbound traffic.
//
// Namespaces and address leases live under BridgeConfig.Dir; libcni's result
// cache stays in /var/lib/cni/results (go-cni has no option to move it), in
// entries named after the network and container that Detach removes.
type Bridge struct {
	cfg BridgeConfig
	cni gocni.CNI
}

// NewBridge prepares a Bridge; nothing is created on the host until the
// first Attach.
func NewBridge(cfg BridgeConfig) (*Bridge, error) {
	if cfg.Dir == "" {
		return nil, errors.New("network: BridgeConfig.Dir is required")
	}
	if cfg.Name == "" {
		cfg.Name = "catalyst"
	}
	if cfg.Bridge == "" {
		cfg.Bridge = "catalyst0"
	}
	if len(cfg.Bridge) > 15 {
		return nil, fmt.Errorf("network: bridge name %q is longer than 15 bytes", cfg.Bridge)
	}
	if cfg.Subnet == "" {
		cfg.Subnet = "10.88.0.0/16"
	}
	if p, err := netip.ParsePrefix(cfg.Subnet); err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("network: subnet %q is not an IPv4 prefix", cfg.Subnet)
	}
	if len(cfg.PluginDirs) == 0 {
		cfg.PluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	for _, d := range []string{"netns", "ipam"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
	}
	conf, err := confList(cfg)
	if err != nil {
		return nil, err
	}
	cni, err := gocni.New(
		gocni.WithPluginDir(cfg.PluginDirs),
		gocni.WithConfListBytes(conf),
		gocni.WithLoNetwork,
	)
	if err != nil {
		return nil, fmt.Errorf("network: load CNI config: %w", err)
	}
	return &Bridge{cfg: cfg, cni: cni}, nil
}

// BridgeName is the Linux bridge device the containers attach to.
func (b *Bridge) BridgeName() string { return b.cfg.Bridge }

// Path is the network namespace file of container id.
func (b *Bridge) Path(id string) string {
	return filepath.Join(b.cfg.Dir, "netns", id)
}

// State kept beside each namespace file, so that a Detach — by this process
// or a later one — tears down exactly what Attach set up:
//
//	<id>.ports  the port mappings, written before CNI setup starts
//	<id>.ready  CNI setup finished; a namespace without it was left
//	            half-configured by a crash and is redone, not trusted
func (b *Bridge) portsFile(id string) string { return b.Path(id) + ".ports" }
func (b *Bridge) readyFile(id string) string { return b.Path(id) + ".ready" }

// Attach creates the namespace of container id and connects it with ports
// mapped. A namespace already attached is left as it is.
func (b *Bridge) Attach(ctx context.Context, id string, ports []runtime.Port) error {
	path := b.Path(id)
	if _, err := os.Stat(b.readyFile(id)); err == nil && isNamespace(path) {
		return nil
	}
	if err := b.Detach(ctx, id); err != nil {
		return err
	}
	if err := os.WriteFile(b.portsFile(id), []byte(encodePorts(ports)), 0o600); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	if err := newNamespace(path); err != nil {
		os.Remove(b.portsFile(id))
		return fmt.Errorf("network: create namespace for %s: %w", id, err)
	}
	if _, err := b.cni.Setup(ctx, id, path, gocni.WithCapabilityPortMap(portMappings(ports))); err != nil {
		derr := b.Detach(context.WithoutCancel(ctx), id)
		return errors.Join(fmt.Errorf("network: CNI setup for %s: %w", id, err), derr)
	}
	if err := os.WriteFile(b.readyFile(id), nil, 0o600); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	return nil
}

// Detach disconnects container id (releasing its address and port
// mappings) and removes its namespace. Detaching what is not attached does
// nothing.
func (b *Bridge) Detach(ctx context.Context, id string) error {
	path := b.Path(id)
	pinned := isNamespace(path)
	recorded, err := os.ReadFile(b.portsFile(id))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("network: %w", err)
	}
	// CNI DEL runs whenever setup may have begun: also for a namespace lost
	// at reboot whose address a persistent ipam directory still holds (DEL
	// copes with a missing namespace). portmap removes its rules only when
	// given the mappings it made, hence the ports file. On failure
	// everything stays, for a retry.
	if pinned || err == nil {
		ports, perr := decodePorts(string(recorded))
		if perr != nil {
			return fmt.Errorf("network: %s: %w", b.portsFile(id), perr)
		}
		if err := b.cni.Remove(ctx, id, path, gocni.WithCapabilityPortMap(portMappings(ports))); err != nil {
			return fmt.Errorf("network: CNI teardown for %s: %w", id, err)
		}
	}
	var errs []error
	if pinned {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("network: unmount namespace of %s: %w", id, err))
		}
	}
	for _, p := range []string{b.readyFile(id), b.portsFile(id), path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("network: %w", err))
		}
	}
	return errors.Join(errs...)
}

func encodePorts(ports []runtime.Port) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

func decodePorts(s string) ([]runtime.Port, error) {
	var ports []runtime.Port
	for _, line := range strings.Fields(s) {
		p, err := runtime.ParsePort(line)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func portMappings(ports []runtime.Port) []gocni.PortMapping {
	out := make([]gocni.PortMapping, 0, len(ports))
	for _, p := range ports {
		host := p.HostIP
		if host == "0.0.0.0" {
			host = "" // portmap: every local address
		}
		out = append(out, gocni.PortMapping{
			HostPort:      int32(p.Port),
			ContainerPort: int32(p.Port),
			Protocol:      strings.ToLower(p.Protocol),
			HostIP:        host,
		})
	}
	return out
}

func confList(cfg BridgeConfig) ([]byte, error) {
	type ipam struct {
		Type    string              `json:"type"`
		Ranges  [][]map[string]any  `json:"ranges"`
		Routes  []map[string]string `json:"routes"`
		DataDir string              `json:"dataDir"`
	}
	bridge := map[string]any{
		"type":        "bridge",
		"bridge":      cfg.Bridge,
		"isGateway":   true,
		"ipMasq":      true,
		"hairpinMode": true,
		"ipam": ipam{
			Type:    "host-local",
			Ranges:  [][]map[string]any{{{"subnet": cfg.Subnet}}},
			Routes:  []map[string]string{{"dst": "0.0.0.0/0"}},
			DataDir: filepath.Join(cfg.Dir, "ipam"),
		},
	}
	if cfg.MTU > 0 {
		bridge["mtu"] = cfg.MTU
	}
	portmap := map[string]any{
		"type":         "portmap",
		"capabilities": map[string]bool{"portMappings": true},
		"snat":         true,
	}
	b, err := json.Marshal(map[string]any{
		"cniVersion": "1.0.0",
		"name":       cfg.Name,
		"plugins":    []any{bridge, portmap},
	})
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return b, nil
}

// newNamespace creates a network namespace and pins it to path with a bind
// mount, so that it lives without a process in it and keeps its path across
// agent restarts.
func newNamespace(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	f.Close()

	errc := make(chan error, 1)
	go func() {
		// unshare changes the calling thread only: do it on a locked thread
		// and switch back before handing the thread to other goroutines. If
		// switching back fails, the thread stays locked and exits with this
		// goroutine.
		goruntime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			goruntime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			goruntime.UnlockOSThread()
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		err = unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, "")
		if err != nil {
			err = fmt.Errorf("bind mount: %w", err)
		}
		if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr == nil {
			goruntime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// isNamespace reports whether path is a pinned namespace (an nsfs mount).
func isNamespace(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}
