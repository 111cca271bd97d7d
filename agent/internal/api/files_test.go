package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/api"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// volumes stands in for the server manager: one volume directory per
// server, each with the same denylist.
type volumes map[string]string

func (vs volumes) Volume(id string) (string, wire.ServerConfig, error) {
	dir, ok := vs[id]
	if !ok {
		return "", wire.ServerConfig{}, fmt.Errorf("server %s: %w", id, servers.ErrNotFound)
	}
	return dir, wire.ServerConfig{ID: id, Denylist: []string{"*.secret"}}, nil
}

// quota lets through a fixed number of bytes in all.
type quota struct {
	mu   sync.Mutex
	left int64
}

func (q *quota) CheckWrite(id string, n uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if int64(n) > q.left {
		return fmt.Errorf("%w: server %s", metrics.ErrOverQuota, id)
	}
	q.left -= int64(n)
	return nil
}

type fileServer struct {
	*httptest.Server
	id, dir string
}

// newFileServer serves the file routes of one server's volume (no
// containerd: the file routes need none).
func newFileServer(t *testing.T, q files.Quota, opts files.Options) *fileServer {
	t.Helper()
	fs := &fileServer{id: uuid.NewString(), dir: filepath.Join(t.TempDir(), "volumes", "v")}
	svc := files.NewService(volumes{fs.id: fs.dir}, q, opts)
	fs.Server = httptest.NewServer(api.New(api.Deps{Files: svc, Log: hclog.NewNullLogger()}))
	t.Cleanup(fs.Close)
	if err := os.MkdirAll(fs.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return fs
}

func (fs *fileServer) path(suffix string) string {
	return wire.AgentServerPath(fs.id, wire.FilesSuffix+suffix)
}

func (fs *fileServer) put(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(fs.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runFiles runs steps and checks no answer names the agent's data
// directory.
func runFiles(t *testing.T, fs *fileServer, steps []step) {
	t.Helper()
	run(t, fs.Server, steps, filepath.Dir(filepath.Dir(fs.dir)))
}

func TestFileRoutes(t *testing.T) {
	fs := newFileServer(t, &quota{left: 1 << 20}, files.Options{MaxUploadBytes: 64 << 10})
	fs.put(t, "server.properties", "motd=hello")
	fs.put(t, "world/level.dat", "level")
	fs.put(t, "config/x.secret", "hidden")
	if err := os.Symlink("/etc", filepath.Join(fs.dir, "etc")); err != nil {
		t.Fatal(err)
	}
	p := fs.path
	runFiles(t, fs, []step{
		{"list", "GET", p("?path=/"), "", 200, "", `"name":"config"`},
		{"list page", "GET", p("?path=/&offset=1&limit=1&sort=size&order=desc"), "", 200, "", `"total":4`},
		{"list: limit not a number", "GET", p("?path=/&limit=many"), "", 400, wire.CodeInvalid, "limit"},
		{"list: unknown order", "GET", p("?path=/&order=sideways"), "", 400, wire.CodeInvalid, "order"},
		{"list: unknown sort", "GET", p("?path=/&sort=colour"), "", 400, wire.CodeInvalid, "sort"},
		{"list a missing directory", "GET", p("?path=/nope"), "", 404, wire.CodeNotFound, "/nope"},
		{"list through a symlink out", "GET", p("?path=/etc"), "", 400, wire.CodeInvalid, "outside the server's volume"},
		{"list of an unknown server", "GET", wire.AgentServerPath(uuid.NewString(), "/files?path=/"), "", 404, wire.CodeNotFound, ""},
		{"stat", "GET", p("/stat?path=/world/level.dat"), "", 200, "", `"mime_type":`},
		{"stat denied", "GET", p("/stat?path=/config/x.secret"), "", 403, wire.CodeDenied, "/config/x.secret"},
		{"read", "GET", p("/content?path=/server.properties"), "", 200, "", "motd=hello"},
		{"read a directory", "GET", p("/content?path=/world"), "", 400, wire.CodeInvalid, "compress it first"},
		{"read a missing file", "GET", p("/content?path=/nope.txt"), "", 404, wire.CodeNotFound, "/nope.txt"},
		{"read through a symlink out", "GET", p("/content?path=/etc/passwd"), "", 400, wire.CodeInvalid, "/etc/passwd"},
		{"write", "PUT", p("/content?path=/new/file.txt"), "new content", 200, "", `"path":"/new/file.txt"`},
		{"read it back", "GET", p("/content?path=/new/file.txt"), "", 200, "", "new content"},
		{"write past the upload limit", "PUT", p("/content?path=/big.bin"), strings.Repeat("x", 65<<10), 413, wire.CodeTooLarge, "64 KiB"},
		{"write denied", "PUT", p("/content?path=/a.secret"), "x", 403, wire.CodeDenied, ""},
		{"mkdir", "POST", p("/mkdir"), `{"path":"/plugins/x"}`, 200, "", `"is_dir":true`},
		{"mkdir with an unknown field", "POST", p("/mkdir"), `{"path":"/a","mode":"0700"}`, 400, wire.CodeInvalid, "mode"},
		{"mkdir over a file", "POST", p("/mkdir"), `{"path":"/server.properties"}`, 409, wire.CodeExists, ""},
		{"rename", "POST", p("/rename"), `{"from":"/new/file.txt","to":"/moved.txt"}`, 204, "", ""},
		{"rename onto an existing file", "POST", p("/rename"), `{"from":"/moved.txt","to":"/server.properties"}`, 409, wire.CodeExists, "already exists"},
		{"rename a missing file", "POST", p("/rename"), `{"from":"/nope","to":"/x"}`, 404, wire.CodeNotFound, ""},
		{"copy", "POST", p("/copy"), `{"from":"/moved.txt"}`, 200, "", `"name":"moved copy.txt"`},
		{"copy onto an existing file", "POST", p("/copy"), `{"from":"/moved.txt","to":"/server.properties"}`, 409, wire.CodeExists, ""},
		{"chmod", "POST", p("/chmod"), `{"path":"/moved.txt","mode":"0600"}`, 204, "", ""},
		{"chmod setuid", "POST", p("/chmod"), `{"path":"/moved.txt","mode":"4755"}`, 400, wire.CodeInvalid, "setuid"},
		{"compress", "POST", p("/compress"), `{"directory":"/","paths":["world","server.properties"],"format":"zip","name":"backup"}`, 200, "", `"name":"backup.zip"`},
		{"compress again", "POST", p("/compress"), `{"directory":"/","paths":["world"],"format":"zip","name":"backup"}`, 409, wire.CodeExists, ""},
		{"compress an unknown format", "POST", p("/compress"), `{"directory":"/","paths":["world"],"format":"rar"}`, 400, wire.CodeInvalid, "rar"},
		{"decompress", "POST", p("/decompress"), `{"path":"/backup.zip","destination":"/restored"}`, 204, "", ""},
		{"decompressed", "GET", p("/content?path=/restored/world/level.dat"), "", 200, "", "level"},
		{"decompress a non-archive", "POST", p("/decompress"), `{"path":"/moved.txt"}`, 400, wire.CodeInvalid, "not a tar"},
		{"search", "GET", p("/search?path=/&query=LEVEL"), "", 200, "", `"path":"/restored/world/level.dat"`},
		{"search without a query", "GET", p("/search?path=/"), "", 400, wire.CodeInvalid, "query"},
		{"search: limit not a number", "GET", p("/search?path=/&query=x&limit=x"), "", 400, wire.CodeInvalid, "limit"},
		{"write over quota", "PUT", p("/content?path=/q.bin"), strings.Repeat("x", 60<<10), 200, "", ""},
		{"delete", "POST", p("/delete"), `{"paths":["/moved.txt","/restored"]}`, 204, "", ""},
		{"deleted", "GET", p("/stat?path=/restored"), "", 404, wire.CodeNotFound, ""},
		{"delete the top", "POST", p("/delete"), `{"paths":["/"]}`, 400, wire.CodeInvalid, ""},
		{"delete a directory holding a denied file", "POST", p("/delete"), `{"paths":["/config"]}`, 403, wire.CodeDenied, "x.secret"},
		{"pull from loopback", "POST", p("/pull"), `{"url":"http://127.0.0.1:1/x.jar","directory":"/"}`, 403, wire.CodeDenied, "loopback"},
		{"pull of a file URL", "POST", p("/pull"), `{"url":"file:///etc/passwd","directory":"/"}`, 400, wire.CodeInvalid, "http"},
	})
}

func TestFileRangeAndDownload(t *testing.T) {
	fs := newFileServer(t, nil, files.Options{})
	fs.put(t, "logs/latest.log", "0123456789")
	fs.put(t, "world été.zip", "zip")
	req, _ := http.NewRequestWithContext(context.Background(), "GET", fs.URL+fs.path("/content?path=/logs/latest.log"), nil)
	req.Header.Set("Range", "bytes=2-5")
	resp, err := fs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != "2345" || resp.Header.Get("Content-Range") != "bytes 2-5/10" {
		t.Fatalf("range = %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("content served without nosniff")
	}

	resp, err = fs.Client().Get(fs.URL + fs.path("/download?path=/world%20%C3%A9t%C3%A9.zip"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `attachment; filename="world _t_.zip"; filename*=UTF-8''world%20%C3%A9t%C3%A9.zip`
	if resp.StatusCode != 200 || string(body) != "zip" || resp.Header.Get("Content-Disposition") != want {
		t.Fatalf("download = %d %q, disposition %q, want %q", resp.StatusCode, body, resp.Header.Get("Content-Disposition"), want)
	}
}

func upload(t *testing.T, fs *fileServer, dir string, parts map[string]string) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, content := range parts {
		w, _ := mw.CreateFormFile("files", name)
		io.WriteString(w, content)
	}
	mw.Close()
	resp, err := fs.Client().Post(fs.URL+fs.path("/upload?path="+dir), mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestFileUpload(t *testing.T) {
	fs := newFileServer(t, &quota{left: 1 << 20}, files.Options{MaxUploadBytes: 1 << 10})
	status, body := upload(t, fs, "/plugins", map[string]string{"a.jar": "aaa", "b.yml": "b: 1"})
	var got []wire.FileInfo
	if status != 200 || json.Unmarshal(body, &got) != nil || len(got) != 2 {
		t.Fatalf("upload = %d %s", status, body)
	}
	status, body = upload(t, fs, "/plugins", map[string]string{"big.jar": strings.Repeat("x", 2<<10)})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), wire.CodeTooLarge) || !strings.Contains(string(body), "1 KiB") {
		t.Fatalf("upload past the limit = %d %s", status, body)
	}
	status, body = upload(t, fs, "/plugins", map[string]string{"x.secret": "x"})
	if status != http.StatusForbidden || !strings.Contains(string(body), wire.CodeDenied) {
		t.Fatalf("denied upload = %d %s", status, body)
	}
	status, body = do(t, fs.Server, "POST", fs.path("/upload?path=/"), strings.NewReader("not multipart"))
	if status != http.StatusBadRequest || !strings.Contains(string(body), "multipart") {
		t.Fatalf("plain upload = %d %s", status, body)
	}
}

func TestFileWriteOverQuota(t *testing.T) {
	fs := newFileServer(t, &quota{left: 10}, files.Options{})
	status, body := do(t, fs.Server, "PUT", fs.path("/content?path=/big.bin"), strings.NewReader(strings.Repeat("x", 100)))
	if status != http.StatusInsufficientStorage || !strings.Contains(string(body), wire.CodeOverQuota) {
		t.Fatalf("write over quota = %d %s", status, body)
	}
	if _, err := os.Stat(filepath.Join(fs.dir, "big.bin")); err == nil {
		t.Fatal("a refused write left its file")
	}
}

func TestFilePull(t *testing.T) {
	started := make(chan struct{}, files.MaxPullsPerServer)
	release := make(chan struct{})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.jar" {
			started <- struct{}{}
			<-release
		}
		fmt.Fprint(w, "jar")
	}))
	defer src.Close()
	fs := newFileServer(t, nil, files.Options{Pull: files.PullOptions{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	pull := func(name string) (int, []byte) {
		return do(t, fs.Server, "POST", fs.path("/pull"), strings.NewReader(`{"url":"`+src.URL+"/"+name+`","directory":"/mods"}`))
	}
	if status, body := pull("mod.jar"); status != 200 || !strings.Contains(string(body), `"path":"/mods/mod.jar"`) {
		t.Fatalf("pull = %d %s", status, body)
	}
	var wg sync.WaitGroup
	for range files.MaxPullsPerServer {
		wg.Go(func() { pull("slow.jar") })
	}
	for range files.MaxPullsPerServer {
		<-started
	}
	status, body := pull("mod.jar")
	close(release)
	wg.Wait()
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), wire.CodeBusy) {
		t.Fatalf("pull past the limit = %d %s", status, body)
	}
}
