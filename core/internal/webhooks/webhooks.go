// Package webhooks lets server owners subscribe URLs to their servers'
// events (started, stopped, crashed, backup completed, alerts …). Each
// event becomes one outbox delivery per subscribed webhook, POSTed as
// signed JSON (sdk/webhook) and retried like any other notification.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/webhook"
	"github.com/hashicorp/go-hclog"
)

// Events a webhook may subscribe to.
const (
	EventServerStarted     = "server.started"
	EventServerStopped     = "server.stopped"
	EventServerCrashed     = "server.crashed"
	EventServerInstalled   = "server.installed"
	EventInstallFailed     = "server.install_failed"
	EventBackupCompleted   = "backup.completed"
	EventBackupFailed      = "backup.failed"
	EventRestoreCompleted  = "restore.completed"
	EventRestoreFailed     = "restore.failed"
	EventTransferCompleted = "transfer.completed"
	EventTransferFailed    = "transfer.failed"
	EventAlertFiring       = "alert.firing"
	EventAlertResolved     = "alert.resolved"
	// EventTest is sent by POST …/webhooks/:wid/test whatever the
	// webhook subscribes to.
	EventTest = "webhook.test"
)

// Events lists what a webhook may subscribe to ("*" subscribes to all).
var Events = []string{EventServerStarted, EventServerStopped, EventServerCrashed, EventServerInstalled,
	EventInstallFailed, EventBackupCompleted, EventBackupFailed, EventRestoreCompleted, EventRestoreFailed,
	EventTransferCompleted, EventTransferFailed, EventAlertFiring, EventAlertResolved}

// SinkPrefix starts the outbox sink name of a webhook's deliveries.
const SinkPrefix = "webhook:"

// Bounds.
const (
	maxPerServer = 10
	maxURL       = 2048
	// testWait bounds how long Test waits for the first attempt's outcome.
	testWait = 15 * time.Second
)

// Enqueuer writes deliveries to the outbox and has them sent;
// *outbox.Outbox is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, ds ...*store.Delivery) error
}

// Service keeps servers' webhooks and turns their events into
// deliveries. Tell it what happens (it observes servers, backups,
// transfers and alerts) and Run it.
type Service struct {
	store  *store.Store
	outbox Enqueuer
	client *http.Client
	log    hclog.Logger

	mu     sync.Mutex
	queue  []event
	signal chan struct{}
}

// event is something that happened to a server, waiting to become
// deliveries.
type event struct {
	serverID, name string
	data           any
}

// New returns the service; client makes the POSTs (see webhook.NewClient,
// with DenyPrivate unless the operator allows private addresses).
func New(s *store.Store, outbox Enqueuer, client *http.Client, log hclog.Logger) *Service {
	return &Service{store: s, outbox: outbox, client: client, log: log, signal: make(chan struct{}, 1)}
}

// Run turns the events observed into deliveries, in the order they
// happened, until ctx ends. Call it once.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.signal:
		}
		for ctx.Err() == nil {
			s.mu.Lock()
			evs := s.queue
			s.queue = nil
			s.mu.Unlock()
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				if err := s.enqueue(ctx, e.serverID, e.name, e.data); err != nil && ctx.Err() == nil {
					s.log.Error("queue webhook deliveries", "server", e.serverID, "event", e.name, "error", err)
				}
			}
		}
	}
}

// Spec is a webhook as a client writes it; on update, nil fields keep
// their value.
type Spec struct {
	URL     *string   `json:"url"`
	Events  *[]string `json:"events"`
	Enabled *bool     `json:"enabled"`
	// Secret sets the signing secret; empty on create has one generated.
	Secret *string `json:"secret"`
	// RotateSecret replaces the secret with a generated one.
	RotateSecret bool `json:"rotate_secret"`
}

// Created is a webhook with its secret, shown when it is set.
type Created struct {
	*store.Webhook
	Secret string `json:"secret"`
}

func (sp Spec) apply(w *store.Webhook) (secretSet bool, err error) {
	if sp.URL != nil {
		u := strings.TrimSpace(*sp.URL)
		if len(u) > maxURL {
			return false, invalid("url", "must be at most %d characters", maxURL)
		}
		if err := webhook.CheckURL(u); err != nil {
			return false, invalid("url", "%v", strings.TrimSuffix(err.Error(), ": "+plugin.ErrInvalidArgument.Error()))
		}
		w.URL = u
	}
	if sp.Events != nil {
		evs := *sp.Events
		if len(evs) == 0 {
			return false, invalid("events", "subscribe to at least one event, or \"*\" for all")
		}
		if slices.Contains(evs, "*") {
			evs = []string{"*"}
		}
		for _, e := range evs {
			if e != "*" && !slices.Contains(Events, e) {
				return false, invalid("events", "%q is not an event; the events are %s", e, strings.Join(Events, ", "))
			}
		}
		w.Events = slices.Compact(slices.Sorted(slices.Values(evs)))
	}
	if sp.Enabled != nil {
		w.Enabled = *sp.Enabled
	}
	switch {
	case sp.Secret != nil && *sp.Secret != "":
		if len(*sp.Secret) < 16 || len(*sp.Secret) > 256 {
			return false, invalid("secret", "must be 16 to 256 characters (or left out to have one generated)")
		}
		w.Secret = *sp.Secret
		return true, nil
	case sp.RotateSecret || w.Secret == "":
		w.Secret = newSecret()
		return true, nil
	}
	return false, nil
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return "whsec_" + hex.EncodeToString(b)
}

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// List returns the server's webhooks.
func (s *Service) List(ctx context.Context, serverID string) ([]*store.Webhook, error) {
	return s.store.ListWebhooks(ctx, serverID)
}

