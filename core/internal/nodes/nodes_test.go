package nodes

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store/storetest"
)

func TestEnrolmentExchangesTokenOnce(t *testing.T) {
	svc := NewService(storetest.SQLite(t))
	ctx := context.Background()
	node, token, err := svc.Create(ctx, NewNode{Name: "fra-1", FQDN: "fra1.example.com", MemoryMB: 8192, DiskMB: 100000})
	if err != nil {
		t.Fatal(err)
	}
	got, cred, err := svc.Enrol(ctx, token)
	if err != nil || got.ID != node.ID || cred == "" {
		t.Fatalf("enrol: %v %v", got, err)
	}
	if _, _, err := svc.Enrol(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("second exchange: err = %v, want ErrInvalidToken", err)
	}
	if _, err := svc.Authenticate(ctx, node.ID, cred); err != nil {
		t.Fatalf("credential refused: %v", err)
	}
	if _, err := svc.Authenticate(ctx, node.ID, cred+"x"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong credential: %v", err)
	}
	if _, err := svc.Authenticate(ctx, "no-such-node", cred); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown node: %v", err)
	}
}

func TestExpiredDeployTokenIsRefused(t *testing.T) {
	svc := NewService(storetest.SQLite(t))
	ctx := context.Background()
	_, token, err := svc.Create(ctx, NewNode{Name: "n", FQDN: "10.0.0.5", MemoryMB: 1, DiskMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	svc.now = func() time.Time { return time.Now().Add(DeployTokenTTL + time.Minute) }
	if _, _, err := svc.Enrol(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired token: err = %v", err)
	}
}

func TestCreateValidates(t *testing.T) {
	svc := NewService(storetest.SQLite(t))
	for field, n := range map[string]NewNode{
		"name":      {Name: "", FQDN: "a.example", MemoryMB: 1, DiskMB: 1},
		"fqdn":      {Name: "n", FQDN: "not a host", MemoryMB: 1, DiskMB: 1},
		"memory_mb": {Name: "n", FQDN: "a.example", MemoryMB: 0, DiskMB: 1},
	} {
		_, _, err := svc.Create(context.Background(), n)
		var ve *accounts.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := ParsePorts([]string{"25565", "25570-25572", "25571"})
	if err != nil || !slices.Equal(got, []int{25565, 25570, 25571, 25572}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range [][]string{{"0"}, {"70000"}, {"10-5"}, {"a"}, {"1-2000"}, {}} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}
