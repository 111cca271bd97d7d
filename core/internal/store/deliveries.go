package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one notification in the outbox: written before it is sent,
// retried until its sink takes it or refuses it for good.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries"`

	ID string `bun:"id,pk" json:"id"`
	// Sink is an alert sink plugin's name, or "webhook:<id>".
	Sink      string  `bun:"sink,notnull" json:"sink"`
	WebhookID *string `bun:"webhook_id" json:"webhook_id,omitempty"`
	Event     string  `bun:"event,notnull" json:"event"`
	Payload   string  `bun:"payload,notnull" json:"-"`
	Status    string  `bun:"status,notnull" json:"status"`
	Attempts  int     `bun:"attempts,notnull" json:"attempts"`
	// NextAttemptAt is when a pending delivery is due.
	NextAttemptAt time.Time  `bun:"next_attempt_at,notnull" json:"next_attempt_at"`
	LeaseUntil    *time.Time `bun:"lease_until" json:"-"`
	// LastError is the latest failed attempt's error, kept once the
	// delivery went through.
	LastError     string     `bun:"last_error,notnull" json:"last_error"`
	LastErrorAt   *time.Time `bun:"last_error_at" json:"last_error_at"`
	LastAttemptAt *time.Time `bun:"last_attempt_at" json:"last_attempt_at"`
	DeliveredAt   *time.Time `bun:"delivered_at" json:"delivered_at"`
	CreatedAt     time.Time  `bun:"created_at,notnull" json:"created_at"`
}

// EnqueueDeliveries writes ds to the outbox, due now.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	stampDeliveries(ds)
	_, err := s.db.NewInsert().Model(&ds).Exec(ctx)
	return mapError(err)
}

// stampDeliveries makes ds new pending deliveries, due now, filling
// their IDs unless the caller chose them.
func stampDeliveries(ds []*Delivery) {
	t := now()
	for _, d := range ds {
		if d.ID == "" {
			d.ID = NewID()
		}
		d.Status, d.CreatedAt, d.NextAttemptAt = DeliveryPending, t, t
	}
}

// ClaimDeliveries leases, for lease, up to limit of one sink's oldest
// pending deliveries, in order, as long as they are due and nobody else
// holds them: it stops at the first that is not, since sending the ones
// behind it first would break the sink's order. The lease is taken with
// one compare-and-set UPDATE over the candidates, so two claimers never
// get the same delivery while its lease runs.
func (s *Store) ClaimDeliveries(ctx context.Context, sink string, limit int, lease time.Duration) ([]*Delivery, error) {
	t := now()
	var queue []*Delivery
	err := s.db.NewSelect().Model(&queue).Column("id", "next_attempt_at", "lease_until").
		Where("sink = ?", sink).Where("status = ?", DeliveryPending).
		Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	var ids []string
	for _, d := range queue {
		if d.NextAttemptAt.After(t) || (d.LeaseUntil != nil && !d.LeaseUntil.Before(t)) {
			break
		}
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	until := t.Add(lease)
	var got []*Delivery
	// Another claimer may have taken or settled some of them since they
	// were read, hence the conditions again. Whether they are still due
	// is checked below rather than here, where it would lead SQLite to
	// scan every due delivery instead of looking up these few.
	err = s.db.NewUpdate().Model(&got).Set("lease_until = ?", until).
		Where("id IN (?)", bun.List(ids)).Where("status = ?", DeliveryPending).
		Where("(lease_until IS NULL OR lease_until < ?)", t).
		Returning("*").Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	// Keep the unbroken run of due ones from the oldest; the rest go
	// back.
	slices.SortFunc(got, func(a, b *Delivery) int { return strings.Compare(a.ID, b.ID) })
	n := 0
	for n < len(got) && got[n].ID == ids[n] && !got[n].NextAttemptAt.After(t) {
		n++
	}
	if err := s.ReleaseDeliveries(ctx, got[n:]); err != nil {
		return nil, err
	}
	return got[:n], nil
}

// ReleaseDeliveries gives up the leases on ds without counting an
// attempt, so that they are claimed again when due.
func (s *Store) ReleaseDeliveries(ctx context.Context, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
		d.LeaseUntil = nil
	}
	_, err := s.db.NewUpdate().Model((*Delivery)(nil)).Set("lease_until = NULL").
		Where("id IN (?)", bun.List(ids)).Where("status = ?", DeliveryPending).Exec(ctx)
	return mapError(err)
}

