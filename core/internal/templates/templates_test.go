package templates

import (
	"errors"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
)

func TestValidate(t *testing.T) {
	good := func() *store.Template {
		return &store.Template{Name: "Minecraft", Images: []string{"ghcr.io/x/java:21"}, Startup: "java -jar {{JAR}}",
			Variables: []store.TemplateVariable{{Name: "Jar", EnvName: "JAR", Default: "server.jar", UserViewable: true, UserEditable: true}},
			Denylist:  []string{"*.secret", "config/ops.json"}}
	}
	if err := Validate(good()); err != nil {
		t.Fatalf("good template refused: %v", err)
	}
	cases := []struct {
		name  string
		edit  func(*store.Template)
		field string
	}{
		{"no name", func(t *store.Template) { t.Name = "" }, "name"},
		{"no image", func(t *store.Template) { t.Images = nil }, "images"},
		{"blank image", func(t *store.Template) { t.Images = []string{"a b"} }, "images"},
		{"no startup", func(t *store.Template) { t.Startup = "" }, "startup"},
		{"unterminated quote", func(t *store.Template) { t.Startup = `run "x` }, "startup"},
		{"lower-case env name", func(t *store.Template) { t.Variables[0].EnvName = "jar" }, "variables"},
		{"env name with a dash", func(t *store.Template) { t.Variables[0].EnvName = "A-B" }, "variables"},
		{"reserved env name", func(t *store.Template) { t.Variables[0].EnvName = "SERVER_PORT" }, "variables"},
		{"duplicate env name", func(t *store.Template) { t.Variables = append(t.Variables, t.Variables[0]) }, "variables"},
		{"editable but hidden", func(t *store.Template) { t.Variables[0].UserViewable = false }, "variables"},
		{"malformed denylist pattern", func(t *store.Template) { t.Denylist = []string{"[abc"} }, "denylist"},
		{"empty denylist pattern", func(t *store.Template) { t.Denylist = []string{"/"} }, "denylist"},
		{"multi-line stop command", func(t *store.Template) { t.StopCommand = "stop\nnow" }, "stop_command"},
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
