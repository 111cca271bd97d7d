package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
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
	var created struct {
		Node struct {
			ID string `json:"id"`
		} `json:"node"`
		DeployToken string `json:"deploy_token"`
	}
	c.must(http.MethodPost, "/api/admin/nodes", map[string]any{"name": "e2e-" + n.name, "fqdn": "127.0.0.1", "memory_mb": 4096, "disk_mb": 10240}, &created)
	n.id = created.Node.ID
	var portArgs []string
	for range ports {
		p := freePortNumber(t)
		n.ports = append(n.ports, p)
		portArgs = append(portArgs, fmt.Sprint(p))
	}
	c.must(http.MethodPost, "/api/admin/nodes/"+n.id+"/allocations", map[string]any{"ip": "0.0.0.0", "ports": portArgs}, nil)
	n.config = filepath.Join(n.dir, "agent.hcl")
	out, err := exec.Command(env.agentBin, "configure", "--core", "http://"+c.addr, "--token", created.DeployToken,
		"--config", n.config, "--data-dir", filepath.Join(n.dir, "agent-data")).CombinedOutput()
	if err != nil {
		t.Fatalf("catalyst-agent configure (%s): %v\n%s", n.name, err, out)
	}
	rewriteAgentConfig(t, n.config, freeAddr(t), "catalyst-e2e-"+randomHex(3), o)
	if out, err := exec.Command(env.agentBin, "image", "import", "--config", n.config, env.img.Archive).CombinedOutput(); err != nil {
		t.Fatalf("catalyst-agent image import (%s): %v\n%s", n.name, err, out)
	}
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