// Get returns one of the server's webhooks or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, serverID, id string) (*store.Webhook, error) {
	return s.store.WebhookByID(ctx, serverID, id)
}

// Create adds a webhook to the server; the secret is in the result only.
func (s *Service) Create(ctx context.Context, serverID string, sp Spec) (*Created, error) {
	if sp.URL == nil {
		return nil, invalid("url", "is required")
	}
	if sp.Events == nil {
		return nil, invalid("events", "is required: a list of events, or [\"*\"]")
	}
	have, err := s.store.ListWebhooks(ctx, serverID)
	if err != nil {
		return nil, err
	}
	if len(have) >= maxPerServer {
		return nil, invalid("url", "a server has at most %d webhooks; delete one first", maxPerServer)
	}
	w := &store.Webhook{ServerID: serverID, Enabled: true}
	if _, err := sp.apply(w); err != nil {
		return nil, err
	}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return &Created{Webhook: w, Secret: w.Secret}, nil
}

// Update changes a webhook; the result carries the secret when it was set.
func (s *Service) Update(ctx context.Context, serverID, id string, sp Spec) (*Created, error) {
	w, err := s.store.WebhookByID(ctx, serverID, id)
	if err != nil {
		return nil, err
	}
	secretSet, err := sp.apply(w)
	if err != nil {
		return nil, err
	}
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	c := &Created{Webhook: w}
	if secretSet {
		c.Secret = w.Secret
	}
	return c, nil
}

// Delete removes a webhook and its pending deliveries.
func (s *Service) Delete(ctx context.Context, serverID, id string) error {
	return s.store.DeleteWebhook(ctx, serverID, id)
}

// Deliveries is a webhook's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, serverID, id string, limit int) ([]*store.Delivery, error) {
	if _, err := s.store.WebhookByID(ctx, serverID, id); err != nil {
		return nil, err
	}
	return s.store.ListDeliveries(ctx, store.DeliveryFilter{WebhookID: id, Limit: limit})
}

// Test sends a webhook.test event to the webhook, enabled or not, and
// waits a while for the first attempt: the delivery comes back delivered,
// or pending or failed with the receiver's answer in last_error.
func (s *Service) Test(ctx context.Context, serverID, id string) (*store.Delivery, error) {
	w, err := s.store.WebhookByID(ctx, serverID, id)
	if err != nil {
		return nil, err
	}
	srv, err := s.store.ServerByID(ctx, serverID)
	if err != nil {
		return nil, err
	}
	body, err := payload(srv, EventTest, map[string]string{"message": "This is a test delivery from Catalyst."})
	if err != nil {
		return nil, err
	}
	d := delivery(w, EventTest, body)
	if err := s.outbox.Enqueue(ctx, d); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, testWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-wctx.Done():
			return d, nil
		case <-tick.C:
		}
		cur, err := s.store.DeliveryByID(wctx, d.ID)
		if err != nil {
			return d, nil
		}
		if cur.Attempts > 0 || cur.Status != store.DeliveryPending {
			return cur, nil
		}
	}
}

// Payload is the JSON body every webhook delivery carries.
type Payload struct {
	Version int `json:"version"`
	// ID names the event: the same for each webhook it goes to and on
	// every retry (receivers drop repeats by it).
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	OccurredAt time.Time `json:"occurred_at"`
	Server     Ref       `json:"server"`
	Data       any       `json:"data"`
}

// Ref names a server.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// payload encodes one event of srv, once for every webhook it goes to.
func payload(srv *store.Server, event string, data any) (string, error) {
	body, err := json.Marshal(Payload{Version: 1, ID: store.NewID(), Event: event, OccurredAt: time.Now().UTC(),
		Server: Ref{ID: srv.ID, Name: srv.Name}, Data: data})
	if err != nil {
		return "", fmt.Errorf("encode webhook payload: %w", err)
	}
	return string(body), nil
}

// delivery is body's delivery to w.
func delivery(w *store.Webhook, event, body string) *store.Delivery {
	wid := w.ID
	return &store.Delivery{Sink: SinkPrefix + w.ID, WebhookID: &wid, Event: event, Payload: body}
}

