package plugin

import (
	"context"
	"time"
)

// Policy watches what happens to servers (for billing) and may veto what is
// about to happen (for quotas).
type Policy interface {
	Base
	// Check answers whether an action may proceed. Deny with a reason the
	// user will read; return an error only when the plugin cannot decide.
	Check(ctx context.Context, req CheckRequest) (Decision, error)
	// Notify reports an event. Delivery is at least once: drop duplicates
	// by Event.ID.
	Notify(ctx context.Context, e Event) error
}

// Action is what a Check is about.
type Action int

// Actions a policy can veto.
const (
	ActionCreate Action = iota + 1
	ActionStart
	ActionResize
)

func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionStart:
		return "start"
	case ActionResize:
		return "resize"
	}
	return "unknown"
}

// Resources are the limits of a server.
type Resources struct {
	MemoryMB int64
	DiskMB   int64
	// CPUPercent is 100 per core.
	CPUPercent int64
}

// Server is a game server as a policy sees it.
type Server struct {
	ID         string
	Name       string
	OwnerID    string
	NodeID     string
	TemplateID string
	Resources  Resources
}

// Usage totals what a user holds.
type Usage struct {
	Servers   int64
	Resources Resources
}

// CheckRequest asks whether Action may happen to Server.
type CheckRequest struct {
	Action Action
	// Server is the server as it would be after the action.
	Server Server
	// Previous holds the resources before a resize.
	Previous Resources
	// OwnerUsage is what the owner holds besides this server.
	OwnerUsage Usage
}

// Decision answers a Check.
type Decision struct {
	Allow bool
	// Reason is shown to the user when Allow is false.
	Reason string
}

// Allow is the decision that lets an action proceed.
func Allow() Decision { return Decision{Allow: true} }

// Deny refuses an action, telling the user why.
func Deny(reason string) Decision { return Decision{Reason: reason} }

// EventType says what an Event reports.
type EventType int

// Event types.
const (
	EventServerCreated EventType = iota + 1
	EventServerDeleted
	EventServerStarted
	EventServerStopped
	EventServerResized
	// EventUsage is a periodic consumption sample, for metered billing.
	EventUsage
)

// Event is something that happened to a server.
type Event struct {
	ID     string
	Type   EventType
	At     time.Time
	Server Server
	// CPUSeconds and MemoryMBSeconds are consumption since the previous
	// usage event of the same server (EventUsage only).
	CPUSeconds      float64
	MemoryMBSeconds float64
}
