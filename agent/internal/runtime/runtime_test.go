package runtime_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"catalyst.dev/agent/internal/runtime"
)

func TestParsePort(t *testing.T) {
	tests := []struct {
		in   string
		want runtime.Port
		bad  bool
	}{
		{in: "0.0.0.0:25565/tcp", want: runtime.Port{HostIP: "0.0.0.0", Port: 25565, Protocol: "tcp"}},
		{in: "192.0.2.2:27015/udp", want: runtime.Port{HostIP: "192.0.2.2", Port: 27015, Protocol: "udp"}},
		{in: "[::]:2456/udp", want: runtime.Port{HostIP: "::", Port: 2456, Protocol: "udp"}},
		{in: "0.0.0.0:25565/sctp", bad: true},
		{in: "0.0.0.0:0/tcp", bad: true},
		{in: "0.0.0.0:70000/tcp", bad: true},
		{in: "25565/tcp", bad: true},
		{in: "0.0.0.0:25565", bad: true},
	}
	for _, tt := range tests {
		got, err := runtime.ParsePort(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParsePort(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("String() = %q, want %q", s, tt.in)
		}
	}
	if s := (runtime.Port{Port: 80, Protocol: "tcp"}).String(); s != "0.0.0.0:80/tcp" {
		t.Errorf("a port without host IP prints as %q", s)
	}
}

func TestCPUPercent(t *testing.T) {
	at := time.Unix(1000, 0)
	tests := []struct {
		name      string
		prev, cur runtime.Stats
		want      float64
	}{
		{"one core busy", runtime.Stats{At: at, CPU: time.Second}, runtime.Stats{At: at.Add(2 * time.Second), CPU: 3 * time.Second}, 100},
		{"two cores busy", runtime.Stats{At: at}, runtime.Stats{At: at.Add(time.Second), CPU: 2 * time.Second}, 200},
		{"idle", runtime.Stats{At: at, CPU: time.Second}, runtime.Stats{At: at.Add(time.Second), CPU: time.Second}, 0},
		{"same instant", runtime.Stats{At: at}, runtime.Stats{At: at, CPU: time.Second}, 0},
		{"counter reset by a restart", runtime.Stats{At: at, CPU: time.Hour}, runtime.Stats{At: at.Add(time.Second), CPU: time.Second}, 0},
	}
	for _, tt := range tests {
		if got := tt.cur.CPUPercent(tt.prev); got != tt.want {
			t.Errorf("%s: CPUPercent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRemoveVolume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "volume")
	if err := os.MkdirAll(filepath.Join(dir, "world", "region"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := runtime.RemoveVolume(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("volume still there: %v", err)
	}
	for _, bad := range []string{"/", "relative/volume", "", "/.."} {
		if err := runtime.RemoveVolume(bad); err == nil {
			t.Errorf("RemoveVolume(%q) succeeded", bad)
		}
	}
}
