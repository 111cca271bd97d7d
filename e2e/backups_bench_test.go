package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"catalyst.dev/agent/testkit/mixedtree"
)

// benchTreeSize is the volume the backup benchmarks archive.
const benchTreeSize = 1 << 30

// BenchmarkBackup makes and restores a backup of a 1 GiB mixed game tree
// through the real agent and backup-local plugin, beside GNU tar with gzip
// on the same tree and disk. The agent's and the plugin's peak resident
// memory during each run are reported too.
func BenchmarkBackup(b *testing.B) {
	c := newCluster(b, clusterOptions{})
	s := c.createServerWith("bench-backup", map[string]any{"disk_mb": 4096})
	vol := c.volume(s.ID)
	st, err := mixedtree.Generate(filepath.Join(vol, "game"), benchTreeSize, 1)
	if err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	tgz := filepath.Join(work, "baseline.tar.gz")
	var last backup

	b.Run("create/catalyst", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		peaks := c.resetPeaks(b)
		for range b.N {
			last = c.makeBackup(s.ID, "local")
			if last.Status != "completed" {
				b.Fatalf("backup %s: %s", last.Status, last.Error)
			}
		}
		b.StopTimer()
		peaks.report(b)
		b.ReportMetric(float64(last.Size)/float64(st.Bytes), "ratio")
	})
	b.Run("create/baseline-tar-czf", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		for range b.N {
			if out, err := exec.Command("tar", "-czf", tgz, "-C", vol, ".").CombinedOutput(); err != nil {
				b.Fatalf("tar -czf: %v\n%s", err, out)
			}
		}
		b.StopTimer()
		if fi, err := os.Stat(tgz); err == nil {
			b.ReportMetric(float64(fi.Size())/float64(st.Bytes), "ratio")
		}
	})
	b.Run("restore/catalyst", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		peaks := c.resetPeaks(b)
		for range b.N {
			if status, msg := c.restore(s.ID, last.ID, true); status != "completed" {
				b.Fatalf("restore %s: %s", status, msg)
			}
		}
		b.StopTimer()
		peaks.report(b)
	})
	b.Run("restore/baseline-tar-xzf", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		for i := range b.N {
			b.StopTimer()
			dst := filepath.Join(work, fmt.Sprintf("x%d", i))
			if err := os.MkdirAll(dst, 0o755); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if out, err := exec.Command("tar", "-xzf", tgz, "-C", dst).CombinedOutput(); err != nil {
				b.Fatalf("tar -xzf: %v\n%s", err, out)
			}
			b.StopTimer()
			os.RemoveAll(dst)
			b.StartTimer()
		}
	})
}

// peaks are processes whose peak memory a benchmark reports.
type peaks map[string]int

// resetPeaks resets the peak resident memory (VmHWM) of the agent and of
// its plugin processes.
func (c *cluster) resetPeaks(b *testing.B) peaks {
	b.Helper()
	p := peaks{"agent": c.agent.cmd.Process.Pid}
	for _, pid := range childPIDs(c.agent.cmd.Process.Pid) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.HasPrefix(string(comm), "catalyst-backup") {
			p["plugin"] = pid
		}
	}
	for _, pid := range p {
		// Writing 5 resets the peak (VmHWM) to the current RSS.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

func (p peaks) report(b *testing.B) {
	for name, pid := range p {
		b.ReportMetric(float64(procStatusKB(b, pid, "VmHWM"))/1024, name+"-peak-MB")
	}
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at ')'.
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, n)
			}
		}
	}
	return out
}
