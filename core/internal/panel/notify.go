package panel

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/webhooks"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/webhook"
	"github.com/hashicorp/go-hclog"
)

// notifier is the alerts, the servers' webhooks and the outbox that
// delivers for both, running until stop.
type notifier struct {
	alerts   *alerts.Service
	webhooks *webhooks.Service
	outbox   *outbox.Outbox

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startNotifications checks the alert routes against the plugins that
// started, loads the alert rules and starts delivering. Its observers
// must be registered before agents connect.
func startNotifications(ctx context.Context, s *store.Store, cfg *config.Config, plugins *host.Host, pub alerts.Publisher, log hclog.Logger) (*notifier, error) {
	sinks := plugins.Names(plugin.KindAlertSink)
	for _, r := range cfg.Alerts.Routes {
		for _, name := range r.Sinks {
			if !slices.Contains(sinks, name) {
				have := "none"
				if len(sinks) > 0 {
					have = strings.Join(sinks, ", ")
				}
				return nil, fmt.Errorf("%s: alerts route: plugin %q is not an alert_sink plugin (alert sinks: %s)", r.DefRange, name, have)
			}
		}
	}
	a := cfg.Alerts
	client, err := webhook.NewClient(webhook.ClientOptions{
		Timeout: config.Duration(a.WebhookTimeout), DenyPrivate: !a.WebhookAllowPrivate,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook client: %w", err)
	}
	n := &notifier{}
	n.outbox = outbox.New(s, n.sink(plugins), log.Named("outbox"), outbox.Options{
		MinBackoff: config.Duration(a.MinBackoff), MaxBackoff: config.Duration(a.MaxBackoff),
		MaxAge: config.Duration(a.GiveUpAfter), AttemptTimeout: config.Duration(a.AttemptTimeout),
		Retention: config.Duration(a.LogRetention),
	})
	n.webhooks = webhooks.New(s, n.outbox, client, log.Named("webhooks"))
	n.alerts = alerts.New(s, pub, n.outbox, log.Named("alerts"), alerts.Options{
		PublicURL: cfg.PublicURL, Routes: alerts.RoutesFrom(a, sinks), Sinks: sinks,
		ResolvedRetention: config.Duration(a.ResolvedRetention),
	})
	n.alerts.OnNotice(n.webhooks.OnNotice)
	if err := n.alerts.Start(ctx); err != nil {
		return nil, err
	}
	// The workers outlive ctx until stop, so that the shutdown order is
	// the caller's (deferred) choice.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	for _, run := range []func(context.Context){n.outbox.Run, n.webhooks.Run, n.alerts.Run} {
		n.wg.Go(func() { run(rctx) })
	}
	return n, nil
}

// sink finds the outbox sink a delivery names: a server's webhook, or an
// alert sink plugin.
func (n *notifier) sink(plugins *host.Host) outbox.Sinks {
	return func(name string) (outbox.Sink, error) {
		if strings.HasPrefix(name, webhooks.SinkPrefix) {
			return n.webhooks.Sink(), nil
		}
		as, err := plugins.AlertSink(name)
		if err != nil {
			return nil, fmt.Errorf("alert sink %q is not configured any more: %w", name, err)
		}
		return alerts.PluginSink{Sink: as}, nil
	}
}

// stop ends the workers, after the attempts under way.
func (n *notifier) stop() {
	n.cancel()
	n.wg.Wait()
}
