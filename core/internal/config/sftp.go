package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// SFTP tunes the SFTP logins agents ask the core to check. (Where a node
// serves SFTP is set on the node, agent.hcl.)
type SFTP struct {
	// MaxFailuresPerAccount is how many failed logins one client address
	// may make on one account within FailureWindow; further attempts are
	// refused unchecked until the window has passed.
	MaxFailuresPerAccount int `hcl:"max_failures_per_account,optional"`
	// MaxFailuresPerIP is the same bound for one client address across
	// every account.
	MaxFailuresPerIP int `hcl:"max_failures_per_ip,optional"`
	// FailureWindow is a Go duration ("5m").
	FailureWindow string `hcl:"failure_window,optional"`
	// PasswordWithTwoFactor lets an account with two-factor
	// authentication on log in with its password alone; by default such
	// an account logs in with an SSH key.
	PasswordWithTwoFactor bool `hcl:"password_with_two_factor,optional"`

	Body hcl.Body `hcl:",body"`
}

func (s *SFTP) applyDefaults() {
	if s.MaxFailuresPerAccount == 0 {
		s.MaxFailuresPerAccount = 10
	}
	if s.MaxFailuresPerIP == 0 {
		s.MaxFailuresPerIP = 30
	}
	if s.FailureWindow == "" {
		s.FailureWindow = "5m"
	}
}

func (s *SFTP) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if s.MaxFailuresPerAccount < 0 {
		diags = append(diags, attrError(s.Body, "max_failures_per_account", "Invalid max_failures_per_account", "max_failures_per_account must be positive."))
	}
	if s.MaxFailuresPerIP < 0 {
		diags = append(diags, attrError(s.Body, "max_failures_per_ip", "Invalid max_failures_per_ip", "max_failures_per_ip must be positive."))
	}
	checkDuration(&diags, s.Body, "failure_window", s.FailureWindow, `"5m"`)
	return diags
}

// Window is the parsed failure window (Load has validated it).
func (s *SFTP) Window() time.Duration {
	d, _ := time.ParseDuration(s.FailureWindow)
	return d
}
