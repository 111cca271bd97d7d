// Package alerts watches servers and nodes against alert rules and raises
// alerts: resource thresholds held for a while, nodes gone silent, crashes,
// crash loops, failed installs, backups and transfers. An alert opens once
// per rule and target, counts repeats while open, and resolves when its
// condition clears (or by hand). Opening and resolving write the
// notifications for the configured sinks into the outbox in the same
// transaction, so none is lost.
package alerts

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store"
)

// Rule types.
const (
	TypeCPU            = "cpu"
	TypeMemory         = "memory"
	TypeDisk           = "disk"
	TypeNodeOffline    = "node_offline"
	TypeServerCrashed  = "server_crashed"
	TypeCrashLoop      = "crash_loop"
	TypeInstallFailed  = "install_failed"
	TypeBackupFailed   = "backup_failed"
	TypeTransferFailed = "transfer_failed"
)

// Types lists every rule type, thresholds first, and Severities the
// severities, least first: the lists alert routes in core.hcl are checked
// against (TestTypesAreTheConstants keeps them true to the constants).
var (
	Types      = config.AlertTypes
	Severities = config.AlertSeverities
)

func isMetric(typ string) bool { return typ == TypeCPU || typ == TypeMemory || typ == TypeDisk }

// maxForSeconds bounds how long a condition may have to hold: a week.
const maxForSeconds = 7 * 24 * 3600

// RuleSpec is a rule as a client writes it; on update, nil fields keep
// their value.
type RuleSpec struct {
	Name       *string  `json:"name"`
	Type       *string  `json:"type"`
	Threshold  *float64 `json:"threshold"`
	ForSeconds *int     `json:"for_seconds"`
	Severity   *string  `json:"severity"`
	Enabled    *bool    `json:"enabled"`
}

// apply writes s onto r and checks the result. A rule's type is set when
// it is created and never changes.
func (s RuleSpec) apply(r *store.AlertRule, creating bool) error {
	if s.Type != nil {
		if !creating && *s.Type != r.Type {
			return invalid("type", "cannot change once the rule exists; create another rule")
		}
		r.Type = *s.Type
	}
	if s.Name != nil {
		r.Name = strings.TrimSpace(*s.Name)
	}
	if s.Threshold != nil {
		r.Threshold = *s.Threshold
	}
	if s.ForSeconds != nil {
		r.ForSeconds = *s.ForSeconds
	}
	if s.Severity != nil {
		r.Severity = *s.Severity
	}
	if s.Enabled != nil {
		r.Enabled = *s.Enabled
	}
	return validate(r)
}

func validate(r *store.AlertRule) error {
	if !slices.Contains(Types, r.Type) {
		return invalid("type", "must be one of %s", strings.Join(Types, ", "))
	}
	if r.Name == "" {
		r.Name = defaultName(r.Type)
	}
	if utf8.RuneCountInString(r.Name) > 100 || !utf8.ValidString(r.Name) || strings.ContainsFunc(r.Name, isControl) {
		return invalid("name", "must be at most 100 characters of text")
	}
	if !slices.Contains(Severities, r.Severity) {
		return invalid("severity", "must be one of %s", strings.Join(Severities, ", "))
	}
	switch {
	case isMetric(r.Type):
		if r.Threshold <= 0 || r.Threshold > 100 {
			return invalid("threshold", "a %s rule needs a percentage above 0 and at most 100", r.Type)
		}
	case r.Threshold != 0:
		return invalid("threshold", "only cpu, memory and disk rules take a threshold")
	}
	switch {
	case r.ForSeconds < 0 || r.ForSeconds > maxForSeconds:
		return invalid("for_seconds", "must be between 0 and %d (a week)", maxForSeconds)
	case r.ForSeconds > 0 && !isMetric(r.Type) && r.Type != TypeNodeOffline:
		return invalid("for_seconds", "only threshold and node_offline rules wait; %s alerts open when it happens", r.Type)
	}
	if r.Type == TypeNodeOffline && r.ServerID != nil {
		return invalid("type", "node_offline rules are admin-wide; a server cannot have its own")
	}
	return nil
}

func defaultName(typ string) string {
	switch typ {
	case TypeCPU:
		return "CPU usage high"
	case TypeMemory:
		return "Memory usage high"
	case TypeDisk:
		return "Disk usage high"
	case TypeNodeOffline:
		return "Node offline"
	case TypeServerCrashed:
		return "Server crashed"
	case TypeCrashLoop:
		return "Server crash loop"
	case TypeInstallFailed:
		return "Install failed"
	case TypeBackupFailed:
		return "Backup failed"
	case TypeTransferFailed:
		return "Transfer failed"
	}
	return typ
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
