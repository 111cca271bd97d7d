// Package discord is the alerts-discord plugin's sink: each alert becomes
// one embed posted to a Discord webhook, cut to Discord's limits, with
// Discord's rate limits turned into retry hints for the host's outbox.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// Version is reported by Info and in the User-Agent.
const Version = "1.0.0"

// Redelivered alerts are recognised for dedupWindow, among the last
// dedupSize delivered.
const (
	dedupWindow = 10 * time.Minute
	dedupSize   = 1024
)

// maxResponse is how much of a response is read: Discord's answers (the
// message, an error) are a few KiB.
const maxResponse = 64 << 10

// Sink is a plugin.AlertSink posting to a Discord webhook.
type Sink struct {
	log    hclog.Logger
	client *http.Client
	now    func() time.Time
	limits *limits
	recent *recent

	mu  sync.RWMutex
	cfg *settings // nil until Configure
}

var _ plugin.AlertSink = (*Sink)(nil)

// New returns an unconfigured sink that logs to log.
func New(log hclog.Logger) *Sink {
	return &Sink{
		log: log,
		client: &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			// A redirected POST turns into a GET and loses the message;
			// Discord does not redirect webhooks, so report it instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:    time.Now,
		limits: newLimits(),
		recent: newRecent(dedupSize, dedupWindow),
	}
}

func (s *Sink) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "alerts-discord", Kind: plugin.KindAlertSink, Version: Version}, nil
}

func (s *Sink) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{
			Name: "webhook_url", Type: plugin.TypeString, Required: true, Sensitive: true,
			Description: "The channel's webhook URL (Server Settings → Integrations → Webhooks → Copy Webhook URL), " +
				"https://discord.com/api/webhooks/<id>/<token>. It holds the token: keep it secret.",
		},
		{
			Name:        "username",
			Type:        plugin.TypeString,
			Description: "Name the messages are posted under instead of the webhook's own (1 to 80 characters).",
		},
		{
			Name:        "avatar_url",
			Type:        plugin.TypeString,
			Description: "URL of the avatar image the messages are posted with instead of the webhook's own.",
		},
		{
			Name: "mention", Type: plugin.TypeString,
			Description: "Mentions put before critical alerts when they fire, e.g. \"<@&role-id>\", \"<@user-id>\" or \"@here\"; " +
				"several are separated by spaces. Nothing else in a message pings anyone.",
		},
		{
			Name: "timeout", Type: plugin.TypeString, Default: "10s",
			Description: "How long one delivery may take (a Go duration such as 10s); a delivery that takes longer is retried.",
		},
		{
			Name: "allow_insecure_url", Type: plugin.TypeBool, Default: false,
			Description: "Accept an http:// webhook_url, for tests and proxies on a trusted network. The token then travels in clear.",
		},
	}}, nil
}

// Configure checks the configuration. It keeps what the sink learnt of
// Discord's rate limits and of delivered alerts: both are kept per webhook.
func (s *Sink) Configure(_ context.Context, raw plugin.Config) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg = &cfg
	s.mu.Unlock()
	s.log.Info("configured", "webhook", cfg.redacted, "mention", cfg.style.mention != "", "timeout", cfg.timeout)
	return nil
}

func (s *Sink) settings() (*settings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cfg == nil {
		return nil, fmt.Errorf("alerts-discord is not configured: %w", plugin.ErrUnavailable)
	}
	return s.cfg, nil
}

// Deliver posts a as one message. Failures come back as
// plugin.RetryableError (rate limits with Discord's wait, server and
// network errors) or plugin.PermanentError (the webhook is gone, the
// message was refused).
func (s *Sink) Deliver(ctx context.Context, a plugin.Alert) error {
	cfg, err := s.settings()
	if err != nil {
		return err
	}
	// The same alert for another webhook is another delivery.
	key := cfg.endpoint + "\x00" + a.ID
	if a.ID != "" && s.recent.seen(key, s.now()) {
		s.log.Debug("alert already delivered; not posting it again", "alert", a.ID)
		return nil
	}
	if wait := s.limits.reserve(cfg.endpoint, s.now()); wait > 0 {
		return plugin.RetryableError(fmt.Errorf("discord webhook %s: rate limit reached, holding off for %s: %w",
			cfg.redacted, wait.Round(time.Millisecond), plugin.ErrUnavailable), wait)
	}
	body, err := json.Marshal(newMessage(a, cfg.style))
	if err != nil {
		return plugin.PermanentError(fmt.Errorf("encode message for alert %s: %w", a.ID, err))
	}
	status, header, reply, err := s.post(ctx, cfg, body)
	if err != nil {
		return plugin.RetryableError(fmt.Errorf("discord webhook %s: %w: %w", cfg.redacted, err, plugin.ErrUnavailable), 0)
	}
	now := s.now()
	s.limits.observe(cfg.endpoint, header, now)
	if err := s.outcome(cfg, status, header, reply, now); err != nil {
		return err
	}
	if a.ID != "" {
		s.recent.add(key, now)
	}
	return nil
}

