package containerd

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"catalyst.dev/agent/internal/runtime"
)

// Where things appear inside a container.
const (
	serverDir  = "/home/container" // the server's volume and working directory
	installDir = "/mnt/server"     // the volume, as the installer sees it
)

// Create makes the server's container. The image is pulled when it is not
// present; the volume is created when missing and chowned to the runtime's
// user.
func (r *Runtime) Create(ctx context.Context, spec runtime.Spec) error {
	if err := identifiers.Validate(spec.ID); err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	if !filepath.IsAbs(spec.Volume) {
		return fmt.Errorf("create %s: volume %q is not an absolute path", spec.ID, spec.Volume)
	}
	for _, p := range spec.Ports {
		if _, err := runtime.ParsePort(p.String()); err != nil {
			return fmt.Errorf("create %s: %w", spec.ID, err)
		}
	}
	if _, err := r.client.LoadContainer(ctx, spec.ID); err == nil {
		return fmt.Errorf("create %s: %w", spec.ID, runtime.ErrExists)
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	// Whatever an interrupted Delete of an earlier container with this ID
	// left (a snapshot, a network namespace with its old ports) goes first.
	if err := r.Delete(ctx, spec.ID); err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	img, err := r.ensureImage(ctx, spec.Image)
	if err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	if err := PrepareVolume(spec.Volume, r.opts.uid, r.opts.gid); err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}

	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithProcessCwd(serverDir),
		oci.WithEnv(spec.Env),
		oci.WithUIDGID(r.opts.uid, r.opts.gid),
		oci.WithHostname(hostname(spec.ID)),
		oci.WithNoNewPrivileges,
		withBind(spec.Volume, serverDir),
		withTmp(r.opts.tmpBytes),
		r.withNetwork(spec.ID),
		withLimits(spec.Limits),
	}
	if len(spec.Argv) > 0 {
		specOpts = append(specOpts, oci.WithProcessArgs(spec.Argv...))
	}
	if spec.ReadOnlyRootfs {
		specOpts = append(specOpts, oci.WithRootFSReadonly())
	}
	_, err = r.client.NewContainer(ctx, spec.ID,
		client.WithImage(img),
		client.WithSnapshotter(r.opts.snapshotter),
		client.WithNewSnapshot(spec.ID, img),
		client.WithNewSpec(specOpts...),
		client.WithContainerLabels(map[string]string{
			labelRole:  roleServer,
			labelPorts: encodePorts(spec.Ports),
		}),
	)
	if err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	return nil
}

// PrepareVolume creates dir when missing and makes everything in it owned by
// uid:gid, so that a game server running as that user can use what an
// installer (root) or a file upload left there.
func PrepareVolume(dir string, uid, gid uint32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(gid))
	})
	if err != nil {
		return fmt.Errorf("volume: chown %s: %w", dir, err)
	}
	return nil
}

func hostname(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// withBind mounts the host directory src read-write at dst.
func withBind(src, dst string) oci.SpecOpts {
	return oci.WithMounts([]specs.Mount{{
		Type:        "bind",
		Source:      src,
		Destination: dst,
		Options:     []string{"rbind", "rw"},
	}})
}

// withReadOnlyBind mounts the host directory src read-only at dst.
func withReadOnlyBind(src, dst string) oci.SpecOpts {
	return oci.WithMounts([]specs.Mount{{
		Type:        "bind",
		Source:      src,
		Destination: dst,
		Options:     []string{"rbind", "ro", "nosuid", "nodev"},
	}})
}

// withTmp mounts a size-limited tmpfs at /tmp, writable even when the root
// file system is not.
func withTmp(bytes int64) oci.SpecOpts {
	return oci.WithMounts([]specs.Mount{{
		Type:        "tmpfs",
		Source:      "tmpfs",
		Destination: "/tmp",
		Options:     []string{"nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(bytes, 10)},
	}})
}

// withNetwork joins the container's network namespace, or the host's.
func (r *Runtime) withNetwork(id string) oci.SpecOpts {
	path := r.opts.network.Path(id)
	if path == "" {
		return oci.Compose(
			oci.WithHostNamespace(specs.NetworkNamespace),
			oci.WithHostHostsFile,
			oci.WithHostResolvconf,
		)
	}
	opts := []oci.SpecOpts{oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: path})}
	// The node's resolver settings. (A node whose resolv.conf names only a
	// stub resolver on its loopback needs real servers there: the
	// container's loopback is its own.)
	if _, err := os.Stat("/etc/resolv.conf"); err == nil {
		opts = append(opts, oci.WithHostResolvconf)
	}
	return oci.Compose(opts...)
}

// withLimits applies memory (and swap: none beyond the memory limit), CPU
// quota and pids limits.
func withLimits(l runtime.Limits) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		var opts []oci.SpecOpts
		if l.MemoryBytes > 0 {
			opts = append(opts, oci.WithMemoryLimit(uint64(l.MemoryBytes)))
			if swapAccounted() {
				opts = append(opts, oci.WithMemorySwap(l.MemoryBytes))
			}
		}
		if l.CPUPercent > 0 {
			// CFS: quota per 100ms period; 100% is one core's 100ms.
			const period = 100_000
			opts = append(opts, oci.WithCPUCFS(int64(l.CPUPercent)*period/100, period))
		}
		if l.Pids > 0 {
			opts = append(opts, oci.WithPidsLimit(l.Pids))
		}
		return oci.ApplyOpts(ctx, c, ctr, s, opts...)
	}
}

// swapAccounted reports whether the kernel accounts swap per cgroup; runc
// refuses a swap limit where it does not.
func swapAccounted() bool {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err == nil {
		return true // cgroup v1
	}
	m, _ := filepath.Glob("/sys/fs/cgroup/*/memory.swap.max") // cgroup v2
	return len(m) > 0
}
