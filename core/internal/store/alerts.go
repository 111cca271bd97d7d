package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// Alert statuses.
const (
	AlertOpen     = "open"
	AlertResolved = "resolved"
)

// AlertRule says what to watch and how loudly to tell. A nil ServerID is
// an admin-wide rule: every server, or every node for node_offline.
type AlertRule struct {
	bun.BaseModel `bun:"table:alert_rules"`

	ID        string  `bun:"id,pk" json:"id"`
	ServerID  *string `bun:"server_id" json:"server_id"`
	Name      string  `bun:"name,notnull" json:"name"`
	Type      string  `bun:"type,notnull" json:"type"`
	Threshold float64 `bun:"threshold,notnull" json:"threshold"`
	// ForSeconds is how long a threshold must stay crossed, or a node
	// silent, before the alert opens.
	ForSeconds int       `bun:"for_seconds,notnull" json:"for_seconds"`
	Severity   string    `bun:"severity,notnull" json:"severity"`
	Enabled    bool      `bun:"enabled,notnull" json:"enabled"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// Alert is a rule's finding about one target (a server or a node).
type Alert struct {
	bun.BaseModel `bun:"table:alerts"`

	ID       string  `bun:"id,pk" json:"id"`
	RuleID   *string `bun:"rule_id" json:"rule_id"`
	RuleName string  `bun:"rule_name,notnull" json:"rule_name"`
	Target   string  `bun:"target,notnull" json:"target"`
	ServerID *string `bun:"server_id" json:"server_id"`
	NodeID   *string `bun:"node_id" json:"node_id"`
	Type     string  `bun:"type,notnull" json:"type"`
	Severity string  `bun:"severity,notnull" json:"severity"`
	Status   string  `bun:"status,notnull" json:"status"`
	Title    string  `bun:"title,notnull" json:"title"`
	Body     string  `bun:"body,notnull" json:"body"`
	Value    string  `bun:"value,notnull" json:"value"`
	// Occurrences counts the times the condition was seen while open.
	Occurrences int        `bun:"occurrences,notnull" json:"occurrences"`
	OpenedAt    time.Time  `bun:"opened_at,notnull" json:"opened_at"`
	LastSeenAt  time.Time  `bun:"last_seen_at,notnull" json:"last_seen_at"`
	ResolvedAt  *time.Time `bun:"resolved_at" json:"resolved_at"`
	// ResolvedBy is the user who resolved the alert by hand; empty when
	// its condition cleared.
	ResolvedBy string `bun:"resolved_by,notnull" json:"resolved_by"`
}

// --- rules ---

// CreateAlertRule inserts r, filling its ID and timestamps.
func (s *Store) CreateAlertRule(ctx context.Context, r *AlertRule) error {
	r.ID = NewID()
	r.CreatedAt = now()
	r.UpdatedAt = r.CreatedAt
	_, err := s.db.NewInsert().Model(r).Exec(ctx)
	return mapError(err)
}

// AlertRuleByID returns the rule or ErrNotFound.
func (s *Store) AlertRuleByID(ctx context.Context, id string) (*AlertRule, error) {
	r := new(AlertRule)
	err := s.db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	return r, mapError(err)
}

// ListAlertRules returns the admin-wide rules when serverID is empty, else
// the server's own, oldest first.
func (s *Store) ListAlertRules(ctx context.Context, serverID string) ([]*AlertRule, error) {
	rs := []*AlertRule{}
	q := s.db.NewSelect().Model(&rs).Order("created_at", "id")
	if serverID == "" {
		q = q.Where("server_id IS NULL")
	} else {
		q = q.Where("server_id = ?", serverID)
	}
	return rs, mapError(q.Scan(ctx))
}

// AllAlertRules returns every rule, admin-wide and per server.
func (s *Store) AllAlertRules(ctx context.Context) ([]*AlertRule, error) {
	rs := []*AlertRule{}
	err := s.db.NewSelect().Model(&rs).Order("created_at", "id").Scan(ctx)
	return rs, mapError(err)
}

// UpdateAlertRule writes r's editable columns.
func (s *Store) UpdateAlertRule(ctx context.Context, r *AlertRule) error {
	r.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(r).
		Column("name", "threshold", "for_seconds", "severity", "enabled", "updated_at").WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeleteAlertRule removes a rule; its alerts stay, with no rule.
func (s *Store) DeleteAlertRule(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*AlertRule)(nil)).Where("id = ?", id).Exec(ctx)
	return affectedOne(res, err)
}

// --- alerts ---

// Notify makes the outbox deliveries announcing an alert that opened or
// resolved; they are written in the same transaction as the alert.
type Notify func(*Alert) []*Delivery

// OpenAlert records a firing alert for a.RuleID × a.Target, with notify's
// deliveries. When one is open already, it counts one more occurrence on
// it instead (announcing nothing) and returns it with opened false: an
// alert is raised once until it is resolved.
func (s *Store) OpenAlert(ctx context.Context, a *Alert, notify Notify) (opened bool, err error) {
	t := now()
	a.ID, a.Status, a.Occurrences = NewID(), AlertOpen, 1
	a.OpenedAt, a.LastSeenAt = t, t
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		cur := new(Alert)
		err := tx.NewSelect().Model(cur).Where("rule_id = ?", a.RuleID).Where("target = ?", a.Target).
			Where("status = ?", AlertOpen).Scan(ctx)
		switch {
		case err == nil:
			cur.Occurrences++
			cur.LastSeenAt = t
			if _, err := tx.NewUpdate().Model(cur).Column("occurrences", "last_seen_at").WherePK().Exec(ctx); err != nil {
				return err
			}
			*a = *cur
			return nil
		case !errors.Is(mapError(err), ErrNotFound):
			return err
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return err
		}
		opened = true
		return enqueue(ctx, tx, notify, a)
	})
	if err != nil {
		opened = false
	}
	return opened, mapError(err)
}

// enqueue writes notify's deliveries for a in tx.
func enqueue(ctx context.Context, tx bun.Tx, notify Notify, a *Alert) error {
	if notify == nil {
		return nil
	}
	ds := notify(a)
	if len(ds) == 0 {
		return nil
	}
	stampDeliveries(ds)
	_, err := tx.NewInsert().Model(&ds).Exec(ctx)
	return err
}

// ResolveAlert resolves the open alert of ruleID × target, if any, with
// notify's deliveries, and returns it; ErrNotFound when none is open. by
// is the resolving user's ID, empty when the condition cleared.
func (s *Store) ResolveAlert(ctx context.Context, ruleID, target, by string, notify Notify) (*Alert, error) {
	return s.resolveAlert(ctx, by, notify, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("rule_id = ?", ruleID).Where("target = ?", target)
	})
}

// ResolveAlertByID resolves one open alert by hand, with notify's
// deliveries. ErrNotFound when it does not exist or is resolved already.
func (s *Store) ResolveAlertByID(ctx context.Context, id, by string, notify Notify) (*Alert, error) {
	return s.resolveAlert(ctx, by, notify, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("id = ?", id)
	})
}

func (s *Store) resolveAlert(ctx context.Context, by string, notify Notify, which func(*bun.UpdateQuery) *bun.UpdateQuery) (*Alert, error) {
	a := new(Alert)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model(a).
			Set("status = ?", AlertResolved).Set("resolved_at = ?", now()).Set("resolved_by = ?", by).
			Where("status = ?", AlertOpen)
		if err := which(q).Returning("*").Scan(ctx); err != nil {
			return err
		}
		return enqueue(ctx, tx, notify, a)
	})
	return a, mapError(err)
}

// AlertByID returns the alert or ErrNotFound.
func (s *Store) AlertByID(ctx context.Context, id string) (*Alert, error) {
	a := new(Alert)
	err := s.db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx)
	return a, mapError(err)
}

// AlertFilter narrows ListAlerts; zero fields match everything.
type AlertFilter struct {
	Status   string
	Severity string
	Type     string
	ServerID string
	NodeID   string
	RuleID   string
	// Before is a pagination cursor: only alerts with a smaller ID
	// (opened earlier).
	Before string
	Limit  int
}

// ListAlerts returns the alerts matching f, newest first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]*Alert, error) {
	as := []*Alert{}
	q := s.db.NewSelect().Model(&as).Order("id DESC")
	for col, v := range map[string]string{"status": f.Status, "severity": f.Severity, "type": f.Type, "server_id": f.ServerID, "node_id": f.NodeID, "rule_id": f.RuleID} {
		if v != "" {
			q = q.Where("? = ?", bun.Ident(col), v)
		}
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	return as, mapError(q.Scan(ctx))
}

// OpenAlerts returns every open alert.
func (s *Store) OpenAlerts(ctx context.Context) ([]*Alert, error) {
	return s.ListAlerts(ctx, AlertFilter{Status: AlertOpen})
}

// DeleteResolvedAlertsBefore deletes alerts resolved before t.
func (s *Store) DeleteResolvedAlertsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*Alert)(nil)).
		Where("status = ?", AlertResolved).Where("resolved_at < ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
