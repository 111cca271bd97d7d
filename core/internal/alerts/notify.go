package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

// subject is what an alert is about, with the names people know it by.
type subject struct {
	serverID, serverName string
	nodeID, nodeName     string
	// gone: the server or node was deleted; there is nothing to alert on
	// (and its alerts went with it).
	gone bool
}

// subject looks up the names of a finding's server and node.
func (s *Service) subject(ctx context.Context, f Finding) (subject, error) {
	sub := subject{serverID: f.ServerID, nodeID: f.NodeID}
	if f.ServerID != "" {
		srv, err := s.store.ServerByID(ctx, f.ServerID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.engine.ForgetServer(f.ServerID)
			sub.gone = true
			return sub, nil
		case err != nil:
			return sub, err
		}
		sub.serverName = srv.Name
		if sub.nodeID == "" {
			sub.nodeID = srv.NodeID
		}
	}
	if sub.nodeID != "" {
		n, err := s.store.NodeByID(ctx, sub.nodeID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if f.ServerID == "" {
				s.engine.ForgetNode(sub.nodeID)
				sub.gone = true
				return sub, nil
			}
			// The server moved since; its alert names it without a node.
			sub.nodeID = ""
		case err != nil:
			return sub, err
		default:
			sub.nodeName = n.Name
		}
	}
	return sub, nil
}

