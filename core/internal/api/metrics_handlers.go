package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

// Bounds of a history request.
const (
	defaultHistoryHours = 24
	maxHistoryHours     = 720
	minHistoryStep      = 30 * time.Second
	maxHistoryPoints    = 5000
	// targetHistoryPoints is what the default step aims for: enough for a
	// smooth graph, little enough to send.
	targetHistoryPoints = 300
)

type serverStats struct {
	ServerID string `json:"server_id"`
	State    string `json:"state"`
	// Sample is the latest sample while the server's node is connected
	// (zeros but disk use for a stopped server); null otherwise.
	Sample *wire.ServerStats `json:"sample"`
}

type nodeStats struct {
	NodeID string `json:"node_id"`
	Online bool   `json:"online"`
	// Sample is the latest health report while the node is connected.
	Sample *wire.NodeHealth `json:"sample"`
}

type serverHistory struct {
	ServerID    string                    `json:"server_id"`
	From        time.Time                 `json:"from"`
	To          time.Time                 `json:"to"`
	StepSeconds int64                     `json:"step_seconds"`
	Points      []store.ServerMetricPoint `json:"points"`
}

type nodeHistory struct {
	NodeID      string                  `json:"node_id"`
	From        time.Time               `json:"from"`
	To          time.Time               `json:"to"`
	StepSeconds int64                   `json:"step_seconds"`
	Points      []store.NodeMetricPoint `json:"points"`
}

func (a *API) serverStats(c *gin.Context) {
	srv := serverOf(c)
	out := serverStats{ServerID: srv.ID, State: srv.State}
	if st, ok := a.Metrics.LatestServer(srv.ID); ok {
		out.Sample = &st
	}
	respond(c, http.StatusOK, out)
}

func (a *API) serverMetrics(c *gin.Context) {
	w, err := parseHistoryWindow(c, time.Now())
	if err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	pts, err := a.Store.ServerMetrics(c.Request.Context(), srv.ID, w.from, w.to, w.step)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, serverHistory{ServerID: srv.ID, From: w.from, To: w.to, StepSeconds: int64(w.step / time.Second), Points: pts})
}

func (a *API) nodeStats(c *gin.Context) {
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	out := nodeStats{NodeID: n.ID, Online: a.Gateway.Online(n.ID)}
	if h, ok := a.Metrics.LatestNode(n.ID); ok {
		out.Sample = &h
	}
	respond(c, http.StatusOK, out)
}

func (a *API) nodeMetrics(c *gin.Context) {
	w, err := parseHistoryWindow(c, time.Now())
	if err != nil {
		a.fail(c, err)
		return
	}
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	pts, err := a.Store.NodeMetrics(c.Request.Context(), n.ID, w.from, w.to, w.step)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, nodeHistory{NodeID: n.ID, From: w.from, To: w.to, StepSeconds: int64(w.step / time.Second), Points: pts})
}

// historyWindow is the range and step of a history request.
type historyWindow struct {
	from, to time.Time
	step     time.Duration
}

// parseHistoryWindow reads ?hours= (1..720, default 24) and ?step= (a Go
// duration or a number of seconds, at least 30s; by default about 300
// points) into the window ending now. More than 5000 points is refused.
func parseHistoryWindow(c *gin.Context, now time.Time) (historyWindow, error) {
	hours := defaultHistoryHours
	if v := c.Query("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistoryHours {
			return historyWindow{}, invalidField("hours", "must be a whole number of hours from 1 to %d, not %q", maxHistoryHours, v)
		}
		hours = n
	}
	span := time.Duration(hours) * time.Hour
	var step time.Duration
	if v := c.Query("step"); v != "" {
		var err error
		if step, err = parseStep(v); err != nil {
			return historyWindow{}, err
		}
		if points := (span + step - 1) / step; points > maxHistoryPoints {
			least := (span + maxHistoryPoints - 1) / maxHistoryPoints
			least = (least + time.Second - 1).Truncate(time.Second)
			return historyWindow{}, invalidField("step", "%s over %d hours gives %d points, more than %d: use a step of at least %s",
				step, hours, points, maxHistoryPoints, least)
		}
	} else {
		// Round up to whole multiples of the least step, so steps stay
		// readable (30s, 5m, 1h12m).
		step = max(span/targetHistoryPoints, minHistoryStep)
		step = (step + minHistoryStep - 1) / minHistoryStep * minHistoryStep
	}
	// Rows are stamped in whole seconds: the window ends after the current
	// second, so the latest row is in it.
	to := now.UTC().Truncate(time.Second).Add(time.Second)
	return historyWindow{from: to.Add(-span), to: to, step: step}, nil
}

// parseStep reads a step: "300" (seconds) or a Go duration ("5m").
func parseStep(v string) (time.Duration, error) {
	var step time.Duration
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxHistoryHours)*3600 {
			return 0, invalidField("step", "%q is too large: at most %d seconds", v, maxHistoryHours*3600)
		}
		step = time.Duration(n) * time.Second
	} else {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, invalidField("step", "must be a duration such as \"5m\" or a number of seconds, not %q", v)
		}
		step = d
	}
	switch {
	case step < minHistoryStep:
		return 0, invalidField("step", "must be at least %s, not %q", minHistoryStep, v)
	case step%time.Second != 0:
		return 0, invalidField("step", "must be a whole number of seconds, not %q", v)
	}
	return step, nil
}