// emit hands an event to Run, which queues it for every enabled webhook
// of the server subscribed to it. Observers must not block: emit does not.
func (s *Service) emit(serverID, name string, data any) {
	s.mu.Lock()
	s.queue = append(s.queue, event{serverID: serverID, name: name, data: data})
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *Service) enqueue(ctx context.Context, serverID, event string, data any) error {
	ws, err := s.store.ListWebhooks(ctx, serverID)
	if err != nil || len(ws) == 0 {
		return err
	}
	ws = slices.DeleteFunc(ws, func(w *store.Webhook) bool {
		return !w.Enabled || !(slices.Contains(w.Events, event) || slices.Contains(w.Events, "*"))
	})
	if len(ws) == 0 {
		return nil
	}
	srv, err := s.store.ServerByID(ctx, serverID)
	if err != nil {
		return err
	}
	body, err := payload(srv, event, data)
	if err != nil {
		return err
	}
	ds := make([]*store.Delivery, len(ws))
	for i, w := range ws {
		ds[i] = delivery(w, event, body)
	}
	return s.outbox.Enqueue(ctx, ds...)
}

// stateData is the data of the server.* events.
type stateData struct {
	State         string `json:"state"`
	PreviousState string `json:"previous_state"`
	Reason        string `json:"reason,omitempty"`
	ExitCode      *int   `json:"exit_code,omitempty"`
	OOMKilled     bool   `json:"oom_killed,omitempty"`
	CrashLoop     bool   `json:"crash_loop,omitempty"`
}

// OnChange turns state changes into server.* events (a servers.Observer).
func (s *Service) OnChange(c servers.Change) {
	var event string
	switch {
	case c.To == store.StateCrashed:
		event = EventServerCrashed
	case c.To == store.StateInstallFailed:
		event = EventInstallFailed
	case c.From == store.StateInstalling && c.To == store.StateStopped:
		event = EventServerInstalled
	case c.To == store.StateRunning:
		event = EventServerStarted
	case c.To == store.StateStopped:
		event = EventServerStopped
	default:
		return
	}
	d := stateData{State: c.To, PreviousState: c.From, Reason: c.Reason, CrashLoop: c.CrashLoop}
	if c.Exit != nil {
		d.ExitCode, d.OOMKilled = c.Exit.Code, c.Exit.OOMKilled
	}
	s.emit(c.ServerID, event, d)
}

// OnOutcome turns backup and restore outcomes into events.
func (s *Service) OnOutcome(o backups.Outcome) {
	event := map[string]string{
		live.TypeBackupCompleted: EventBackupCompleted, live.TypeBackupFailed: EventBackupFailed,
		live.TypeRestoreCompleted: EventRestoreCompleted, live.TypeRestoreFailed: EventRestoreFailed,
	}[o.Type]
	if event == "" {
		return
	}
	s.emit(o.ServerID, event, struct {
		Backup backups.View `json:"backup"`
		Error  string       `json:"error,omitempty"`
	}{o.Backup, o.Error})
}

// OnTransfer turns transfers' outcomes into events.
func (s *Service) OnTransfer(e servers.TransferEvent) {
	switch e.Stage {
	case servers.TransferCompleted:
		s.emit(e.ServerID, EventTransferCompleted, e)
	case servers.TransferFailed:
		s.emit(e.ServerID, EventTransferFailed, e)
	}
}

// OnNotice turns alerts about a server into alert.* events.
func (s *Service) OnNotice(n alerts.Notice) {
	if n.Alert.ServerID == nil {
		return
	}
	event := EventAlertFiring
	if n.Status == plugin.StatusResolved {
		event = EventAlertResolved
	}
	s.emit(*n.Alert.ServerID, event, struct {
		Alert *store.Alert `json:"alert"`
	}{n.Alert})
}

// Sink sends webhook deliveries (an outbox.Sink).
type Sink struct{ s *Service }

var _ outbox.Sink = Sink{}

// Sink returns the outbox sink of the webhooks' deliveries.
func (s *Service) Sink() Sink { return Sink{s} }

// Send POSTs d to its webhook, signed with the webhook's secret. A
// disabled webhook fails the delivery for good.
func (k Sink) Send(ctx context.Context, d *store.Delivery) error {
	if d.WebhookID == nil {
		return plugin.PermanentError(errors.New("delivery names no webhook"))
	}
	w, err := k.s.store.WebhookByIDAny(ctx, *d.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return plugin.PermanentError(errors.New("the webhook was deleted"))
	}
	if err != nil {
		return err
	}
	if !w.Enabled && d.Event != EventTest {
		return plugin.PermanentError(errors.New("the webhook is disabled"))
	}
	return webhook.Send(ctx, k.s.client, webhook.Request{URL: w.URL, ID: d.ID, Body: []byte(d.Payload), Secret: []byte(w.Secret)})
}
