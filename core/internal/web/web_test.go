package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// A build as Vite lays it out; the texts repeat so that gzip pays.
var (
	indexHTML = `<!doctype html><html><head><script type="module" src="/assets/index-3f9a1c.js"></script></head><body><div id="root"></div></body></html>` +
		strings.Repeat("<!-- padding -->", 20)
	appJS      = strings.Repeat("export function f(){return 'catalyst'}\n", 200)
	appCSS     = strings.Repeat("body{margin:0}\n", 100)
	faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` + strings.Repeat(`<rect width="1" height="1"/>`, 20) + `</svg>`
	logoPNG    = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 300)...)
)

func testUI() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(indexHTML)},
		"favicon.svg":             {Data: []byte(faviconSVG)},
		"robots.txt":              {Data: []byte("ok")}, // too small to gain from gzip
		"assets/index-3f9a1c.js":  {Data: []byte(appJS)},
		"assets/index-77aa01.css": {Data: []byte(appCSS)},
		"assets/logo-5e5e5e.png":  {Data: logoPNG},
	}
}

func newTestHandler(t *testing.T, ui fs.FS) *Handler {
	t.Helper()
	h, err := NewHandler(ui)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get sends method target to h with the header pairs given.
func get(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServesFilesWithTheirTypesAndCaching(t *testing.T) {
	h := newTestHandler(t, testUI())
	cases := []struct {
		path, contentType, cache, body string
		etag                           bool
	}{
		{"/", "text/html; charset=utf-8", "no-cache", indexHTML, true},
		{"/index.html", "text/html; charset=utf-8", "no-cache", indexHTML, true},
		{"/favicon.svg", "image/svg+xml", "no-cache", faviconSVG, true},
		{"/assets/index-3f9a1c.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", appJS, true},
		{"/assets/index-77aa01.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", appCSS, true},
		{"/assets/logo-5e5e5e.png", "image/png", "public, max-age=31536000, immutable", string(logoPNG), true},
	}
	for _, tc := range cases {
		w := get(h, http.MethodGet, tc.path)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, body %q", tc.path, w.Code, w.Body)
			continue
		}
		hdr := w.Result().Header
		if got := hdr.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := hdr.Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if got := hdr.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, got)
		}
		if got := hdr.Get("ETag"); tc.etag && (len(got) < 10 || got[0] != '"') {
			t.Errorf("GET %s: ETag %q, want a strong tag", tc.path, got)
		}
		if w.Body.String() != tc.body {
			t.Errorf("GET %s: body %.60q…, want %.60q…", tc.path, w.Body, tc.body)
		}
		if got := hdr.Get("Content-Length"); got != strconv.Itoa(len(tc.body)) {
			t.Errorf("GET %s: Content-Length %s, want %d", tc.path, got, len(tc.body))
		}
	}
}

func TestETagsDifferWithContent(t *testing.T) {
	a := get(newTestHandler(t, testUI()), http.MethodGet, "/").Header().Get("ETag")
	other := testUI()
	other["index.html"] = &fstest.MapFile{Data: []byte(indexHTML + "<!-- next build -->")}
	b := get(newTestHandler(t, other), http.MethodGet, "/").Header().Get("ETag")
	if a == "" || a == b {
		t.Fatalf("ETags %q and %q: want two different tags for two contents", a, b)
	}
}

func TestIfNoneMatchAnswersNotModified(t *testing.T) {
	h := newTestHandler(t, testUI())
	plain := get(h, http.MethodGet, "/").Header().Get("ETag")
	zipped := get(h, http.MethodGet, "/", "Accept-Encoding", "gzip").Header().Get("ETag")
	if plain == zipped {
		t.Fatalf("identity and gzip answers share the ETag %q; want one tag per encoding", plain)
	}
	cases := []struct {
		name, ifNoneMatch, acceptEncoding string
		status                            int
		etag                              string
	}{
		{"same tag", plain, "", http.StatusNotModified, plain},
		{"weak form of the tag", "W/" + plain, "", http.StatusNotModified, plain},
		{"tag in a list", `"other", ` + plain, "", http.StatusNotModified, plain},
		{"any", "*", "", http.StatusNotModified, plain},
		{"gzip tag", zipped, "gzip", http.StatusNotModified, zipped},
		{"gzip tag from a client now without gzip", zipped, "", http.StatusNotModified, zipped},
		{"other tag", `"0123456789abcdef"`, "", http.StatusOK, plain},
		{"SPA route with index's tag", plain, "", http.StatusNotModified, plain},
	}
	for _, tc := range cases {
		target := "/"
		if strings.HasPrefix(tc.name, "SPA") {
			target = "/servers/abc"
		}
		w := get(h, http.MethodGet, target, "If-None-Match", tc.ifNoneMatch, "Accept-Encoding", tc.acceptEncoding)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.status)
			continue
		}
		if got := w.Header().Get("ETag"); got != tc.etag {
			t.Errorf("%s: ETag %q, want %q", tc.name, got, tc.etag)
		}
		if tc.status == http.StatusNotModified {
			if w.Body.Len() != 0 {
				t.Errorf("%s: 304 with a body of %d bytes", tc.name, w.Body.Len())
			}
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("%s: 304 with Cache-Control %q, want no-cache", tc.name, got)
			}
		}
	}
}

func TestUnknownPathsAnswerTheIndex(t *testing.T) {
	h := newTestHandler(t, testUI())
	for _, p := range []string{"/servers/abc/files", "/servers/abc/files/server.properties", "/login?next=%2Fservers", "/admin/", "/favicon.ico"} {
		w := get(h, http.MethodGet, p)
		if w.Code != http.StatusOK || w.Body.String() != indexHTML {
			t.Errorf("GET %s: status %d, body %.40q…; want 200 and index.html", p, w.Code, w.Body)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", p, got)
		}
	}
}

func TestMissingAssetIsNotFound(t *testing.T) {
	h := newTestHandler(t, testUI())
	for _, p := range []string{"/assets/index-0ld0ld.js", "/assets/", "/assets", "/assets/sub/x.css"} {
		w := get(h, http.MethodGet, p)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, w.Code)
			continue
		}
		if strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s: the 404 carries HTML: %q", p, w.Body)
		}
		if got := w.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store (a later build may have the file)", p, got)
		}
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestGzipWhenAcceptedAndWorthIt(t *testing.T) {
	h := newTestHandler(t, testUI())
	cases := []struct {
		path, acceptEncoding string
		gzipped, vary        bool
		body                 string
	}{
		{"/assets/index-3f9a1c.js", "gzip, deflate, br", true, true, appJS},
		{"/assets/index-77aa01.css", "gzip", true, true, appCSS},
		{"/", "br;q=1.0, gzip;q=0.8", true, true, indexHTML},
		{"/servers/abc", "gzip", true, true, indexHTML},
		{"/favicon.svg", "*", true, true, faviconSVG},
		{"/assets/index-3f9a1c.js", "", false, true, appJS},
		{"/assets/index-3f9a1c.js", "gzip;q=0", false, true, appJS},
		{"/assets/index-3f9a1c.js", "br", false, true, appJS},
		{"/assets/index-3f9a1c.js", "*, gzip;q=0", false, true, appJS},
		{"/assets/logo-5e5e5e.png", "gzip", false, false, string(logoPNG)},
		{"/robots.txt", "gzip", false, true, "ok"},
	}
	for _, tc := range cases {
		w := get(h, http.MethodGet, tc.path, "Accept-Encoding", tc.acceptEncoding)
		name := "GET " + tc.path + " Accept-Encoding: " + tc.acceptEncoding
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d", name, w.Code)
			continue
		}
		hdr := w.Result().Header
		if got := hdr.Get("Vary") == "Accept-Encoding"; got != tc.vary {
			t.Errorf("%s: Vary %q, want Accept-Encoding: %v", name, hdr.Get("Vary"), tc.vary)
		}
		if got := hdr.Get("Content-Length"); got != strconv.Itoa(w.Body.Len()) {
			t.Errorf("%s: Content-Length %s for %d bytes", name, got, w.Body.Len())
		}
		body := w.Body.String()
		if tc.gzipped {
			if hdr.Get("Content-Encoding") != "gzip" {
				t.Errorf("%s: Content-Encoding %q, want gzip", name, hdr.Get("Content-Encoding"))
				continue
			}
			if w.Body.Len() >= len(tc.body) {
				t.Errorf("%s: %d compressed bytes for %d", name, w.Body.Len(), len(tc.body))
			}
			body = gunzip(t, w.Body.Bytes())
		} else if hdr.Get("Content-Encoding") != "" {
			t.Errorf("%s: Content-Encoding %q, want none", name, hdr.Get("Content-Encoding"))
		}
		if body != tc.body {
			t.Errorf("%s: body %.40q…, want %.40q…", name, body, tc.body)
		}
	}
}

// Many first requests at once compress the file once and all get the
// same bytes (run with -race to check the lazy compression).
func TestGzipConcurrentFirstRequests(t *testing.T) {
	h := newTestHandler(t, testUI())
	const n = 16
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			bodies[i] = get(h, http.MethodGet, "/assets/index-3f9a1c.js", "Accept-Encoding", "gzip").Body.Bytes()
		})
	}
	wg.Wait()
	for i := range n {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("answer %d differs from answer 0", i)
		}
	}
	if got := gunzip(t, bodies[0]); got != appJS {
		t.Fatalf("decompressed %.40q…, want the script", got)
	}
}

func TestHeadAnswersHeadersOnly(t *testing.T) {
	h := newTestHandler(t, testUI())
	for _, tc := range []struct {
		path, acceptEncoding string
		status               int
	}{
		{"/", "", http.StatusOK},
		{"/assets/index-3f9a1c.js", "gzip", http.StatusOK},
		{"/servers/abc", "", http.StatusOK},
		{"/assets/gone.js", "", http.StatusNotFound},
	} {
		getW := get(h, http.MethodGet, tc.path, "Accept-Encoding", tc.acceptEncoding)
		headW := get(h, http.MethodHead, tc.path, "Accept-Encoding", tc.acceptEncoding)
		if headW.Code != tc.status || getW.Code != tc.status {
			t.Errorf("%s: HEAD %d, GET %d; want %d", tc.path, headW.Code, getW.Code, tc.status)
			continue
		}
		if headW.Body.Len() != 0 {
			t.Errorf("HEAD %s: body of %d bytes", tc.path, headW.Body.Len())
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Cache-Control"} {
			if g, hd := getW.Header().Get(k), headW.Header().Get(k); g != hd {
				t.Errorf("%s: %s is %q on HEAD, %q on GET", tc.path, k, hd, g)
			}
		}
	}
}

func TestOtherMethodsAreRefused(t *testing.T) {
	h := newTestHandler(t, testUI())
	w := get(h, http.MethodPost, "/")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /: status %d, Allow %q; want 405 and GET, HEAD", w.Code, w.Header().Get("Allow"))
	}
}

func TestWithoutUIAnswersHowToBuildIt(t *testing.T) {
	for name, ui := range map[string]fs.FS{
		"empty":            fstest.MapFS{},
		"assets only":      fstest.MapFS{"assets/index-3f9a1c.js": {Data: []byte(appJS)}},
		"missing dir":      mustSub(t, fstest.MapFS{"README.md": {Data: []byte("x")}}, "ui"),
		"README like dist": mustSub(t, fstest.MapFS{"dist/README.md": {Data: []byte("x")}}, "dist/ui"),
	} {
		h := newTestHandler(t, ui)
		if h.Built() {
			t.Errorf("%s: Built() = true", name)
		}
		for _, p := range []string{"/", "/servers/abc", "/assets/index-3f9a1c.js"} {
			w := get(h, http.MethodGet, p)
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, "<code>make web</code>") || !strings.Contains(body, "<code>make core</code>") {
				t.Errorf("%s: GET %s: status %d, body %q; want 503 and the steps", name, p, w.Code, body)
			}
			if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("%s: GET %s: Content-Type %q", name, p, got)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s: GET %s: Cache-Control %q, want no-store", name, p, got)
			}
		}
		if w := get(h, http.MethodHead, "/"); w.Code != http.StatusServiceUnavailable || w.Body.Len() != 0 {
			t.Errorf("%s: HEAD /: status %d, %d body bytes; want 503 and none", name, w.Code, w.Body.Len())
		}
	}
}

func mustSub(t *testing.T, fsys fs.FS, dir string) fs.FS {
	t.Helper()
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestPathsNeverLeaveTheUI(t *testing.T) {
	const secret = "core.hcl: jwt_secret = \"hunter2\""
	root := fstest.MapFS{
		"secret.txt":          {Data: []byte(secret)},
		"dist/secret.txt":     {Data: []byte(secret)},
		"dist/ui/index.html":  {Data: []byte(indexHTML)},
		"dist/ui/assets/a.js": {Data: []byte(appJS)},
	}
	h := newTestHandler(t, mustSub(t, root, "dist/ui"))
	for _, target := range []string{
		"/../secret.txt",
		"/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/%2E%2E/secret.txt",
		"/..%2fsecret.txt",
		"/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/assets/../../secret.txt",
		"/assets/..%2f..%2fsecret.txt",
		"//../secret.txt",
		"/..%5csecret.txt",
		"/..\\..\\secret.txt",
		"/assets/%2e%2e/%2e%2e/secret.txt",
	} {
		w := get(h, http.MethodGet, target)
		if strings.Contains(w.Body.String(), "hunter2") {
			t.Errorf("GET %s: answered a file outside the UI (status %d)", target, w.Code)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want index.html (200) or 404", target, w.Code)
		}
	}
}

// The embedded file system holds the UI exactly when `make web` has
// filled dist/ui before this test binary was compiled.
func TestEmbeddedMatchesDist(t *testing.T) {
	h := newTestHandler(t, Embedded())
	_, err := os.Stat("dist/ui/index.html")
	if errors.Is(err, fs.ErrNotExist) == h.Built() {
		t.Fatalf("dist/ui/index.html on disk: %v; embedded handler Built() = %v", err == nil, h.Built())
	}
}
