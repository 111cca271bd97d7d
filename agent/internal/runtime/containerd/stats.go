package containerd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/typeurl/v2"

	"catalyst.dev/agent/internal/runtime"
)

// Limits at or above this are the kernel's "no limit" (v1 reports the page
// counter maximum, v2 "max").
const unlimited = 1 << 62

// Stats samples the running process's resources: CPU, memory and pids from
// the task's cgroup metrics (cgroup v1 or v2, whichever the node runs), and
// traffic from its network namespace.
func (r *Runtime) Stats(ctx context.Context, id string) (runtime.Stats, error) {
	task, err := r.liveTask(ctx, id)
	if err != nil {
		return runtime.Stats{}, err
	}
	m, err := task.Metrics(ctx)
	if err != nil {
		return runtime.Stats{}, fmt.Errorf("stats %s: %w", id, err)
	}
	data, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return runtime.Stats{}, fmt.Errorf("stats %s: %w", id, err)
	}
	s := runtime.Stats{At: time.Now()}
	if m.Timestamp != nil {
		s.At = m.Timestamp.AsTime()
	}
	switch v := data.(type) {
	case *cgroup1.Metrics:
		s.CPU = time.Duration(v.GetCPU().GetUsage().GetTotal())
		mem := v.GetMemory()
		s.MemoryBytes = workingSet(mem.GetUsage().GetUsage(), mem.GetTotalInactiveFile())
		s.MemoryLimitBytes = limit(mem.GetUsage().GetLimit())
		s.Pids = v.GetPids().GetCurrent()
	case *cgroup2.Metrics:
		s.CPU = time.Duration(v.GetCPU().GetUsageUsec()) * time.Microsecond
		mem := v.GetMemory()
		s.MemoryBytes = workingSet(mem.GetUsage(), mem.GetInactiveFile())
		s.MemoryLimitBytes = limit(mem.GetUsageLimit())
		s.Pids = v.GetPids().GetCurrent()
	default:
		return runtime.Stats{}, fmt.Errorf("stats %s: unknown metrics type %T", id, data)
	}
	if r.opts.network.Path(id) != "" {
		s.NetRxBytes, s.NetTxBytes, err = netDev(task.Pid())
		if err != nil {
			return runtime.Stats{}, fmt.Errorf("stats %s: %w", id, err)
		}
	}
	return s, nil
}

// workingSet is what docker and the kubelet report: usage less the page
// cache the kernel can drop at once.
func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}

func limit(l uint64) uint64 {
	if l >= unlimited {
		return 0
	}
	return l
}

// netDev adds up received and sent bytes over every interface but the
// loopback in the network namespace of process pid.
func netDev(pid uint32) (rx, tx uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseNetDev(b)
}

func parseNetDev(b []byte) (rx, tx uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, counters, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue // the two header lines, and loopback
		}
		f := strings.Fields(counters)
		if len(f) < 9 {
			continue
		}
		// Receive: bytes packets errs drop fifo frame compressed multicast;
		// then transmit: bytes ….
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("parse net/dev line %q", sc.Text())
		}
		rx += r
		tx += t
	}
	return rx, tx, sc.Err()
}
