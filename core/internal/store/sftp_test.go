package store_test

import (
	"context"
	"errors"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestSFTPLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		other := &store.Node{Name: "node-2", FQDN: "node2.example.com", MemoryMB: 1024, DiskMB: 1024}
		if err := s.CreateNode(ctx, other); err != nil {
			t.Fatal(err)
		}
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}

		if u, err := s.UserByUsername(ctx, "owner"); err != nil || u.ID != f.user.ID {
			t.Fatalf("UserByUsername = %+v, %v", u, err)
		}
		if _, err := s.UserByUsername(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user name: %v", err)
		}

		if got, err := s.ServerOnNodeByShortID(ctx, f.node.ID, srv.ShortID); err != nil || got.ID != srv.ID {
			t.Fatalf("server by short id on its node = %+v, %v", got, err)
		}
		if _, err := s.ServerOnNodeByShortID(ctx, other.ID, srv.ShortID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("server by short id on another node: %v, want ErrNotFound", err)
		}

		k := &store.SSHKey{UserID: f.user.ID, Name: "laptop", PublicKey: "ssh-ed25519 AAAA", Fingerprint: "SHA256:abc"}
		if err := s.CreateSSHKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		dup := &store.SSHKey{UserID: f.user.ID, Name: "again", PublicKey: "ssh-ed25519 AAAA", Fingerprint: "SHA256:abc"}
		if err := s.CreateSSHKey(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("the same key twice: %v, want ErrConflict", err)
		}
		if got, err := s.SSHKeyByFingerprint(ctx, f.user.ID, "SHA256:abc"); err != nil || got.ID != k.ID {
			t.Fatalf("SSHKeyByFingerprint = %+v, %v", got, err)
		}
		if _, err := s.SSHKeyByFingerprint(ctx, "someone-else", "SHA256:abc"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another user's key: %v, want ErrNotFound", err)
		}
		if n, err := s.CountSSHKeys(ctx, f.user.ID); err != nil || n != 1 {
			t.Fatalf("CountSSHKeys = %d, %v", n, err)
		}

		// Keys go with their user.
		if err := s.DeleteServer(ctx, srv.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, f.user.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SSHKeyByFingerprint(ctx, f.user.ID, "SHA256:abc"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("key of a deleted user: %v, want ErrNotFound", err)
		}
	})
}
