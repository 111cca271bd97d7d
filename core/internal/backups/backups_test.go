package backups

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/store"
	"github.com/hashicorp/go-hclog"
)

// The service's behaviour is tested through the API with a real gateway
// and a stand-in agent (core/internal/api/backups_test.go); these are its
// pure parts.

func TestFilenamesAreSafe(t *testing.T) {
	at := time.Date(2026, 11, 21, 8, 9, 10, 0, time.UTC)
	for name, want := range map[string]string{
		"survival":                 "survival-20261121-080910.tar.gz",
		"../../etc/passwd":         "etc-passwd-20261121-080910.tar.gz",
		"Ünïcødé \"quoted\"; name": "n-c-d-quoted-name-20261121-080910.tar.gz",
		"\x00\r\n":                 "backup-20261121-080910.tar.gz",
		strings.Repeat("a", 200):   strings.Repeat("a", 64) + "-20261121-080910.tar.gz",
	} {
		if got := Filename(name, &store.Backup{CreatedAt: at, Compression: "gzip"}); got != want {
			t.Errorf("Filename(%q) = %q, want %q", name, got, want)
		}
	}
	for compression, want := range map[string]string{"zstd": "x-20261121-080910.tar.zst", "none": "x-20261121-080910.tar"} {
		if got := Filename("x", &store.Backup{CreatedAt: at, Compression: compression}); got != want {
			t.Errorf("Filename with %s = %q, want %q", compression, got, want)
		}
	}
}

func TestNamesAreChecked(t *testing.T) {
	if got, err := checkName("  nightly  "); err != nil || got != "nightly" {
		t.Fatalf("checkName = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", "a\tb", "a\x7fb", strings.Repeat("é", maxName+1), "\xff"} {
		var ve *accounts.ValidationError
		if _, err := checkName(bad); !errors.As(err, &ve) || ve.Field != "name" {
			t.Errorf("checkName(%q) = %v, want a name error", bad, err)
		}
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		err      error
		sentinel error
		want     string
	}{
		{&LimitError{Limit: 3, Count: 3}, ErrLimit, "unlock or delete one"},
		{&StatusError{Action: "delete", Status: store.BackupCreating}, ErrBackupState, "still being made"},
		{&StatusError{Action: "restore", Status: store.BackupFailed}, ErrBackupState, "it is failed"},
		{&StoreError{NodeID: "n1", Store: "tape", Stores: []string{"local", "s3"}}, ErrBadStore, `no backup store "tape"; it has local, s3`},
		{&StoreError{NodeID: "n1"}, ErrBadStore, "declare a backup_store plugin"},
	} {
		if !errors.Is(tc.err, tc.sentinel) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%v: want %v and %q", tc.err, tc.sentinel, tc.want)
		}
	}
}

func TestFailuresAreToldForPeople(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancelCause(live)
	cancel(ErrClosed)
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{live, &gateway.AgentError{Code: "runtime_error", Message: "read world: input/output error"}, "read world: input/output error"},
		{live, fmt.Errorf("x: %w", gateway.ErrUnreachable), "stopped answering"},
		{live, fmt.Errorf("x: %w", gateway.ErrNodeOffline), "went offline before the backup began"},
		{live, fmt.Errorf("x: %w", gateway.ErrRequestBody), "nothing was changed"},
		{gone, context.Canceled, "the backup was abandoned: the core is shutting down"},
	} {
		if got := failure(tc.ctx, "backup", tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("failure(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestReserveExcludesBackupsAndStarts(t *testing.T) {
	s := New(nil, nil, nil, nil, hclog.NewNullLogger(), Options{})
	release, err := s.Reserve("srv")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Busy("srv") || !s.KeepsStopped("srv") || s.Busy("other") {
		t.Fatal("a reserved server is not held")
	}
	if _, err := s.Reserve("srv"); !errors.Is(err, ErrBusy) {
		t.Fatalf("reserving twice: %v", err)
	}
	if _, err := s.begin("srv", opBackup, "b", false); !errors.Is(err, ErrBusy) {
		t.Fatalf("a backup of a reserved server: %v", err)
	}
	release()
	release() // twice is harmless
	if s.Busy("srv") {
		t.Fatal("released server still busy")
	}
	s.Close()
	if _, err := s.Reserve("srv"); !errors.Is(err, ErrClosed) {
		t.Fatalf("reserve after Close: %v", err)
	}
}
