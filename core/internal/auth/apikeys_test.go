package auth

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestAPIKeyAuthenticationRecordsUse(t *testing.T) {
	storetest.Each(t, testAPIKeyAuthenticationRecordsUse)
}

func testAPIKeyAuthenticationRecordsUse(t *testing.T, s *store.Store) {
	svc, err := New(s, Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u := &store.User{Email: "a@example.com", Username: "a", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key, k, err := svc.CreateAPIKey(ctx, u, NewAPIKey{Name: "ci", Scopes: []string{"file.*"}})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	got, p, err := svc.Authenticate(ctx, key, ip)
	if err != nil || got.ID != u.ID || p.APIKeyID != k.ID || len(p.Scopes) != 1 {
		t.Fatalf("Authenticate = %v, %+v, %v", got, p, err)
	}
	keys, _ := s.ListAPIKeys(ctx, u.ID)
	if keys[0].LastUsedAt == nil {
		t.Fatal("use of the key was not recorded")
	}
	first := *keys[0].LastUsedAt
	svc.Authenticate(ctx, key, ip)
	keys, _ = s.ListAPIKeys(ctx, u.ID)
	if !keys[0].LastUsedAt.Equal(first) {
		t.Fatal("last use rewritten within a minute")
	}
	later := first.Add(2 * time.Minute)
	svc.now = func() time.Time { return later }
	if _, _, err := svc.Authenticate(ctx, key, ip); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.ListAPIKeys(ctx, u.ID)
	if !keys[0].LastUsedAt.Equal(later) {
		t.Fatalf("use a minute later recorded as %v, want %v", keys[0].LastUsedAt, later)
	}
	// A wrong secret with the right prefix is refused.
	wrong := key[:len(key)-1] + "a"
	if key[len(key)-1] == 'a' {
		wrong = key[:len(key)-1] + "b"
	}
	if _, _, err := svc.Authenticate(ctx, wrong, ip); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong secret: %v", err)
	}
}
