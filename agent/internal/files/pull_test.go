package files_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// volumes is the server manager as the service sees it: a directory per
// server.
type volumes map[string]string

func (vs volumes) Volume(id string) (string, wire.ServerConfig, error) {
	dir, ok := vs[id]
	if !ok {
		return "", wire.ServerConfig{}, fmt.Errorf("server %s: %w", id, servers.ErrNotFound)
	}
	return dir, wire.ServerConfig{ID: id, Denylist: []string{"*.secret"}}, nil
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func newService(t testing.TB, quota files.Quota, pull files.PullOptions) (*files.Service, *fixture) {
	t.Helper()
	f := newFixture(t, nil, nil)
	return files.NewService(volumes{"srv": f.vol}, quota, files.Options{UID: gameUID, GID: gameGID, Pull: pull}), f
}

func pull(t testing.TB, s *files.Service, req wire.PullRequest) (wire.FileInfo, error) {
	t.Helper()
	v, err := s.Open("srv")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	return s.Pull(context.Background(), v, req)
}

// listen serves h on addr (an IP of the loopback network).
func listen(t testing.TB, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestPull(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/files/server.jar", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "jar bytes") })
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="fallback.zip"; filename*=UTF-8''mod%20%C3%A9t%C3%A9.zip`)
		fmt.Fprint(w, "zip bytes")
	})
	mux.HandleFunc("/evil-name", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="../../etc/cron.d/x"`)
		fmt.Fprint(w, "evil")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/files/server.jar", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("x", 5000)) })
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			fmt.Fprint(w, strings.Repeat("x", 1000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	srv := listen(t, "127.0.0.1", mux)
	other := listen(t, "127.0.0.2", mux)
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/files/server.jar", http.StatusFound)
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name     string
		opts     files.PullOptions
		req      wire.PullRequest
		want     error
		wantText string
		wantFile string
		wantBody string
	}{
		{"named by the URL", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/files/server.jar", Directory: "/"}, nil, "", "server.jar", "jar bytes"},
		{"named by Content-Disposition", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/download", Directory: "/mods"}, nil, "", "mods/mod été.zip", "zip bytes"},
		{"named by the request", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/download", Directory: "/", Filename: "renamed.zip"}, nil, "", "renamed.zip", "zip bytes"},
		{"a path in Content-Disposition keeps only its name", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/evil-name", Directory: "/"}, nil, "", "x", "evil"},
		{"a redirect is followed", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/redirect", Directory: "/"}, nil, "", "redirect", "jar bytes"},
		{"loopback is refused", files.PullOptions{}, wire.PullRequest{URL: srv.URL + "/files/server.jar", Directory: "/"}, files.ErrDenied, "127.0.0.1 is a loopback address", "", ""},
		{"a name is checked by the address it resolves to", files.PullOptions{}, wire.PullRequest{URL: fmt.Sprintf("http://localhost:%d/files/server.jar", port), Directory: "/"}, files.ErrDenied, "loopback", "", ""},
		{"a redirect to a refused address", files.PullOptions{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, wire.PullRequest{URL: srv.URL + "/elsewhere", Directory: "/"}, files.ErrDenied, "127.0.0.2", "", ""},
		{"too many redirects", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/loop", Directory: "/"}, files.ErrInvalid, "more than 5 redirects", "", ""},
		{"no redirects allowed", files.PullOptions{AllowNetworks: loopback, MaxRedirects: -1}, wire.PullRequest{URL: srv.URL + "/redirect", Directory: "/"}, files.ErrInvalid, "more than 0 redirects", "", ""},
		{"too large by its Content-Length", files.PullOptions{AllowNetworks: loopback, MaxBytes: 1000}, wire.PullRequest{URL: srv.URL + "/big", Directory: "/"}, files.ErrTooLarge, "pull limit of 1000 B", "", ""},
		{"too large as it streams", files.PullOptions{AllowNetworks: loopback, MaxBytes: 1000}, wire.PullRequest{URL: srv.URL + "/big-chunked", Directory: "/"}, files.ErrTooLarge, "pull limit", "", ""},
		{"an error answer", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/missing", Directory: "/"}, files.ErrInvalid, "404 Not Found", "", ""},
		{"not http", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: "file:///etc/passwd", Directory: "/"}, files.ErrInvalid, "http or https", "", ""},
		{"a bad file name", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/download", Directory: "/", Filename: ".."}, files.ErrInvalid, "names no file", "", ""},
		{"a denied file name", files.PullOptions{AllowNetworks: loopback}, wire.PullRequest{URL: srv.URL + "/download", Directory: "/", Filename: "x.secret"}, files.ErrDenied, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newService(t, nil, tt.opts)
			before := snapshot(t, f.vol, false)
			fi, err := pull(t, s, tt.req)
			wantErr(t, "pull", err, tt.want)
			if err != nil {
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("pull = %v, want %q in it", err, tt.wantText)
				}
				sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
				return
			}
			if fi.Path != "/"+tt.wantFile || f.read(t, tt.wantFile) != tt.wantBody {
				t.Fatalf("pulled %+v", fi)
			}
			if uid, _ := owner(t, f.vol+"/"+tt.wantFile); uid != gameUID {
				t.Error("pulled file not the game's")
			}
		})
	}
}

func TestPullOverQuotaLeavesNothing(t *testing.T) {
	srv := listen(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 3<<20))
	}))
	s, f := newService(t, &budget{left: 1 << 20}, files.PullOptions{AllowNetworks: loopback})
	before := snapshot(t, f.vol, false)
	if _, err := pull(t, s, wire.PullRequest{URL: srv.URL + "/world.zip", Directory: "/"}); !errors.Is(err, metrics.ErrOverQuota) {
		t.Fatalf("pull = %v, want ErrOverQuota", err)
	}
	sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
}

func TestPullTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := listen(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	s, _ := newService(t, nil, files.PullOptions{AllowNetworks: loopback, Timeout: 50 * time.Millisecond})
	if _, err := pull(t, s, wire.PullRequest{URL: srv.URL + "/slow.jar", Directory: "/"}); !errors.Is(err, files.ErrInvalid) || !strings.Contains(err.Error(), "not done within 50ms") {
		t.Fatalf("pull = %v, want a timeout", err)
	}
}

func TestPullsPerServerAreBounded(t *testing.T) {
	started := make(chan struct{}, files.MaxPullsPerServer)
	release := make(chan struct{})
	srv := listen(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		fmt.Fprint(w, "done")
	}))
	s, f := newService(t, nil, files.PullOptions{AllowNetworks: loopback})
	var wg sync.WaitGroup
	errs := make(chan error, files.MaxPullsPerServer)
	for i := range files.MaxPullsPerServer {
		wg.Go(func() {
			_, err := pull(t, s, wire.PullRequest{URL: fmt.Sprintf("%s/%d.jar", srv.URL, i), Directory: "/"})
			errs <- err
		})
	}
	for range files.MaxPullsPerServer {
		<-started
	}
	_, err := pull(t, s, wire.PullRequest{URL: srv.URL + "/one-too-many.jar", Directory: "/"})
	close(release)
	wg.Wait()
	close(errs)
	if !errors.Is(err, files.ErrBusy) {
		t.Fatalf("fourth pull = %v, want ErrBusy", err)
	}
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The slots are free again.
	srv2 := listen(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "later") }))
	if _, err := pull(t, s, wire.PullRequest{URL: srv2.URL + "/later.jar", Directory: "/"}); err != nil || f.read(t, "later.jar") != "later" {
		t.Fatalf("pull after the others = %v", err)
	}
}

func TestServiceOpen(t *testing.T) {
	s, f := newService(t, nil, files.PullOptions{})
	if _, err := s.Open("nope"); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("open unknown = %v, want ErrNotFound", err)
	}
	f.put(t, map[string]string{"a.secret": "x"})
	v, err := s.Open("srv")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Stat("a.secret"); !errors.Is(err, files.ErrDenied) {
		t.Fatalf("stat of a denied file = %v, want the server's denylist applied", err)
	}
	if s.MaxUploadBytes() != files.DefaultMaxUploadBytes {
		t.Errorf("default upload cap %d", s.MaxUploadBytes())
	}
}
