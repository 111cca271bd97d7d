package hostinfo

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to name in a new temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const procStat = `cpu  34153 0 8295 57464 1043 0 242 2118 500 0
cpu0 16598 0 3685 30184 193 0 29 974 250 0
cpu1 17554 0 4610 27280 849 0 212 1143 250 0
intr 852598 0 0 0
ctxt 1642796
btime 1763700000
processes 14939
`

func TestReadCPUTimes(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    CPUTimes
		wantErr string
	}{
		// Guest time (the 9th and 10th fields) is already in user time.
		{"two cores with guest time", procStat, CPUTimes{Total: 34153 + 8295 + 57464 + 1043 + 242 + 2118, Idle: 57464 + 1043, Cores: 2}, ""},
		{"old kernel with four fields", "cpu 10 20 30 40\ncpu0 10 20 30 40\n", CPUTimes{Total: 100, Idle: 40, Cores: 1}, ""},
		{"no cpu line", "intr 1 2 3\n", CPUTimes{}, "no cpu line"},
		{"short cpu line", "cpu 1 2 3\n", CPUTimes{}, "at least 5"},
		{"garbage number", "cpu 1 2 x 4 5\n", CPUTimes{}, `cpu field 3 "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCPUTimes(writeFile(t, "stat", tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCPUTimesPercent(t *testing.T) {
	tests := []struct {
		name       string
		prev, next CPUTimes
		want       float64
	}{
		{"idle node", CPUTimes{Total: 1000, Idle: 1000, Cores: 4}, CPUTimes{Total: 2000, Idle: 2000, Cores: 4}, 0},
		{"every core busy", CPUTimes{Total: 1000, Idle: 500, Cores: 4}, CPUTimes{Total: 2000, Idle: 500, Cores: 4}, 400},
		{"a quarter busy on two cores", CPUTimes{Total: 0, Idle: 0, Cores: 2}, CPUTimes{Total: 400, Idle: 300, Cores: 2}, 50},
		{"no time passed", CPUTimes{Total: 1000, Idle: 10, Cores: 1}, CPUTimes{Total: 1000, Idle: 10, Cores: 1}, 0},
		{"counters went backwards", CPUTimes{Total: 1000, Idle: 10, Cores: 1}, CPUTimes{Total: 500, Idle: 5, Cores: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.next.CPUPercent(tt.prev); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("CPUPercent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadMemory(t *testing.T) {
	tests := []struct {
		name        string
		content     string
		used, total uint64
		wantErr     string
	}{
		{"used is total less available", "MemTotal:       16000 kB\nMemFree:          1000 kB\nMemAvailable:     6000 kB\nBuffers: 1 kB\n", 10000 << 10, 16000 << 10, ""},
		{"no MemAvailable", "MemTotal: 16000 kB\nMemFree: 1000 kB\n", 0, 0, "MemAvailable"},
		{"garbage number", "MemTotal: lots kB\nMemAvailable: 1 kB\n", 0, 0, `MemTotal "lots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used, total, err := ReadMemory(writeFile(t, "meminfo", tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.used || total != tt.total {
				t.Errorf("used, total = %d, %d; want %d, %d", used, total, tt.used, tt.total)
			}
		})
	}
}

func TestReadLoad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    [3]float64
		wantErr string
	}{
		{"three averages", "2.65 1.59 0.76 8/173 14939\n", [3]float64{2.65, 1.59, 0.76}, ""},
		{"too few fields", "2.65 1.59\n", [3]float64{}, "want at least 3"},
		{"garbage number", "2.65 x 0.76 8/173 1\n", [3]float64{}, `load field 2 "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l1, l5, l15, err := ReadLoad(writeFile(t, "loadavg", tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := [3]float64{l1, l5, l15}; got != tt.want {
				t.Errorf("loads = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHealthSamplerReadsProcFiles(t *testing.T) {
	proc := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(proc, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu 100 0 0 100 0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\n")
	write("meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n")
	write("loadavg", "0.50 0.25 0.10 1/100 42\n")
	s, err := NewHealthSampler(proc, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// 300 more ticks, 100 of them idle: two thirds of two cores busy.
	write("stat", "cpu 300 0 0 200 0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\n")
	h, err := s.Sample(3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(h.CPUPercent-200.0*2/3) > 1e-9 || h.CPUCores != 2 || h.MemoryUsedBytes != 1<<20 || h.MemoryTotalBytes != 2<<20 ||
		h.Load1 != 0.5 || h.Load5 != 0.25 || h.Load15 != 0.1 || h.Containers != 3 ||
		h.DiskTotalBytes == 0 || h.DiskUsedBytes > h.DiskTotalBytes || h.At.IsZero() {
		t.Errorf("implausible health: %+v", h)
	}
}

func TestHealthSamplerOnThisNode(t *testing.T) {
	s, err := NewHealthSampler("/proc", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Sample(0)
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUCores < 1 || h.CPUPercent < 0 || h.CPUPercent > float64(100*h.CPUCores) || h.MemoryTotalBytes < 64<<20 ||
		h.MemoryUsedBytes == 0 || h.MemoryUsedBytes > h.MemoryTotalBytes || h.DiskTotalBytes == 0 {
		t.Errorf("implausible health: %+v", h)
	}
}
