package sink

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
)

func TestPayloadEncoding(t *testing.T) {
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		alert plugin.Alert
		want  string // the exact body
	}{
		{
			name: "every field",
			alert: plugin.Alert{
				ID:       "a-1",
				Severity: plugin.SeverityCritical,
				Title:    "Server crashed",
				Body:     "survival-1 exited with code 137",
				ServerID: "srv-1",
				NodeID:   "node-eu-1",
				Labels: map[string]string{
					plugin.LabelType: "server_crashed", plugin.LabelStatus: plugin.StatusFiring,
					plugin.LabelServerName: "survival-1", plugin.LabelNodeName: "eu-1",
				},
				// Not UTC on purpose: the payload is.
				OccurredAt: time.Date(2026, 11, 21, 4, 30, 5, 0, time.FixedZone("CET", 3600)),
				URL:        "https://panel.example.com/servers/srv-1",
			},
			want: `{"version":1,"id":"a-1","status":"firing","type":"server_crashed","severity":"critical",` +
				`"title":"Server crashed","body":"survival-1 exited with code 137",` +
				`"server":{"id":"srv-1","name":"survival-1"},"node":{"id":"node-eu-1","name":"eu-1"},` +
				`"labels":{"node_name":"eu-1","server_name":"survival-1","status":"firing","type":"server_crashed"},` +
				`"occurred_at":"2026-11-21T03:30:05Z","url":"https://panel.example.com/servers/srv-1"}`,
		},
		{
			name: "resolved node alert without a server",
			alert: plugin.Alert{
				ID: "n-1:resolved", Severity: plugin.SeverityWarning, Title: "Node back online",
				NodeID: "node-eu-1", Labels: map[string]string{plugin.LabelType: "node_offline", plugin.LabelStatus: plugin.StatusResolved},
				OccurredAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC),
			},
			want: `{"version":1,"id":"n-1:resolved","status":"resolved","type":"node_offline","severity":"warning",` +
				`"title":"Node back online","body":"","node":{"id":"node-eu-1","name":""},` +
				`"labels":{"status":"resolved","type":"node_offline"},"occurred_at":"2026-11-21T03:00:00Z","url":""}`,
		},
		{
			name:  "minimal alert: firing, empty labels, delivery time",
			alert: plugin.Alert{ID: "m-1", Severity: plugin.SeverityInfo, Title: "t"},
			want: `{"version":1,"id":"m-1","status":"firing","type":"","severity":"info","title":"t","body":"",` +
				`"labels":{},"occurred_at":"2026-11-21T04:00:00Z","url":""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPayload(tt.alert, now)
			if err != nil {
				t.Fatalf("NewPayload: %v", err)
			}
			body, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.want {
				t.Errorf("body\n got %s\nwant %s", body, tt.want)
			}
			if !json.Valid(body) {
				t.Error("body is not JSON")
			}
		})
	}
}

func TestPayloadRefusesAlertsTheSchemaCannotCarry(t *testing.T) {
	for name, a := range map[string]plugin.Alert{
		"no title":         {ID: "x", Severity: plugin.SeverityInfo},
		"no severity":      {ID: "x", Title: "t"},
		"unknown severity": {ID: "x", Title: "t", Severity: plugin.SeverityCritical + 1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewPayload(a, time.Now()); !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Fatalf("NewPayload = %v, want ErrInvalidArgument", err)
			}
		})
	}
}
