package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// template is the part of a template the tests read.
type template struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Images []struct {
		Label string `json:"label"`
		Image string `json:"image"`
	} `json:"images"`
	Startup     string   `json:"startup"`
	StartupDone []string `json:"startup_done"`
	Variables   []struct {
		EnvName string `json:"env_name"`
		Rules   string `json:"rules"`
	} `json:"variables"`
	ConfigFiles []struct {
		Path    string `json:"path"`
		Parser  string `json:"parser"`
		Replace []struct {
			Match string `json:"match"`
			Value string `json:"value"`
		} `json:"replace"`
	} `json:"config_files"`
	Source    string `json:"source"`
	SourceRef string `json:"source_ref"`
}

func (t template) rules(env string) string {
	for _, v := range t.Variables {
		if v.EnvName == env {
			return v.Rules
		}
	}
	return "<no variable " + env + ">"
}

func (t template) config(path string) (parser string, replace map[string]string) {
	for _, f := range t.ConfigFiles {
		if f.Path == path {
			replace = map[string]string{}
			for _, r := range f.Replace {
				replace[r.Match] = r.Value
			}
			return f.Parser, replace
		}
	}
	return "", nil
}

type imported struct {
	Template template `json:"template"`
	Warnings []string `json:"warnings"`
	Created  bool     `json:"created"`
}

// Pterodactyl eggs in their published format come in through the shipped
// templates-eggs plugin, from its directory and as an upload, as templates
// that keep their images, config-file rewrites and validation rules; a
// value breaking a rule is refused with the variable named, and nothing
// changes.
func TestTemplates(t *testing.T) {
	eggs, err := filepath.Abs(filepath.Join("..", "plugins", "templates-eggs", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, clusterOptions{coreHCL: fmt.Sprintf(`
plugin "eggs" {
  path = %q
  config {
    directory = %q
  }
}
`, filepath.Join(env.dir, "plugins", "catalyst-templates-eggs"), eggs)})

	got := map[string]imported{}
	step(t, "the eggs of the source's directory import", func() {
		var offered []struct {
			Ref      string `json:"ref"`
			Imported bool   `json:"imported"`
		}
		c.must(http.MethodGet, "/api/admin/template-sources/eggs/templates", nil, &offered)
		var refs []string
		for _, o := range offered {
			refs = append(refs, o.Ref)
			if o.Imported {
				t.Fatalf("%s is imported before any import", o.Ref)
			}
		}
		slices.Sort(refs)
		if want := []string{"minecraft/bungeecord", "minecraft/paper", "minecraft/vanilla", "steam/longship"}; !slices.Equal(refs, want) {
			t.Fatalf("offered %v, want %v", refs, want)
		}
		for _, ref := range refs {
			var out imported
			c.must(http.MethodPost, "/api/admin/template-sources/eggs/import", map[string]string{"ref": ref}, &out)
			if !out.Created || out.Template.Source != "eggs" || out.Template.SourceRef != ref {
				t.Fatalf("import %s = %+v", ref, out)
			}
			got[ref] = out
		}
	})

	step(t, "the templates hold what the eggs say", func() {
		paper := got["minecraft/paper"].Template
		if len(paper.Images) < 2 || paper.Images[0].Label == "" || !strings.Contains(paper.Images[0].Image, "java") {
			t.Errorf("paper images %+v, want several labelled Java images", paper.Images)
		}
		if parser, r := paper.config("server.properties"); parser != "properties" || r["server-port"] != "{{SERVER_PORT}}" {
			t.Errorf("paper server.properties: %s %v, want server-port = {{SERVER_PORT}}", parser, r)
		}
		if !slices.Contains(paper.StartupDone, ")! For help, type ") {
			t.Errorf("paper startup_done %q", paper.StartupDone)
		}
		if r := paper.rules("SERVER_JARFILE"); !strings.HasPrefix(r, "required|regex:") {
			t.Errorf("paper SERVER_JARFILE rules %q", r)
		}
		bungee := got["minecraft/bungeecord"]
		parser, r := bungee.Template.config("config.yml")
		if parser != "yaml" || r["listeners[0].host"] != "0.0.0.0:{{SERVER_PORT}}" {
			t.Errorf("bungeecord config.yml: %s %v", parser, r)
		}
		if p, r := bungee.Template.config("proxy.properties"); p != "properties" || r["bind-port"] != "{{SERVER_PORT}}" {
			t.Errorf("bungeecord proxy.properties: %s %v", p, r)
		}
		if len(bungee.Warnings) == 0 || !strings.Contains(strings.Join(bungee.Warnings, "\n"), "lowercase") {
			t.Errorf("bungeecord warnings %q do not report its unsupported rule", bungee.Warnings)
		}
		steam := got["steam/longship"].Template
		if r := steam.rules("SRCDS_APPID"); r != "required|integer|in:896660" {
			t.Errorf("longship SRCDS_APPID rules %q", r)
		}
		if got["minecraft/vanilla"].Template.Name != "Vanilla Minecraft" {
			t.Errorf("vanilla name %q", got["minecraft/vanilla"].Template.Name)
		}
	})

	step(t, "an uploaded egg converts through the same plugin", func() {
		body, err := os.ReadFile(filepath.Join(eggs, "minecraft", "vanilla.json"))
		if err != nil {
			t.Fatal(err)
		}
		upload := func() (int, string) {
			req, _ := http.NewRequest(http.MethodPost, "http://"+c.addr+"/api/admin/templates/import?source=eggs&name=vanilla.json", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// The directory's copy holds the name already.
		if code, b := upload(); code != http.StatusConflict || !strings.Contains(b, `a template named \"Vanilla Minecraft\" already exists`) {
			t.Fatalf("upload of a template whose name is taken: %d %s", code, b)
		}
		c.must(http.MethodDelete, "/api/admin/templates/"+got["minecraft/vanilla"].Template.ID, nil, nil)
		code, b := upload()
		if code != http.StatusCreated || !strings.Contains(b, `"Vanilla Minecraft"`) || !strings.Contains(b, `"source":"eggs"`) {
			t.Fatalf("upload: %d %s", code, b)
		}
	})

	step(t, "a value breaking a variable's rule is refused and changes nothing", func() {
		s := c.createServer("rules", nil)
		c.must(http.MethodPatch, "/api/admin/templates/"+c.templateID, map[string]any{"variables": []map[string]any{
			{"name": "Exit code", "env_name": "GAMESRV_EXIT_CODE", "default": "0", "user_viewable": true, "user_editable": true,
				"rules": "required|integer|between:0,125"},
		}}, nil)
		c.must(http.MethodPatch, "/api/servers/"+s.ID, map[string]any{"environment": map[string]string{"GAMESRV_EXIT_CODE": "3"}}, nil)
		err := c.call(http.MethodPatch, "/api/servers/"+s.ID, map[string]any{"environment": map[string]string{"GAMESRV_EXIT_CODE": "300"}}, nil)
		ae, ok := err.(*apiError)
		if !ok || ae.Status != http.StatusUnprocessableEntity || !strings.Contains(ae.Message, "environment.GAMESRV_EXIT_CODE") ||
			!strings.Contains(ae.Message, "between 0 and 125") {
			t.Fatalf("PATCH with 300 = %v, want 422 naming environment.GAMESRV_EXIT_CODE and the range", err)
		}
		var cur struct {
			Environment map[string]string `json:"environment"`
		}
		c.must(http.MethodGet, "/api/servers/"+s.ID, nil, &cur)
		if cur.Environment["GAMESRV_EXIT_CODE"] != "3" {
			t.Fatalf("the refused change was saved: environment %v", cur.Environment)
		}
	})
}
