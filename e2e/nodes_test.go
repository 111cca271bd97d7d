package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// node is a node beyond the cluster's first, with an agent of its own
// (own data directory, containerd namespace, network and SFTP port) on
// this machine.
type node struct {
	c      *cluster
	name   string
	id     string
	dir    string
	config string
	ports  []int
	agent  *proc
}

// addNode registers another node with ports allocations and starts its
// agent; it stops with the cluster.
func (c *cluster) addNode(t testing.TB, ports int, o clusterOptions) *node {
	t.Helper()
	n := &node{c: c, name: "extra-" + randomHex(3)}
	n.dir = filepath.Join(c.dir, n.name)
	o.ports = ports
	n.id, n.config, n.ports = c.enrolNode("e2e-"+n.name, n.dir, freeAddr(t), "catalyst-e2e-"+randomHex(3), o)
	n.start()
	t.Cleanup(func() {
		// Its servers go first, while its agent can remove their
		// containers and port mappings (the cluster's own cleanup runs
		// after this one).
		c.deleteServers()
		if n.agent.running() {
			n.agent.stop(t)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.dir, "agent.log"))
			t.Logf("--- %s agent.log ---\n%s", n.name, tail(b, 150))
		}
	})
	n.waitOnline(true)
	return n
}

func (n *node) start() {
	n.agent = startProc(n.c.t, "agent "+n.name, filepath.Join(n.dir, "agent.log"), env.agentBin, "run", "--config", n.config)
}

func (n *node) volume(id string) string { return filepath.Join(n.dir, "agent-data", "volumes", id) }

func (n *node) waitOnline(online bool) {
	n.c.t.Helper()
	n.c.eventually(30*time.Second, fmt.Sprintf("node %s online=%v", n.name, online), func() bool {
		var v struct {
			Online bool `json:"online"`
		}
		n.c.must(http.MethodGet, "/api/admin/nodes/"+n.id, nil, &v)
		return v.Online == online
	})
}
