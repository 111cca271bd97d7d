// Package schedules runs servers' schedules: a cron expression in a time
// zone and an ordered list of tasks (a console command, a power action, a
// backup), each after an offset from the previous one. The store keeps
// them; a scheduler plugin decides when they fire and calls back Fire; this
// package claims each firing's slot in the database (so one runs however
// many core replicas hear it), runs the tasks and logs the run.
package schedules

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/cron"
)

// Limits on a schedule.
const (
	MaxTasks      = 20
	MaxOffset     = 900 // seconds, between two tasks
	maxName       = 64
	maxBackupName = 64
)

// Spec is a schedule as its owner writes it.
type Spec struct {
	Name string `json:"name"`
	// Cron is 5 fields (minute hour day-of-month month day-of-week) or a
	// shortcut: @hourly, @daily, @weekly, @monthly, @yearly.
	Cron string `json:"cron"`
	// Timezone is an IANA name (Europe/Berlin); empty: UTC.
	Timezone string `json:"timezone"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled"`
	// OnlyWhenOnline skips a firing while the server does not run.
	OnlyWhenOnline bool                 `json:"only_when_online"`
	Tasks          []store.ScheduleTask `json:"tasks"`
}

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// timing is a schedule's expression with its zone, parsed.
type timing struct {
	expr cron.Schedule
	loc  *time.Location
}

// next is the first slot after t.
func (tm timing) next(t time.Time) time.Time { return tm.expr.Next(t, tm.loc).UTC() }

// parseTiming reads a cron expression and zone, refusing expressions that
// fire more often than minInterval.
func parseTiming(expr, zone string, minInterval time.Duration) (timing, error) {
	loc, err := cron.LoadLocation(zone)
	if err != nil {
		return timing{}, invalid("timezone", "%v", err)
	}
	e, err := cron.Parse(expr)
	if err != nil {
		return timing{}, invalid("cron", "%v", err)
	}
	if d := e.MinInterval(); d < minInterval {
		return timing{}, invalid("cron", "fires every %s; schedules may fire at most every %s", d, minInterval)
	}
	tm := timing{expr: e, loc: loc}
	return tm, nil
}

// normalize checks sp and fills its defaults, returning its timing.
func normalize(sp *Spec, minInterval time.Duration) (timing, error) {
	sp.Name = strings.TrimSpace(sp.Name)
	sp.Cron = strings.TrimSpace(sp.Cron)
	sp.Timezone = strings.TrimSpace(sp.Timezone)
	if sp.Timezone == "" {
		sp.Timezone = "UTC"
	}
	if sp.Name == "" || utf8.RuneCountInString(sp.Name) > maxName || strings.ContainsFunc(sp.Name, isControl) {
		return timing{}, invalid("name", "must be 1 to %d characters, without control characters", maxName)
	}
	tm, err := parseTiming(sp.Cron, sp.Timezone, minInterval)
	if err != nil {
		return timing{}, err
	}
	if len(sp.Tasks) == 0 || len(sp.Tasks) > MaxTasks {
		return timing{}, invalid("tasks", "a schedule has 1 to %d tasks", MaxTasks)
	}
	for i := range sp.Tasks {
		if err := checkTask(i, &sp.Tasks[i]); err != nil {
			return timing{}, err
		}
	}
	if sp.Enabled == nil {
		t := true
		sp.Enabled = &t
	}
	return tm, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkTask validates task i of a schedule.
func checkTask(i int, t *store.ScheduleTask) error {
	field := func(name string) string { return fmt.Sprintf("tasks[%d].%s", i, name) }
	if t.OffsetSeconds < 0 || t.OffsetSeconds > MaxOffset {
		return invalid(field("offset_seconds"), "must be from 0 to %d", MaxOffset)
	}
	switch t.Action {
	case store.TaskCommand:
		if t.Payload == "" || len(t.Payload) > servers.MaxCommand || strings.ContainsAny(t.Payload, "\r\n\x00") || !utf8.ValidString(t.Payload) {
			return invalid(field("payload"), "a command task's payload is one console line of 1 to %d bytes", servers.MaxCommand)
		}
	case store.TaskPower:
		if !slices.Contains(servers.Actions(), t.Payload) {
			return invalid(field("payload"), "a power task's payload is one of %s", strings.Join(servers.Actions(), ", "))
		}
	case store.TaskBackup:
		t.Payload = strings.TrimSpace(t.Payload)
		if utf8.RuneCountInString(t.Payload) > maxBackupName || strings.ContainsFunc(t.Payload, isControl) {
			return invalid(field("payload"), "a backup task's payload is the backup's name: at most %d characters (empty: dated)", maxBackupName)
		}
	default:
		return invalid(field("action"), "must be %s, %s or %s", store.TaskCommand, store.TaskPower, store.TaskBackup)
	}
	return nil
}
