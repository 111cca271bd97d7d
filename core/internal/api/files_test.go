package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
)

// testFiles serves the agent's file API (sdk/wire/files.go) over a real
// directory, as the agent does in small: what is under test here is the
// core's forwarding. The real file service is tested in agent/internal/files.
type testFiles struct {
	dir  string
	root *os.Root

	mu   sync.Mutex
	seen []seenRequest
	// refuse, when set, is the answer to the next request.
	refuse *refusal
}

// seenRequest is a request as it reached the agent.
type seenRequest struct {
	Method, Suffix, RawQuery string
	Header                   http.Header
	ContentLength            int64
	// JSON is the body of a JSON route; SHA256 that of a file written.
	JSON   string
	SHA256 string
}

type refusal struct {
	status        int
	code, message string
}

// sampleFile is in every testFiles volume.
const sampleFile, sampleContent = "server.properties", "motd=A Catalyst server\nmax-players=20\n"

func newTestFiles(t testing.TB) *testFiles {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/"+sampleFile, []byte(sampleContent), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return &testFiles{dir: dir, root: root}
}

// connectFiles connects an agent whose file API is tf.
func (f *fixture) connectFiles(tf *testFiles) *gatewaytest.Fake {
	f.t.Helper()
	fake := f.connectAgent()
	fake.ServeFiles(tf)
	return fake
}

func (tf *testFiles) refuseNext(status int, code, message string) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.refuse = &refusal{status, code, message}
}

func (tf *testFiles) requests() []seenRequest {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	return slices.Clone(tf.seen)
}

func (tf *testFiles) last(t *testing.T) seenRequest {
	t.Helper()
	seen := tf.requests()
	if len(seen) == 0 {
		t.Fatal("no request reached the agent")
	}
	return seen[len(seen)-1]
}

// rel turns a volume path ("/a/b", "", "/") into a root-relative one.
func rel(p string) string {
	if r := strings.TrimPrefix(path.Clean("/"+p), "/"); r != "" {
		return r
	}
	return "."
}

func infoOf(p string, fi fs.FileInfo) wire.FileInfo {
	return wire.FileInfo{Name: fi.Name(), Path: path.Clean("/" + p), Size: fi.Size(), Mode: fmt.Sprintf("%04o", fi.Mode().Perm()),
		ModeString: fi.Mode().String(), IsDir: fi.IsDir(), Modified: fi.ModTime()}
}

func agentFail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}

func agentAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (tf *testFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, suffix, _ := strings.Cut(r.URL.Path, wire.FilesSuffix)
	seen := seenRequest{Method: r.Method, Suffix: suffix, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), ContentLength: r.ContentLength}
	p := r.URL.Query().Get("path")
	tf.mu.Lock()
	refuse := tf.refuse
	tf.refuse = nil
	tf.mu.Unlock()
	defer func() {
		tf.mu.Lock()
		tf.seen = append(tf.seen, seen)
		tf.mu.Unlock()
	}()
	if refuse != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		agentFail(w, refuse.status, refuse.code, refuse.message)
		return
	}
	switch r.Method + " " + suffix {
	case "GET ", "GET /search":
		entries, err := fs.ReadDir(tf.root.FS(), rel(p))
		if err != nil {
			agentFail(w, http.StatusNotFound, wire.CodeNotFound, p+": no such directory")
			return
		}
		list := wire.FileList{Path: path.Clean("/" + p), Entries: []wire.FileInfo{}}
		for _, e := range entries {
			fi, _ := e.Info()
			list.Entries = append(list.Entries, infoOf(path.Join(p, e.Name()), fi))
		}
		list.Total = len(list.Entries)
		agentAnswer(w, list)
	case "GET /stat":
		fi, err := tf.root.Stat(rel(p))
		if err != nil {
			agentFail(w, http.StatusNotFound, wire.CodeNotFound, p+": no such file")
			return
		}
		agentAnswer(w, infoOf(p, fi))
	case "GET /content", "GET /download":
		file, err := tf.root.Open(rel(p))
		if err != nil {
			agentFail(w, http.StatusNotFound, wire.CodeNotFound, p+": no such file")
			return
		}
		defer file.Close()
		fi, _ := file.Stat()
		if suffix == "/download" {
			w.Header().Set("Content-Disposition", `attachment; filename="`+fi.Name()+`"`)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), file)
	case "PUT /content":
		h := sha256.New()
		tmp := rel(p) + ".upload"
		out, err := tf.root.Create(tmp)
		if err != nil {
			agentFail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
			return
		}
		_, err = io.Copy(io.MultiWriter(out, h), r.Body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = tf.root.Rename(tmp, rel(p))
		}
		if err != nil {
			_ = tf.root.Remove(tmp)
			agentFail(w, http.StatusBadRequest, wire.CodeInvalid, "body: "+err.Error())
			return
		}
		seen.SHA256 = hex.EncodeToString(h.Sum(nil))
		fi, _ := tf.root.Stat(rel(p))
		agentAnswer(w, infoOf(p, fi))
	case "POST /upload":
		mr, err := r.MultipartReader()
		if err != nil {
			agentFail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
			return
		}
		out := []wire.FileInfo{}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				agentFail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
				return
			}
			name := path.Join(p, part.FileName())
			if err := tf.root.WriteFile(rel(name), mustRead(part), 0o644); err != nil {
				agentFail(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
				return
			}
			fi, _ := tf.root.Stat(rel(name))
			out = append(out, infoOf(name, fi))
		}
		agentAnswer(w, out)
	default:
		b, _ := io.ReadAll(r.Body)
		seen.JSON = string(b)
		var req struct {
			Path, From, To, Directory, Filename string
		}
		_ = json.Unmarshal(b, &req)
		switch suffix {
		case "/mkdir":
			agentAnswer(w, wire.FileInfo{Name: path.Base(req.Path), Path: req.Path, IsDir: true})
		case "/copy":
			agentAnswer(w, wire.FileInfo{Name: "server copy.properties", Path: "/server copy.properties", Size: int64(len(sampleContent))})
		case "/compress":
			agentAnswer(w, wire.FileInfo{Name: "archive.tar.gz", Path: path.Join(req.Directory, "archive.tar.gz"), Size: 321})
		case "/pull":
			agentAnswer(w, wire.FileInfo{Name: "plugin.jar", Path: path.Join(req.Directory, "plugin.jar"), Size: 4096})
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

func mustRead(r io.Reader) []byte {
	b, _ := io.ReadAll(r)
	return b
}

// multipartBody holds files (name → content) as "files" parts.
func multipartBody(t testing.TB, files map[string]string) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := mw.CreateFormFile("files", n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, files[n])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// stream sends a request whose body is r, of size n (-1: unknown), and
// returns the recorded answer.
func (f *fixture) stream(who role, method, target string, r io.Reader, n int64, hdr map[string]string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, target, r)
	req.ContentLength = n
	req.RemoteAddr = "192.0.2.1:4242"
	req.Header.Set("Authorization", "Bearer "+f.tokens[who].Token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, req)
	return rec
}

func TestFilesListForwardsTheQueryAndAnswersInTheEnvelope(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/files?path=%2F&sort=size&order=desc&offset=0&limit=50", nil)
	if got.Status != http.StatusOK {
		t.Fatalf("list: %d %s", got.Status, got.Body)
	}
	var list wire.FileList
	if err := json.Unmarshal(got.Data, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Entries) != 1 || list.Entries[0].Name != sampleFile || list.Entries[0].Size != int64(len(sampleContent)) {
		t.Fatalf("listing %+v", list)
	}
	seen := tf.last(t)
	if seen.Method != "GET" || seen.Suffix != "" || seen.RawQuery != "path=%2F&sort=size&order=desc&offset=0&limit=50" {
		t.Fatalf("agent saw %s %q ?%s", seen.Method, seen.Suffix, seen.RawQuery)
	}
	// The caller's credential is the core's business, never the node's.
	if seen.Header.Get("Authorization") != "" {
		t.Fatal("the caller's Authorization header reached the agent")
	}
}

