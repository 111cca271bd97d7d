package schedules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
)

func TestNormalizeRefusesWithTheField(t *testing.T) {
	task := func(action, payload string, offset int) []store.ScheduleTask {
		return []store.ScheduleTask{{Action: action, Payload: payload, OffsetSeconds: offset}}
	}
	ok := task(store.TaskCommand, "say hi", 0)
	tests := []struct {
		name  string
		spec  Spec
		field string
		msg   string
	}{
		{"no name", Spec{Cron: "@daily", Tasks: ok}, "name", "1 to 64"},
		{"four fields", Spec{Name: "n", Cron: "0 4 * *", Tasks: ok}, "cron", ""},
		{"bad zone", Spec{Name: "n", Cron: "@daily", Timezone: "Mars/Olympus", Tasks: ok}, "timezone", "IANA"},
		{"too often", Spec{Name: "n", Cron: "@every 10s", Tasks: ok}, "cron", "at most every 1m0s"},
		{"no tasks", Spec{Name: "n", Cron: "@daily"}, "tasks", "1 to 20"},
		{"unknown action", Spec{Name: "n", Cron: "@daily", Tasks: task("reboot", "", 0)}, "tasks[0].action", "command, power or backup"},
		{"bad power", Spec{Name: "n", Cron: "@daily", Tasks: task(store.TaskPower, "reboot", 0)}, "tasks[0].payload", "start, stop, restart, kill"},
		{"two lines", Spec{Name: "n", Cron: "@daily", Tasks: task(store.TaskCommand, "say a\nstop", 0)}, "tasks[0].payload", "one console line"},
		{"long offset", Spec{Name: "n", Cron: "@daily", Tasks: task(store.TaskCommand, "x", 901)}, "tasks[0].offset_seconds", "0 to 900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := normalize(&tt.spec, time.Minute)
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field || !strings.Contains(ve.Message, tt.msg) {
				t.Fatalf("normalize = %v, want a %s error containing %q", err, tt.field, tt.msg)
			}
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	sp := Spec{Name: "  nightly ", Cron: " 30 4 * * * ", Tasks: []store.ScheduleTask{{Action: store.TaskBackup, Payload: " nightly "}}}
	tm, err := normalize(&sp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Name != "nightly" || sp.Timezone != "UTC" || sp.Enabled == nil || !*sp.Enabled || sp.Tasks[0].Payload != "nightly" {
		t.Fatalf("normalized %+v", sp)
	}
	from := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	if got, want := tm.next(from), time.Date(2026, 11, 23, 4, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("next after %v = %v, want %v", from, got, want)
	}
}

func TestTimingReadsTheZone(t *testing.T) {
	tm, err := parseTiming("0 4 * * *", "Europe/Berlin", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// 04:00 in Berlin is 03:00 UTC in winter.
	from := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	if got, want := tm.next(from), time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("next = %v, want %v", got, want)
	}
	if got := upcoming(tm, from, 3); len(got) != 3 || got[2].Sub(got[0]) != 48*time.Hour {
		t.Fatalf("upcoming = %v", got)
	}
}