// DueSinks returns the sinks with pending deliveries and, for each, when
// the oldest of them can be sent: when it is due, or when the lease someone
// holds on it lapses if that is later (past times are due now). The ones
// behind it wait for it, so their times do not count.
func (s *Store) DueSinks(ctx context.Context) (map[string]time.Time, error) {
	var heads []*Delivery
	oldest := s.db.NewSelect().Model((*Delivery)(nil)).ColumnExpr("MIN(id)").
		Where("status = ?", DeliveryPending).Group("sink")
	err := s.db.NewSelect().Model(&heads).Column("sink", "next_attempt_at", "lease_until").
		Where("id IN (?)", oldest).Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make(map[string]time.Time, len(heads))
	for _, d := range heads {
		due := d.NextAttemptAt
		if d.LeaseUntil != nil && d.LeaseUntil.After(due) {
			due = *d.LeaseUntil
		}
		out[d.Sink] = due
	}
	return out, nil
}

// FinishDelivery records one attempt at d: delivered, failed for good, or
// (status pending) to be tried again at d.NextAttemptAt; attemptErr is
// the attempt's error (empty when it went through). It releases the
// lease.
func (s *Store) FinishDelivery(ctx context.Context, d *Delivery, attemptErr string) error {
	t := now()
	d.LastAttemptAt = &t
	d.LeaseUntil = nil
	d.Attempts++
	if d.Status == DeliveryDelivered {
		d.DeliveredAt = &t
	}
	if attemptErr != "" {
		d.LastError, d.LastErrorAt = attemptErr, &t
	}
	res, err := s.db.NewUpdate().Model(d).
		Column("status", "attempts", "next_attempt_at", "lease_until", "last_error", "last_error_at", "last_attempt_at", "delivered_at").
		WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeliveryByID returns one delivery or ErrNotFound.
func (s *Store) DeliveryByID(ctx context.Context, id string) (*Delivery, error) {
	d := new(Delivery)
	err := s.db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx)
	return d, mapError(err)
}

// DeliveryFilter narrows ListDeliveries; zero fields match everything.
type DeliveryFilter struct {
	Sink      string
	WebhookID string
	Status    string
	Before    string
	Limit     int
}

// ListDeliveries returns the deliveries matching f, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error) {
	ds := []*Delivery{}
	q := s.db.NewSelect().Model(&ds).Order("id DESC")
	if f.Sink != "" {
		q = q.Where("sink = ?", f.Sink)
	}
	if f.WebhookID != "" {
		q = q.Where("webhook_id = ?", f.WebhookID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	return ds, mapError(q.Scan(ctx))
}

// SinkStatus sums up one sink's outbox.
type SinkStatus struct {
	Sink      string `json:"sink"`
	Pending   int    `json:"pending"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	// LastError is the error of the sink's latest failed attempt, and
	// LastErrorAt when it was made; empty when no attempt failed.
	LastError       string     `json:"last_error"`
	LastErrorAt     *time.Time `json:"last_error_at"`
	LastDeliveredAt *time.Time `json:"last_delivered_at"`
}

// SinkStatuses sums up the outbox of every sink that has deliveries, by
// sink name. Webhook sinks are left out unless withWebhooks.
func (s *Store) SinkStatuses(ctx context.Context, withWebhooks bool) ([]SinkStatus, error) {
	var counts []struct {
		Sink   string     `bun:"sink"`
		Status string     `bun:"status"`
		N      int        `bun:"n"`
		Last   *time.Time `bun:"last"`
	}
	q := s.db.NewSelect().Model((*Delivery)(nil)).
		ColumnExpr("sink, status, COUNT(*) AS n, MAX(delivered_at) AS last").Group("sink", "status").Order("sink")
	if !withWebhooks {
		q = q.Where("webhook_id IS NULL")
	}
	if err := q.Scan(ctx, &counts); err != nil {
		return nil, mapError(err)
	}
	var out []SinkStatus
	idx := map[string]int{}
	for _, c := range counts {
		i, ok := idx[c.Sink]
		if !ok {
			i = len(out)
			idx[c.Sink] = i
			out = append(out, SinkStatus{Sink: c.Sink})
		}
		st := &out[i]
		switch c.Status {
		case DeliveryPending:
			st.Pending = c.N
		case DeliveryDelivered:
			st.Delivered = c.N
			st.LastDeliveredAt = c.Last
		case DeliveryFailed:
			st.Failed = c.N
		}
	}
	for i := range out {
		d := new(Delivery)
		err := s.db.NewSelect().Model(d).Column("last_error", "last_error_at").
			Where("sink = ?", out[i].Sink).Where("last_error_at IS NOT NULL").
			Order("last_error_at DESC").Limit(1).Scan(ctx)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return nil, mapError(err)
		default:
			out[i].LastError, out[i].LastErrorAt = d.LastError, d.LastErrorAt
		}
	}
	return out, nil
}

// DeleteDeliveriesBefore deletes delivered and failed deliveries whose
// last attempt was before t.
func (s *Store) DeleteDeliveriesBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*Delivery)(nil)).
		Where("status <> ?", DeliveryPending).Where("last_attempt_at < ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
