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
// half-written copy is cleared when that agent comes back.
func TestTransfer(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	n2 := c.addNode(t, 2, clusterOptions{})
	s := c.createServer("transfer", nil)
	writeGameFiles(t, c.volume(s.ID))
	want := treeSnapshot(t, c.volume(s.ID))
	c.power(s.ID, "start")
	c.waitState(s.ID, "running", time.Minute)

	step(t, "a running server moves to the other node", func() {
		var out serverNode
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/transfer", map[string]any{"node_id": n2.id}, &out)
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
		if r := c.serverNode(s.ID).StateReason; r != "" && !strings.Contains(r, "transfer") {
			t.Logf("state reason after the rollback: %q", r)
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
}

func containsPort(ports []int, p int) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}
