package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Missed-run policies.
const (
	MissedSkip    = "skip"
	MissedRunOnce = "run_once"
)

// Schedules tunes servers' schedules and the plugin that fires them.
type Schedules struct {
	// Scheduler names the scheduler plugin that fires schedules. The
	// default, "schedule-cron", is launched from plugin_dir without a
	// plugin block when the binary is there. "" fires nothing: schedules
	// then run only on demand.
	Scheduler *string `hcl:"scheduler,optional"`
	// MissedRuns says what happens to slots that passed while no core ran:
	// MissedSkip, or MissedRunOnce (one run, at start, however many were
	// missed).
	MissedRuns string `hcl:"missed_runs,optional"`
	// MinInterval is the shortest spacing a schedule's expression may
	// have ("@every 10s" is refused below it).
	MinInterval string `hcl:"min_interval,optional"`
	// RunRetention is how long finished runs stay in the log.
	RunRetention string `hcl:"run_retention,optional"`

	Body hcl.Body `hcl:",body"`
}

// DefaultScheduler is the scheduler plugin a core uses unless told
// otherwise.
const DefaultScheduler = "schedule-cron"

func (s *Schedules) applyDefaults() {
	if s.Scheduler == nil {
		d := DefaultScheduler
		s.Scheduler = &d
	}
	if s.MissedRuns == "" {
		s.MissedRuns = MissedSkip
	}
	if s.MinInterval == "" {
		s.MinInterval = "1m"
	}
	if s.RunRetention == "" {
		s.RunRetention = "720h"
	}
}

func (s *Schedules) validate(plugins []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if s.Scheduler != nil && *s.Scheduler != "" && *s.Scheduler != DefaultScheduler && !slices.Contains(plugins, *s.Scheduler) {
		name := *s.Scheduler
		diags = append(diags, attrError(s.Body, "scheduler", "Unknown scheduler",
			fmt.Sprintf("%q is not a plugin declared in this configuration (plugin blocks: %s).", name, listOrNone(plugins))))
	}
	if s.MissedRuns != "" && s.MissedRuns != MissedSkip && s.MissedRuns != MissedRunOnce {
		diags = append(diags, attrError(s.Body, "missed_runs", "Unknown missed_runs policy",
			fmt.Sprintf("%q: missed_runs is %q or %q.", s.MissedRuns, MissedSkip, MissedRunOnce)))
	}
	checkDuration(&diags, s.Body, "min_interval", s.MinInterval, `"1m"`)
	checkDuration(&diags, s.Body, "run_retention", s.RunRetention, `"720h"`)
	return diags
}
