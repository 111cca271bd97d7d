package alerts

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

func TestRuleSpecApply(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(f float64) *float64 { return &f }
	secs := func(n int) *int { return &n }
	yes := func(b bool) *bool { return &b }
	server := "s1"
	// existing is a stored rule an update starts from.
	existing := func() *store.AlertRule {
		return &store.AlertRule{ID: "r1", Name: "Hot", Type: TypeCPU, Threshold: 80, ForSeconds: 60,
			Severity: "warning", Enabled: true}
	}
	// spec is a valid new cpu rule, changed by edit.
	spec := func(edit func(*RuleSpec)) RuleSpec {
		s := RuleSpec{Type: str(TypeCPU), Threshold: num(80), ForSeconds: secs(60), Severity: str("warning")}
		if edit != nil {
			edit(&s)
		}
		return s
	}
	cases := []struct {
		name     string
		rule     *store.AlertRule // nil: creating an admin-wide rule
		spec     RuleSpec
		badField string // "" when the spec must be accepted
		want     *store.AlertRule
	}{
		{
			name: "a new rule without a name is named after its type",
			spec: spec(nil),
			want: &store.AlertRule{Name: "CPU usage high", Type: TypeCPU, Threshold: 80, ForSeconds: 60, Severity: "warning"},
		}, {
			name: "a blank name counts as none",
			spec: spec(func(s *RuleSpec) {
				s.Type, s.Threshold, s.ForSeconds, s.Name = str(TypeBackupFailed), nil, nil, str(" \t")
			}),
			want: &store.AlertRule{Name: "Backup failed", Type: TypeBackupFailed, Severity: "warning"},
		}, {
			name: "a name is trimmed",
			spec: spec(func(s *RuleSpec) { s.Name = str("  Busy  ") }),
			want: &store.AlertRule{Name: "Busy", Type: TypeCPU, Threshold: 80, ForSeconds: 60, Severity: "warning"},
		}, {
			name: "a name of 100 characters is accepted, however many bytes they take",
			spec: spec(func(s *RuleSpec) { s.Name = str(strings.Repeat("é", 100)) }),
			want: &store.AlertRule{Name: strings.Repeat("é", 100), Type: TypeCPU, Threshold: 80, ForSeconds: 60, Severity: "warning"},
		}, {
			name: "threshold 100 and a week's wait are the upper bounds",
			spec: spec(func(s *RuleSpec) { s.Threshold, s.ForSeconds = num(100), secs(7*24*3600) }),
			want: &store.AlertRule{Name: "CPU usage high", Type: TypeCPU, Threshold: 100, ForSeconds: 7 * 24 * 3600, Severity: "warning"},
		}, {
			name: "a node_offline rule waits without a threshold",
			spec: RuleSpec{Type: str(TypeNodeOffline), ForSeconds: secs(120), Severity: str("critical"), Enabled: yes(true)},
			want: &store.AlertRule{Name: "Node offline", Type: TypeNodeOffline, ForSeconds: 120, Severity: "critical", Enabled: true},
		}, {
			name: "an update keeps what the spec leaves out",
			rule: existing(),
			spec: RuleSpec{Threshold: num(90)},
			want: &store.AlertRule{ID: "r1", Name: "Hot", Type: TypeCPU, Threshold: 90, ForSeconds: 60, Severity: "warning", Enabled: true},
		}, {
			name: "an update may repeat the type and disable the rule",
			rule: existing(),
			spec: RuleSpec{Type: str(TypeCPU), Enabled: yes(false), Severity: str("critical")},
			want: &store.AlertRule{ID: "r1", Name: "Hot", Type: TypeCPU, Threshold: 80, ForSeconds: 60, Severity: "critical"},
		},

		{name: "an unknown type", spec: spec(func(s *RuleSpec) { s.Type = str("gpu") }), badField: "type"},
		{name: "no type", spec: spec(func(s *RuleSpec) { s.Type = nil }), badField: "type"},
		{name: "a type change on update", rule: existing(), spec: RuleSpec{Type: str(TypeMemory)}, badField: "type"},
		{
			name:     "a node_offline rule of a server's own",
			rule:     &store.AlertRule{ServerID: &server},
			spec:     RuleSpec{Type: str(TypeNodeOffline), Severity: str("warning")},
			badField: "type",
		},
		{name: "an unknown severity", spec: spec(func(s *RuleSpec) { s.Severity = str("fatal") }), badField: "severity"},
		{name: "no severity", spec: spec(func(s *RuleSpec) { s.Severity = nil }), badField: "severity"},
		{name: "a threshold of 0", spec: spec(func(s *RuleSpec) { s.Threshold = num(0) }), badField: "threshold"},
		{name: "no threshold on a threshold rule", spec: spec(func(s *RuleSpec) { s.Threshold = nil }), badField: "threshold"},
		{name: "a negative threshold", spec: spec(func(s *RuleSpec) { s.Threshold = num(-5) }), badField: "threshold"},
		{name: "a threshold above 100", spec: spec(func(s *RuleSpec) { s.Threshold = num(100.5) }), badField: "threshold"},
		{
			name:     "a threshold on an event rule",
			spec:     spec(func(s *RuleSpec) { s.Type, s.ForSeconds, s.Threshold = str(TypeServerCrashed), nil, num(50) }),
			badField: "threshold",
		},
		{
			name:     "a threshold on a node_offline rule",
			spec:     spec(func(s *RuleSpec) { s.Type, s.Threshold = str(TypeNodeOffline), num(50) }),
			badField: "threshold",
		},
		{
			name:     "for_seconds on an event rule",
			spec:     spec(func(s *RuleSpec) { s.Type, s.Threshold, s.ForSeconds = str(TypeInstallFailed), nil, secs(30) }),
			badField: "for_seconds",
		},
		{name: "a negative for_seconds", spec: spec(func(s *RuleSpec) { s.ForSeconds = secs(-1) }), badField: "for_seconds"},
		{name: "for_seconds over a week", spec: spec(func(s *RuleSpec) { s.ForSeconds = secs(7*24*3600 + 1) }), badField: "for_seconds"},
		{name: "a name over 100 characters", spec: spec(func(s *RuleSpec) { s.Name = str(strings.Repeat("é", 101)) }), badField: "name"},
		{name: "a name with a line break", spec: spec(func(s *RuleSpec) { s.Name = str("CPU\nhigh") }), badField: "name"},
		{name: "a name that is not UTF-8", spec: spec(func(s *RuleSpec) { s.Name = str("CPU \xff") }), badField: "name"},
		{name: "an update breaking the rule", rule: existing(), spec: RuleSpec{Threshold: num(150)}, badField: "threshold"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, creating := c.rule, c.rule == nil || c.rule.ID == ""
			if r == nil {
				r = &store.AlertRule{}
			}
			err := c.spec.apply(r, creating)
			if c.badField == "" {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				if *r != *c.want {
					t.Fatalf("rule %+v, want %+v", *r, *c.want)
				}
				return
			}
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("apply: %v (%T), want a *accounts.ValidationError", err, err)
			}
			if ve.Field != c.badField || ve.Message == "" {
				t.Fatalf("apply: field %q, message %q; want field %q with a message", ve.Field, ve.Message, c.badField)
			}
		})
	}
}

func TestTypesAreTheConstants(t *testing.T) {
	want := []string{TypeCPU, TypeMemory, TypeDisk, TypeNodeOffline, TypeServerCrashed, TypeCrashLoop,
		TypeInstallFailed, TypeBackupFailed, TypeTransferFailed}
	if !slices.Equal(Types, want) {
		t.Fatalf("Types = %v, want the rule type constants %v", Types, want)
	}
	sev := []string{plugin.SeverityInfo.String(), plugin.SeverityWarning.String(), plugin.SeverityCritical.String()}
	if !slices.Equal(Severities, sev) {
		t.Fatalf("Severities = %v, want the plugin severities %v", Severities, sev)
	}
}
