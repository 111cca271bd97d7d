package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/oci"

	"catalyst.dev/agent/internal/runtime"
)

// How long Install waits, after the installer exited, for the rest of its
// output to drain from the console pipe.
const outputDrain = 5 * time.Second

// Install runs a one-shot installer container with the server's volume at
// /mnt/server, as root, copying its output to out. When ctx ends the
// installer is killed. Either way the container is removed and the volume
// chowned to the runtime's user.
func (r *Runtime) Install(ctx context.Context, spec runtime.InstallSpec, out io.Writer) (int, error) {
	id := spec.ID + "-install"
	if err := identifiers.Validate(id); err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	if !filepath.IsAbs(spec.Volume) {
		return -1, fmt.Errorf("install %s: volume %q is not an absolute path", spec.ID, spec.Volume)
	}
	// An installer left behind by a previous agent (or an earlier try) goes.
	if err := r.Delete(ctx, id); err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	img, err := r.ensureImage(ctx, spec.Image)
	if err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	if err := os.MkdirAll(spec.Volume, 0o755); err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	// The script's directory, not the file, is bound: a file bind would pin
	// the inode, and the directory keeps the path the same inside and out.
	scriptDir := filepath.Join(r.opts.stateDir, "install", id)
	if err := os.RemoveAll(scriptDir); err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	defer os.RemoveAll(scriptDir)

	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithProcessCwd(installDir),
		oci.WithEnv(spec.Env),
		oci.WithUIDGID(0, 0),
		oci.WithHostname(hostname(spec.ID)),
		withBind(spec.Volume, installDir),
		withTmp(r.opts.tmpBytes),
		r.withNetwork(id),
		withLimits(spec.Limits),
	}
	if spec.Script != "" {
		if err := writeScript(scriptDir, spec.Script); err != nil {
			return -1, fmt.Errorf("install %s: %w", spec.ID, err)
		}
		specOpts = append(specOpts, withReadOnlyBind(scriptDir, path.Dir(runtime.InstallScriptPath)))
	}
	if len(spec.Argv) > 0 {
		specOpts = append(specOpts, oci.WithProcessArgs(spec.Argv...))
	}
	ctr, err := r.client.NewContainer(ctx, id,
		client.WithImage(img),
		client.WithSnapshotter(r.opts.snapshotter),
		client.WithNewSnapshot(id, img),
		client.WithNewSpec(specOpts...),
		client.WithContainerLabels(map[string]string{labelRole: roleInst}),
	)
	if err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	code, err := r.runInstaller(ctx, ctr, out)
	// Clean up even when ctx has ended.
	cleanup := context.WithoutCancel(ctx)
	if derr := r.Delete(cleanup, id); derr != nil {
		err = errors.Join(err, derr)
	}
	if cerr := PrepareVolume(spec.Volume, r.opts.uid, r.opts.gid); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return -1, fmt.Errorf("install %s: %w", spec.ID, err)
	}
	return code, nil
}

// writeScript writes the install script into dir under the name the
// installer expects.
func writeScript(dir, script string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install script: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, path.Base(runtime.InstallScriptPath)), []byte(script), 0o755); err != nil {
		return fmt.Errorf("install script: %w", err)
	}
	return nil
}

func (r *Runtime) runInstaller(ctx context.Context, ctr client.Container, out io.Writer) (int, error) {
	id := ctr.ID()
	if err := r.opts.network.Attach(ctx, id, nil); err != nil {
		return -1, err
	}
	creator, tio := r.creator(id)
	task, err := ctr.NewTask(ctx, creator)
	tio.Close()
	if err != nil {
		return -1, fmt.Errorf("create task: %w", err)
	}
	// Attach before the process starts so that no output is missed.
	con, err := openConsole(tio.Config(), out)
	if err != nil {
		return -1, err
	}
	defer con.Close()
	exited, err := task.Wait(ctx)
	if err != nil {
		return -1, err
	}
	if err := task.Start(ctx); err != nil {
		return -1, err
	}
	select {
	case s := <-exited:
		// The shim closes the pipes once it has copied everything.
		select {
		case <-con.copied:
		case <-time.After(outputDrain):
		}
		return int(s.ExitCode()), s.Error()
	case <-ctx.Done():
		return -1, ctx.Err() // Delete kills it
	}
}
