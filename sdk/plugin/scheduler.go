package plugin

import (
	"context"
	"time"
)

// Scheduler decides when schedules fire. The host owns the schedules (they
// live in its database) and hands them over; the plugin calls back
// SchedulerHost.Fire when one is due.
type Scheduler interface {
	Base
	// Attach gives the plugin the host's callback. The host calls it after
	// every launch, before Sync; a later Attach replaces the earlier host.
	Attach(ctx context.Context, host SchedulerHost) error
	// Sync replaces every schedule the plugin knows with schedules.
	Sync(ctx context.Context, schedules []Schedule) error
	// Set adds a schedule or replaces the one with the same ID. A spec the
	// plugin cannot parse is ErrInvalidArgument.
	Set(ctx context.Context, s Schedule) error
	// Remove forgets a schedule; removing an unknown ID succeeds.
	Remove(ctx context.Context, id string) error
}

// SchedulerHost is the host side of a scheduler: the plugin reports firings
// to it.
type SchedulerHost interface {
	Fire(ctx context.Context, f Firing) error
}

// Schedule is one recurring trigger.
type Schedule struct {
	ID string
	// Spec is in a syntax the plugin documents, e.g. "@every 10m".
	Spec string
	// Timezone is an IANA name; empty means UTC.
	Timezone string
	// Labels are opaque to the plugin and echoed in every Firing.
	Labels map[string]string
}

// Firing reports that a schedule came due.
type Firing struct {
	ScheduleID string
	FiredAt    time.Time
	Labels     map[string]string
}
