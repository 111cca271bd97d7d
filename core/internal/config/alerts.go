package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Alerts tunes alert routing and the delivery of notifications (to alert
// sink plugins and servers' webhooks).
type Alerts struct {
	// Routes say which alert sinks get which alerts. With none, every
	// alert_sink plugin gets every alert of the admin-wide rules.
	Routes []*AlertRoute `hcl:"route,block"`

	// MinBackoff is the wait after a delivery's first failed attempt; it
	// doubles with each further failure up to MaxBackoff. A sink's own
	// retry hint (HTTP 429) is honoured when longer.
	MinBackoff string `hcl:"min_backoff,optional"`
	MaxBackoff string `hcl:"max_backoff,optional"`
	// GiveUpAfter is how long a delivery is retried before it fails for
	// good.
	GiveUpAfter string `hcl:"give_up_after,optional"`
	// AttemptTimeout bounds one delivery attempt.
	AttemptTimeout string `hcl:"attempt_timeout,optional"`
	// LogRetention is how long delivered and failed deliveries stay in the
	// delivery log; ResolvedRetention, how long resolved alerts are kept.
	LogRetention      string `hcl:"log_retention,optional"`
	ResolvedRetention string `hcl:"resolved_retention,optional"`

	// WebhookTimeout bounds one POST to a server's webhook.
	WebhookTimeout string `hcl:"webhook_timeout,optional"`
	// WebhookAllowPrivate lets servers' webhooks reach loopback, private
	// and link-local addresses. Off, a user cannot point a webhook at the
	// core's own network (the cloud metadata service, the database).
	WebhookAllowPrivate bool `hcl:"webhook_allow_private,optional"`

	Body hcl.Body `hcl:",body"`
}

// AlertRoute sends the alerts it matches to its sinks.
type AlertRoute struct {
	// Sinks are alert_sink plugin names.
	Sinks []string `hcl:"sinks"`
	// Severities and Types narrow the route; empty matches all.
	Severities []string `hcl:"severities,optional"`
	Types      []string `hcl:"types,optional"`
	// ServerRules includes the alerts of servers' own rules; by default a
	// route carries the admin-wide rules' alerts only (a server owner's
	// rules notify through the server's webhooks).
	ServerRules bool `hcl:"server_rules,optional"`
	// SendResolved also sends a notification when an alert resolves.
	// Nil until defaults are applied (true).
	SendResolved *bool `hcl:"send_resolved,optional"`

	DefRange hcl.Range `hcl:",def_range"`
	Body     hcl.Body  `hcl:",body"`
}

// AlertSeverities and AlertTypes are the values routes may name; the
// alerts package, whose rules have them, takes its lists from here.
var (
	AlertSeverities = []string{"info", "warning", "critical"}
	AlertTypes      = []string{"cpu", "memory", "disk", "node_offline", "server_crashed", "crash_loop",
		"install_failed", "backup_failed", "transfer_failed"}
)

func (a *Alerts) applyDefaults() {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&a.MinBackoff, "1s")
	set(&a.MaxBackoff, "5m")
	set(&a.GiveUpAfter, "24h")
	set(&a.AttemptTimeout, "30s")
	set(&a.LogRetention, "168h")
	set(&a.ResolvedRetention, "2160h")
	set(&a.WebhookTimeout, "10s")
	for _, r := range a.Routes {
		if r.SendResolved == nil {
			t := true
			r.SendResolved = &t
		}
	}
}

// Duration returns one of the block's durations, parsed (validated
// already).
func Duration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

func (a *Alerts) validate(plugins []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	minB := checkDuration(&diags, a.Body, "min_backoff", a.MinBackoff, `"1s"`)
	maxB := checkDuration(&diags, a.Body, "max_backoff", a.MaxBackoff, `"5m"`)
	if minB > 0 && maxB > 0 && maxB < minB {
		diags = append(diags, attrError(a.Body, "max_backoff", "max_backoff below min_backoff",
			fmt.Sprintf("max_backoff (%s) must be at least min_backoff (%s).", maxB, minB)))
	}
	checkDuration(&diags, a.Body, "give_up_after", a.GiveUpAfter, `"24h"`)
	checkDuration(&diags, a.Body, "attempt_timeout", a.AttemptTimeout, `"30s"`)
	checkDuration(&diags, a.Body, "log_retention", a.LogRetention, `"168h"`)
	checkDuration(&diags, a.Body, "resolved_retention", a.ResolvedRetention, `"2160h"`)
	checkDuration(&diags, a.Body, "webhook_timeout", a.WebhookTimeout, `"10s"`)
	for _, r := range a.Routes {
		if len(r.Sinks) == 0 {
			diags = append(diags, attrError(r.Body, "sinks", "Route without sinks",
				"sinks names the alert_sink plugins this route sends to, e.g. sinks = [\"discord\"]."))
		}
		for _, s := range r.Sinks {
			if !slices.Contains(plugins, s) {
				diags = append(diags, attrError(r.Body, "sinks", "Unknown alert sink",
					fmt.Sprintf("%q is not a plugin declared in this configuration (plugin blocks: %s).", s, listOrNone(plugins))))
			}
		}
		for _, s := range r.Severities {
			if !slices.Contains(AlertSeverities, s) {
				diags = append(diags, attrError(r.Body, "severities", "Unknown severity",
					fmt.Sprintf("%q: the severities are %s.", s, strings.Join(AlertSeverities, ", "))))
			}
		}
		for _, t := range r.Types {
			if !slices.Contains(AlertTypes, t) {
				diags = append(diags, attrError(r.Body, "types", "Unknown alert type",
					fmt.Sprintf("%q: the types are %s.", t, strings.Join(AlertTypes, ", "))))
			}
		}
	}
	return diags
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
