// Package hostinfo describes the node the agent runs on: what it has, for
// the Hello the agent sends the core, and how busy it is, for the health
// reports (read from /proc and statfs).
package hostinfo

import (
	"bufio"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"catalyst.dev/sdk/wire"
)

// Resources reports the host's name, platform, CPUs, memory and the file
// system holding dataDir. Runtime is left for the caller to fill in.
func Resources(dataDir string) (wire.Resources, error) {
	r := wire.Resources{OS: goruntime.GOOS, Arch: goruntime.GOARCH, CPUCores: goruntime.NumCPU()}
	var err error
	if r.Hostname, err = os.Hostname(); err != nil {
		return r, fmt.Errorf("host resources: %w", err)
	}
	if r.MemoryBytes, err = memTotal("/proc/meminfo"); err != nil {
		return r, fmt.Errorf("host resources: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dataDir, &st); err != nil {
		return r, fmt.Errorf("host resources: statfs %s: %w", dataDir, err)
	}
	r.DiskBytes = st.Blocks * uint64(st.Bsize)
	r.DiskFreeBytes = st.Bavail * uint64(st.Bsize)
	return r, nil
}

// memTotal reads MemTotal (in kB) from a meminfo file.
func memTotal(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: MemTotal %q: %w", path, fields[1], err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no MemTotal", path)
}
