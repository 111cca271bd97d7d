package config

import (
	"strings"
	"testing"
	"time"
)

func TestSFTPBlockIsReadAndDefaulted(t *testing.T) {
	d := Default()
	if d.SFTP.MaxFailuresPerAccount != 10 || d.SFTP.MaxFailuresPerIP != 30 || d.SFTP.Window() != 5*time.Minute || d.SFTP.PasswordWithTwoFactor {
		t.Fatalf("sftp defaults = %+v", d.SFTP)
	}
	ex, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if e := ex.SFTP; e.MaxFailuresPerAccount != d.SFTP.MaxFailuresPerAccount || e.MaxFailuresPerIP != d.SFTP.MaxFailuresPerIP ||
		e.Window() != d.SFTP.Window() || e.PasswordWithTwoFactor != d.SFTP.PasswordWithTwoFactor {
		t.Fatalf("config/core.hcl sftp block %+v differs from the defaults %+v", e, d.SFTP)
	}
	c, err := Parse("core.hcl", []byte("sftp {\n  max_failures_per_account = 3\n  failure_window = \"1h\"\n  password_with_two_factor = true\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTP.MaxFailuresPerAccount != 3 || c.SFTP.MaxFailuresPerIP != 30 || c.SFTP.Window() != time.Hour || !c.SFTP.PasswordWithTwoFactor {
		t.Fatalf("sftp block read as %+v", c.SFTP)
	}
}

func TestSFTPBlockRejectsBadValues(t *testing.T) {
	for src, want := range map[string]string{
		"sftp {\n  max_failures_per_ip = -1\n}\n":      "core.hcl:2:25: Invalid max_failures_per_ip",
		"sftp {\n  failure_window = \"forever\"\n}\n":  "Invalid duration",
		"sftp {\n  max_failures_per_account = -5\n}\n": "max_failures_per_account must be positive",
	} {
		_, err := Parse("core.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}
