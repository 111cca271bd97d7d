package config

import (
	"slices"
	"strings"
	"testing"
)

func TestBackupsBlockIsReadAndDefaulted(t *testing.T) {
	d := Default()
	if d.Backups.MaxBackups() != 5 || d.Backups.DefaultStore != "" || d.Backups.StopServer || len(d.Backups.Ignore) != 0 {
		t.Fatalf("backups defaults = %+v (limit %d)", d.Backups, d.Backups.MaxBackups())
	}
	ex, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if e := ex.Backups; e.MaxBackups() != d.Backups.MaxBackups() || e.DefaultStore != d.Backups.DefaultStore ||
		e.StopServer != d.Backups.StopServer || len(e.Ignore) != 0 {
		t.Fatalf("config/core.hcl backups block %+v differs from the defaults %+v", e, d.Backups)
	}
	c, err := Parse("core.hcl", []byte("backups {\n  default_store = \"s3\"\n  limit = 0\n  stop_server = true\n  ignore = [\"logs/\", \"*.tmp\"]\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// 0 is kept: it turns backups off, it is not "unset".
	if b := c.Backups; b.MaxBackups() != 0 || b.DefaultStore != "s3" || !b.StopServer || !slices.Equal(b.Ignore, []string{"logs/", "*.tmp"}) {
		t.Fatalf("backups block read as %+v (limit %d)", b, b.MaxBackups())
	}
}

func TestBackupsBlockRejectsBadValues(t *testing.T) {
	for src, want := range map[string]string{
		"backups {\n  limit = -1\n}\n":                  "core.hcl:2:11: Invalid backup limit",
		"backups {\n  limit = 5000\n}\n":                "limit must be from 0 (backups off) to 1000",
		"backups {\n  ignore = [\"ok\", \" \"]\n}\n":    "Invalid ignore pattern",
		"backups {\n  ignore = [\"a\\nb\"]\n}\n":        "Invalid ignore pattern",
		"backups {\n  default_store = \"a\\tb\"\n}\n":   "Invalid default_store",
		"backups {\n  stop_server = \"sometimes\"\n}\n": "core.hcl:2:",
		"backups {\n  keep = 3\n}\n":                    "Unsupported argument",
	} {
		_, err := Parse("core.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}
