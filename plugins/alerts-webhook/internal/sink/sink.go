// Package sink is the alerts-webhook plugin's alert sink: each alert is
// POSTed as a versioned JSON document (Payload) to one URL, signed with
// the SDK's webhook package exactly as the core signs the webhooks it
// sends itself.
package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/webhook"
)

// Version is reported by Info.
const Version = "1.0.0"

// Sink is a plugin.AlertSink that POSTs alerts to a webhook.
type Sink struct {
	log hclog.Logger

	mu  sync.RWMutex
	cfg *settings // nil until Configure
}

var _ plugin.AlertSink = (*Sink)(nil)

// New returns an unconfigured sink that logs to log.
func New(log hclog.Logger) *Sink { return &Sink{log: log} }

// config is the config block as the host sends it.
type config struct {
	URL                string            `json:"url"`
	Secret             string            `json:"secret"`
	Headers            map[string]string `json:"headers"`
	Timeout            string            `json:"timeout"`
	CAFile             string            `json:"ca_file"`
	InsecureSkipVerify bool              `json:"insecure_skip_verify"`
}

// settings is a checked configuration, ready to deliver with.
type settings struct {
	url     string
	secret  []byte
	headers map[string]string
	client  *http.Client
}

func (s *Sink) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "alerts-webhook", Kind: plugin.KindAlertSink, Version: Version}, nil
}

func (s *Sink) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{
			Name: "url", Type: plugin.TypeString, Required: true, Sensitive: true,
			Description: "http(s) URL each alert is POSTed to. Sensitive because such URLs often carry a token.",
		},
		{
			Name: "secret", Type: plugin.TypeString, Sensitive: true,
			Description: "Key of the HMAC-SHA256 signature in the Catalyst-Webhook-Signature header. " +
				"Empty sends deliveries unsigned, which receivers cannot tell from forgeries.",
		},
		{
			Name: "headers", Type: plugin.TypeMapString, Sensitive: true,
			Description: "Extra request headers, e.g. Authorization. Content-Type and the Catalyst-Webhook-* headers cannot be overridden.",
		},
		{
			Name: "timeout", Type: plugin.TypeString, Default: "10s",
			Description: "Limit on one delivery attempt, connecting to reading the answer (a Go duration such as 10s).",
		},
		{
			Name: "ca_file", Type: plugin.TypeString,
			Description: "PEM file of extra root certificates to trust beside the system's, for a receiver behind a private CA.",
		},
		{
			Name: "insecure_skip_verify", Type: plugin.TypeBool, Default: false,
			Description: "Accept any TLS certificate. For testing only: anyone on the path can then read and alter deliveries.",
		},
	}}, nil
}

// Configure checks the configuration and builds the HTTP client; the
// previous configuration stays in force when it fails.
func (s *Sink) Configure(_ context.Context, raw plugin.Config) error {
	var c config
	if err := raw.Decode(&c); err != nil {
		return fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	if err := webhook.CheckURL(c.URL); err != nil {
		return fmt.Errorf("config: url: %w", err)
	}
	if err := webhook.CheckHeaders(c.Headers); err != nil {
		return fmt.Errorf("config: headers: %w", err)
	}
	timeout, err := time.ParseDuration(c.Timeout)
	if err != nil || timeout <= 0 {
		return fmt.Errorf("config: timeout %q is not a positive duration such as \"10s\": %w", c.Timeout, plugin.ErrInvalidArgument)
	}
	client, err := webhook.NewClient(webhook.ClientOptions{
		Timeout:            timeout,
		CAFile:             c.CAFile,
		InsecureSkipVerify: c.InsecureSkipVerify,
	})
	if err != nil {
		return fmt.Errorf("config: ca_file: %w: %w", err, plugin.ErrInvalidArgument)
	}

	if c.Secret == "" {
		s.log.Warn("no secret configured: deliveries are unsigned and receivers cannot tell them from forgeries")
	}
	if c.InsecureSkipVerify {
		s.log.Warn("insecure_skip_verify is on: the receiver's TLS certificate is not checked")
	}
	next := &settings{url: c.URL, secret: []byte(c.Secret), headers: c.Headers, client: client}
	s.mu.Lock()
	prev := s.cfg
	s.cfg = next
	s.mu.Unlock()
	if prev != nil {
		// Deliveries in flight keep their connections; idle ones to a
		// receiver no longer configured would linger until they time out.
		prev.client.CloseIdleConnections()
	}
	return nil
}

// Deliver POSTs the alert's payload, with the alert's ID as delivery ID
// so the receiver can drop the repeats of a retried alert.
func (s *Sink) Deliver(ctx context.Context, a plugin.Alert) error {
	s.mu.RLock()
	cfg := s.cfg
	s.mu.RUnlock()
	if cfg == nil {
		return errors.New("alerts-webhook is not configured")
	}
	p, err := NewPayload(a, time.Now())
	if err != nil {
		return plugin.PermanentError(err)
	}
	body, err := p.Encode()
	if err != nil {
		return plugin.PermanentError(err)
	}
	return webhook.Send(ctx, cfg.client, webhook.Request{
		URL:     cfg.url,
		ID:      a.ID,
		Body:    body,
		Secret:  cfg.secret,
		Headers: cfg.headers,
	})
}
