package plugintest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
)

// PolicyOptions tune the policy suite.
type PolicyOptions struct {
	Config map[string]any
	// Cases are checks with the decision the plugin must reach.
	Cases []PolicyCase
}

// PolicyCase is one Check and its expected decision.
type PolicyCase struct {
	Name      string
	Request   plugin.CheckRequest
	WantAllow bool
}

// Policy checks a policy plugin: its decisions on the given cases, that a
// denial carries a reason, that every event type is accepted (twice, as
// delivery is at least once), and the configuration schema.
func Policy(t *testing.T, target Target, opts PolicyOptions) {
	p := target.open(t, plugin.KindPolicy, encodeConfig(t, opts.Config)).(plugin.Policy)
	ctx := context.Background()

	for _, c := range opts.Cases {
		t.Run("check "+c.Name, func(t *testing.T) {
			d, err := p.Check(ctx, c.Request)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if d.Allow != c.WantAllow {
				t.Fatalf("allow = %v (reason %q), want %v", d.Allow, d.Reason, c.WantAllow)
			}
			if !d.Allow && d.Reason == "" {
				t.Fatal("denied without a reason for the user")
			}
		})
	}
	t.Run("notify accepts every event type", func(t *testing.T) {
		server := plugin.Server{ID: "srv-1", OwnerID: "user-1", NodeID: "node-1", Resources: plugin.Resources{MemoryMB: 1024}}
		types := []plugin.EventType{plugin.EventServerCreated, plugin.EventServerStarted, plugin.EventUsage,
			plugin.EventServerResized, plugin.EventServerStopped, plugin.EventServerDeleted}
		for i, typ := range types {
			e := plugin.Event{ID: fmt.Sprintf("plugintest-event-%d", i), Type: typ, At: time.Now(), Server: server, CPUSeconds: 1.5, MemoryMBSeconds: 60}
			for range 2 {
				if err := p.Notify(ctx, e); err != nil {
					t.Fatalf("Notify %d: %v", typ, err)
				}
			}
		}
	})
	t.Run("config schema", func(t *testing.T) { checkSchema(t, p, opts.Config) })
}
