package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// eventually polls get until ok says its answer is the one awaited:
// events cross the tunnel asynchronously.
func eventually[T any](t *testing.T, what string, get func() T, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := get()
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %+v after 10s", what, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStatsShowTheLatestSampleWhileTheNodeIsConnected(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	if err := f.store.SetServerState(ctx, f.server.ID, store.StateRunning); err != nil {
		t.Fatal(err)
	}
	f.server.State = store.StateRunning
	serverStatsNow := func() serverStats {
		got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/stats", nil)
		if got.Status != http.StatusOK {
			t.Fatalf("stats: %d %s", got.Status, got.Body)
		}
		var out serverStats
		if err := json.Unmarshal(got.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	nodeStatsNow := func() nodeStats {
		got := f.do(roleAdmin, "GET", "/api/nodes/"+f.node.ID+"/stats", nil)
		if got.Status != http.StatusOK {
			t.Fatalf("node stats: %d %s", got.Status, got.Body)
		}
		var out nodeStats
		if err := json.Unmarshal(got.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// No sample yet is an answer, not an error.
	if got := serverStatsNow(); got.Sample != nil || got.State != store.StateRunning || got.ServerID != f.server.ID {
		t.Fatalf("before any sample: %+v", got)
	}
	if got := nodeStatsNow(); got.Sample != nil || got.Online {
		t.Fatalf("offline node: %+v", got)
	}

	// The recorder's Run is not running in the fixture: load its map.
	if err := f.api.Metrics.RefreshServers(ctx); err != nil {
		t.Fatal(err)
	}
	_, agent := f.connectAgentTunnel()
	if err := agent.Send(wire.EventResourceStats, wire.ResourceStats{Servers: []wire.ServerStats{
		{ServerID: f.server.ID, At: time.Now(), CPUPercent: 42.5, MemoryBytes: 64 << 20, MemoryLimitBytes: 128 << 20, Pids: 9},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := agent.Send(wire.EventHealthReport, wire.NodeHealth{At: time.Now(), CPUPercent: 80, CPUCores: 2, Containers: 1}); err != nil {
		t.Fatal(err)
	}
	got := eventually(t, "server sample", serverStatsNow, func(s serverStats) bool { return s.Sample != nil })
	if got.Sample.CPUPercent != 42.5 || got.Sample.MemoryBytes != 64<<20 || got.Sample.Pids != 9 {
		t.Fatalf("sample = %+v", got.Sample)
	}
	// The server list carries the same sample, for its usage bars.
	listed := f.do(roleOwner, "GET", "/api/servers", nil)
	var list []serverView
	if err := json.Unmarshal(listed.Data, &list); err != nil || len(list) != 1 {
		t.Fatalf("list: %v %s", err, listed.Body)
	}
	if list[0].Stats == nil || list[0].Stats.CPUPercent != 42.5 || list[0].Stats.MemoryLimitBytes != 128<<20 {
		t.Fatalf("listed stats = %+v", list[0].Stats)
	}
	node := eventually(t, "node health", nodeStatsNow, func(s nodeStats) bool { return s.Sample != nil })
	if !node.Online || node.Sample.CPUPercent != 80 || node.Sample.Containers != 1 {
		t.Fatalf("node stats = %+v %+v", node, node.Sample)
	}

	// Once the node is gone its samples are no longer shown as live.
	agent.Close()
	eventually(t, "server sample after disconnect", serverStatsNow, func(s serverStats) bool { return s.Sample == nil })
	var after []serverView
	if err := json.Unmarshal(f.do(roleOwner, "GET", "/api/servers", nil).Data, &after); err != nil || after[0].Stats != nil {
		t.Fatalf("listed stats after disconnect: %v %+v", err, after[0].Stats)
	}
	eventually(t, "node health after disconnect", nodeStatsNow, func(s nodeStats) bool { return s.Sample == nil && !s.Online })
}

func TestMetricsHistoryIsDownsampled(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	now := time.Now().Unix()
	hour := now / 3600 * 3600
	if err := f.store.InsertServerMetrics(ctx, []store.ServerMetric{
		{ServerID: f.server.ID, At: hour - 3600 + 10, CPUPercent: 10, MemoryBytes: 100},
		{ServerID: f.server.ID, At: hour - 3600 + 20, CPUPercent: 30, MemoryBytes: 300},
		{ServerID: f.server.ID, At: now - 3*3600, CPUPercent: 99}, // outside hours=2
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.InsertNodeMetrics(ctx, []store.NodeMetric{{NodeID: f.node.ID, At: now - 60, CPUPercent: 50}}); err != nil {
		t.Fatal(err)
	}
	got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/metrics?hours=2&step=1h", nil)
	if got.Status != http.StatusOK {
		t.Fatalf("%d %s", got.Status, got.Body)
	}
	var h serverHistory
	if err := json.Unmarshal(got.Data, &h); err != nil {
		t.Fatal(err)
	}
	if h.StepSeconds != 3600 || len(h.Points) != 1 || h.Points[0].Samples != 2 || h.Points[0].CPUPercent != 20 ||
		h.Points[0].MemoryMaxBytes != 300 || !h.Points[0].At.Equal(time.Unix(hour-3600, 0)) {
		t.Fatalf("history = %+v", h)
	}
	if h.To.Sub(h.From) != 2*time.Hour {
		t.Fatalf("window %s..%s is not 2 hours", h.From, h.To)
	}

	got = f.do(roleAdmin, "GET", "/api/nodes/"+f.node.ID+"/metrics?hours=1&step=300", nil)
	var nh nodeHistory
	if got.Status != http.StatusOK || json.Unmarshal(got.Data, &nh) != nil || nh.StepSeconds != 300 ||
		len(nh.Points) != 1 || nh.Points[0].CPUPercent != 50 {
		t.Fatalf("node history: %d %s", got.Status, got.Body)
	}
	// An empty history is an empty list, not null.
	spare := &store.Node{Name: "spare", FQDN: "spare.example.com"}
	if err := f.store.CreateNode(ctx, spare); err != nil {
		t.Fatal(err)
	}
	got = f.do(roleAdmin, "GET", "/api/nodes/"+spare.ID+"/metrics?hours=1", nil)
	if got.Status != http.StatusOK || !strings.Contains(string(got.Data), `"points":[]`) {
		t.Fatalf("empty node history: %d %s", got.Status, got.Body)
	}
}

func TestMetricsDefaultStepAimsAtAboutThreeHundredPoints(t *testing.T) {
	f := newFixture(t, "", nil)
	for _, tc := range []struct {
		hours string
		step  int64
	}{{"", 300}, {"1", 30}, {"6", 90}, {"168", 2040}, {"720", 8640}} {
		got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID+"/metrics?hours="+tc.hours, nil)
		var h serverHistory
		if got.Status != http.StatusOK || json.Unmarshal(got.Data, &h) != nil {
			t.Fatalf("hours=%s: %d %s", tc.hours, got.Status, got.Body)
		}
		if h.StepSeconds != tc.step {
			t.Errorf("hours=%q: default step %ds, want %ds", tc.hours, h.StepSeconds, tc.step)
		}
	}
}

func TestMetricsRefuseBadHoursAndStep(t *testing.T) {
	f := newFixture(t, "", nil)
	cases := []struct {
		name, query, field, says string
	}{
		{"zero hours", "hours=0", "hours", "from 1 to 720"},
		{"too many hours", "hours=721", "hours", "from 1 to 720"},
		{"fractional hours", "hours=1.5", "hours", "whole number"},
		{"hours not a number", "hours=day", "hours", `"day"`},
		{"step below 30s", "step=10s", "step", "at least 30s"},
		{"step in seconds below 30", "step=29", "step", "at least 30s"},
		{"step not a duration", "step=often", "step", `such as "5m"`},
		{"negative step", "step=-5m", "step", "at least 30s"},
		{"step not whole seconds", "step=30.5s", "step", "whole number of seconds"},
		{"step of absurd seconds", "step=99999999999999999999", "step", "too large"},
		{"too many points", "hours=720&step=30s", "step", "more than 5000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{
				"/api/servers/" + f.server.ID + "/metrics?" + tc.query,
				"/api/nodes/" + f.node.ID + "/metrics?" + tc.query,
			} {
				got := f.do(roleAdmin, "GET", path, nil)
				if got.Status != http.StatusUnprocessableEntity || got.Error == nil || got.Error.Field != tc.field ||
					!strings.Contains(got.Error.Message, tc.says) {
					t.Fatalf("%s: %d %s; want 422 on %s saying %q", path, got.Status, got.Body, tc.field, tc.says)
				}
			}
		})
	}
}

func TestNodeStatsOfAnUnknownNodeIsNotFound(t *testing.T) {
	f := newFixture(t, "", nil)
	for _, path := range []string{"/api/nodes/no-such-node/stats", "/api/nodes/no-such-node/metrics"} {
		if got := f.do(roleAdmin, "GET", path, nil); got.Status != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, got.Status, got.Body)
		}
	}
}

// scrapeMetrics sends GET /metrics from remote with the headers given.
func scrapeMetrics(a *API, method, remote string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, PathMetrics, nil)
	req.RemoteAddr = remote
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

func TestPrometheusEndpointExposesTheCoresMetrics(t *testing.T) {
	f := newFixture(t, "", nil)
	// A matched and an unmatched request, for the latency histogram.
	f.do(roleOwner, "GET", "/api/servers/"+f.server.ID, nil)
	f.do(roleOwner, "GET", "/api/no/such/route", nil)

	rec := scrapeMetrics(f.api, "GET", "127.0.0.1:5000", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("loopback scrape: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"catalyst_nodes_connected 0",
		`catalyst_servers{state="stopped"} 1`,
		"catalyst_websocket_clients ",
		"catalyst_console_lines_total ",
		`catalyst_http_request_duration_seconds_bucket{method="GET",route="/api/servers/:id",status="200",le=`,
		`catalyst_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "/api/no/such/route") {
		t.Error("an unmatched path became a label value")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func TestPrometheusEndpointAccess(t *testing.T) {
	const token = "scrape-token-0123456789"
	open := newFixture(t, "", nil)
	guarded := newFixture(t, "", func(c *config.Config) { c.Metrics.PrometheusToken = token })
	cases := []struct {
		name   string
		api    *API
		method string
		remote string
		hdr    map[string]string
		status int
		says   string
	}{
		{"no token: loopback IPv4 may scrape", open.api, "GET", "127.0.0.1:5000", nil, 200, ""},
		{"no token: loopback IPv6 may scrape", open.api, "GET", "[::1]:5000", nil, 200, ""},
		{"no token: another host is refused", open.api, "GET", "192.0.2.1:5000", nil, 403, "prometheus_token"},
		{"no token: a proxied loopback request is refused", open.api, "GET", "127.0.0.1:5000",
			map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403, "prometheus_token"},
		{"no token: a user's bearer token does not help", open.api, "GET", "192.0.2.1:5000",
			map[string]string{"Authorization": "Bearer " + open.tokens[roleAdmin].Token}, 403, "prometheus_token"},
		{"token: missing is refused, even from loopback", guarded.api, "GET", "127.0.0.1:5000", nil, 401, "Bearer"},
		{"token: wrong is refused", guarded.api, "GET", "192.0.2.1:5000", map[string]string{"Authorization": "Bearer " + token + "x"}, 401, "Bearer"},
		{"token: right is accepted from anywhere", guarded.api, "GET", "192.0.2.1:5000", map[string]string{"Authorization": "Bearer " + token}, 200, ""},
		{"only GET and HEAD", open.api, "POST", "127.0.0.1:5000", nil, 405, "POST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := scrapeMetrics(tc.api, tc.method, tc.remote, tc.hdr)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == 200 {
				if !strings.Contains(rec.Body.String(), "catalyst_nodes_connected") {
					t.Fatalf("scrape without the core's metrics:\n%s", rec.Body)
				}
				return
			}
			var env errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" || env.Error.RequestID == "" ||
				!strings.Contains(env.Error.Message, tc.says) {
				t.Fatalf("refusal %s lacks the envelope or %q", rec.Body, tc.says)
			}
		})
	}
}
