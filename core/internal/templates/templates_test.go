package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

func good() *store.Template {
	return &store.Template{Name: "Minecraft", Startup: "java -jar {{JAR}}",
		Images: []store.TemplateImage{{Label: "Java 21", Image: "ghcr.io/x/java:21"}, {Label: "Java 17", Image: "ghcr.io/x/java:17"}},
		Variables: []store.TemplateVariable{
			{Name: "Jar", EnvName: "JAR", Default: "server.jar", UserViewable: true, UserEditable: true, Rules: "required|string|max:20"},
			{Name: "Players", EnvName: "MAX_PLAYERS", Default: "20", UserViewable: true, Rules: "required|integer|max:100"},
			// Required without a default: the server's creator gives it.
			{Name: "Token", EnvName: "TOKEN", Rules: "required|string"},
			{Name: "Jar file", EnvName: "SERVER_JARFILE", Default: "server.jar"},
		},
		StartupDone: []string{")! For help, type ", `regex:Done \(\d+\.\d+s\)`},
		ConfigFiles: []store.TemplateConfigFile{{Path: "config/server.properties", Parser: "properties",
			Replace: []store.TemplateReplace{{Match: "server-port", Value: "{{SERVER_PORT}}"}}}},
		Denylist: []string{"*.secret", "config/ops.json"}, Features: []string{"eula"}}
}

func TestValidateAcceptsAGoodTemplate(t *testing.T) {
	if err := Validate(good()); err != nil {
		t.Fatalf("good template refused: %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*store.Template)
		field string
	}{
		{"no name", func(t *store.Template) { t.Name = "" }, "name"},
		{"no image", func(t *store.Template) { t.Images = nil }, "images"},
		{"blank image reference", func(t *store.Template) { t.Images[1].Image = "a b" }, "images[1].image"},
		{"empty image reference", func(t *store.Template) { t.Images[0].Image = "" }, "images[0].image"},
		{"image listed twice", func(t *store.Template) { t.Images[1].Image = t.Images[0].Image }, "images[1].image"},
		{"label used twice", func(t *store.Template) { t.Images[1].Label = "Java 21" }, "images[1].label"},
		{"no startup", func(t *store.Template) { t.Startup = "" }, "startup"},
		{"unterminated quote", func(t *store.Template) { t.Startup = `run "x` }, "startup"},
		{"empty done pattern", func(t *store.Template) { t.StartupDone = []string{"ok", ""} }, "startup_done[1]"},
		{"done regex that does not compile", func(t *store.Template) { t.StartupDone[1] = "regex:Done (" }, "startup_done[1]"},
		{"lower-case env name", func(t *store.Template) { t.Variables[0].EnvName = "jar" }, "variables[0].env_name"},
		{"env name with a dash", func(t *store.Template) { t.Variables[1].EnvName = "A-B" }, "variables[1].env_name"},
		{"reserved env name", func(t *store.Template) { t.Variables[1].EnvName = "SERVER_PORT" }, "variables[1].env_name"},
		{"SERVER_MEMORY is reserved", func(t *store.Template) { t.Variables[0].EnvName = "SERVER_MEMORY" }, "variables[0].env_name"},
		{"duplicate env name", func(t *store.Template) { t.Variables = append(t.Variables, t.Variables[0]) }, "variables[4].env_name"},
		{"editable but hidden", func(t *store.Template) { t.Variables[0].UserViewable = false }, "variables[0].user_editable"},
		{"config file outside the volume", func(t *store.Template) { t.ConfigFiles[0].Path = "../etc/passwd" }, "config_files[0].path"},
		{"absolute config file", func(t *store.Template) { t.ConfigFiles[0].Path = "/etc/passwd" }, "config_files[0].path"},
		{"unclean config path", func(t *store.Template) { t.ConfigFiles[0].Path = "config//server.properties" }, "config_files[0].path"},
		{"config path that is the volume", func(t *store.Template) { t.ConfigFiles[0].Path = "." }, "config_files[0].path"},
		{"unknown parser", func(t *store.Template) { t.ConfigFiles[0].Parser = "xml" }, "config_files[0].parser"},
		{"config file without replacements", func(t *store.Template) { t.ConfigFiles[0].Replace = nil }, "config_files[0].replace"},
		{"replacement without match", func(t *store.Template) { t.ConfigFiles[0].Replace[0].Match = " " }, "config_files[0].replace[0].match"},
		{"multi-line replacement", func(t *store.Template) { t.ConfigFiles[0].Replace[0].Value = "a\nb" }, "config_files[0].replace[0].value"},
		{"malformed denylist pattern", func(t *store.Template) { t.Denylist = []string{"*.jar", "[abc"} }, "denylist[1]"},
		{"empty denylist pattern", func(t *store.Template) { t.Denylist = []string{"/"} }, "denylist[0]"},
		{"multi-line stop command", func(t *store.Template) { t.StopCommand = "stop\nnow" }, "stop_command"},
		{"NUL in the startup line", func(t *store.Template) { t.Startup = "run\x00" }, "startup"},
		{"NUL in the description", func(t *store.Template) { t.Description = "a\x00b" }, "description"},
		{"NUL in the install script", func(t *store.Template) { t.InstallScript = "echo\x00" }, "install_script"},
		{"install image with a blank", func(t *store.Template) { t.InstallImage = "alpine latest" }, "install_image"},
		{"multi-line install entrypoint", func(t *store.Template) { t.InstallEntrypoint = "/bin/sh\n-x" }, "install_entrypoint"},
		{"empty feature", func(t *store.Template) { t.Features = []string{""} }, "features[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl := good()
			c.edit(tmpl)
			var ve *accounts.ValidationError
			if err := Validate(tmpl); !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("err = %v, want a %s field error", err, c.field)
			}
		})
	}
}