func TestFilesContentRelaysRangesAndConditions(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	base := "/api/servers/" + f.server.ID
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		route      string
		hdr        map[string]string
		status     int
		body       string
		wantHeader map[string]string
	}{
		{"whole file", "/files/content", nil, http.StatusOK, sampleContent,
			map[string]string{"Content-Length": fmt.Sprint(len(sampleContent)), "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}},
		{"a range", "/files/content", map[string]string{"Range": "bytes=5-14"}, http.StatusPartialContent, sampleContent[5:15],
			map[string]string{"Content-Range": fmt.Sprintf("bytes 5-14/%d", len(sampleContent)), "Content-Length": "10"}},
		{"unchanged since", "/files/content", map[string]string{"If-Modified-Since": future}, http.StatusNotModified, "", nil},
		{"a range past the end", "/files/content", map[string]string{"Range": "bytes=5000-"}, http.StatusRequestedRangeNotSatisfiable, "", nil},
		{"download", "/files/download", nil, http.StatusOK, sampleContent,
			map[string]string{"Content-Disposition": `attachment; filename="server.properties"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := send(t, f.api, "GET", base+tc.route+"?path=/"+sampleFile, f.tokens[roleOwner].Token, nil, tc.hdr)
			if got.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", got.Status, tc.status, got.Body)
			}
			if tc.status < 300 && string(got.Body) != tc.body {
				t.Fatalf("body %q, want %q", got.Body, tc.body)
			}
			for k, v := range tc.wantHeader {
				if got.Header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.Header.Get(k), v)
				}
			}
			if r := tf.last(t).Header.Get("Range"); tc.hdr["Range"] != r {
				t.Errorf("agent saw Range %q, want %q", r, tc.hdr["Range"])
			}
			if tc.status == http.StatusRequestedRangeNotSatisfiable && (got.Error == nil || got.Error.Code != "range_not_satisfiable") {
				t.Errorf("unsatisfiable range answered %s", got.Body)
			}
		})
	}
}

// A large write streams through the core to the node byte for byte, with
// its length when the client gave one.
func TestFilesWriteStreamsTheBodyToTheNode(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	if err := os.Mkdir(tf.dir+"/world", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		size  int64
		known bool
	}{
		{"64 MiB of known length", 64 << 20, true},
		{"1 MiB sent chunked", 1 << 20, false},
		{"an empty file", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sha256.New()
			body := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{byte(tc.size)}), tc.size), h)
			n := tc.size
			if !tc.known {
				n = -1
			}
			rec := f.stream(roleOwner, "PUT", "/api/servers/"+f.server.ID+"/files/content?path=/world/region.mca", body, n, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("write: %d %s", rec.Code, rec.Body)
			}
			var env struct{ Data wire.FileInfo }
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Data.Size != tc.size || env.Data.Path != "/world/region.mca" {
				t.Fatalf("answer %s (%v)", rec.Body, err)
			}
			seen := tf.last(t)
			if want := hex.EncodeToString(h.Sum(nil)); seen.SHA256 != want {
				t.Fatalf("the node received sha256 %s, sent %s", seen.SHA256, want)
			}
			if seen.ContentLength != n {
				t.Fatalf("the node saw Content-Length %d, want %d", seen.ContentLength, n)
			}
		})
	}
}

// Uploads past files.max_upload_mb are refused whole: at once when the
// length is declared, at the limit when it is not, and the node keeps
// nothing.
func TestFilesWriteOverTheLimitIsRefused(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { c.Files.MaxUploadMB = 1 })
	tf := newTestFiles(t)
	f.connectFiles(tf)
	target := "/api/servers/" + f.server.ID + "/files/content?path=/big.bin"
	for _, n := range []int64{2 << 20, -1} {
		body := io.LimitReader(rand.NewChaCha8([32]byte{}), 2<<20)
		rec := f.stream(roleOwner, "PUT", target, body, n, nil)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "body_too_large") {
			t.Fatalf("Content-Length %d: %d %s", n, rec.Code, rec.Body)
		}
		if _, err := os.Stat(tf.dir + "/big.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Content-Length %d: the node kept the file (%v)", n, err)
		}
	}
	for _, s := range tf.requests() {
		if s.SHA256 != "" {
			t.Fatalf("a cut-off body was written: %+v", s)
		}
	}
	// JSON routes keep the small limit.
	huge := map[string]any{"paths": []string{strings.Repeat("x", 2<<20)}}
	if got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/files/delete", huge); got.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB JSON body: %d %s", got.Status, got.Body)
	}
}

// brokenBody is a client that goes away after n bytes.
type brokenBody struct{ n int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), b.n)
	clear(p[:k])
	b.n -= k
	return k, nil
}

// A body cut off by the client is not taken for a lost node, and the node
// keeps nothing of it.
func TestFilesWriteCutOffByTheClientLeavesNothing(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	for _, n := range []int64{4 << 20, -1} {
		rec := f.stream(roleOwner, "PUT", "/api/servers/"+f.server.ID+"/files/content?path=/half.bin", &brokenBody{n: 1 << 20}, n, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "body_incomplete") {
			t.Fatalf("Content-Length %d: %d %s", n, rec.Code, rec.Body)
		}
		if _, err := os.Stat(tf.dir + "/half.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Content-Length %d: the node kept the file (%v)", n, err)
		}
	}
}

func TestFilesUploadForwardsTheMultipartBody(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	if err := os.Mkdir(tf.dir+"/plugins", 0o755); err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, map[string]string{"a.jar": "first plugin", "b.jar": "second"})
	target := "/api/servers/" + f.server.ID + "/files/upload?path=/plugins"
	rec := f.stream(roleOwner, "POST", target, bytes.NewReader(body), int64(len(body)), map[string]string{"Content-Type": ct})
	if rec.Code != http.StatusOK {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var env struct{ Data []wire.FileInfo }
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env.Data) != 2 || env.Data[0].Path != "/plugins/a.jar" {
		t.Fatalf("answer %s", rec.Body)
	}
	if seen := tf.last(t); seen.Header.Get("Content-Type") != ct || seen.ContentLength != int64(len(body)) {
		t.Fatalf("the node saw Content-Type %q, length %d", seen.Header.Get("Content-Type"), seen.ContentLength)
	}
	if b, err := os.ReadFile(tf.dir + "/plugins/a.jar"); err != nil || string(b) != "first plugin" {
		t.Fatalf("a.jar on the node: %q %v", b, err)
	}

	calls := len(tf.requests())
	rec = f.stream(roleOwner, "POST", target, bytes.NewReader(body), int64(len(body)), map[string]string{"Content-Type": "application/octet-stream"})
	if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "multipart/form-data") {
		t.Fatalf("upload without multipart: %d %s", rec.Code, rec.Body)
	}
	if len(tf.requests()) != calls {
		t.Fatal("a malformed upload reached the node")
	}
}

// The agent's refusals reach the caller in the core's envelope, with the
// status its code means and the agent's message, which names the path.
func TestFilesAgentRefusalsKeepTheirMeaning(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	cases := []struct {
		agentStatus int
		code        string
		status      int
	}{
		{403, wire.CodeDenied, http.StatusForbidden},
		{507, wire.CodeOverQuota, http.StatusInsufficientStorage},
		{409, wire.CodeExists, http.StatusConflict},
		{429, "busy", http.StatusTooManyRequests},
		{413, wire.CodeTooLarge, http.StatusRequestEntityTooLarge},
		{404, wire.CodeNotFound, http.StatusNotFound},
		{400, wire.CodeInvalid, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			msg := "/config/secret.yml: " + tc.code + " on this path"
			tf.refuseNext(tc.agentStatus, tc.code, msg)
			got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/files/rename",
				map[string]string{"from": "/config/secret.yml", "to": "/config/open.yml"})
			if got.Status != tc.status || got.Error == nil || !strings.Contains(got.Error.Message, msg) || got.Error.RequestID == "" {
				t.Fatalf("agent %d %s answered %d %s", tc.agentStatus, tc.code, got.Status, got.Body)
			}
		})
	}
}

// A JSON request is checked before it travels: a mistake is named and
// never reaches the node.
func TestFilesRejectMalformedJSONBeforeTheNode(t *testing.T) {
	f := newFixture(t, "", nil)
	tf := newTestFiles(t)
	f.connectFiles(tf)
	got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/files/mkdir", map[string]any{"path": "/a", "recursive": true})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "recursive" {
		t.Fatalf("unknown field: %d %s", got.Status, got.Body)
	}
	got = f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/files/delete", map[string]any{"paths": "/a"})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "paths" {
		t.Fatalf("wrong type: %d %s", got.Status, got.Body)
	}
	if n := len(tf.requests()); n != 0 {
		t.Fatalf("%d malformed requests reached the node", n)
	}
}

func TestFilesNeedTheirPermission(t *testing.T) {
	cases := []struct {
		name     string
		withheld rbac.Permission
		method   string
		route    string
		body     any
		want     int
	}{
		{"content without file.read-content", rbac.FileReadContent, "GET", "/files/content?path=/" + sampleFile, nil, http.StatusForbidden},
		{"list without file.read-content", rbac.FileReadContent, "GET", "/files?path=/", nil, http.StatusOK},
		{"delete without file.delete", rbac.FileDelete, "POST", "/files/delete", map[string]any{"paths": []string{"/" + sampleFile}}, http.StatusForbidden},
		{"write without file.delete", rbac.FileDelete, "PUT", "/files/content?path=/new.txt", "hello", http.StatusOK},
		{"compress without file.archive", rbac.FileArchive, "POST", "/files/compress", map[string]any{"directory": "/", "paths": []string{sampleFile}, "format": "zip"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				f := newFixtureOn(t, s, tc.withheld, nil)
				f.connectFiles(newTestFiles(t))
				got := f.do(roleSubWithout, tc.method, "/api/servers/"+f.server.ID+tc.route, tc.body)
				if got.Status != tc.want {
					t.Fatalf("%d, want %d: %s", got.Status, tc.want, got.Body)
				}
				if tc.want == http.StatusForbidden && !strings.Contains(got.Error.Message, string(tc.withheld)) {
					t.Fatalf("refusal does not name %s: %s", tc.withheld, got.Body)
				}
			})
		})
	}
}

// An installer or a transfer owns the volume: file access waits.
func TestFilesAreOutOfReachWhileTheServerIsBusy(t *testing.T) {
	for _, state := range []string{store.StateInstalling, store.StateTransferring, store.StateSuspended} {
		t.Run(state, func(t *testing.T) {
			f := newFixture(t, "", nil)
			tf := newTestFiles(t)
			f.connectFiles(tf)
			if err := f.store.SetServerState(context.Background(), f.server.ID, state); err != nil {
				t.Fatal(err)
			}
			got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/files?path=/", nil)
			if got.Status != http.StatusConflict || got.Error.Code != "state_conflict" || !strings.Contains(got.Error.Message, strings.ReplaceAll(state, "_", " ")) {
				t.Fatalf("%d %s", got.Status, got.Body)
			}
			if n := len(tf.requests()); n != 0 {
				t.Fatalf("%d requests reached the node", n)
			}
		})
	}
}

func TestFilesOnAnOfflineNode(t *testing.T) {
	f := newFixture(t, "", nil)
	got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/files/stat?path=/"+sampleFile, nil)
	if got.Status != http.StatusServiceUnavailable || got.Error.Code != "node_offline" {
		t.Fatalf("%d %s", got.Status, got.Body)
	}
}

// Every write and every content read is in the audit log with what it
// touched; lookups are not.
func TestFilesAuditWritesAndReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixtureOn(t, s, "", nil)
		tf := newTestFiles(t)
		f.connectFiles(tf)
		base := "/api/servers/" + f.server.ID + "/files"
		upload, ct := multipartBody(t, map[string]string{"ops.json": "[]", "whitelist.json": "[]"})
		calls := []struct {
			method, route string
			body          any
			hdr           map[string]string
			want          int
		}{
			{"GET", "?path=/", nil, nil, 200},
			{"GET", "/stat?path=/" + sampleFile, nil, nil, 200},
			{"GET", "/search?path=/&query=server", nil, nil, 200},
			{"GET", "/content?path=/" + sampleFile, nil, map[string]string{"Range": "bytes=0-3"}, 206},
			{"GET", "/download?path=/" + sampleFile, nil, nil, 200},
			{"PUT", "/content?path=/eula.txt", []byte("eula=true\n"), nil, 200},
			{"POST", "/upload?path=/", upload, map[string]string{"Content-Type": ct}, 200},
			{"POST", "/mkdir", wire.MkdirRequest{Path: "/world"}, nil, 200},
			{"POST", "/rename", wire.RenameRequest{From: "/eula.txt", To: "/EULA.txt"}, nil, 204},
			{"POST", "/copy", wire.CopyRequest{From: "/" + sampleFile}, nil, 200},
			{"POST", "/delete", wire.DeleteRequest{Paths: []string{"/ops.json", "/whitelist.json"}}, nil, 204},
			{"POST", "/chmod", wire.ChmodRequest{Path: "/start.sh", Mode: "0755"}, nil, 204},
			{"POST", "/compress", wire.CompressRequest{Directory: "/", Paths: []string{"world"}, Format: wire.ArchiveTarGz}, nil, 200},
			{"POST", "/decompress", wire.DecompressRequest{Path: "/archive.tar.gz", Destination: "/restore"}, nil, 204},
			{"POST", "/pull", wire.PullRequest{URL: "https://builder:hunter2@example.com/plugin.jar", Directory: "/plugins"}, nil, 200},
		}
		for _, c := range calls {
			got := send(t, f.api, c.method, base+c.route, f.tokens[roleOwner].Token, c.body, c.hdr)
			if got.Status != c.want {
				t.Fatalf("%s %s: %d %s", c.method, c.route, got.Status, got.Body)
			}
		}
		tf.refuseNext(507, wire.CodeOverQuota, "/big.bin: the server's disk limit is reached")
		if got := send(t, f.api, "PUT", base+"/content?path=/big.bin", f.tokens[roleOwner].Token, []byte("0123456789"), nil); got.Status != 507 {
			t.Fatalf("over quota: %d %s", got.Status, got.Body)
		}

		entries, err := s.ListAudit(context.Background(), store.AuditFilter{ServerID: f.server.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		byAction := map[string][]*store.AuditEntry{}
		var actions []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "server.file.") {
				byAction[e.Action] = append(byAction[e.Action], e)
				actions = append(actions, e.Action)
			}
		}
		slices.Sort(actions)
		want := []string{"server.file.chmod", "server.file.compress", "server.file.copy", "server.file.decompress", "server.file.delete",
			"server.file.download", "server.file.mkdir", "server.file.pull", "server.file.read", "server.file.rename", "server.file.upload",
			"server.file.write", "server.file.write"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audited %v\nwant    %v", actions, want)
		}
		meta := func(action string, i int) map[string]any {
			es := byAction[action]
			// Newest first: index from the oldest.
			e := es[len(es)-1-i]
			if e.ActorID == nil || *e.ActorID != f.users[roleOwner].ID {
				t.Errorf("%s: actor %v", action, e.ActorID)
			}
			return e.Metadata
		}
		checks := []struct {
			action string
			i      int
			key    string
			want   any
		}{
			{"server.file.read", 0, "path", "/" + sampleFile},
			{"server.file.read", 0, "bytes", float64(4)},
			{"server.file.read", 0, "range", "bytes=0-3"},
			{"server.file.download", 0, "bytes", float64(len(sampleContent))},
			{"server.file.write", 0, "path", "/eula.txt"},
			{"server.file.write", 0, "bytes", float64(10)},
			{"server.file.write", 1, "error", wire.CodeOverQuota},
			{"server.file.write", 1, "declared_bytes", float64(10)},
			{"server.file.upload", 0, "count", float64(2)},
			{"server.file.upload", 0, "files", []any{"/ops.json", "/whitelist.json"}},
			{"server.file.mkdir", 0, "path", "/world"},
			{"server.file.rename", 0, "to", "/EULA.txt"},
			{"server.file.copy", 0, "to", "/server copy.properties"},
			{"server.file.delete", 0, "count", float64(2)},
			{"server.file.chmod", 0, "mode", "0755"},
			{"server.file.compress", 0, "archive", "/archive.tar.gz"},
			{"server.file.decompress", 0, "destination", "/restore"},
			{"server.file.pull", 0, "url", "https://builder:xxxxx@example.com/plugin.jar"},
			{"server.file.pull", 0, "path", "/plugins/plugin.jar"},
		}
		for _, c := range checks {
			got := meta(c.action, c.i)[c.key]
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s #%d %s = %v, want %v", c.action, c.i, c.key, got, c.want)
			}
		}
		for action, es := range byAction {
			for i, e := range es {
				refused := action == "server.file.write" && i == 0
				if want := map[bool]string{true: store.OutcomeFailure, false: store.OutcomeSuccess}[refused]; e.Outcome != want {
					t.Errorf("%s recorded as %s, want %s", action, e.Outcome, want)
				}
			}
		}
	})
}

// A browser follows a download link with a one-use ticket in place of
// the Authorization header; other routes do not take tickets.
func TestFilesDownloadTakesATicket(t *testing.T) {
	f := newFixture(t, "", nil)
	f.connectFiles(newTestFiles(t))
	base := "/api/servers/" + f.server.ID
	ticket := func() string {
		got := f.do(roleOwner, "POST", base+"/ws/ticket", nil)
		var tk socketTicket
		if err := json.Unmarshal(got.Data, &tk); err != nil || tk.Ticket == "" {
			t.Fatalf("ticket: %v %s", err, got.Body)
		}
		return tk.Ticket
	}
	tk := ticket()
	link := base + "/files/download?path=/" + sampleFile + "&ticket=" + tk
	if got := send(t, f.api, "GET", link, "", nil, nil); got.Status != http.StatusOK || string(got.Body) != sampleContent {
		t.Fatalf("download with a ticket: %d %s", got.Status, got.Body)
	}
	if got := send(t, f.api, "GET", link, "", nil, nil); got.Status != http.StatusUnauthorized || got.Error == nil || got.Error.Code != "invalid_ticket" {
		t.Fatalf("spent ticket: %d %s", got.Status, got.Body)
	}
	// A route that is not a download ignores a ticket: it still needs the
	// header.
	if got := send(t, f.api, "GET", base+"/files/content?path=/"+sampleFile+"&ticket="+ticket(), "", nil, nil); got.Status != http.StatusUnauthorized || got.Error.Code != "unauthenticated" {
		t.Fatalf("content with a ticket: %d %s", got.Status, got.Body)
	}
}
