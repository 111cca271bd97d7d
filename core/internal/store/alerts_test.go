package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestAlertRulesStartWithTheDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		rules, err := s.ListAlertRules(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, r := range rules {
			types[r.Type] = true
			if r.CreatedAt.IsZero() || !r.Enabled || r.ServerID != nil {
				t.Errorf("default rule %+v", r)
			}
		}
		for _, want := range []string{"server_crashed", "crash_loop", "install_failed", "backup_failed", "transfer_failed", "node_offline"} {
			if !types[want] {
				t.Errorf("no default %s rule in %v", want, types)
			}
		}
	})
}

func TestAlertsOpenOncePerRuleAndTarget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}
		rule := &store.AlertRule{ServerID: &srv.ID, Name: "hot", Type: "cpu", Threshold: 90, ForSeconds: 30, Severity: "warning", Enabled: true}
		if err := s.CreateAlertRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
		if own, err := s.ListAlertRules(ctx, srv.ID); err != nil || len(own) != 1 || own[0].ID != rule.ID {
			t.Fatalf("server rules = %v, %v", own, err)
		}
		newAlert := func() *store.Alert {
			return &store.Alert{RuleID: &rule.ID, RuleName: rule.Name, Target: srv.ID, ServerID: &srv.ID, NodeID: &f.node.ID,
				Type: "cpu", Severity: "warning", Title: "CPU high"}
		}
		first := newAlert()
		if opened, err := s.OpenAlert(ctx, first, nil); err != nil || !opened {
			t.Fatalf("first OpenAlert = %v, %v", opened, err)
		}
		again := newAlert()
		opened, err := s.OpenAlert(ctx, again, nil)
		if err != nil || opened {
			t.Fatalf("second OpenAlert = %v, %v; want the open alert counted", opened, err)
		}
		if again.ID != first.ID || again.Occurrences != 2 {
			t.Fatalf("second OpenAlert returned %+v, want %s with 2 occurrences", again, first.ID)
		}

		got, err := s.ResolveAlert(ctx, rule.ID, srv.ID, "", nil)
		if err != nil || got.ID != first.ID || got.Status != store.AlertResolved || got.ResolvedAt == nil {
			t.Fatalf("ResolveAlert = %+v, %v", got, err)
		}
		if _, err := s.ResolveAlert(ctx, rule.ID, srv.ID, "", nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("resolving twice: %v, want ErrNotFound", err)
		}
		// Once resolved, the condition raises a new alert.
		third := newAlert()
		if opened, err := s.OpenAlert(ctx, third, nil); err != nil || !opened || third.ID == first.ID {
			t.Fatalf("OpenAlert after resolve = %v, %v (%s)", opened, err, third.ID)
		}
		notify := func(a *store.Alert) []*store.Delivery {
			return []*store.Delivery{{Sink: "discord", Event: "alert.resolved", Payload: `{"id":"` + a.ID + `"}`}}
		}
		byHand, err := s.ResolveAlertByID(ctx, third.ID, f.user.ID, notify)
		if err != nil || byHand.ResolvedBy != f.user.ID {
			t.Fatalf("ResolveAlertByID = %+v, %v", byHand, err)
		}
		if log, err := s.ListDeliveries(ctx, store.DeliveryFilter{Sink: "discord"}); err != nil || len(log) != 1 || log[0].Payload != `{"id":"`+third.ID+`"}` {
			t.Fatalf("the resolve's delivery: %v, %v", log, err)
		}
		list, err := s.ListAlerts(ctx, store.AlertFilter{ServerID: srv.ID, Status: store.AlertResolved})
		if err != nil || len(list) != 2 || list[0].ID != third.ID {
			t.Fatalf("ListAlerts = %v, %v", list, err)
		}
		if open, err := s.OpenAlerts(ctx); err != nil || len(open) != 0 {
			t.Fatalf("OpenAlerts = %v, %v", open, err)
		}
		// Deleting the rule keeps its alerts.
		if err := s.DeleteAlertRule(ctx, rule.ID); err != nil {
			t.Fatal(err)
		}
		if a, err := s.AlertByID(ctx, first.ID); err != nil || a.RuleID != nil || a.RuleName != "hot" {
			t.Fatalf("alert after its rule went: %+v, %v", a, err)
		}
	})
}

func TestDeliveriesAreLeasedOnceAndLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ds := []*store.Delivery{
			{Sink: "discord", Event: "alert.firing", Payload: `{"a":1}`},
			{Sink: "discord", Event: "alert.firing", Payload: `{"a":2}`},
			{Sink: "pager", Event: "alert.firing", Payload: `{"a":3}`},
		}
		if err := s.EnqueueDeliveries(ctx, ds); err != nil {
			t.Fatal(err)
		}
		due, err := s.DueSinks(ctx)
		if err != nil || len(due) != 2 {
			t.Fatalf("DueSinks = %v, %v", due, err)
		}
		got, err := s.ClaimDeliveries(ctx, "discord", 10, time.Minute)
		if err != nil || len(got) != 2 || got[0].ID != ds[0].ID || got[0].Payload != `{"a":1}` {
			t.Fatalf("claim = %v, %v", got, err)
		}
		if again, err := s.ClaimDeliveries(ctx, "discord", 10, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("leased deliveries claimed again: %v, %v", again, err)
		}

		// The first goes through at once; the second fails, then goes
		// through on its retry.
		got[0].Status = store.DeliveryDelivered
		if err := s.FinishDelivery(ctx, got[0], ""); err != nil {
			t.Fatal(err)
		}
		got[1].NextAttemptAt = time.Now().Add(-time.Second)
		if err := s.FinishDelivery(ctx, got[1], "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		retry, err := s.ClaimDeliveries(ctx, "discord", 10, time.Minute)
		if err != nil || len(retry) != 1 || retry[0].Attempts != 1 || retry[0].LastError != "HTTP 500" {
			t.Fatalf("retry claim = %+v, %v", retry, err)
		}
		retry[0].Status = store.DeliveryDelivered
		if err := s.FinishDelivery(ctx, retry[0], ""); err != nil {
			t.Fatal(err)
		}

		sts, err := s.SinkStatuses(ctx, false)
		if err != nil || len(sts) != 2 {
			t.Fatalf("SinkStatuses = %+v, %v", sts, err)
		}
		d := sts[0]
		if d.Sink != "discord" || d.Delivered != 2 || d.Pending != 0 || d.LastError != "HTTP 500" || d.LastErrorAt == nil || d.LastDeliveredAt == nil {
			t.Fatalf("discord status = %+v", d)
		}
		if p := sts[1]; p.Sink != "pager" || p.Pending != 1 || p.LastError != "" {
			t.Fatalf("pager status = %+v", p)
		}
		log, err := s.ListDeliveries(ctx, store.DeliveryFilter{Sink: "discord"})
		if err != nil || len(log) != 2 || log[0].ID != ds[1].ID || log[0].Attempts != 2 {
			t.Fatalf("ListDeliveries = %+v, %v", log, err)
		}
		n, err := s.DeleteDeliveriesBefore(ctx, time.Now().Add(time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("DeleteDeliveriesBefore = %d, %v; want the 2 delivered", n, err)
		}
	})
}

func TestWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}
		w := &store.Webhook{ServerID: srv.ID, URL: "https://example.com/hook", Events: []string{"server.crashed"}, Secret: "s3cret", Enabled: true}
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		w.Events = append(w.Events, "backup.completed")
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		got, err := s.WebhookByID(ctx, srv.ID, w.ID)
		if err != nil || len(got.Events) != 2 || got.Secret != "s3cret" {
			t.Fatalf("WebhookByID = %+v, %v", got, err)
		}
		if _, err := s.WebhookByID(ctx, "other", w.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("webhook of another server: %v", err)
		}
		wid := w.ID
		if err := s.EnqueueDeliveries(ctx, []*store.Delivery{{Sink: "webhook:" + wid, WebhookID: &wid, Event: "server.crashed", Payload: "{}"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWebhook(ctx, srv.ID, w.ID); err != nil {
			t.Fatal(err)
		}
		if log, err := s.ListDeliveries(ctx, store.DeliveryFilter{WebhookID: wid}); err != nil || len(log) != 0 {
			t.Fatalf("deliveries outlived their webhook: %v, %v", log, err)
		}
	})
}
