package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Webhook is a server owner's subscription: the server's events it names
// are POSTed to URL, signed with Secret.
type Webhook struct {
	bun.BaseModel `bun:"table:webhooks"`

	ID       string   `bun:"id,pk" json:"id"`
	ServerID string   `bun:"server_id,notnull" json:"server_id"`
	URL      string   `bun:"url,notnull" json:"url"`
	Events   []string `bun:"events,notnull" json:"events"`
	// Secret signs the deliveries (HMAC-SHA256); the API shows it once.
	Secret    string    `bun:"secret,notnull" json:"-"`
	Enabled   bool      `bun:"enabled,notnull" json:"enabled"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// CreateWebhook inserts w, filling its ID and timestamps.
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook) error {
	w.ID = NewID()
	w.CreatedAt = now()
	w.UpdatedAt = w.CreatedAt
	_, err := s.db.NewInsert().Model(w).Exec(ctx)
	return mapError(err)
}

// WebhookByID returns the server's webhook, or ErrNotFound (also for a
// webhook of another server).
func (s *Store) WebhookByID(ctx context.Context, serverID, id string) (*Webhook, error) {
	w := new(Webhook)
	err := s.db.NewSelect().Model(w).Where("id = ?", id).Where("server_id = ?", serverID).Scan(ctx)
	return w, mapError(err)
}

// WebhookByIDAny returns the webhook, whichever server it belongs to, or
// ErrNotFound.
func (s *Store) WebhookByIDAny(ctx context.Context, id string) (*Webhook, error) {
	w := new(Webhook)
	err := s.db.NewSelect().Model(w).Where("id = ?", id).Scan(ctx)
	return w, mapError(err)
}

// ListWebhooks returns the server's webhooks, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, serverID string) ([]*Webhook, error) {
	ws := []*Webhook{}
	err := s.db.NewSelect().Model(&ws).Where("server_id = ?", serverID).Order("created_at", "id").Scan(ctx)
	return ws, mapError(err)
}

// UpdateWebhook writes w's editable columns.
func (s *Store) UpdateWebhook(ctx context.Context, w *Webhook) error {
	w.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(w).Column("url", "events", "secret", "enabled", "updated_at").WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeleteWebhook removes a webhook and its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, serverID, id string) error {
	res, err := s.db.NewDelete().Model((*Webhook)(nil)).Where("id = ?", id).Where("server_id = ?", serverID).Exec(ctx)
	return affectedOne(res, err)
}
