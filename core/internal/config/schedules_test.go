package config

import (
	"strings"
	"testing"
)

func TestSchedulesBlock(t *testing.T) {
	d := Default().Schedules
	ex, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if e := ex.Schedules; *e.Scheduler != *d.Scheduler || e.MissedRuns != d.MissedRuns || e.MinInterval != d.MinInterval ||
		e.RunRetention != d.RunRetention {
		t.Fatalf("config/core.hcl schedules block %+v differs from the defaults %+v", e, d)
	}
	if *d.Scheduler != DefaultScheduler || d.MissedRuns != MissedSkip {
		t.Fatalf("defaults %+v", d)
	}
	c, err := Parse("core.hcl", []byte("plugin \"tick\" {\n  path = \"tick\"\n}\nschedules {\n  scheduler   = \"tick\"\n  missed_runs = \"run_once\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *c.Schedules.Scheduler != "tick" || c.Schedules.MissedRuns != MissedRunOnce || c.Schedules.MinInterval != "1m" {
		t.Fatalf("schedules block read as %+v", c.Schedules)
	}
	if c, err := Parse("core.hcl", []byte("schedules {\n  scheduler = \"\"\n}\n")); err != nil || *c.Schedules.Scheduler != "" {
		t.Fatalf("scheduler = \"\" (fire nothing): %v", err)
	}
	for src, want := range map[string]string{
		"schedules {\n  scheduler = \"cronx\"\n}\n":       `core.hcl:2:15: Unknown scheduler: "cronx" is not a plugin declared`,
		"schedules {\n  missed_runs = \"always\"\n}\n":    `core.hcl:2:17: Unknown missed_runs policy: "always"`,
		"schedules {\n  min_interval = \"a minute\"\n}\n": "core.hcl:2:18: Invalid duration: min_interval",
	} {
		if _, err := Parse("core.hcl", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", src, err, want)
		}
	}
}
