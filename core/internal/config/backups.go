package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Backups tunes the backups the core asks agents for. The stores
// themselves are backup_store plugins declared on each node (agent.hcl).
type Backups struct {
	// DefaultStore is the store a backup goes to when the request names
	// none; empty takes the first store the server's node reports.
	DefaultStore string `hcl:"default_store,optional"`
	// Limit is how many backups a server keeps unless the server says
	// otherwise; the oldest unlocked one makes room for a new one. 0 turns
	// backups off. Nil until defaults are applied (5).
	Limit *int `hcl:"limit,optional"`
	// StopServer stops a running server for its backup and starts it
	// again after; by default it is backed up as it runs.
	StopServer bool `hcl:"stop_server,optional"`
	// Ignore holds patterns (.catalystignore syntax) left out of every
	// backup, on top of each volume's own .catalystignore.
	Ignore []string `hcl:"ignore,optional"`

	Body hcl.Body `hcl:",body"`
}

// DefaultBackupLimit is backups.limit when unset.
const DefaultBackupLimit = 5

// Bounds of the backups block.
const (
	MaxBackupLimit    = 1000
	maxIgnorePatterns = 256
	maxIgnorePattern  = 1024
)

func (b *Backups) applyDefaults() {
	if b.Limit == nil {
		n := DefaultBackupLimit
		b.Limit = &n
	}
}

// MaxBackups is the per-server limit (defaults applied).
func (b *Backups) MaxBackups() int {
	if b.Limit == nil {
		return DefaultBackupLimit
	}
	return *b.Limit
}

func (b *Backups) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if b.Limit != nil && (*b.Limit < 0 || *b.Limit > MaxBackupLimit) {
		diags = append(diags, attrError(b.Body, "limit", "Invalid backup limit",
			fmt.Sprintf("limit must be from 0 (backups off) to %d, not %d.", MaxBackupLimit, *b.Limit)))
	}
	if strings.ContainsFunc(b.DefaultStore, isControl) || len(b.DefaultStore) > 128 {
		diags = append(diags, attrError(b.Body, "default_store", "Invalid default_store",
			"default_store is the name of a backup store in agent.hcl: at most 128 characters, no control characters."))
	}
	if len(b.Ignore) > maxIgnorePatterns {
		diags = append(diags, attrError(b.Body, "ignore", "Too many ignore patterns",
			fmt.Sprintf("ignore holds at most %d patterns, not %d.", maxIgnorePatterns, len(b.Ignore))))
	}
	for _, p := range b.Ignore {
		if strings.TrimSpace(p) == "" || len(p) > maxIgnorePattern || strings.ContainsFunc(p, isControl) {
			diags = append(diags, attrError(b.Body, "ignore", "Invalid ignore pattern",
				fmt.Sprintf("%q: each pattern is one line of .catalystignore syntax (such as \"logs/\" or \"*.tmp\"), not empty, at most %d bytes.", p, maxIgnorePattern)))
		}
	}
	return diags
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
