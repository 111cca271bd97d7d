package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

// ErrUnknownSink is a test delivery to a sink that is not a configured
// alert sink plugin.
var ErrUnknownSink = errors.New("no such alert sink")

// Sinks names the configured alert sink plugins.
func (s *Service) Sinks() []string { return slices.Clone(s.opts.Sinks) }

// Rules returns the admin-wide rules (serverID empty) or a server's own.
func (s *Service) Rules(ctx context.Context, serverID string) ([]*store.AlertRule, error) {
	return s.store.ListAlertRules(ctx, serverID)
}

// Rule returns a rule of the server (serverID empty: an admin-wide one),
// or store.ErrNotFound.
func (s *Service) Rule(ctx context.Context, serverID, id string) (*store.AlertRule, error) {
	r, err := s.store.AlertRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if (serverID == "") != (r.ServerID == nil) || (r.ServerID != nil && *r.ServerID != serverID) {
		return nil, store.ErrNotFound
	}
	return r, nil
}

// CreateRule adds a rule, admin-wide when serverID is empty.
func (s *Service) CreateRule(ctx context.Context, serverID string, spec RuleSpec) (*store.AlertRule, error) {
	r := &store.AlertRule{Enabled: true, Severity: plugin.SeverityWarning.String()}
	if serverID != "" {
		r.ServerID = &serverID
	}
	if spec.Type == nil {
		return nil, invalid("type", "is required: one of %v", Types)
	}
	if err := spec.apply(r, true); err != nil {
		return nil, err
	}
	if err := s.store.CreateAlertRule(ctx, r); err != nil {
		return nil, err
	}
	return r, s.reload(ctx)
}

// UpdateRule changes a rule. Disabling it resolves its open alerts.
func (s *Service) UpdateRule(ctx context.Context, serverID, id, by string, spec RuleSpec) (*store.AlertRule, error) {
	r, err := s.Rule(ctx, serverID, id)
	if err != nil {
		return nil, err
	}
	if err := spec.apply(r, false); err != nil {
		return nil, err
	}
	if err := s.store.UpdateAlertRule(ctx, r); err != nil {
		return nil, err
	}
	if !r.Enabled {
		s.resolveRule(ctx, r, by)
	}
	return r, s.reload(ctx)
}

// DeleteRule removes a rule, resolving its open alerts.
func (s *Service) DeleteRule(ctx context.Context, serverID, id, by string) error {
	r, err := s.Rule(ctx, serverID, id)
	if err != nil {
		return err
	}
	s.resolveRule(ctx, r, by)
	if err := s.store.DeleteAlertRule(ctx, id); err != nil {
		return err
	}
	return s.reload(ctx)
}

// resolveRule resolves the rule's open alerts on behalf of by.
func (s *Service) resolveRule(ctx context.Context, r *store.AlertRule, by string) {
	open, err := s.store.ListAlerts(ctx, store.AlertFilter{Status: store.AlertOpen, RuleID: r.ID})
	if err != nil {
		s.log.Error("resolve a rule's alerts", "rule", r.ID, "error", err)
		return
	}
	for _, a := range open {
		if _, err := s.Resolve(ctx, a.ID, by); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("resolve a rule's alert", "rule", r.ID, "alert", a.ID, "error", err)
		}
	}
}

// Alerts lists alerts.
func (s *Service) Alerts(ctx context.Context, f store.AlertFilter) ([]*store.Alert, error) {
	return s.store.ListAlerts(ctx, f)
}

// Alert returns one alert or store.ErrNotFound.
func (s *Service) Alert(ctx context.Context, id string) (*store.Alert, error) {
	return s.store.AlertByID(ctx, id)
}

// Resolve resolves an open alert by hand, announcing it as its condition
// clearing would. store.ErrNotFound when it is not open. Its condition,
// if it still holds, raises it again only once it cleared first.
func (s *Service) Resolve(ctx context.Context, id, by string) (*store.Alert, error) {
	cur, err := s.store.AlertByID(ctx, id)
	if err != nil {
		return nil, err
	}
	sub := subject{}
	if cur.ServerID != nil {
		sub.serverID = *cur.ServerID
	}
	if cur.NodeID != nil {
		sub.nodeID = *cur.NodeID
	}
	sub, err = s.subject(ctx, Finding{ServerID: sub.serverID, NodeID: sub.nodeID})
	if err != nil {
		return nil, err
	}
	if sub.gone {
		return nil, store.ErrNotFound
	}
	serverRule := false
	if cur.RuleID != nil {
		if r, err := s.store.AlertRuleByID(ctx, *cur.RuleID); err == nil {
			serverRule = r.ServerID != nil
		}
	}
	a, err := s.store.ResolveAlertByID(ctx, id, by, s.notify(sub, plugin.StatusResolved, serverRule))
	if err != nil {
		return nil, err
	}
	s.announce(a, plugin.StatusResolved)
	return a, nil
}

// TestSink queues a test alert for the alert sink plugin called sink and
// returns its delivery (whose ID is the alert's), which the delivery log
// follows.
func (s *Service) TestSink(ctx context.Context, sink, by string) (*store.Delivery, error) {
	if !slices.Contains(s.opts.Sinks, sink) {
		return nil, fmt.Errorf("%w: %q (configured: %v)", ErrUnknownSink, sink, s.opts.Sinks)
	}
	n := Notification{
		ID: store.NewID(), Severity: plugin.SeverityInfo.String(),
		Title: "Catalyst test alert", Body: "An administrator asked for this test delivery. No action is needed.",
		Labels:     map[string]string{plugin.LabelType: "test", plugin.LabelStatus: plugin.StatusFiring, "requested_by": by},
		OccurredAt: time.Now().UTC(), URL: s.link("/admin/alerts"),
	}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	// The delivery carries the alert's ID, so that the log and the sink's
	// end tell of the same thing.
	d := &store.Delivery{ID: n.ID, Sink: sink, Event: EventTest, Payload: string(b)}
	if err := s.outbox.Enqueue(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}
