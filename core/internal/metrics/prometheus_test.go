package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"github.com/hashicorp/go-hclog"
)

func scrape(t *testing.T, e *metrics.Exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestExporterServesTheCoresMetrics(t *testing.T) {
	s := storetest.SQLite(t)
	w := newWorld(t, s, metrics.Options{})
	if err := s.SetServerState(context.Background(), w.b1.ID, store.StateCrashed); err != nil {
		t.Fatal(err)
	}
	e := metrics.NewExporter(s, metrics.Sources{
		NodesConnected:   func() int { return 2 },
		WebSocketClients: func() int { return 7 },
		ConsoleLines:     func() uint64 { return 12345 },
	}, hclog.NewNullLogger())
	e.ObserveRequest("GET", "/api/servers/:id", 200, 3*time.Millisecond)
	e.ObserveRequest("GET", metrics.UnmatchedRoute, 404, time.Millisecond)

	out := scrape(t, e)
	for _, want := range []string{
		"catalyst_nodes_connected 2",
		"catalyst_websocket_clients 7",
		"catalyst_console_lines_total 12345",
		`catalyst_servers{state="running"} 2`,
		`catalyst_servers{state="crashed"} 1`,
		`catalyst_servers{state="suspended"} 0`,
		`catalyst_http_request_duration_seconds_count{method="GET",route="/api/servers/:id",status="200"} 1`,
		`catalyst_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", out)
	}
}

// The state counts are cached, so scrapes do not query the database each
// time: a change shows up only once the cache expires.
func TestServerStateCountsAreCachedBetweenScrapes(t *testing.T) {
	s := storetest.SQLite(t)
	w := newWorld(t, s, metrics.Options{})
	e := metrics.NewExporter(s, metrics.Sources{}, hclog.NewNullLogger())
	if out := scrape(t, e); !strings.Contains(out, `catalyst_servers{state="running"} 3`) {
		t.Fatalf("first scrape:\n%s", out)
	}
	if err := s.SetServerState(context.Background(), w.a1.ID, store.StateStopped); err != nil {
		t.Fatal(err)
	}
	if out := scrape(t, e); !strings.Contains(out, `catalyst_servers{state="running"} 3`) {
		t.Fatalf("second scrape right after did not reuse the count:\n%s", out)
	}
	// Sources left nil read as zero rather than failing the scrape.
	if out := scrape(t, e); !strings.Contains(out, "catalyst_nodes_connected 0") || !strings.Contains(out, "catalyst_console_lines_total 0") {
		t.Fatalf("nil sources:\n%s", out)
	}
}
