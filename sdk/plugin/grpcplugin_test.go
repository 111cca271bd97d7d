package plugin

import (
	"context"
	"strings"
	"testing"
)

// claims is a Base that says it is of kind but implements nothing more.
type claims Kind

func (k claims) Info(context.Context) (Info, error)         { return Info{Name: "x", Kind: Kind(k)}, nil }
func (claims) ConfigSchema(context.Context) (Schema, error) { return Schema{}, nil }
func (claims) Configure(context.Context, Config) error      { return nil }

func TestPluginSetRefusesAKindTheImplementationLacks(t *testing.T) {
	ifaces := map[Kind]string{KindBackupStore: "plugin.BackupStore", KindAlertSink: "plugin.AlertSink",
		KindScheduler: "plugin.Scheduler", KindTemplateSource: "plugin.TemplateSource", KindPolicy: "plugin.Policy"}
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			_, err := PluginSet(claims(k), nil)
			if err == nil || !strings.Contains(err.Error(), "does not implement "+ifaces[k]) {
				t.Fatalf("got %v, want a refusal naming %s", err, ifaces[k])
			}
		})
	}
}
