package api

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/core/internal/web"
)

const (
	testIndexHTML = `<!doctype html><html><body><div id="root"></div><script type="module" src="/assets/app-1a2b3c.js"></script></body></html>`
	testAppJS     = `console.log("catalyst")`
	apiCSP        = "default-src 'none'; frame-ancestors 'none'"
)

// The UI answers the paths the API does not own; the API's own paths keep
// its JSON errors and its policy.
func TestWebUIBesideTheAPI(t *testing.T) {
	ui, err := web.NewHandler(fstest.MapFS{
		"index.html":           {Data: []byte(testIndexHTML)},
		"assets/app-1a2b3c.js": {Data: []byte(testAppJS)},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAPI(t, storetest.SQLite(t), nil)
	// The router reads Deps.Web per request.
	a.Web = ui

	cases := []struct {
		method, path string
		status       int
		body         string // "" with a JSON code: the API's error envelope
		code         string
		csp          string
	}{
		{http.MethodGet, "/", http.StatusOK, testIndexHTML, "", web.ContentSecurityPolicy},
		{http.MethodGet, "/servers/x", http.StatusOK, testIndexHTML, "", web.ContentSecurityPolicy},
		{http.MethodGet, "/servers/x/files?path=/", http.StatusOK, testIndexHTML, "", web.ContentSecurityPolicy},
		{http.MethodHead, "/servers/x", http.StatusOK, "", "", web.ContentSecurityPolicy},
		{http.MethodGet, "/assets/app-1a2b3c.js", http.StatusOK, testAppJS, "", web.ContentSecurityPolicy},
		{http.MethodGet, "/api/nope", http.StatusNotFound, "", "not_found", apiCSP},
		{http.MethodGet, "/api", http.StatusNotFound, "", "not_found", ""},
		{http.MethodGet, "/metrics/nope", http.StatusNotFound, "", "not_found", ""},
		{http.MethodPost, "/servers/x", http.StatusNotFound, "", "not_found", ""},
	}
	for _, tc := range cases {
		name := tc.method + " " + tc.path
		got := send(t, a, tc.method, tc.path, "", nil, nil)
		if got.Status != tc.status {
			t.Errorf("%s: status %d, body %.80q; want %d", name, got.Status, got.Body, tc.status)
			continue
		}
		if tc.code != "" {
			if got.Error == nil || got.Error.Code != tc.code {
				t.Errorf("%s: body %.80q; want the API's %s error", name, got.Body, tc.code)
			}
		} else if string(got.Body) != tc.body {
			t.Errorf("%s: body %.80q; want %.80q", name, got.Body, tc.body)
		}
		if csp := got.Header.Get("Content-Security-Policy"); csp != tc.csp {
			t.Errorf("%s: Content-Security-Policy %q; want %q", name, csp, tc.csp)
		}
	}

	missing := send(t, a, http.MethodGet, "/assets/app-0ld0ld.js", "", nil, nil)
	if missing.Status != http.StatusNotFound || strings.Contains(string(missing.Body), "<html") || missing.Error != nil {
		t.Errorf("GET a missing asset: status %d, body %q; want the UI's plain 404", missing.Status, missing.Body)
	}
	// gin writes its own page for a 404 without a body unless told the
	// answer is sent.
	head := send(t, a, http.MethodHead, "/assets/app-0ld0ld.js", "", nil, nil)
	if head.Status != http.StatusNotFound || len(head.Body) != 0 || head.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("HEAD a missing asset: status %d, Content-Type %q, body %q; want the UI's 404 headers and no body",
			head.Status, head.Header.Get("Content-Type"), head.Body)
	}
	if h := send(t, a, http.MethodGet, "/api/health", "", nil, nil); h.Status != http.StatusOK {
		t.Errorf("GET /api/health beside the UI: status %d, body %s", h.Status, h.Body)
	}
}

func TestWithoutWebUnknownPathsAreJSON404(t *testing.T) {
	a := newTestAPI(t, storetest.SQLite(t), nil)
	got := send(t, a, http.MethodGet, "/servers/x", "", nil, nil)
	if got.Status != http.StatusNotFound || got.Error == nil || got.Error.Code != "not_found" {
		t.Fatalf("GET /servers/x without a UI: status %d, body %s; want the JSON 404", got.Status, got.Body)
	}
}
