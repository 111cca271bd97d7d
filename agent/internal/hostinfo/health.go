package hostinfo

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"catalyst.dev/sdk/wire"
)

// CPUTimes are the node's CPU time counters from /proc/stat, in clock
// ticks, all cores added up.
type CPUTimes struct {
	// Total is every state's ticks; Idle is idle plus iowait.
	Total, Idle uint64
	// Cores counts the cpuN lines (the CPUs online).
	Cores int
}

// CPUPercent is the CPU used between prev and t, 100 being one core busy
// all the time (so 100 × cores at most). Counters that went backwards
// (they do not, short of a reboot) give 0.
func (t CPUTimes) CPUPercent(prev CPUTimes) float64 {
	if t.Total <= prev.Total || t.Idle < prev.Idle {
		return 0
	}
	total, idle := t.Total-prev.Total, t.Idle-prev.Idle
	if idle > total {
		return 0
	}
	return float64(total-idle) / float64(total) * 100 * float64(t.Cores)
}

// ReadCPUTimes reads the aggregate "cpu" line of a /proc/stat file.
func ReadCPUTimes(path string) (CPUTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return CPUTimes{}, err
	}
	defer f.Close()
	var t CPUTimes
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			t.Cores++
			continue
		}
		// user nice system idle iowait irq softirq steal [guest guest_nice]:
		// guest time is already in user and nice, so only the first eight
		// add up to the total.
		if len(fields) < 5 {
			return CPUTimes{}, fmt.Errorf("%s: cpu line has %d fields, want at least 5", path, len(fields))
		}
		for i, s := range fields[1:min(len(fields), 9)] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("%s: cpu field %d %q: %w", path, i+1, s, err)
			}
			t.Total += v
			if i == 3 || i == 4 {
				t.Idle += v
			}
		}
		found = true
	}
	if err := sc.Err(); err != nil {
		return CPUTimes{}, fmt.Errorf("%s: %w", path, err)
	}
	if !found {
		return CPUTimes{}, fmt.Errorf("%s has no cpu line", path)
	}
	if t.Cores == 0 {
		t.Cores = 1
	}
	return t, nil
}

// ReadMemory reads a /proc/meminfo file: used is MemTotal less
// MemAvailable (what the kernel could not hand out without swapping).
func ReadMemory(path string) (used, total uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var avail uint64
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || (fields[0] != "MemTotal:" && fields[0] != "MemAvailable:") {
			continue
		}
		kb, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %s %q: %w", path, strings.TrimSuffix(fields[0], ":"), fields[1], err)
		}
		if fields[0] == "MemTotal:" {
			total, haveTotal = kb<<10, true
		} else {
			avail, haveAvail = kb<<10, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if !haveTotal || !haveAvail {
		return 0, 0, fmt.Errorf("%s lacks MemTotal or MemAvailable (Linux 3.14 or later has both)", path)
	}
	if avail > total {
		avail = total
	}
	return total - avail, total, nil
}

// ReadLoad reads the 1, 5 and 15 minute load averages of a /proc/loadavg
// file.
func ReadLoad(path string) (load1, load5, load15 float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return 0, 0, 0, fmt.Errorf("%s: %d fields, want at least 3", path, len(fields))
	}
	var loads [3]float64
	for i := range loads {
		if loads[i], err = strconv.ParseFloat(fields[i], 64); err != nil {
			return 0, 0, 0, fmt.Errorf("%s: load field %d %q: %w", path, i+1, fields[i], err)
		}
	}
	return loads[0], loads[1], loads[2], nil
}

// DiskUsage reports the file system holding dir: used is what is
// allocated (reserved blocks count as free, as df shows them).
func DiskUsage(dir string) (used, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := uint64(st.Bsize)
	return (st.Blocks - st.Bfree) * bs, st.Blocks * bs, nil
}

// HealthSampler samples the node's health. CPU use is over the time since
// the previous sample, so it keeps that sample; it is safe for concurrent
// use.
type HealthSampler struct {
	procDir string
	dataDir string

	mu   sync.Mutex
	prev CPUTimes
}

// NewHealthSampler reads the kernel's figures under procDir ("/proc"
// outside tests) and the disk of the file system holding dataDir. It takes
// the first CPU sample, so the first Sample has a CPU figure.
func NewHealthSampler(procDir, dataDir string) (*HealthSampler, error) {
	s := &HealthSampler{procDir: procDir, dataDir: dataDir}
	prev, err := ReadCPUTimes(filepath.Join(procDir, "stat"))
	if err != nil {
		return nil, fmt.Errorf("node health: %w", err)
	}
	s.prev = prev
	return s, nil
}

// Sample returns the node's health now; containers is the number of
// server processes running, which the caller knows.
func (s *HealthSampler) Sample(containers int) (wire.NodeHealth, error) {
	h := wire.NodeHealth{At: time.Now().UTC(), Containers: containers}
	cpu, err := ReadCPUTimes(filepath.Join(s.procDir, "stat"))
	if err != nil {
		return h, fmt.Errorf("node health: %w", err)
	}
	s.mu.Lock()
	h.CPUPercent, h.CPUCores = cpu.CPUPercent(s.prev), cpu.Cores
	s.prev = cpu
	s.mu.Unlock()
	if h.MemoryUsedBytes, h.MemoryTotalBytes, err = ReadMemory(filepath.Join(s.procDir, "meminfo")); err != nil {
		return h, fmt.Errorf("node health: %w", err)
	}
	if h.Load1, h.Load5, h.Load15, err = ReadLoad(filepath.Join(s.procDir, "loadavg")); err != nil {
		return h, fmt.Errorf("node health: %w", err)
	}
	if h.DiskUsedBytes, h.DiskTotalBytes, err = DiskUsage(s.dataDir); err != nil {
		return h, fmt.Errorf("node health: %w", err)
	}
	return h, nil
}
