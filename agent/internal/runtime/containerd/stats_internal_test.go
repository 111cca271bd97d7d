package containerd

import "testing"

func TestParseNetDevSumsAllButLoopback(t *testing.T) {
	const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    9000      10    0    0    0     0          0         0     9000      10    0    0    0     0       0          0
  eth0:    1434      12    0    0    0     0          0         0     1100       9    0    0    0     0       0          0
  eth1:      66       1    0    0    0     0          0         0       34       1    0    0    0     0       0          0
`
	rx, tx, err := parseNetDev([]byte(netDev))
	if err != nil || rx != 1500 || tx != 1134 {
		t.Fatalf("parseNetDev = %d, %d, %v; want 1500, 1134", rx, tx, err)
	}
	if _, _, err := parseNetDev([]byte("eth0: x 1 0 0 0 0 0 0 y 1 0 0 0 0 0 0\n")); err == nil {
		t.Fatal("a line with non-numeric counters parsed")
	}
}

func TestPortsLabelRoundTrips(t *testing.T) {
	for _, label := range []string{"", "0.0.0.0:25565/tcp", "0.0.0.0:25565/tcp,0.0.0.0:25565/udp,127.0.0.1:8080/tcp,[::]:27015/udp"} {
		ports, err := decodePorts(label)
		if err != nil {
			t.Fatalf("decodePorts(%q): %v", label, err)
		}
		if got := encodePorts(ports); got != label {
			t.Errorf("round trip of %q gave %q", label, got)
		}
	}
}
