package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type healthReport struct {
	Status   string         `json:"status"`
	Version  string         `json:"version"`
	Database databaseHealth `json:"database"`
}

type databaseHealth struct {
	Driver    string  `json:"driver"`
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
}

// health answers 200 with the database's state when it answers a query
// within two seconds, and 503 with the reason otherwise, so a load balancer
// takes a core without its database out of rotation.
func (a *API) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := a.Store.Ping(ctx); err != nil {
		a.Log.Warn("health check: database unavailable", "error", err)
		a.fail(c, &Error{Status: http.StatusServiceUnavailable, Code: "database_unavailable",
			Message: "the " + a.Store.Driver() + " database does not answer"})
		return
	}
	respond(c, http.StatusOK, healthReport{
		Status:  "ok",
		Version: a.Version,
		Database: databaseHealth{
			Driver:    a.Store.Driver(),
			Status:    "ok",
			LatencyMS: float64(time.Since(start).Microseconds()) / 1000,
		},
	})
}
