package store_test

import (
	"context"
	"errors"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestBackups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		other := &store.Server{Name: "o", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		for _, sv := range []*store.Server{srv, other} {
			if err := s.CreateServer(ctx, sv, nil); err != nil {
				t.Fatal(err)
			}
		}

		// The caller may choose the ID (it names the object); the creator
		// is kept.
		first := &store.Backup{ID: store.NewID(), ServerID: srv.ID, NodeID: f.node.ID, Store: "local",
			Key: "servers/" + srv.ID + "/a", Name: "first", Status: store.BackupCreating, CreatedBy: &f.user.ID}
		wantID := first.ID
		if err := s.CreateBackup(ctx, first); err != nil {
			t.Fatal(err)
		}
		if first.ID != wantID || first.CreatedAt.IsZero() {
			t.Fatalf("created %+v", first)
		}
		second := &store.Backup{ServerID: srv.ID, NodeID: f.node.ID, Store: "s3", Key: "k2", Name: "second", Status: store.BackupCreating}
		failed := &store.Backup{ServerID: srv.ID, NodeID: f.node.ID, Store: "s3", Key: "k3", Name: "broken", Status: store.BackupFailed, Error: "disk full"}
		foreign := &store.Backup{ServerID: other.ID, NodeID: f.node.ID, Store: "s3", Key: "k4", Name: "theirs", Status: store.BackupCompleted, Locked: true}
		for _, b := range []*store.Backup{second, failed, foreign} {
			if err := s.CreateBackup(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if second.ID == "" {
			t.Fatal("CreateBackup left the ID empty")
		}
		bad := &store.Backup{ServerID: srv.ID, NodeID: f.node.ID, Store: "x", Key: "k", Name: "n", Status: "pending"}
		if err := s.CreateBackup(ctx, bad); err == nil {
			t.Fatal("a backup with an unknown status was stored")
		}

		list, err := s.ListBackups(ctx, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].ID != failed.ID || list[2].ID != first.ID {
			t.Fatalf("ListBackups = %v, want broken, second, first", names(list))
		}
		if got, err := s.BackupByID(ctx, srv.ID, first.ID); err != nil || got.Key != first.Key || got.CreatedBy == nil || *got.CreatedBy != f.user.ID {
			t.Fatalf("BackupByID = %+v, %v", got, err)
		}
		if _, err := s.BackupByID(ctx, srv.ID, foreign.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another server's backup: %v, want ErrNotFound", err)
		}
		creating, err := s.NodeBackups(ctx, f.node.ID, store.BackupCreating)
		if err != nil || len(creating) != 2 || creating[0].ID != first.ID {
			t.Fatalf("NodeBackups(creating) = %v, %v", names(creating), err)
		}

		// Finishing is compare-and-set on creating.
		first.Status, first.Key, first.Size, first.SHA256 = store.BackupCompleted, "servers/"+srv.ID+"/a.tar.zst", 1234, "ab12"
		first.Files, first.Bytes, first.Compression = 3, 5000, "zstd"
		if err := s.FinishBackup(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := *first
		again.Status, again.Error = store.BackupFailed, "too late"
		if err := s.FinishBackup(ctx, &again); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("finishing a finished backup: %v, want ErrNotFound", err)
		}
		got, _ := s.BackupByID(ctx, srv.ID, first.ID)
		if got.Status != store.BackupCompleted || got.Size != 1234 || got.Files != 3 || got.Bytes != 5000 ||
			got.Compression != "zstd" || got.Key != first.Key || got.CompletedAt == nil || got.Error != "" {
			t.Fatalf("finished backup read back as %+v", got)
		}

		got.Name, got.Locked = "renamed", true
		if err := s.UpdateBackup(ctx, got, "name", "locked"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BackupByID(ctx, srv.ID, first.ID); got.Name != "renamed" || !got.Locked {
			t.Fatalf("updated backup read back as %+v", got)
		}

		if n, err := s.DeleteFailedBackups(ctx, srv.ID); err != nil || n != 1 {
			t.Fatalf("DeleteFailedBackups = %d, %v", n, err)
		}
		if err := s.DeleteBackup(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBackup(ctx, second.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if list, _ := s.ListBackups(ctx, srv.ID); len(list) != 1 || list[0].ID != first.ID {
			t.Fatalf("after deletes: %v", names(list))
		}

		// Backups go with their server.
		if err := s.DeleteServer(ctx, srv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BackupByID(ctx, srv.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("backup of a deleted server: %v", err)
		}
		if list, _ := s.ListBackups(ctx, other.ID); len(list) != 1 {
			t.Fatalf("another server's backups went too: %v", names(list))
		}
	})
}

func TestServerBackupLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ServerByID(ctx, srv.ID); got.BackupLimit != nil {
			t.Fatalf("a new server's backup limit is %d, want NULL (the default)", *got.BackupLimit)
		}
		for _, want := range []*int{ptr(0), ptr(12), nil} {
			srv.BackupLimit = want
			if err := s.UpdateServer(ctx, srv, "backup_limit"); err != nil {
				t.Fatal(err)
			}
			got, _ := s.ServerByID(ctx, srv.ID)
			if (got.BackupLimit == nil) != (want == nil) || (want != nil && *got.BackupLimit != *want) {
				t.Fatalf("backup limit read back as %v, want %v", got.BackupLimit, want)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

func names(bs []*store.Backup) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}
