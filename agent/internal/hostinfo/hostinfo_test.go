package hostinfo

import (
	"testing"
)

func TestResourcesArePlausible(t *testing.T) {
	r, err := Resources(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if r.Hostname == "" || r.OS == "" || r.Arch == "" || r.CPUCores < 1 || r.MemoryBytes < 64<<20 ||
		r.DiskBytes == 0 || r.DiskFreeBytes > r.DiskBytes {
		t.Errorf("implausible resources: %+v", r)
	}
}
