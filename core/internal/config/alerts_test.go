package config

import (
	"strings"
	"testing"
)

func TestAlertsBlockIsReadAndDefaulted(t *testing.T) {
	d := Default().Alerts
	ex, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e := ex.Alerts
	if e.MinBackoff != d.MinBackoff || e.MaxBackoff != d.MaxBackoff || e.GiveUpAfter != d.GiveUpAfter ||
		e.AttemptTimeout != d.AttemptTimeout || e.LogRetention != d.LogRetention || e.ResolvedRetention != d.ResolvedRetention ||
		e.WebhookTimeout != d.WebhookTimeout || e.WebhookAllowPrivate || len(e.Routes) != 0 {
		t.Fatalf("config/core.hcl alerts block %+v differs from the defaults %+v", e, d)
	}
	src := `plugin "discord" {
  path = "catalyst-alerts-discord"
}
alerts {
  max_backoff = "10s"
  route {
    sinks      = ["discord"]
    severities = ["critical"]
    types      = ["node_offline"]
  }
  route {
    sinks         = ["discord"]
    send_resolved = false
  }
}
`
	c, err := Parse("core.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Alerts
	if Duration(a.MaxBackoff).Seconds() != 10 || Duration(a.MinBackoff).Seconds() != 1 || len(a.Routes) != 2 {
		t.Fatalf("alerts block read as %+v", a)
	}
	if r := a.Routes[0]; r.Sinks[0] != "discord" || r.Severities[0] != "critical" || r.SendResolved == nil || !*r.SendResolved {
		t.Fatalf("first route %+v: send_resolved should default to true", r)
	}
	if r := a.Routes[1]; r.SendResolved == nil || *r.SendResolved {
		t.Fatalf("second route %+v: send_resolved = false was lost", r)
	}
}

func TestAlertsBlockRejectsBadValues(t *testing.T) {
	for src, want := range map[string]string{
		"alerts {\n  route {\n    sinks = [\"pager\"]\n  }\n}\n":                                                                 `core.hcl:3:13: Unknown alert sink: "pager" is not a plugin declared in this configuration (plugin blocks: none)`,
		"alerts {\n  route {\n    sinks = []\n  }\n}\n":                                                                          "Route without sinks",
		"alerts {\n  route {\n    severities = [\"info\"]\n  }\n}\n":                                                             `Missing required argument`,
		"alerts {\n  min_backoff = \"10s\"\n  max_backoff = \"1s\"\n}\n":                                                         "max_backoff below min_backoff",
		"alerts {\n  give_up_after = \"forever\"\n}\n":                                                                           `give_up_after must be a positive duration`,
		"alerts {\n  webhook_timeout = \"-1s\"\n}\n":                                                                             `webhook_timeout must be a positive duration`,
		"alerts {\n  retries = 3\n}\n":                                                                                           "Unsupported argument",
		"plugin \"d\" {\n  path = \"x\"\n}\nalerts {\n  route {\n    sinks = [\"d\"]\n    severities = [\"urgent\"]\n  }\n}\n":   `"urgent": the severities are info, warning, critical`,
		"plugin \"d\" {\n  path = \"x\"\n}\nalerts {\n  route {\n    sinks = [\"d\"]\n    types = [\"cpu\", \"fire\"]\n  }\n}\n": `"fire": the types are`,
	} {
		_, err := Parse("core.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}
