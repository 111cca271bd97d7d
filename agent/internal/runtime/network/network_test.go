package network_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/network"
)

func TestNewBridgeValidates(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  network.BridgeConfig
	}{
		{"no directory", network.BridgeConfig{}},
		{"bridge name too long", network.BridgeConfig{Dir: dir, Bridge: "catalyst-bridge-0"}},
		{"not a subnet", network.BridgeConfig{Dir: dir, Subnet: "10.88.0.0"}},
		{"IPv6 subnet", network.BridgeConfig{Dir: dir, Subnet: "fd00::/64"}},
	}
	for _, tt := range tests {
		if _, err := network.NewBridge(tt.cfg); err == nil {
			t.Errorf("%s: NewBridge succeeded", tt.name)
		}
	}
	if _, err := network.NewBridge(network.BridgeConfig{Dir: dir}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// needsCNI skips the test where it cannot create namespaces and run the
// CNI plugins, or fails it when CI=true.
func needsCNI(t *testing.T) {
	t.Helper()
	var why string
	if os.Geteuid() != 0 {
		why = "needs root"
	} else if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		why = "needs the CNI plugins in /usr/lib/cni (Debian: containernetworking-plugins)"
	} else if _, err := exec.LookPath("iptables"); err != nil {
		why = "needs iptables"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func TestBridgeAttachAndDetach(t *testing.T) {
	needsCNI(t)
	suffix := randomHex(3)
	cfg := network.BridgeConfig{
		Dir:    t.TempDir(),
		Name:   "catalyst-nettest-" + suffix,
		Bridge: "cnet" + suffix,
		Subnet: fmt.Sprintf("10.251.%d.0/24", randomByte()),
	}
	b, err := network.NewBridge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", b.BridgeName()).Run() })
	ctx := context.Background()
	id := "n-" + randomHex(6)
	ports := []runtime.Port{{Port: 25565, Protocol: "tcp"}, {Port: 25565, Protocol: "udp"}}

	if err := b.Attach(ctx, id, ports); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	out, err := exec.Command("nsenter", "--net="+b.Path(id), "ip", "-o", "addr").CombinedOutput()
	if err != nil {
		t.Fatalf("look inside the namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "lo ") || !strings.Contains(string(out), "eth0") || !strings.Contains(string(out), "10.251.") {
		t.Errorf("namespace lacks lo or an eth0 on the bridge subnet:\n%s", out)
	}
	if err := b.Attach(ctx, id, ports); err != nil {
		t.Errorf("second Attach: %v", err)
	}
	if nat, _ := exec.Command("iptables-save", "-t", "nat").Output(); !strings.Contains(string(nat), id) {
		t.Errorf("no port mapping rules for %s", id)
	}

	// Detach as a restarted agent would: a new Bridge, no ports given.
	b, err = network.NewBridge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Detach(ctx, id); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if _, err := os.Stat(b.Path(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace file after Detach: %v", err)
	}
	if nat, _ := exec.Command("iptables-save", "-t", "nat").Output(); strings.Contains(string(nat), id) {
		t.Errorf("iptables still mention %s", id)
	}
	if err := b.Detach(ctx, id); err != nil {
		t.Errorf("second Detach: %v", err)
	}
	if leases, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(b.Path(id))), "ipam", "*", "10.*")); len(leases) != 0 {
		t.Errorf("addresses still allocated: %v", leases)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomByte() byte {
	b := make([]byte, 1)
	rand.Read(b)
	return b[0]
}
