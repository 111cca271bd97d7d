// Package web serves the panel's web UI: the production build of core/web,
// embedded in the core binary, as a single-page application.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// dist is core/web's build output (dist/ui, written by `make web`) beside
// the README that keeps the pattern matching on a fresh clone.
//
//go:embed all:dist
var dist embed.FS

// Embedded returns the UI compiled into this binary. It is empty when the
// binary was built before `make web`; NewHandler then serves the page
// saying so.
func Embedded() fs.FS {
	ui, err := fs.Sub(dist, "dist/ui")
	if err != nil { // only for an invalid directory name
		panic(err)
	}
	return ui
}

// ContentSecurityPolicy is sent with every answer of the UI. The UI loads
// nothing from other origins. connect-src 'self' covers the console's
// same-origin ws:// and wss:// sockets in CSP level 3 (Chromium since 71,
// Safari since 16, Firefox). Inline styles are allowed for the style
// attributes UI libraries set; scripts never run inline.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// assetsDir holds the bundler's content-hashed files: a name there never
// changes content, so browsers keep them for a year.
const assetsDir = "assets"

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	gzipETagSuffix  = "-gzip"
	indexName       = "index.html"
)

// Handler serves a built UI from a file system holding index.html at its
// top. A GET or HEAD for a path that is no file answers index.html, so the
// UI's own router resolves it, except under assets/, where a missing file
// is a 404: a tab still running an older build must not receive HTML where
// it asked for a script.
//
// The files are assumed never to change while the handler runs (they are
// compiled in): each is read and hashed once, on first request, and
// compressed once, on the first request accepting gzip.
type Handler struct {
	files map[string]*file // by slash-separated name, without a leading slash
	index *file            // nil: the UI was not built
}

type file struct {
	name         string
	cacheControl string
	compressible bool
	content      func() (*content, error)
}

type content struct {
	raw         []byte
	contentType string
	etag        string // strong, of raw; the gzipped bytes' tag adds gzipETagSuffix
	// gzipped is raw compressed, or nil when that is not smaller.
	gzipped func() []byte
}

// NewHandler indexes the names in ui. A ui without index.html (or without
// any file) gives a handler answering every request with 503 and the
// steps to build the UI.
func NewHandler(ui fs.FS) (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	err := fs.WalkDir(ui, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			h.files[name] = newFile(ui, name)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("web: index the UI's files: %w", err)
	}
	h.index = h.files[indexName]
	return h, nil
}

// Built reports whether the handler has a UI to serve.
func (h *Handler) Built() bool { return h.index != nil }

func newFile(ui fs.FS, name string) *file {
	ext := strings.ToLower(path.Ext(name))
	f := &file{
		name:         name,
		cacheControl: cacheRevalidate,
		compressible: compressible[ext],
	}
	if strings.HasPrefix(name, assetsDir+"/") {
		f.cacheControl = cacheImmutable
	}
	f.content = sync.OnceValues(func() (*content, error) {
		raw, err := fs.ReadFile(ui, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		c := &content{raw: raw, contentType: contentTypes[ext], etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		if c.contentType == "" {
			c.contentType = http.DetectContentType(raw)
		}
		c.gzipped = sync.OnceValue(func() []byte { return gzipBytes(raw) })
		return c, nil
	})
	return f
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		writeText(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on the web UI; use GET")
		return
	}
	if h.index == nil {
		writeMissingUI(w, r)
		return
	}
	// Clean under a root: no number of ".." leads above the UI's top, and
	// names are only ever looked up among the indexed files.
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = indexName
	}
	f := h.files[name]
	if f == nil {
		if name == assetsDir || strings.HasPrefix(name, assetsDir+"/") {
			writeText(w, r, http.StatusNotFound, "no file "+r.URL.Path+" in this build of the web UI; reload the page")
			return
		}
		f = h.index
	}
	h.serveFile(w, r, f)
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	c, err := f.content()
	if err != nil {
		writeText(w, r, http.StatusInternalServerError, "cannot read "+f.name+" of the web UI: "+err.Error())
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", f.cacheControl)
	body, etag, encoding := c.raw, c.etag, ""
	if f.compressible {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if gz := c.gzipped(); gz != nil {
				body, etag, encoding = gz, gzipETag(c.etag), "gzip"
			}
		}
	}
	if tag, ok := c.matches(r.Header.Get("If-None-Match")); ok {
		// The tag the client holds, even if it holds the other encoding:
		// both are the same file.
		hdr.Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("ETag", etag)
	hdr.Set("Content-Type", c.contentType)
	if encoding != "" {
		hdr.Set("Content-Encoding", encoding)
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// matches reports whether an If-None-Match header names this file's
// content in either encoding, and returns the tag it named.
func (c *content) matches(ifNoneMatch string) (string, bool) {
	if ifNoneMatch == "" {
		return "", false
	}
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return c.etag, true
		}
		// If-None-Match compares weakly (RFC 9110, 13.1.2).
		if t := strings.TrimPrefix(tag, "W/"); t == c.etag || t == gzipETag(c.etag) {
			return t, true
		}
	}
	return "", false
}

func gzipETag(etag string) string {
	return strings.TrimSuffix(etag, `"`) + gzipETagSuffix + `"`
}

// acceptsGzip reads an Accept-Encoding header: gzip is acceptable when
// named (or matched by *) with a non-zero quality.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// gzipBytes compresses b, or returns nil when that saves nothing (small
// files, already-compressed content).
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil
	}
	if _, err := zw.Write(b); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

func writeText(w http.ResponseWriter, r *http.Request, status int, msg string) {
	write(w, r, status, "text/plain; charset=utf-8", msg+"\n")
}

// write sends a short answer that is never to be cached: an error, or the
// page of a core built without its UI (the next build has it).
func write(w http.ResponseWriter, r *http.Request, status int, contentType, body string) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

// missingUIPage is what a browser gets from a core built without its UI.
// It holds no script or style, so the UI's policy lets it render as is.
const missingUIPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Catalyst: web UI not built</title></head>
<body>
<h1>Catalyst: web UI not built</h1>
<p>This core was built without its web UI. Run <code>make web</code>
(<code>npm ci &amp;&amp; npm run build</code> in <code>core/web</code>), then rebuild
the core (<code>make core</code>).</p>
<p>The API works as usual under <code>/api</code>.</p>
</body>
</html>
`

func writeMissingUI(w http.ResponseWriter, r *http.Request) {
	write(w, r, http.StatusServiceUnavailable, "text/html; charset=utf-8", missingUIPage)
}

// contentTypes are the types of what a Vite build holds, fixed here
// rather than read from the host's mime tables, which differ between
// machines. Other files are sniffed.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".wasm":        "application/wasm",
	".txt":         "text/plain; charset=utf-8",
}

// compressible are the extensions worth gzipping; images and fonts are
// compressed already.
var compressible = map[string]bool{
	".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true, ".map": true,
	".webmanifest": true, ".svg": true, ".txt": true, ".wasm": true,
}