// These need the rules of catalyst.dev/sdk/varrules: an unknown rule does
// not parse, and a default must pass its variable's rules.
func TestValidateChecksVariableRules(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*store.Template)
		field string
	}{
		{"unknown rule", func(t *store.Template) { t.Variables[2].Rules = "required|exists:users" }, "variables[2].rules"},
		{"default above its maximum", func(t *store.Template) { t.Variables[1].Default = "500" }, "variables[1].default"},
		{"default that is not an integer", func(t *store.Template) { t.Variables[1].Default = "many" }, "variables[1].default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl := good()
			c.edit(tmpl)
			var ve *accounts.ValidationError
			if err := Validate(tmpl); !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("err = %v, want a %s field error", err, c.field)
			}
		})
	}
}

func TestNormalizeLabelsImagesAndTrims(t *testing.T) {
	tmpl := &store.Template{Name: " Game ", Startup: " run ",
		Images:      []store.TemplateImage{{Image: " img:1 "}, {Label: " Old ", Image: "img:0"}},
		ConfigFiles: []store.TemplateConfigFile{{Path: " a.json ", Parser: " json "}}}
	Normalize(tmpl)
	want := []store.TemplateImage{{Label: "img:1", Image: "img:1"}, {Label: "Old", Image: "img:0"}}
	if tmpl.Name != "Game" || tmpl.Startup != "run" || !reflect.DeepEqual(tmpl.Images, want) ||
		tmpl.ConfigFiles[0].Path != "a.json" || tmpl.ConfigFiles[0].Parser != "json" || tmpl.ConfigFiles[0].Replace == nil {
		t.Fatalf("normalized to %+v", tmpl)
	}
}

func TestSpecReadsImagesAsStringsOrLabelled(t *testing.T) {
	var s Spec
	body := `{"name":"g","images":["img:1",{"label":"Two","image":"img:2"}],"startup":"run"}`
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	want := []store.TemplateImage{{Label: "img:1", Image: "img:1"}, {Label: "Two", Image: "img:2"}}
	if !reflect.DeepEqual(s.Template().Images, want) {
		t.Fatalf("images = %+v", s.Template().Images)
	}
	if err := json.Unmarshal([]byte(`{"images":[{"ref":"img:1"}]}`), &s); err == nil {
		t.Fatal("an image with an unknown field was accepted")
	}
}

