// Package config reads the agent's HCL configuration (agent.hcl). Every key
// is documented in config/agent.hcl at the repository root.
package config

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Config is the agent's configuration after defaults are applied.
type Config struct {
	// CoreURL is the core the agent dials, e.g. "https://panel.example.com".
	CoreURL string `hcl:"core_url"`
	// NodeID and Credential identify this node to the core; written by
	// `catalyst-agent configure`.
	NodeID     string `hcl:"node_id"`
	Credential string `hcl:"credential"`
	// DataDir holds server volumes, console logs and the SFTP host key.
	DataDir string `hcl:"data_dir,optional"`

	Containerd *Containerd `hcl:"containerd,block"`
	Log        *Log        `hcl:"log,block"`
}

// Containerd says how to reach containerd.
type Containerd struct {
	Address   string `hcl:"address,optional"`
	Namespace string `hcl:"namespace,optional"`
}

// Log configures the agent's logger.
type Log struct {
	Level  string `hcl:"level,optional"`
	Format string `hcl:"format,optional"`
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes src as if read from filename. Errors name file:line:col.
func Parse(filename string, src []byte) (*Config, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if !diags.HasErrors() {
		var c Config
		diags = gohcl.DecodeBody(f.Body, nil, &c)
		if !diags.HasErrors() {
			c.applyDefaults()
			return &c, nil
		}
	}
	return nil, diagError(diags)
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/catalyst"
	}
	if c.Containerd == nil {
		c.Containerd = &Containerd{}
	}
	if c.Containerd.Address == "" {
		c.Containerd.Address = "/run/containerd/containerd.sock"
	}
	if c.Containerd.Namespace == "" {
		c.Containerd.Namespace = "catalyst"
	}
	if c.Log == nil {
		c.Log = &Log{}
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

func diagError(diags hcl.Diagnostics) error {
	var msg string
	for _, d := range diags.Errs() {
		if msg != "" {
			msg += "\n"
		}
		var hd *hcl.Diagnostic
		if dd, ok := d.(*hcl.Diagnostic); ok {
			hd = dd
		}
		if hd != nil && hd.Subject != nil {
			msg += fmt.Sprintf("%s:%d:%d: %s: %s", hd.Subject.Filename, hd.Subject.Start.Line, hd.Subject.Start.Column, hd.Summary, hd.Detail)
		} else {
			msg += d.Error()
		}
	}
	return fmt.Errorf("%s", msg)
}

// Render writes c as an agent.hcl that Load reads back.
func Render(c Config) []byte {
	c.applyDefaults()
	return []byte(fmt.Sprintf(`# Written by catalyst-agent configure. See config/agent.hcl for every key.

core_url   = %q
node_id    = %q
credential = %q
data_dir   = %q

containerd {
  address   = %q
  namespace = %q
}

log {
  level  = %q
  format = %q
}
`, c.CoreURL, c.NodeID, c.Credential, c.DataDir, c.Containerd.Address, c.Containerd.Namespace, c.Log.Level, c.Log.Format))
}
