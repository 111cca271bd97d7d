package accounts

import (
	"context"
	"errors"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPassword(h, "correct horse battery staple"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := CheckPassword(h, "Correct horse battery staple"); !errors.Is(err, ErrPasswordMismatch) {
		t.Fatalf("wrong password: err = %v, want ErrPasswordMismatch", err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if err := CheckPassword(bad, "x"); err == nil || errors.Is(err, ErrPasswordMismatch) {
			t.Fatalf("malformed hash %q: err = %v, want a format error", bad, err)
		}
	}
}

func TestCreateValidatesInput(t *testing.T) {
	svc := NewService(storetest.SQLite(t))
	ctx := context.Background()
	cases := []struct {
		name  string
		in    NewUser
		field string
	}{
		{"not an email", NewUser{Email: "nope", Password: "longenough"}, "email"},
		{"display name form", NewUser{Email: "Ada <ada@example.com>", Password: "longenough"}, "email"},
		{"short password", NewUser{Email: "ada@example.com", Password: "short"}, "password"},
		{"bad username", NewUser{Email: "ada@example.com", Username: "Ada Lovelace", Password: "longenough"}, "username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(ctx, tc.in)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want ValidationError on %s", err, tc.field)
			}
		})
	}
	u, err := svc.Create(ctx, NewUser{Email: " Ada.L+test@Example.com ", Password: "longenough"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ada.l+test@example.com" || u.Username != "ada-l-test" {
		t.Fatalf("normalised to %q / %q", u.Email, u.Username)
	}
	if _, err := svc.Create(ctx, NewUser{Email: "ada.l+test@example.com", Username: "other", Password: "longenough"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email: err = %v, want ErrConflict", err)
	}
}

func TestEnsureAdminOnlyOnEmptyDatabase(t *testing.T) {
	s := storetest.SQLite(t)
	svc := NewService(s)
	ctx := context.Background()
	creds, err := svc.EnsureAdmin(ctx)
	if err != nil || creds == nil {
		t.Fatalf("first start: creds = %v, err = %v", creds, err)
	}
	u, err := s.UserByEmail(ctx, creds.Email)
	if err != nil || !u.Admin {
		t.Fatalf("admin not stored: %+v, %v", u, err)
	}
	if err := CheckPassword(u.PasswordHash, creds.Password); err != nil {
		t.Fatalf("printed password does not log in: %v", err)
	}
	again, err := svc.EnsureAdmin(ctx)
	if err != nil || again != nil {
		t.Fatalf("second start: creds = %v, err = %v; want none", again, err)
	}
}
