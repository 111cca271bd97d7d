// Package audit records privileged actions: who did what to which target,
// from where, and how it ended.
package audit

import (
	"context"

	"catalyst.dev/core/internal/store"
	"github.com/hashicorp/go-hclog"
)

// Actor kinds.
const (
	ActorUser      = "user"
	ActorAPIKey    = "api_key"
	ActorAnonymous = "anonymous"
	ActorSystem    = "system"
)

// Entry is one action to record. Outcome is store.OutcomeSuccess,
// OutcomeFailure or OutcomeDenied.
type Entry struct {
	ActorID    string
	ActorType  string
	IP         string
	Action     string
	TargetType string
	TargetID   string
	ServerID   string
	Outcome    string
	Metadata   map[string]any
}

// Recorder writes entries to the store.
type Recorder struct {
	store *store.Store
	log   hclog.Logger
}

// NewRecorder returns a Recorder on s.
func NewRecorder(s *store.Store, log hclog.Logger) *Recorder {
	return &Recorder{store: s, log: log}
}

// Record writes e. A failure to write is logged with the entry, not
// returned: the action already happened and must not be reported as failed
// because its record could not be kept.
func (r *Recorder) Record(ctx context.Context, e Entry) {
	rec := &store.AuditEntry{
		ActorType: e.ActorType, IP: e.IP, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Outcome: e.Outcome, Metadata: e.Metadata,
	}
	if rec.ActorType == "" {
		rec.ActorType = ActorAnonymous
	}
	if e.ActorID != "" {
		rec.ActorID = &e.ActorID
	}
	if e.ServerID != "" {
		rec.ServerID = &e.ServerID
	}
	if err := r.store.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		r.log.Error("audit entry not recorded", "error", err, "action", e.Action, "actor", e.ActorID,
			"target", e.TargetType+":"+e.TargetID, "outcome", e.Outcome)
	}
}
