package containerd

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// Pull fetches ref from its registry, with the credentials configured for
// the registry's host, and unpacks it into the snapshotter.
func (r *Runtime) Pull(ctx context.Context, ref string) (client.Image, error) {
	name, err := normalize(ref)
	if err != nil {
		return nil, err
	}
	img, err := r.client.Pull(ctx, name,
		client.WithResolver(r.resolver()),
		client.WithPullUnpack,
		client.WithPullSnapshotter(r.opts.snapshotter),
	)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", name, err)
	}
	return img, nil
}

// Import reads an OCI image-layout (or docker save) archive, stores the
// images it names and unpacks them, for nodes without registry access. It
// returns the names of the images imported.
func (r *Runtime) Import(ctx context.Context, archive io.Reader) ([]string, error) {
	imgs, err := r.client.Import(ctx, archive)
	if err != nil {
		return nil, fmt.Errorf("import image archive: %w", err)
	}
	names := make([]string, 0, len(imgs))
	for _, meta := range imgs {
		img := client.NewImage(r.client, meta)
		if err := img.Unpack(ctx, r.opts.snapshotter); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", meta.Name, err)
		}
		names = append(names, meta.Name)
	}
	return names, nil
}

// ensureImage returns ref's image, unpacked, pulling it when it is not
// stored yet. An image already present (imported, or pulled before) is
// used as it is: an air-gapped node never needs its registry.
func (r *Runtime) ensureImage(ctx context.Context, ref string) (client.Image, error) {
	name, err := normalize(ref)
	if err != nil {
		return nil, err
	}
	img, err := r.client.GetImage(ctx, name)
	if errdefs.IsNotFound(err) {
		return r.Pull(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	ok, err := img.IsUnpacked(ctx, r.opts.snapshotter)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	if !ok {
		if err := img.Unpack(ctx, r.opts.snapshotter); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", name, err)
		}
	}
	return img, nil
}

// normalize expands a short reference the way docker does: "debian" is
// docker.io/library/debian:latest.
func normalize(ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("image reference is empty")
	}
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return named.String(), nil
}

func (r *Runtime) resolver() remotes.Resolver {
	creds := func(host string) (string, string, error) {
		reg, ok := r.registry(host)
		if !ok {
			return "", "", nil
		}
		return reg.Username, reg.Password, nil
	}
	plainHTTP := func(host string) (bool, error) {
		if local, err := docker.MatchLocalhost(host); local || err != nil {
			return local, err
		}
		reg, ok := r.registry(host)
		return ok && reg.PlainHTTP, nil
	}
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(
			docker.WithAuthorizer(docker.NewDockerAuthorizer(docker.WithAuthCreds(creds))),
			docker.WithPlainHTTP(plainHTTP),
		),
	})
}

// registry finds host's settings. Docker Hub is configured as "docker.io"
// but served from registry-1.docker.io.
func (r *Runtime) registry(host string) (Registry, bool) {
	if reg, ok := r.opts.registries[host]; ok {
		return reg, true
	}
	if host == "registry-1.docker.io" {
		reg, ok := r.opts.registries["docker.io"]
		return reg, ok
	}
	return Registry{}, false
}
