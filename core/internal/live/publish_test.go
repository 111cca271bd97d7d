package live_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"catalyst.dev/core/internal/live"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// The core's own messages and the agents' progress reports reach the
// server's sockets as flat objects with their type.
func TestPublishAndBackupProgress(t *testing.T) {
	hub := live.New(hclog.NewNullLogger(), live.Options{})
	ws := dial(t, serve(t, hub))
	read(t, ws) // status
	for hub.Clients() != 1 {
		time.Sleep(time.Millisecond)
	}
	readRaw := func() map[string]any {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	raw, _ := json.Marshal(wire.BackupProgress{ServerID: serverID, BackupID: "b1", Op: wire.OpBackup, Bytes: 10, Total: 40, Files: 1, Written: 4})
	hub.OnEvent(context.Background(), "node-2", wire.Envelope{Type: wire.EventBackupProgress, Data: raw}) // another node's: dropped
	hub.OnEvent(context.Background(), nodeID, wire.Envelope{Type: wire.EventBackupProgress, Data: raw})
	if m := readRaw(); m["type"] != live.TypeBackupProgress || m["backup_id"] != "b1" || m["op"] != "backup" || m["bytes"] != 10.0 || m["total"] != 40.0 || m["written"] != 4.0 {
		t.Fatalf("progress message %v", m)
	}

	// Data that is not an object is not sent (and is logged); a message
	// for another node is dropped; nodeID "" is the core's and always goes.
	hub.Publish("", serverID, "broken", []int{1, 2})
	hub.Publish("node-2", serverID, "elsewhere", map[string]int{"n": 1})
	hub.Publish(nodeID, serverID, "transfer_progress", struct {
		Type  string `json:"type"`
		Bytes int64  `json:"bytes"`
	}{Type: "overridden", Bytes: 7})
	if m := readRaw(); m["type"] != "transfer_progress" || m["bytes"] != 7.0 {
		t.Fatalf("published message %v", m)
	}
	hub.Publish("", serverID, live.TypeBackupCompleted, map[string]any{"backup": map[string]string{"id": "b1", "status": "completed"}})
	m := readRaw()
	b, _ := m["backup"].(map[string]any)
	if m["type"] != live.TypeBackupCompleted || b["status"] != "completed" {
		t.Fatalf("completion message %v", m)
	}
	// A server nobody watches costs nothing and fails nothing.
	hub.Publish("", "another-server", live.TypeBackupFailed, map[string]any{})
}
