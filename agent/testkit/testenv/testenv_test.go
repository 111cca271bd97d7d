package testenv_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/containerd/containerd/v2/client"

	"catalyst.dev/agent/testkit/testenv"
)

func TestPrivateContainerdServesAndCleansUp(t *testing.T) {
	var dir string
	t.Run("start", func(t *testing.T) {
		ctd := testenv.Start(t)
		dir = ctd.Dir
		if len(ctd.Address) >= 108 {
			t.Errorf("socket path %q is too long for a unix socket", ctd.Address)
		}
		c, err := client.New(ctd.Address)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		v, err := c.Version(context.Background())
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		t.Logf("containerd %s at %s", v.Version, ctd.Address)
	})
	if dir == "" {
		return // skipped
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after cleanup: %v", dir, err)
	}
}

func TestInstancesRunSideBySide(t *testing.T) {
	a := testenv.Start(t)
	b := testenv.Start(t)
	if a.Address == b.Address || a.Dir == b.Dir {
		t.Fatalf("two instances share %s / %s", a.Address, a.Dir)
	}
	for _, ctd := range []*testenv.Containerd{a, b} {
		c, err := client.New(ctd.Address)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := c.IsServing(context.Background())
		c.Close()
		if !ok || err != nil {
			t.Errorf("%s not serving: %v", ctd.Address, err)
		}
	}
}
