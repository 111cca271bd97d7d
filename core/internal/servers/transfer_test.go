package servers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

// A transfer is checked before anything moves: the target must be
// another node, out of maintenance, with room and free allocations, and
// the server in a state that can move; none of the refusals changes the
// server. (The move itself, between two real agents, is in e2e.)
func TestTransferChecksBeforeMoving(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		target, _, err := nodes.NewService(s).Create(ctx, nodes.NewNode{Name: "n2", FQDN: "n2.example.com", MemoryMB: 100, DiskMB: 10000})
		if err != nil {
			t.Fatal(err)
		}
		srv := w.insert(store.StateStopped)
		var field *accounts.ValidationError
		cases := []struct {
			name  string
			setup func()
			to    servers.Transfer
			check func(error) bool
		}{
			{"the same node", nil, servers.Transfer{NodeID: w.node.ID},
				func(err error) bool { return errors.As(err, &field) && field.Field == "node_id" }},
			{"an unknown node", nil, servers.Transfer{NodeID: "01a20000-0000-7000-8000-000000000000"},
				func(err error) bool { return errors.As(err, &field) && field.Field == "node_id" }},
			{"a node without allocations", nil, servers.Transfer{NodeID: target.ID},
				func(err error) bool { return errors.Is(err, servers.ErrNoAllocation) }},
			{"an allocation of another node", func() {
				if _, err := s.CreateAllocations(ctx, target.ID, "10.0.0.2", []int{27015}); err != nil {
					t.Fatal(err)
				}
			}, servers.Transfer{NodeID: target.ID, AllocationID: "01a20000-0000-7000-8000-000000000000"},
				func(err error) bool { return errors.As(err, &field) && field.Field == "allocation_id" }},
			{"a node in maintenance", func() {
				target.Maintenance = true
				if err := s.UpdateNode(ctx, target, "maintenance"); err != nil {
					t.Fatal(err)
				}
			}, servers.Transfer{NodeID: target.ID},
				func(err error) bool { return errors.Is(err, servers.ErrNodeMaintenance) }},
			{"a node without room", func() {
				target.Maintenance = false
				target.MemoryMB = 5
				if err := s.UpdateNode(ctx, target, "maintenance", "memory_mb"); err != nil {
					t.Fatal(err)
				}
			}, servers.Transfer{NodeID: target.ID},
				func(err error) bool { return errors.Is(err, servers.ErrInsufficientResources) }},
			{"an offline target", func() {
				target.MemoryMB = 100
				if err := s.UpdateNode(ctx, target, "memory_mb"); err != nil {
					t.Fatal(err)
				}
			}, servers.Transfer{NodeID: target.ID},
				func(err error) bool { return err != nil && strings.Contains(err.Error(), "node") }},
		}
		for _, tc := range cases {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := w.svc.BeginTransfer(ctx, srv.ID, tc.to)
			if !tc.check(err) {
				t.Fatalf("%s: %v", tc.name, err)
			}
			cur, _ := s.ServerByID(ctx, srv.ID)
			if cur.NodeID != w.node.ID || cur.State != store.StateStopped {
				t.Fatalf("%s: the refused transfer changed the server: node %s, %s", tc.name, cur.NodeID, cur.State)
			}
		}
		for _, st := range []string{store.StateInstalling, store.StateStopping, store.StateSuspended, store.StateTransferring} {
			other := w.insert(st)
			if _, err := w.svc.BeginTransfer(ctx, other.ID, servers.Transfer{NodeID: target.ID}); !errors.Is(err, servers.ErrStateConflict) {
				t.Fatalf("transfer while %s: %v", st, err)
			}
		}
	})
}
