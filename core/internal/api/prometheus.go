package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"catalyst.dev/core/internal/metrics"
	"github.com/gin-gonic/gin"
)

// PathMetrics is where Prometheus scrapes the core. It is served beside
// the route table, not in it: it is no part of the REST API, takes its own
// credential, and stays out of the OpenAPI document.
const PathMetrics = "/metrics"

// serveMetrics answers Prometheus. With metrics.prometheus_token set the
// scraper must send it as a bearer token; without, only a loopback client
// that did not come through a proxy may scrape.
func (a *API) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeBareError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+PathMetrics)
		return
	}
	if token := a.Config.Metrics.PrometheusToken; token != "" {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Hashes first: equal lengths, so the comparison reveals nothing,
		// not even the token's length.
		want, sent := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(got))
		if got == "" || subtle.ConstantTimeCompare(want[:], sent[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="catalyst-metrics"`)
			writeBareError(w, r, http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <metrics.prometheus_token>")
			return
		}
	} else if !directLoopback(r) {
		writeBareError(w, r, http.StatusForbidden, "forbidden",
			PathMetrics+" answers loopback clients only; set metrics.prometheus_token in the core's configuration to scrape it from elsewhere")
		return
	}
	a.Prometheus.Handler().ServeHTTP(w, r)
}

// directLoopback is a request from this host that no proxy forwarded: a
// reverse proxy on the same host would make every client look local.
func directLoopback(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// writeBareError writes the error envelope outside gin.
func writeBareError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	id := r.Header.Get("X-Request-ID")
	if !requestIDRE.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	w.Header().Set("X-Request-ID", id)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorDetail{Code: code, Message: msg, RequestID: id}})
}

// standardMethods bound the method label: a client may send any token as
// a method, and each would be a new series.
var standardMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// observeLatency records every API request's duration by method, route
// pattern and status. WebSocket upgrades are left out: a socket's
// lifetime is not a latency.
func (a *API) observeLatency(c *gin.Context) {
	if strings.EqualFold(c.GetHeader("Upgrade"), "websocket") {
		c.Next()
		return
	}
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = metrics.UnmatchedRoute
	}
	method := c.Request.Method
	if !standardMethods[method] {
		method = "other"
	}
	a.Prometheus.ObserveRequest(method, route, c.Writer.Status(), time.Since(start))
}
