package api

import (
	"errors"
	"net/http"
	"slices"

	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/webhooks"
	"github.com/gin-gonic/gin"
)

// Alerts, alert rules, the delivery log and servers' webhooks (packages
// alerts, outbox and webhooks). Changes are audited as admin.alert_rule.*,
// admin.alert.resolve, admin.alert_sink.test and server.alert_rule.*,
// server.alert.resolve, server.webhook.*.

// sinkView is an alert sink and its outbox.
type sinkView struct {
	store.SinkStatus
	// Configured is false for a sink that has deliveries but is no longer
	// in the configuration.
	Configured bool `json:"configured"`
}

// alertFilter reads the alert list's filters.
func alertFilter(c *gin.Context) (store.AlertFilter, error) {
	limit, err := queryLimit(c)
	if err != nil {
		return store.AlertFilter{}, err
	}
	f := store.AlertFilter{Status: c.Query("status"), Severity: c.Query("severity"), Type: c.Query("type"),
		ServerID: c.Query("server"), NodeID: c.Query("node"), Before: c.Query("before"), Limit: limit}
	if f.Status != "" && f.Status != store.AlertOpen && f.Status != store.AlertResolved {
		return f, invalidField("status", "must be open or resolved")
	}
	if f.Severity != "" && !slices.Contains(alerts.Severities, f.Severity) {
		return f, invalidField("severity", "must be one of %v", alerts.Severities)
	}
	if f.Type != "" && !slices.Contains(alerts.Types, f.Type) {
		return f, invalidField("type", "must be one of %v", alerts.Types)
	}
	return f, nil
}

// --- admin ---

func (a *API) listAlertRules(c *gin.Context) {
	rs, err := a.Alerts.Rules(c.Request.Context(), "")
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, rs)
}

func (a *API) createAlertRule(c *gin.Context) {
	a.createRule(c, "", "admin.alert_rule.create")
}

func (a *API) updateAlertRule(c *gin.Context) {
	a.updateRule(c, "", "admin.alert_rule.update")
}

func (a *API) deleteAlertRule(c *gin.Context) {
	a.deleteRule(c, "", "admin.alert_rule.delete")
}

func (a *API) createRule(c *gin.Context, serverID, action string) {
	var spec alerts.RuleSpec
	if err := bind(c, &spec); err != nil {
		a.fail(c, err)
		return
	}
	r, err := a.Alerts.CreateRule(c.Request.Context(), serverID, spec)
	id := ""
	meta := map[string]any{}
	if r != nil {
		id, meta["name"], meta["type"] = r.ID, r.Name, r.Type
	}
	a.recordResult(c, action, "alert_rule", id, serverID, err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusCreated, r)
}

func (a *API) updateRule(c *gin.Context, serverID, action string) {
	var spec alerts.RuleSpec
	if err := bind(c, &spec); err != nil {
		a.fail(c, err)
		return
	}
	r, err := a.Alerts.UpdateRule(c.Request.Context(), serverID, c.Param("rid"), principalOf(c).UserID, spec)
	a.recordResult(c, action, "alert_rule", c.Param("rid"), serverID, err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, r)
}

func (a *API) deleteRule(c *gin.Context, serverID, action string) {
	err := a.Alerts.DeleteRule(c.Request.Context(), serverID, c.Param("rid"), principalOf(c).UserID)
	a.recordResult(c, action, "alert_rule", c.Param("rid"), serverID, err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) listAlerts(c *gin.Context) {
	f, err := alertFilter(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	as, err := a.Alerts.Alerts(c.Request.Context(), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, as)
}

func (a *API) resolveAlert(c *gin.Context) {
	al, err := a.Alerts.Resolve(c.Request.Context(), c.Param("aid"), principalOf(c).UserID)
	a.recordResult(c, "admin.alert.resolve", "alert", c.Param("aid"), "", err, nil)
	if err != nil {
		a.fail(c, alreadyResolved(err))
		return
	}
	respond(c, http.StatusOK, al)
}

// alreadyResolved says so when resolving an alert that is not open.
func alreadyResolved(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no open alert with this ID (it may be resolved already)"}
	}
	return err
}

func (a *API) listAlertSinks(c *gin.Context) {
	sts, err := a.Store.SinkStatuses(c.Request.Context(), false)
	if err != nil {
		a.fail(c, err)
		return
	}
	configured := a.Alerts.Sinks()
	out := make([]sinkView, 0, len(sts)+len(configured))
	for _, st := range sts {
		out = append(out, sinkView{SinkStatus: st, Configured: slices.Contains(configured, st.Sink)})
	}
	for _, name := range configured {
		if !slices.ContainsFunc(sts, func(st store.SinkStatus) bool { return st.Sink == name }) {
			out = append(out, sinkView{SinkStatus: store.SinkStatus{Sink: name}, Configured: true})
		}
	}
	respond(c, http.StatusOK, out)
}

func (a *API) testAlertSink(c *gin.Context) {
	d, err := a.Alerts.TestSink(c.Request.Context(), c.Param("sink"), principalOf(c).UserID)
	a.recordResult(c, "admin.alert_sink.test", "alert_sink", c.Param("sink"), "", err, nil)
	if errors.Is(err, alerts.ErrUnknownSink) {
		err = &Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusAccepted, d)
}

func (a *API) listDeliveries(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	f := store.DeliveryFilter{Sink: c.Query("sink"), Status: c.Query("status"), Before: c.Query("before"), Limit: limit}
	if f.Status != "" && !slices.Contains([]string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed}, f.Status) {
		a.fail(c, invalidField("status", "must be pending, delivered or failed"))
		return
	}
	ds, err := a.Store.ListDeliveries(c.Request.Context(), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, ds)
}

