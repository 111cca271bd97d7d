// Package api is the core's REST API: gin handlers under /api, one JSON
// envelope for answers ({"data": …}) and one for errors
// ({"error": {"code", "message", "request_id"}}).
//
// Every route is declared once in routes(): method, path, who may call it
// and what it takes and returns. From that table come the gin routes, the
// one authorization middleware, and the OpenAPI document.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/schedules"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/webhooks"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"
)

// Deps are the API's collaborators.
type Deps struct {
	Store    *store.Store
	Auth     *auth.Service
	Accounts *accounts.Service
	Audit    *audit.Recorder
	Nodes    *nodes.Service
	Gateway  *gateway.Gateway
	Servers  *servers.Service
	// Backups runs backups and restores; the power routes ask it whether
	// a server may start.
	Backups *backups.Service
	// Live is the hub of server sockets.
	Live    *live.Hub
	Plugins PluginHost
	Config  *config.Config
	Log     hclog.Logger
	Version string

	// Metrics holds the latest stats samples; Prometheus serves /metrics
	// and records request latency.
	Metrics    *metrics.Recorder
	Prometheus *metrics.Exporter

	// SFTP closes SFTP sessions that lost their access; nil closes none.
	SFTP SFTPRevoker

	// Alerts keeps alert rules and alerts; Webhooks, servers' webhooks.
	Alerts   *alerts.Service
	Webhooks *webhooks.Service
	// Schedules keeps servers' schedules and runs them.
	Schedules *schedules.Service

	// Web serves the web UI: every GET and HEAD outside /api and /metrics
	// that no route takes. Nil serves no UI.
	Web http.Handler
}

// PluginHost is what the API needs of the plugin host; *host.Host is one.
type PluginHost interface {
	Status() []host.Status
	// TemplateSource returns the template_source plugin called name.
	TemplateSource(name string) (plugin.TemplateSource, error)
}

// API holds the handlers and their dependencies.
type API struct {
	Deps

	limits       map[string]*groupLimiter
	loginLimiter *keyedLimiter
	tickets      tickets
	table        []route
	engine       *gin.Engine
	// openAPIJSON is the OpenAPI document, built from table on first use.
	openAPIJSON func() ([]byte, error)
}

// New builds the API and its router.
func New(d Deps) (*API, error) {
	if d.Metrics == nil || d.Prometheus == nil {
		return nil, errors.New("api: Deps.Metrics and Deps.Prometheus are required")
	}
	a := &API{Deps: d, limits: map[string]*groupLimiter{}}
	for _, g := range config.RateLimitGroups {
		rl := d.Config.RateLimitFor(g)
		a.limits[g] = newGroupLimiter(rl.PerUser, rl.PerIP)
	}
	a.loginLimiter = newKeyedLimiter(d.Config.Auth.LoginAttemptsPerMinute)

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(d.Config.HTTP.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	// Body limits are per route (see chain): an image upload may be far
	// larger than any JSON body.
	r.Use(a.requestID, a.observeLatency, a.recoverPanics, a.logRequests, a.securityHeaders, a.cors)
	r.NoRoute(func(c *gin.Context) {
		if a.Web != nil && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && !isAPIPath(c.Request.URL.Path) {
			a.Web.ServeHTTP(c.Writer, c.Request)
			// Sends the UI's status now, so that gin does not take a
			// bodiless 404 (HEAD) for its own and write its default page.
			c.Writer.WriteHeaderNow()
			return
		}
		a.fail(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no route " + c.Request.Method + " " + c.Request.URL.Path})
	})
	r.NoMethod(func(c *gin.Context) {
		a.fail(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	a.table = a.routes()
	a.openAPIJSON = sync.OnceValues(func() ([]byte, error) { return json.Marshal(a.openAPIDocument()) })
	for _, rt := range a.table {
		r.Handle(rt.Method, rt.Path, a.chain(rt)...)
	}
	a.engine = r
	return a, nil
}

// ServeHTTP makes the API an http.Handler. PathMetrics is served beside
// the router (see serveMetrics).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathMetrics {
		a.serveMetrics(w, r)
		return
	}
	a.engine.ServeHTTP(w, r)
}

// isAPIPath reports whether p belongs to the API rather than the UI: an
// unknown path there is the API's JSON 404, never the UI's page.
func isAPIPath(p string) bool {
	for _, prefix := range []string{"/api", PathMetrics} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

func (a *API) logRequests(c *gin.Context) {
	if !a.Log.IsDebug() {
		c.Next()
		return
	}
	start := time.Now()
	c.Next()
	a.Log.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration", time.Since(start), "ip", c.ClientIP(), "request_id", requestIDOf(c))
}

func (a *API) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			a.Log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v, "request_id", requestIDOf(c))
			a.fail(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has details"})
		}
	}()
	c.Next()
}
