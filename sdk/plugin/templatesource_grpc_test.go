package plugin

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// fixedSource serves one template, whatever is asked.
type fixedSource struct{ tpl Template }

func (fixedSource) Info(context.Context) (Info, error) {
	return Info{Name: "fixed", Kind: KindTemplateSource}, nil
}
func (fixedSource) ConfigSchema(context.Context) (Schema, error) { return Schema{}, nil }
func (fixedSource) Configure(context.Context, Config) error      { return nil }
func (s fixedSource) List(context.Context) ([]TemplateSummary, error) {
	return []TemplateSummary{{ID: s.tpl.ID, Name: s.tpl.Name}}, nil
}
func (s fixedSource) Fetch(context.Context, string) (Template, error) { return s.tpl, nil }
func (s fixedSource) Parse(context.Context, string, []byte) (Template, error) {
	return s.tpl, nil
}

// everyField is a template with every field, and every field of its
// parts, set; lists hold more than one entry, out of sorted order.
var everyField = Template{
	ID: "games/pipe", Name: "Pipe", Description: "A game.", Version: "3", Author: "a@example.test",
	Images:       []Image{{Label: "Java 21", Ref: "example.test/java:21"}, {Label: "Java 17", Ref: "example.test/java:17"}},
	Startup:      "./run {{PORT}}",
	Stop:         "^C",
	DonePatterns: []string{"ready", "regex:^Done"},
	Install:      Install{Image: "example.test/installer", Entrypoint: "ash", Script: "echo hi\n"},
	Variables: []Variable{
		{Name: "Port", Description: "Port.", Env: "PORT", DefaultValue: "1", UserViewable: true, UserEditable: true, Rules: "required|integer"},
		{Name: "Mode", Description: "Mode.", Env: "MODE", DefaultValue: "a", UserViewable: true, UserEditable: true, Rules: "in:a,b"},
	},
	ConfigFiles: []ConfigFile{{Path: "server.properties", Parser: "properties", Replace: []Replacement{
		{Match: "server-port", Value: "{{SERVER_PORT}}"}, {Match: "motd", Value: "hi"},
	}}},
	Denylist: []string{"secret.txt", "*.key"},
	Features: []string{"eula", "java_version"},
	Warnings: []string{"b dropped", "a dropped"},
}

// requireSet fails for a zero field anywhere in v, so a field added to
// Template must be added to everyField, and then to the wire conversion.
func requireSet(t *testing.T, name string, v reflect.Value) {
	t.Helper()
	if v.IsZero() {
		t.Fatalf("everyField leaves %s unset", name)
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			requireSet(t, name+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			requireSet(t, name+"[]", v.Index(i))
		}
	}
}

// Fetch and Parse bring a template across the gRPC wire whole: every
// field, lists in their order.
func TestTemplateCrossesTheWireWhole(t *testing.T) {
	requireSet(t, "Template", reflect.ValueOf(everyField))
	set, err := PluginSet(fixedSource{everyField}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	client, server := goplugin.TestPluginGRPCConn(t, false, set)
	t.Cleanup(func() {
		_ = client.Close()
		select {
		case <-server.DoneCh:
		case <-time.After(5 * time.Second):
			server.Stop()
		}
	})
	raw, err := client.Dispense(string(KindTemplateSource))
	if err != nil {
		t.Fatal(err)
	}
	src := raw.(TemplateSource)
	ctx := context.Background()
	fetched, err := src.Fetch(ctx, everyField.ID)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	parsed, err := src.Parse(ctx, "pipe.json", []byte("{}"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for call, got := range map[string]Template{"Fetch": fetched, "Parse": parsed} {
		if !reflect.DeepEqual(got, everyField) {
			t.Errorf("%s across the wire:\n got %+v\nwant %+v", call, got, everyField)
		}
	}
}