// --- a server's ---

func (a *API) listServerAlerts(c *gin.Context) {
	f, err := alertFilter(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	f.ServerID, f.NodeID = serverOf(c).ID, ""
	as, err := a.Alerts.Alerts(c.Request.Context(), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, as)
}

func (a *API) resolveServerAlert(c *gin.Context) {
	srv := serverOf(c)
	cur, err := a.Alerts.Alert(c.Request.Context(), c.Param("aid"))
	if err == nil && (cur.ServerID == nil || *cur.ServerID != srv.ID) {
		err = store.ErrNotFound
	}
	var al *store.Alert
	if err == nil {
		al, err = a.Alerts.Resolve(c.Request.Context(), cur.ID, principalOf(c).UserID)
	}
	a.serverAudit(c, "server.alert.resolve", srv.ID, err, map[string]any{"alert_id": c.Param("aid")})
	if err != nil {
		a.fail(c, alreadyResolved(err))
		return
	}
	respond(c, http.StatusOK, al)
}

func (a *API) listServerAlertRules(c *gin.Context) {
	rs, err := a.Alerts.Rules(c.Request.Context(), serverOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, rs)
}

func (a *API) createServerAlertRule(c *gin.Context) {
	a.createRule(c, serverOf(c).ID, "server.alert_rule.create")
}

func (a *API) updateServerAlertRule(c *gin.Context) {
	a.updateRule(c, serverOf(c).ID, "server.alert_rule.update")
}

func (a *API) deleteServerAlertRule(c *gin.Context) {
	a.deleteRule(c, serverOf(c).ID, "server.alert_rule.delete")
}

func (a *API) listWebhooks(c *gin.Context) {
	ws, err := a.Webhooks.List(c.Request.Context(), serverOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, ws)
}

func (a *API) createWebhook(c *gin.Context) {
	var spec webhooks.Spec
	if err := bind(c, &spec); err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	w, err := a.Webhooks.Create(c.Request.Context(), srv.ID, spec)
	meta := map[string]any{}
	if w != nil {
		meta["webhook_id"], meta["events"] = w.ID, w.Events
	}
	a.serverAudit(c, "server.webhook.create", srv.ID, err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusCreated, w)
}

func (a *API) updateWebhook(c *gin.Context) {
	var spec webhooks.Spec
	if err := bind(c, &spec); err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	w, err := a.Webhooks.Update(c.Request.Context(), srv.ID, c.Param("wid"), spec)
	a.serverAudit(c, "server.webhook.update", srv.ID, err, map[string]any{"webhook_id": c.Param("wid"), "secret_rotated": w != nil && w.Secret != ""})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, w)
}

func (a *API) deleteWebhook(c *gin.Context) {
	srv := serverOf(c)
	err := a.Webhooks.Delete(c.Request.Context(), srv.ID, c.Param("wid"))
	a.serverAudit(c, "server.webhook.delete", srv.ID, err, map[string]any{"webhook_id": c.Param("wid")})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) testWebhook(c *gin.Context) {
	srv := serverOf(c)
	d, err := a.Webhooks.Test(c.Request.Context(), srv.ID, c.Param("wid"))
	a.serverAudit(c, "server.webhook.test", srv.ID, err, map[string]any{"webhook_id": c.Param("wid")})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, d)
}

func (a *API) webhookDeliveries(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	ds, err := a.Webhooks.Deliveries(c.Request.Context(), serverOf(c).ID, c.Param("wid"), limit)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, ds)
}
