package config

import (
	"strings"
	"testing"
)

// The documented example must stay loadable.
func TestExampleAgentConfigParses(t *testing.T) {
	c, err := Load("../../../config/agent.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if c.CoreURL == "" || c.Containerd.Namespace != "catalyst" {
		t.Fatalf("unexpected example config: %+v", c)
	}
}

func TestUnknownKeyNamesLine(t *testing.T) {
	_, err := Parse("agent.hcl", []byte("core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\ncontainerd {\n  socket = \"/x\"\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "agent.hcl:5:3: Unsupported argument") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	in := Config{CoreURL: "https://panel.example.com", NodeID: "n-1", Credential: `catn_"quoted"`, DataDir: "/srv/catalyst"}
	out, err := Parse("agent.hcl", Render(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.CoreURL != in.CoreURL || out.NodeID != in.NodeID || out.Credential != in.Credential || out.DataDir != in.DataDir {
		t.Fatalf("round trip: %+v", out)
	}
}
