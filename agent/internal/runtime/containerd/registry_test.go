package containerd_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/containerd"
)

// registry serves the test image's archive over the registry HTTP API
// (just what a pull needs) behind basic auth.
type registry struct {
	blobs      map[string][]byte // digest → content
	manifest   ocispec.Descriptor
	user, pass string
	authorized atomic.Int32 // requests that carried the right credentials
}

func newRegistry(t *testing.T, archive, user, pass string) (*registry, string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reg := &registry{blobs: map[string][]byte{}, user: user, pass: pass}
	var index ocispec.Index
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case hdr.Name == ocispec.ImageIndexFile:
			if err := json.Unmarshal(b, &index); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(hdr.Name, "blobs/sha256/") && hdr.Typeflag == tar.TypeReg:
			reg.blobs["sha256:"+strings.TrimPrefix(hdr.Name, "blobs/sha256/")] = b
		}
	}
	reg.manifest = index.Manifests[0]
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	return reg, strings.TrimPrefix(srv.URL, "http://")
}

func (reg *registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != reg.user || p != reg.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="catalyst-test"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	reg.authorized.Add(1)
	const repo = "/v2/test/gamesrv/"
	var (
		blob      []byte
		mediaType = "application/octet-stream"
		digest    string
	)
	switch {
	case r.URL.Path == "/v2/":
		w.WriteHeader(http.StatusOK)
		return
	case r.URL.Path == repo+"manifests/1" || r.URL.Path == repo+"manifests/"+reg.manifest.Digest.String():
		digest, mediaType = reg.manifest.Digest.String(), reg.manifest.MediaType
		blob = reg.blobs[digest]
	case strings.HasPrefix(r.URL.Path, repo+"blobs/"):
		digest = strings.TrimPrefix(r.URL.Path, repo+"blobs/")
		var ok bool
		if blob, ok = reg.blobs[digest]; !ok {
			http.NotFound(w, r)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", digest)
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(blob)))
}

func TestCreatePullsWithRegistryCredentials(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	reg, host := newRegistry(t, e.img.Archive, "catalyst", "s3cret")
	ref := host + "/test/gamesrv:1"

	t.Run("wrong credentials are refused", func(t *testing.T) {
		rt, err := e.runtime(ctx, containerd.WithRegistries(map[string]containerd.Registry{
			host: {Username: "catalyst", Password: "wrong"},
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		if _, err := rt.Pull(ctx, ref); err == nil {
			t.Fatal("Pull with a wrong password succeeded")
		}
	})

	t.Run("Create pulls the missing image with the host's credentials", func(t *testing.T) {
		rt, err := e.runtime(ctx, containerd.WithRegistries(map[string]containerd.Registry{
			host: {Username: "catalyst", Password: "s3cret"},
		}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rt.Close() })
		e.startedOn(t, rt, runtime.Spec{Image: ref})
		if reg.authorized.Load() == 0 {
			t.Fatal("the registry saw no authorized request")
		}
	})
}
