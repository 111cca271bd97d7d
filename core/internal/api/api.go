// Package api is the core's REST API: gin handlers under /api, one JSON
// envelope for answers ({"data": …}) and one for errors
// ({"error": {"code", "message"}}).
package api

import (
	"net/http"
	"time"

	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"
)

// API holds the handlers' dependencies.
type API struct {
	store   *store.Store
	log     hclog.Logger
	version string
}

// New returns the API's HTTP handler.
func New(s *store.Store, log hclog.Logger, version string) http.Handler {
	a := &API{store: s, log: log, version: version}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(a.logRequests, a.recoverPanics)
	r.NoRoute(func(c *gin.Context) {
		a.fail(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no route " + c.Request.Method + " " + c.Request.URL.Path})
	})
	r.NoMethod(func(c *gin.Context) {
		a.fail(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	api := r.Group("/api")
	api.GET("/health", a.health)
	return r
}

func (a *API) logRequests(c *gin.Context) {
	if !a.log.IsDebug() {
		c.Next()
		return
	}
	start := time.Now()
	c.Next()
	a.log.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration", time.Since(start), "ip", c.ClientIP())
}

func (a *API) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			a.log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			a.fail(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has details"})
		}
	}()
	c.Next()
}
