package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"catalyst.dev/core/internal/store"
)

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 8

// ValidationError names the field that was wrong and why.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// NewUser is what creating an account takes.
type NewUser struct {
	Email    string
	Username string // derived from the email's local part when empty
	Password string
	Admin    bool
}

// Service creates accounts.
type Service struct {
	store *store.Store
}

// NewService returns a Service on s.
func NewService(s *store.Store) *Service { return &Service{store: s} }

// Create validates n, hashes its password and stores the account. A taken
// email or user name is store.ErrConflict; bad input is *ValidationError.
func (a *Service) Create(ctx context.Context, n NewUser) (*store.User, error) {
	email, err := normalizeEmail(n.Email)
	if err != nil {
		return nil, err
	}
	username := n.Username
	if strings.TrimSpace(username) == "" {
		username = usernameFromEmail(email)
	}
	if username, err = normalizeUsername(username); err != nil {
		return nil, err
	}
	u := &store.User{Email: email, Username: username, Admin: n.Admin}
	if err := SetPassword(u, n.Password); err != nil {
		return nil, err
	}
	if err := a.store.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

func normalizeEmail(s string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(s))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return "", &ValidationError{Field: "email", Message: fmt.Sprintf("%q is not an email address", s)}
	}
	return email, nil
}

func normalizeUsername(s string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	if !usernameRE.MatchString(u) {
		return "", &ValidationError{Field: "username", Message: "must be 1-32 characters of a-z, 0-9, _ and -, starting with a letter or digit"}
	}
	return u, nil
}

// ApplyProfile validates and applies a new email and user name (nil: keep)
// to u, returning the columns that changed. It does not store u.
func ApplyProfile(u *store.User, email, username *string) ([]string, error) {
	var cols []string
	if email != nil {
		e, err := normalizeEmail(*email)
		if err != nil {
			return nil, err
		}
		if e != u.Email {
			u.Email = e
			cols = append(cols, "email")
		}
	}
	if username != nil {
		n, err := normalizeUsername(*username)
		if err != nil {
			return nil, err
		}
		if n != u.Username {
			u.Username = n
			cols = append(cols, "username")
		}
	}
	return cols, nil
}

// SetPassword validates and hashes a new password into u. It does not
// store u.
func SetPassword(u *store.User, password string) error {
	if len(password) < MinPasswordLength {
		return &ValidationError{Field: "password", Message: fmt.Sprintf("must be at least %d characters", MinPasswordLength)}
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	u.PasswordHash = h
	return nil
}

func usernameFromEmail(email string) string {
	local, _, _ := strings.Cut(email, "@")
	var b strings.Builder
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == '.' || r == '+':
			b.WriteRune('-')
		}
		if b.Len() == 32 {
			break
		}
	}
	return strings.Trim(b.String(), "-_")
}

// BootstrapAdminEmail is the first administrator's email.
const BootstrapAdminEmail = "admin@catalyst.local"

// Credentials are an email and a password shown to a person once.
type Credentials struct {
	Email    string
	Password string
}

// EnsureAdmin creates an administrator with a random password when the
// database has no account at all, and returns its credentials; otherwise it
// returns nil. Two replicas starting at once cannot both create one: the
// second hits the unique email and returns nil.
func (a *Service) EnsureAdmin(ctx context.Context) (*Credentials, error) {
	n, err := a.store.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	creds := &Credentials{Email: BootstrapAdminEmail, Password: RandomPassword(20)}
	_, err = a.Create(ctx, NewUser{Email: creds.Email, Username: "admin", Password: creds.Password, Admin: true})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return creds, nil
}
