package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEveryRoute keeps /api/openapi.json true: every route
// gin serves is documented, and every documented operation is served.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, "", nil)
	r := send(t, f.api, "GET", "/api/openapi.json", "", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if op["summary"] == "" || op["responses"] == nil {
				t.Errorf("%s %s lacks a summary or responses", method, path)
			}
		}
	}
	served := map[string]bool{}
	for _, ri := range f.api.engine.Routes() {
		key := ri.Method + " " + openAPIPath(ri.Path)
		served[key] = true
		if !documented[key] {
			t.Errorf("served but not documented: %s", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("documented but not served: %s", key)
		}
	}
	// Spot-check a request schema comes from the Go type.
	login := doc.Paths["/api/auth/login"]["post"]["requestBody"].(map[string]any)
	b, _ := json.Marshal(login)
	for _, field := range []string{`"email"`, `"password"`, `"totp_code"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("login request schema lacks %s: %s", field, b)
		}
	}
	// Files travel as bytes, not JSON.
	upload, _ := json.Marshal(doc.Paths["/api/servers/{id}/files/upload"]["post"]["requestBody"])
	content, _ := json.Marshal(doc.Paths["/api/servers/{id}/files/content"]["get"]["responses"])
	if !strings.Contains(string(upload), `"multipart/form-data"`) || !strings.Contains(string(content), `"application/octet-stream"`) {
		t.Errorf("file bodies documented as %s and %s", upload, content)
	}
}
