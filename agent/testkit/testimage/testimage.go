// Package testimage builds the image Catalyst's tests run game servers from:
// the static test game server (./gamesrv) packed, entirely in Go and without
// a network, into an OCI image-layout archive that containerd can import.
//
// The same image serves as installer: `/gamesrv install` writes
// /mnt/server/installed.txt, and /bin/sh (gamesrv again) runs simple
// install scripts.
package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Ref is the name containerd gives the image when it imports the archive.
const Ref = "catalyst.local/test/gamesrv:1"

// What the game server prints and answers; tests wait for these.
const (
	BannerStart = "Catalyst test server starting"
	BannerDone  = "Done (0.1s)! For help, type help"
	PortAnswer  = "catalyst-test-server"
	// HoldingDone is printed instead of BannerDone, until the command
	// "ready", by a server started with GAMESRV_HOLD_DONE=1.
	HoldingDone = "holding the startup-done line until told ready"
)

// The program's import path; `go build` resolves it through the workspace.
const gamesrvPkg = "catalyst.dev/agent/testkit/testimage/gamesrv"

// Image is a built test image.
type Image struct {
	// Archive is the OCI image-layout tar (oci-layout, index.json, blobs/).
	Archive string
	// Ref is the image name the archive's index carries (see Ref).
	Ref string
	// Binary is the static game server the image contains, for tests that
	// want to run it outside a container.
	Binary string
}

// Build compiles the game server (CGO_ENABLED=0, for this machine's
// architecture) and writes the image archive into dir.
func Build(ctx context.Context, dir string) (Image, error) {
	bin := filepath.Join(dir, "gamesrv")
	if err := compile(ctx, bin); err != nil {
		return Image{}, err
	}
	archive := filepath.Join(dir, "gamesrv-oci.tar")
	if err := WriteArchive(archive, bin, Ref); err != nil {
		return Image{}, err
	}
	return Image{Archive: archive, Ref: Ref, Binary: bin}, nil
}

func compile(ctx context.Context, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, serr := os.Stat(gobin); serr != nil {
			return fmt.Errorf("build test game server: no go toolchain on PATH: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, gamesrvPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goruntime.GOARCH)
	// Build from this package's own source directory when it exists, so the
	// workspace (go.work) resolves gamesrvPkg whatever the caller's cwd.
	if _, file, _, ok := goruntime.Caller(0); ok {
		if st, err := os.Stat(filepath.Dir(file)); err == nil && st.IsDir() {
			cmd.Dir = filepath.Dir(file)
		}
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build test game server: %w\n%s", err, b)
	}
	return nil
}

// WriteArchive packs the static binary bin as /gamesrv into an OCI
// image-layout tar at path, with ref as the image's name.
func WriteArchive(path, bin, ref string) error {
	binary, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read game server binary: %w", err)
	}
	layer, diffID, err := rootfsLayer(binary)
	if err != nil {
		return err
	}
	layerDesc := descriptor(ocispec.MediaTypeImageLayerGzip, layer)

	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: goruntime.GOARCH},
		Config: ocispec.ImageConfig{
			Entrypoint: []string{"/gamesrv"},
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
			WorkingDir: "/home/container",
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
	})
	if err != nil {
		return err
	}
	configDesc := descriptor(ocispec.MediaTypeImageConfig, config)

	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return err
	}
	manifestDesc := descriptor(ocispec.MediaTypeImageManifest, manifest)
	manifestDesc.Platform = &ocispec.Platform{OS: "linux", Architecture: goruntime.GOARCH}
	manifestDesc.Annotations = map[string]string{
		// containerd's importer names the image after the ref.name annotation.
		ocispec.AnnotationRefName: ref,
	}

	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{manifestDesc},
	})
	if err != nil {
		return err
	}
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layout},
		{ocispec.ImageIndexFile, index},
		{blobPath(layerDesc), layer},
		{blobPath(configDesc), config},
		{blobPath(manifestDesc), manifest},
	}
	if err := tw.WriteHeader(dirHeader("blobs/", 0o755)); err != nil {
		return err
	}
	if err := tw.WriteHeader(dirHeader("blobs/sha256/", 0o755)); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFile(tw, f.name, 0o644, f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write image archive: %w", err)
	}
	return nil
}

// rootfsLayer returns the gzipped layer and the digest of its uncompressed
// tar (the diff ID the image config lists).
func rootfsLayer(binary []byte) (layer []byte, diffID digest.Digest, err error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, d := range []struct {
		name string
		mode int64
	}{
		{"bin/", 0o755}, {"dev/", 0o755}, {"etc/", 0o755}, {"proc/", 0o755}, {"sys/", 0o755},
		{"home/", 0o755}, {"home/container/", 0o755},
		{"mnt/", 0o755}, {"mnt/server/", 0o755},
		{"tmp/", 0o1777},
	} {
		if err := tw.WriteHeader(dirHeader(d.name, d.mode)); err != nil {
			return nil, "", err
		}
	}
	if err := writeFile(tw, "gamesrv", 0o755, binary); err != nil {
		return nil, "", err
	}
	// gamesrv doubles as a tiny /bin/sh for install scripts.
	sh := &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "/gamesrv", Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX}
	if err := tw.WriteHeader(sh); err != nil {
		return nil, "", err
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	diffID = digest.FromBytes(raw.Bytes())

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := io.Copy(zw, &raw); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), diffID, nil
}

// A fixed time keeps the archive byte-for-byte reproducible.
var epoch = time.Unix(0, 0).UTC()

func dirHeader(name string, mode int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: epoch, Format: tar.FormatPAX}
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func descriptor(mediaType string, data []byte) ocispec.Descriptor {
	sum := sha256.Sum256(data)
	return ocispec.Descriptor{
		MediaType: mediaType,
		Digest:    digest.NewDigestFromBytes(digest.SHA256, sum[:]),
		Size:      int64(len(data)),
	}
}

func blobPath(d ocispec.Descriptor) string {
	return "blobs/" + d.Digest.Algorithm().String() + "/" + d.Digest.Encoded()
}