// Template carries every field of a template file: a field added to Spec
// but not to Template fails here.
func TestSpecTemplateKeepsEveryField(t *testing.T) {
	body := `{"name": "n", "description": "d", "author": "a", "images": ["img"], "startup": "run", "stop_command": "stop",
		"startup_done": ["Done"], "install_image": "alpine", "install_entrypoint": "ash", "install_script": "echo",
		"variables": [{"name": "V", "env_name": "V"}], "config_files": [{"path": "a.json", "parser": "json", "replace": []}],
		"features": ["eula"], "denylist": ["*.key"]}`
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	spec, tmpl := reflect.ValueOf(s), reflect.ValueOf(s.Template()).Elem()
	for i := range spec.NumField() {
		name := spec.Type().Field(i).Name
		if spec.Field(i).IsZero() {
			t.Fatalf("the test's file leaves %s out", name)
		}
		if got := tmpl.FieldByName(name); !got.IsValid() || !reflect.DeepEqual(got.Interface(), spec.Field(i).Interface()) {
			t.Errorf("%s: the template holds %v, the file %v", name, got, spec.Field(i))
		}
	}
}

func TestFromSourceKeepsEveryField(t *testing.T) {
	pt := plugin.Template{ID: "paper", Name: "Paper", Description: "d", Version: "v2", Author: "a@example.com",
		Images: []plugin.Image{{Label: "Java 21", Ref: "img:21"}}, Startup: "java -jar {{SERVER_JARFILE}}", Stop: "stop",
		DonePatterns: []string{")! For help"}, Install: plugin.Install{Image: "alpine", Entrypoint: "ash", Script: "echo hi"},
		Variables: []plugin.Variable{{Name: "Jar", Description: "the jar", Env: "SERVER_JARFILE", DefaultValue: "server.jar",
			UserViewable: true, UserEditable: true, Rules: "required|string"}},
		ConfigFiles: []plugin.ConfigFile{{Path: "server.properties", Parser: "properties",
			Replace: []plugin.Replacement{{Match: "server-port", Value: "{{SERVER_PORT}}"}}}},
		Denylist: []string{"*.key"}, Features: []string{"eula"}, Warnings: []string{"dropped something"}}
	got := FromSource("eggs", "minecraft/paper", pt)
	want := &store.Template{Name: "Paper", Description: "d", Author: "a@example.com",
		Images: []store.TemplateImage{{Label: "Java 21", Image: "img:21"}}, Startup: "java -jar {{SERVER_JARFILE}}", StopCommand: "stop",
		StartupDone: []string{")! For help"}, InstallImage: "alpine", InstallEntrypoint: "ash", InstallScript: "echo hi",
		Variables: []store.TemplateVariable{{Name: "Jar", Description: "the jar", EnvName: "SERVER_JARFILE", Default: "server.jar",
			UserViewable: true, UserEditable: true, Rules: "required|string"}},
		ConfigFiles: []store.TemplateConfigFile{{Path: "server.properties", Parser: "properties",
			Replace: []store.TemplateReplace{{Match: "server-port", Value: "{{SERVER_PORT}}"}}}},
		Denylist: []string{"*.key"}, Features: []string{"eula"}, Source: "eggs", SourceRef: "minecraft/paper", SourceVersion: "v2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("converted to\n%+v\nwant\n%+v", got, want)
	}
	if err := Validate(got); err != nil {
		t.Fatalf("the converted template is invalid: %v", err)
	}
}

// Every example in examples/templates is a template POST
// /api/admin/templates accepts, so the examples never rot.
func TestExamplesAreValid(t *testing.T) {
	files, err := filepath.Glob("../../../examples/templates/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d example templates in examples/templates, want at least 3", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var s Spec
			if err := dec.Decode(&s); err != nil {
				t.Fatalf("not a template file: %v", err)
			}
			tmpl := s.Template()
			Normalize(tmpl)
			if err := Validate(tmpl); err != nil {
				t.Fatal(err)
			}
			for _, im := range tmpl.Images {
				if im.Label == im.Image {
					t.Errorf("image %s has no label of its own", im.Image)
				}
			}
			for _, v := range tmpl.Variables {
				if strings.TrimSpace(v.Description) == "" || v.Rules == "" {
					t.Errorf("variable %s needs a description and rules", v.EnvName)
				}
			}
		})
	}
}
