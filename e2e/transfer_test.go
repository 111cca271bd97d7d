package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/testimage"
)

// serverNode is the part of the server view a transfer changes.
type serverNode struct {
	ID          string `json:"id"`
	NodeID      string `json:"node_id"`
	State       string `json:"state"`
	StateReason string `json:"state_reason"`
	Allocations []struct {
		Port int `json:"port"`
	} `json:"allocations"`
}

func (c *cluster) serverNode(id string) serverNode {
	var s serverNode
	c.must(http.MethodGet, "/api/servers/"+id, nil, &s)
	return s
}

func answers(t testing.TB, port int) {
	t.Helper()
	if got, err := dialLine(fmt.Sprintf("127.0.0.1:%d", port)); err != nil || got != testimage.PortAnswer {
		t.Fatalf("127.0.0.1:%d answered %q, %v; want %q", port, got, err, testimage.PortAnswer)
	}
}

// A running server moves to a second agent on this machine with its files
// byte for byte and comes up there on the new node's port; a transfer whose
// target dies midway leaves the server where it was, running, and the
// half-written copy is cleared when that agent comes back; a backup the
// first node still holds restores into the server on the second.
func TestTransfer(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	n2 := c.addNode(t, 2, clusterOptions{})
	s := c.createServer("transfer", nil)
	writeGameFiles(t, c.volume(s.ID))
	want := treeSnapshot(t, c.volume(s.ID))
	c.power(s.ID, "start")
	c.waitState(s.ID, "running", time.Minute)
	// Made on the first node, into its store: restored at the end, after
	// the server has moved away.
	bk := c.makeBackup(s.ID, "local")
	if bk.Status != "completed" {
		t.Fatalf("backup: %+v", bk)
	}

	step(t, "a running server moves to the other node", func() {
		ws := readSocket(c.dialSocket(s.ID, nil))
		var out serverNode
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/transfer", map[string]any{"node_id": n2.id}, &out)
		// The socket hears the stages; when the transfer ends it is closed
		// (to be reopened on the new node), maybe before the last one.
		var stages []string
		deadline := time.After(2 * time.Minute)
	read:
		for {
			select {
			case m, ok := <-ws.msgs:
				if !ok || m.Type == "transfer_completed" {
					break read
				}
				if m.Type == "transfer_failed" {
					t.Fatalf("transfer failed: %s", m.Error)
				}
				if m.Type == "transfer_progress" {
					stages = append(stages, m.Stage)
				}
			case <-deadline:
				t.Fatalf("the transfer did not end within 2m; stages so far %q", stages)
			}
		}
		if len(stages) == 0 || stages[0] != "stopping" {
			t.Fatalf("transfer stages on the socket: %q, want stopping first", stages)
		}
		c.eventually(2*time.Minute, "the server runs on the new node", func() bool {
			cur := c.serverNode(s.ID)
			if cur.State == "stopped" && strings.Contains(cur.StateReason, "transfer failed") {
				t.Fatalf("transfer failed: %s", cur.StateReason)
			}
			return cur.NodeID == n2.id && cur.State == "running"
		})
		sameTree(t, "files on the new node", treeSnapshot(t, n2.volume(s.ID)), want)
		cur := c.serverNode(s.ID)
		if len(cur.Allocations) == 0 || !containsPort(n2.ports, cur.Allocations[0].Port) {
			t.Fatalf("allocations %+v are not the new node's ports %v", cur.Allocations, n2.ports)
		}
		answers(t, cur.Allocations[0].Port)
		c.eventually(30*time.Second, "the old node's copy is removed", func() bool {
			_, err := os.Stat(c.volume(s.ID))
			return os.IsNotExist(err)
		})
	})

	step(t, "a transfer whose target dies midway rolls back", func() {
		// Enough data that the stream is still under way when the target
		// is killed.
		randomFile(t, filepath.Join(n2.volume(s.ID), "world", "big.bin"), 768<<20)
		before := treeSnapshot(t, n2.volume(s.ID))
		ws := readSocket(c.dialSocket(s.ID, nil))
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/transfer", map[string]any{"node_id": c.nodeID}, nil)
		staging := filepath.Join(c.dir, "agent-data", "volumes", ".restore-*")
		c.eventually(time.Minute, "the target to begin extracting", func() bool {
			m, _ := filepath.Glob(staging)
			return len(m) > 0
		})
		c.agent.kill()
		c.eventually(2*time.Minute, "the server back up on its node", func() bool {
			cur := c.serverNode(s.ID)
			return cur.NodeID == n2.id && cur.State == "running"
		})
		if m := ws.next(t, 10*time.Second, "transfer_failed"); m.Error == "" {
			t.Fatal("transfer_failed says nothing of why")
		}
		sameTree(t, "files after the rolled-back transfer", treeSnapshot(t, n2.volume(s.ID)), before)
		answers(t, c.serverNode(s.ID).Allocations[0].Port)

		c.startAgent()
		c.waitOnline(true)
		c.eventually(30*time.Second, "the target's partial copy cleared", func() bool {
			m, _ := filepath.Glob(staging)
			_, err := os.Stat(c.volume(s.ID))
			return len(m) == 0 && os.IsNotExist(err)
		})
	})

	step(t, "a backup left on the first node restores into the server on the second", func() {
		c.power(s.ID, "stop")
		c.waitState(s.ID, "stopped", time.Minute)
		if status, msg := c.restore(s.ID, bk.ID, true); status != "completed" {
			t.Fatalf("restore across nodes: %s", msg)
		}
		sameTree(t, "after the restore across nodes", treeSnapshot(t, n2.volume(s.ID)), want)
	})
}

func containsPort(ports []int, p int) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}
