package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fileRequest sends a file API request as the administrator; path is
// under /api/servers/:id/files.
func (c *cluster) fileRequest(method, id, path string, body io.Reader, header http.Header) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, "http://"+c.addr+"/api/servers/"+id+"/files"+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if s, ok := body.(sizedReader); ok {
		req.ContentLength = s.n
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// fileCall is fileRequest for JSON: it fails the test unless the answer
// has status want, and decodes the envelope's data into out.
func (c *cluster) fileCall(method, id, path string, in any, want int, out any) {
	c.t.Helper()
	var body io.Reader
	h := http.Header{}
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	resp := c.fileRequest(method, id, path, body, h)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s files%s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || json.Unmarshal(env.Data, out) != nil {
			c.t.Fatalf("%s files%s: undecodable answer %s", method, path, raw)
		}
	}
}

func q(p string) string { return "?path=" + url.QueryEscape(p) }

// The file manager through the real core, tunnel and agent.
func TestFileManager(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	s := c.createServer("files", nil)
	vol := c.volume(s.ID)

	step(t, "write a file and read it back, whole and in part", func() {
		resp := c.fileRequest(http.MethodPut, s.ID, "/content"+q("/config/server.properties"), strings.NewReader("motd=hello\nmax-players=20\n"), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT content: %d", resp.StatusCode)
		}
		b, err := os.ReadFile(filepath.Join(vol, "config", "server.properties"))
		if err != nil || string(b) != "motd=hello\nmax-players=20\n" {
			t.Fatalf("on the node: %q, %v", b, err)
		}
		resp = c.fileRequest(http.MethodGet, s.ID, "/content"+q("config/server.properties"), nil, http.Header{"Range": {"bytes=5-9"}})
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || string(got) != "hello" {
			t.Fatalf("ranged GET: %d %q", resp.StatusCode, got)
		}
	})

	step(t, "upload several files in one request", func() {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for name, content := range map[string]string{"a.txt": "alpha", "b.txt": strings.Repeat("b", 1<<20)} {
			w, _ := mw.CreateFormFile("files", name)
			io.WriteString(w, content)
		}
		mw.Close()
		resp := c.fileRequest(http.MethodPost, s.ID, "/upload"+q("/uploads"), &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload: %d %s", resp.StatusCode, raw)
		}
		var list struct {
			Entries []struct {
				Name string `json:"name"`
				Size int64  `json:"size"`
			} `json:"entries"`
			Total int `json:"total"`
		}
		c.fileCall(http.MethodGet, s.ID, q("/uploads"), nil, http.StatusOK, &list)
		if list.Total != 2 || list.Entries[0].Name != "a.txt" || list.Entries[1].Size != 1<<20 {
			t.Fatalf("listing: %+v", list)
		}
	})

	step(t, "archive, delete and extract restores the files", func() {
		var archive struct {
			Path string `json:"path"`
		}
		c.fileCall(http.MethodPost, s.ID, "/compress", map[string]any{"directory": "/", "paths": []string{"uploads", "config"}, "format": "tar.gz", "name": "backup.tar.gz"}, http.StatusOK, &archive)
		c.fileCall(http.MethodPost, s.ID, "/delete", map[string]any{"paths": []string{"uploads", "config"}}, http.StatusNoContent, nil)
		if _, err := os.Stat(filepath.Join(vol, "uploads")); !os.IsNotExist(err) {
			t.Fatalf("uploads still there: %v", err)
		}
		c.fileCall(http.MethodPost, s.ID, "/decompress", map[string]any{"path": archive.Path}, http.StatusNoContent, nil)
		b, err := os.ReadFile(filepath.Join(vol, "uploads", "a.txt"))
		if err != nil || string(b) != "alpha" {
			t.Fatalf("extracted a.txt: %q, %v", b, err)
		}
	})

	step(t, "the template's denylist hides its files", func() {
		if err := os.WriteFile(filepath.Join(vol, "db.secret"), []byte("hunter2"), 0o644); err != nil {
			t.Fatal(err)
		}
		var list struct {
			Entries []struct {
				Name string `json:"name"`
			} `json:"entries"`
		}
		c.fileCall(http.MethodGet, s.ID, q("/"), nil, http.StatusOK, &list)
		for _, e := range list.Entries {
			if e.Name == "db.secret" {
				t.Error("the listing shows a denylisted file")
			}
		}
		c.fileCall(http.MethodGet, s.ID, "/content"+q("/db.secret"), nil, http.StatusForbidden, nil)
		resp := c.fileRequest(http.MethodPut, s.ID, "/content"+q("/db.secret"), strings.NewReader("overwritten"), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("PUT over a denylisted file: %d, want 403", resp.StatusCode)
		}
		if b, _ := os.ReadFile(filepath.Join(vol, "db.secret")); string(b) != "hunter2" {
			t.Errorf("denylisted file now holds %q", b)
		}
	})

	step(t, "writes count against the server's disk limit", func() {
		small := c.createServerWith("files-small", map[string]any{"disk_mb": 1})
		// The agent measures a new volume within a second of seeing it;
		// until then a write is let through.
		payload := strings.Repeat("x", 2<<20)
		before := volumeNames(t, c.volume(small.ID))
		c.eventually(30*time.Second, "a write past 1 MiB to be refused", func() bool {
			resp := c.fileRequest(http.MethodPut, small.ID, "/content"+q("/big.bin"), strings.NewReader(payload), nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.fileCall(http.MethodPost, small.ID, "/delete", map[string]any{"paths": []string{"big.bin"}}, http.StatusNoContent, nil)
				return false
			}
			if resp.StatusCode != http.StatusInsufficientStorage || !bytes.Contains(body, []byte("over_quota")) {
				t.Fatalf("PUT past the limit: %d %s", resp.StatusCode, body)
			}
			return true
		})
		if after := volumeNames(t, c.volume(small.ID)); after != before {
			t.Errorf("a refused write changed the volume: %s, was %s", after, before)
		}
	})

	step(t, "the volume's edge holds", func() {
		if err := os.Symlink("/etc/passwd", filepath.Join(vol, "passwd")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/../../../etc/passwd", "passwd"} {
			resp := c.fileRequest(http.MethodGet, s.ID, "/content"+q(p), nil, nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || bytes.Contains(b, []byte("root:")) {
				t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
			}
		}
	})

	step(t, "a subuser without file.read-content may list but not read", func() {
		bob := c.createUser("carol")
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/subusers", map[string]any{"email": bob.Email, "permissions": []string{"file.read"}}, nil)
		var sess struct {
			Token string `json:"token"`
		}
		c.must(http.MethodPost, "/api/auth/login", map[string]string{"email": bob.Email, "password": bob.password}, &sess)
		as := *c
		as.token = sess.Token
		as.fileCall(http.MethodGet, s.ID, q("/"), nil, http.StatusOK, nil)
		as.fileCall(http.MethodGet, s.ID, "/content"+q("uploads/a.txt"), nil, http.StatusForbidden, nil)
		as.fileCall(http.MethodPost, s.ID, "/delete", map[string]any{"paths": []string{"uploads"}}, http.StatusForbidden, nil)
	})

	step(t, "writes are in the audit log", func() {
		var page struct {
			Entries []struct {
				Action string `json:"action"`
			} `json:"entries"`
		}
		c.must(http.MethodGet, "/api/admin/audit-logs?limit=200", nil, &page)
		seen := map[string]bool{}
		for _, e := range page.Entries {
			seen[e.Action] = true
		}
		for _, want := range []string{"server.file.write", "server.file.upload", "server.file.delete", "server.file.compress", "server.file.decompress"} {
			if !seen[want] {
				t.Errorf("no %s in the audit log (have %v)", want, fmt.Sprint(seen))
			}
		}
	})
}

// volumeNames lists the names at the top of a volume.
func volumeNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}