// alert is the record of f firing about sub.
func (sub subject) alert(f Finding) *store.Alert {
	r := f.Rule
	a := &store.Alert{RuleID: &r.ID, RuleName: r.Name, Target: f.Target, Type: r.Type, Severity: r.Severity, Value: f.Value}
	if sub.serverID != "" {
		a.ServerID = &sub.serverID
	}
	if sub.nodeID != "" {
		a.NodeID = &sub.nodeID
	}
	held := ""
	if r.ForSeconds > 0 {
		held = fmt.Sprintf(" for %s", time.Duration(r.ForSeconds)*time.Second)
	}
	switch r.Type {
	case TypeCPU, TypeMemory, TypeDisk:
		what := map[string]string{TypeCPU: "CPU", TypeMemory: "Memory", TypeDisk: "Disk"}[r.Type]
		a.Title = fmt.Sprintf("%s: %s at %s", sub.serverName, what, f.Value)
		a.Body = fmt.Sprintf("%s use stayed above %.4g%% of the server's limit%s (rule %q).", what, r.Threshold, held, r.Name)
	case TypeNodeOffline:
		a.Title = fmt.Sprintf("Node %s is offline", sub.nodeName)
		a.Body = fmt.Sprintf("Its agent has not been connected for %s; its servers cannot be controlled.", f.Value)
	case TypeServerCrashed:
		a.Title = fmt.Sprintf("%s crashed", sub.serverName)
		a.Body = orDefault(f.Detail, "The server's process ended without being asked to.")
	case TypeCrashLoop:
		a.Title = fmt.Sprintf("%s is crash-looping", sub.serverName)
		a.Body = "Its restart policy gave up after repeated crashes. Last: " + orDefault(f.Detail, "unknown")
	case TypeInstallFailed:
		a.Title = fmt.Sprintf("%s: install failed", sub.serverName)
		a.Body = orDefault(f.Detail, "The install script failed; see the server's install log.")
	case TypeBackupFailed:
		a.Title = fmt.Sprintf("%s: backup failed", sub.serverName)
		a.Body = orDefault(f.Detail, "The backup did not complete.")
	case TypeTransferFailed:
		a.Title = fmt.Sprintf("%s: transfer failed", sub.serverName)
		a.Body = orDefault(f.Detail, "The transfer did not complete; the server stays on its node.")
	}
	a.Title, a.Body = clip(a.Title, 256), clip(a.Body, 4000)
	return a
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Notification is an alert as the outbox keeps it for an alert sink.
type Notification struct {
	ID         string            `json:"id"`
	Severity   string            `json:"severity"`
	Title      string            `json:"title"`
	Body       string            `json:"body"`
	ServerID   string            `json:"server_id,omitempty"`
	NodeID     string            `json:"node_id,omitempty"`
	Labels     map[string]string `json:"labels"`
	OccurredAt time.Time         `json:"occurred_at"`
	URL        string            `json:"url,omitempty"`
}

// Alert is n as the sink plugin interface takes it.
func (n Notification) Alert() plugin.Alert {
	sev := plugin.SeverityInfo
	switch n.Severity {
	case plugin.SeverityWarning.String():
		sev = plugin.SeverityWarning
	case plugin.SeverityCritical.String():
		sev = plugin.SeverityCritical
	}
	return plugin.Alert{ID: n.ID, Severity: sev, Title: n.Title, Body: n.Body, ServerID: n.ServerID, NodeID: n.NodeID,
		Labels: n.Labels, OccurredAt: n.OccurredAt, URL: n.URL}
}

// Events of the deliveries to alert sinks.
const (
	EventFiring   = "alert.firing"
	EventResolved = "alert.resolved"
	EventTest     = "alert.test"
)

// notify returns the store.Notify writing, for an alert about sub that
// opened or resolved (status), a delivery to each sink a route sends it
// to; serverRule says the alert's rule is a server's own.
func (s *Service) notify(sub subject, status string, serverRule bool) store.Notify {
	return func(a *store.Alert) []*store.Delivery {
		resolved := status == plugin.StatusResolved
		var sinks []string
		for _, r := range s.opts.Routes {
			if !r.matches(a, serverRule, resolved) {
				continue
			}
			for _, sk := range r.Sinks {
				if !slices.Contains(sinks, sk) {
					sinks = append(sinks, sk)
				}
			}
		}
		if len(sinks) == 0 {
			return nil
		}
		payload, event := s.notification(a, sub, status)
		out := make([]*store.Delivery, len(sinks))
		for i, sk := range sinks {
			out[i] = &store.Delivery{Sink: sk, Event: event, Payload: payload}
		}
		return out
	}
}

// notification encodes the outbox payload of a's opening or resolution.
func (s *Service) notification(a *store.Alert, sub subject, status string) (payload, event string) {
	n := Notification{ID: a.ID, Severity: a.Severity, Title: a.Title, Body: a.Body, OccurredAt: a.OpenedAt,
		Labels: map[string]string{plugin.LabelType: a.Type, plugin.LabelStatus: status, plugin.LabelRule: a.RuleName}}
	event = EventFiring
	if status == plugin.StatusResolved {
		n.ID += ":resolved"
		event = EventResolved
		if a.ResolvedAt != nil {
			n.OccurredAt = *a.ResolvedAt
		}
		n.Body = "Resolved: " + a.Body
	}
	if a.Value != "" {
		n.Labels[plugin.LabelValue] = a.Value
	}
	if sub.serverID != "" {
		n.ServerID = sub.serverID
		n.Labels[plugin.LabelServerName] = sub.serverName
		n.URL = s.link("/servers/" + sub.serverID)
	}
	if sub.nodeID != "" {
		n.NodeID = sub.nodeID
		n.Labels[plugin.LabelNodeName] = sub.nodeName
		if n.URL == "" {
			n.URL = s.link("/admin/nodes/" + sub.nodeID)
		}
	}
	b, _ := json.Marshal(n) // strings, maps of strings and a time: cannot fail
	return string(b), event
}

func (s *Service) link(path string) string {
	if s.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.PublicURL, "/") + path
}

// PluginSink sends the outbox's alert notifications to an alert sink
// plugin.
type PluginSink struct{ Sink plugin.AlertSink }

var _ outbox.Sink = PluginSink{}

// Send decodes d's notification and delivers it.
func (p PluginSink) Send(ctx context.Context, d *store.Delivery) error {
	var n Notification
	if err := json.Unmarshal([]byte(d.Payload), &n); err != nil {
		return plugin.PermanentError(fmt.Errorf("unreadable notification %s: %w", d.ID, err))
	}
	return p.Sink.Deliver(ctx, n.Alert())
}