// post sends one message and returns Discord's answer. Its errors never
// contain the endpoint, which holds the webhook's token.
func (s *Sink) post(ctx context.Context, cfg *settings, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", scrub(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "catalyst-alerts-discord/"+Version)
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, nil, nil, fmt.Errorf("no answer within %s (see timeout): %w", cfg.timeout, scrub(err))
		}
		return 0, nil, nil, scrub(err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && resp.StatusCode/100 != 2 {
		// Without the body a failure still has its status and headers;
		// a success is a success once Discord has answered 2xx.
		s.log.Debug("reading Discord's answer failed", "status", resp.StatusCode, "error", scrub(err))
	}
	return resp.StatusCode, resp.Header, reply, nil
}

// outcome turns Discord's answer into Deliver's result.
func (s *Sink) outcome(cfg *settings, status int, h http.Header, reply []byte, now time.Time) error {
	switch {
	case status/100 == 2:
		return nil
	case status == http.StatusTooManyRequests:
		rl := parse429(reply, h, now)
		s.limits.block(cfg.endpoint, rl.global, rl.wait, now)
		scope := "this webhook's"
		if rl.global {
			scope = "the global"
		}
		after := ""
		if rl.wait > 0 {
			after = fmt.Sprintf(" (retry after %s)", rl.wait.Round(time.Millisecond))
		}
		return plugin.RetryableError(fmt.Errorf("discord webhook %s: HTTP 429, %s rate limit reached%s: %w",
			cfg.redacted, scope, after, plugin.ErrUnavailable), rl.wait)
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		sentinel := plugin.ErrPermissionDenied
		if status == http.StatusNotFound {
			sentinel = plugin.ErrNotFound
		}
		return plugin.PermanentError(fmt.Errorf("discord webhook %s: HTTP %d%s: the webhook URL is invalid or the webhook was deleted; check webhook_url: %w",
			cfg.redacted, status, discordError(reply), sentinel))
	case status >= 500 || status == http.StatusRequestTimeout:
		return plugin.RetryableError(fmt.Errorf("discord webhook %s: HTTP %d%s: %w",
			cfg.redacted, status, discordError(reply), plugin.ErrUnavailable), retryAfter(h, now))
	case status == http.StatusBadRequest:
		return plugin.PermanentError(fmt.Errorf("discord webhook %s: HTTP 400, Discord refused the message%s: %w",
			cfg.redacted, discordError(reply), plugin.ErrInvalidArgument))
	}
	return plugin.PermanentError(fmt.Errorf("discord webhook %s: unexpected HTTP %d%s: %w",
		cfg.redacted, status, discordError(reply), plugin.ErrInvalidArgument))
}

// maxErrorDetail bounds how much of Discord's error is repeated.
const maxErrorDetail = 512

// discordError summarises Discord's JSON error body ({"code", "message",
// "errors"}) as ": message (code N): errors", or "" when there is none.
func discordError(reply []byte) string {
	var e struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(reply, &e) != nil || e.Message == "" {
		return ""
	}
	detail := ": " + e.Message
	if e.Code != 0 {
		detail += fmt.Sprintf(" (code %d)", e.Code)
	}
	if len(e.Errors) > 0 {
		var compact bytes.Buffer
		if json.Compact(&compact, e.Errors) == nil {
			detail += ": " + compact.String()
		}
	}
	return cutBytes(detail, maxErrorDetail)
}

// cutBytes shortens s to at most n bytes on a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

// scrub drops the request URL, and with it the webhook's token, from an
// error of the HTTP client.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
