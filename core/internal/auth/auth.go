// Package auth authenticates people and programs: password logins with
// optional TOTP, short-lived access JWTs with rotating refresh tokens, and
// API keys.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"github.com/golang-jwt/jwt/v5"
)

// Errors callers branch on. Messages are safe to show a client.
var (
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrTOTPRequired       = errors.New("this account requires a two-factor code")
	ErrInvalidTOTP        = errors.New("invalid two-factor code")
	ErrTOTPNotPending     = errors.New("two-factor setup was not started")
	ErrTOTPAlreadyEnabled = errors.New("two-factor authentication is already enabled")
	ErrInvalidToken       = errors.New("invalid or expired access token")
	ErrInvalidRefresh     = errors.New("invalid, expired or revoked refresh token")
	ErrIPNotAllowed       = errors.New("this API key may not be used from this address")
)

// Options tune token lifetimes.
type Options struct {
	// Secret signs access tokens (HS256).
	Secret     []byte
	AccessTTL  time.Duration
	RefreshTTL time.Duration
}

// Service issues and checks credentials.
type Service struct {
	store *store.Store
	opts  Options
	now   func() time.Time
	// dummyHash is checked when a login names no account, so a wrong email
	// takes as long as a wrong password and accounts cannot be enumerated.
	dummyHash string
}

// New returns a Service. Zero TTLs default to 15 minutes and 30 days.
func New(s *store.Store, o Options) (*Service, error) {
	if len(o.Secret) < 32 {
		return nil, errors.New("auth: signing secret shorter than 32 bytes")
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = 15 * time.Minute
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = 30 * 24 * time.Hour
	}
	dummy, err := accounts.HashPassword("not a real password")
	if err != nil {
		return nil, err
	}
	return &Service{store: s, opts: o, now: time.Now, dummyHash: dummy}, nil
}

// Client describes where a request comes from, for session records.
type Client struct {
	IP        string
	UserAgent string
}

// Session is what a login or refresh hands the client.
type Session struct {
	Token        string      `json:"token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresAt    time.Time   `json:"expires_at"`
	User         *store.User `json:"-"`
}

// Login checks email and password, and the TOTP or recovery code when the
// account has two-factor authentication on.
func (s *Service) Login(ctx context.Context, email, password, code string, c Client) (*Session, error) {
	u, err := s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		_ = accounts.CheckPassword(s.dummyHash, password)
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	if err := accounts.CheckPassword(u.PasswordHash, password); err != nil {
		if errors.Is(err, accounts.ErrPasswordMismatch) {
			return nil, ErrInvalidCredentials
		}
		return nil, fmt.Errorf("check password of %s: %w", u.ID, err)
	}
	if u.TOTPEnabled {
		if code == "" {
			return nil, ErrTOTPRequired
		}
		if err := s.checkSecondFactor(ctx, u, code); err != nil {
			return nil, err
		}
	}
	return s.StartSession(ctx, u, store.NewID(), c)
}

// checkSecondFactor accepts a current TOTP code or an unused recovery code,
// which it then spends.
func (s *Service) checkSecondFactor(ctx context.Context, u *store.User, code string) error {
	code = strings.TrimSpace(code)
	if ValidTOTP(u.TOTPSecret, code, s.now()) {
		return nil
	}
	h := HashSecret(strings.ToLower(code))
	i := slices.Index(u.RecoveryCodes, h)
	if i < 0 {
		return ErrInvalidTOTP
	}
	u.RecoveryCodes = slices.Delete(slices.Clone(u.RecoveryCodes), i, i+1)
	return s.store.UpdateUser(ctx, u, "recovery_codes")
}

// accessClaims are an access token's claims. SV is the user's session
// version at issue time.
type accessClaims struct {
	jwt.RegisteredClaims
	SV int `json:"sv"`
}

const issuer = "catalyst"

// StartSession issues an access token and a refresh token for u, as a
// login does once the credentials are checked. family names the login the
// tokens belong to (store.NewID() for a new one).
func (s *Service) StartSession(ctx context.Context, u *store.User, family string, c Client) (*Session, error) {
	now := s.now()
	exp := now.Add(s.opts.AccessTTL)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        store.NewID(),
		},
		SV: u.SessionVersion,
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.opts.Secret)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	refresh := "catr_" + RandomToken(32)
	rt := &store.RefreshToken{
		UserID: u.ID, FamilyID: family, TokenHash: HashSecret(refresh),
		ExpiresAt: now.Add(s.opts.RefreshTTL).UTC(), IP: c.IP, UserAgent: truncate(c.UserAgent, 256),
	}
	if err := s.store.CreateRefreshToken(ctx, rt); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Session{Token: token, RefreshToken: refresh, ExpiresAt: exp.UTC().Truncate(time.Second), User: u}, nil
}

// Refresh spends a refresh token for a new session of the same login.
// Presenting an already-spent token means it was stolen or replayed: the
// whole login is revoked.
func (s *Service) Refresh(ctx context.Context, token string, c Client) (*Session, error) {
	rt, err := s.store.RefreshTokenByHash(ctx, HashSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidRefresh
	}
	if err != nil {
		return nil, err
	}
	if rt.RevokedAt != nil {
		if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
			return nil, err
		}
		return nil, ErrInvalidRefresh
	}
	if s.now().After(rt.ExpiresAt) {
		return nil, ErrInvalidRefresh
	}
	if err := s.store.RevokeRefreshToken(ctx, rt.ID); errors.Is(err, store.ErrNotFound) {
		// A concurrent refresh spent it first.
		return nil, ErrInvalidRefresh
	} else if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, rt.UserID)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, rt.FamilyID, c)
}

// Logout revokes the login the refresh token belongs to. Unknown tokens are
// not an error: the result, no session, is the same.
func (s *Service) Logout(ctx context.Context, token string) error {
	rt, err := s.store.RefreshTokenByHash(ctx, HashSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.RevokeRefreshFamily(ctx, rt.FamilyID)
}

// ParseAccessToken verifies signature, algorithm, issuer and expiry and
// returns the user ID and session version.
func (s *Service) ParseAccessToken(token string) (userID string, sv int, err error) {
	var claims accessClaims
	_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.opts.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil || claims.Subject == "" {
		return "", 0, ErrInvalidToken
	}
	return claims.Subject, claims.SV, nil
}

// Expiry is when a bearer credential stops being accepted: an access
// token's expiry; zero for API keys (and for what is not a valid token).
func (s *Service) Expiry(bearer string) time.Time {
	if strings.HasPrefix(bearer, APIKeyPrefix) {
		return time.Time{}
	}
	var claims accessClaims
	_, err := jwt.ParseWithClaims(bearer, &claims, func(*jwt.Token) (any, error) { return s.opts.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithTimeFunc(s.now))
	if err != nil || claims.ExpiresAt == nil {
		return time.Time{}
	}
	return claims.ExpiresAt.Time
}

// APIKeyPrefix starts every API key, so scanners and people recognise one.
const APIKeyPrefix = "cat_"

// Authenticate resolves a bearer credential — an access JWT or an API key
// — to its user and principal.
func (s *Service) Authenticate(ctx context.Context, bearer string, ip netip.Addr) (*store.User, *rbac.Principal, error) {
	if strings.HasPrefix(bearer, APIKeyPrefix) {
		return s.authenticateKey(ctx, bearer, ip)
	}
	userID, sv, err := s.ParseAccessToken(bearer)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.SessionVersion != sv) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	return u, &rbac.Principal{UserID: u.ID, Admin: u.Admin}, nil
}

// ChangePassword checks the current password, sets the new one, revokes
// every session of the user and returns a fresh one for the caller.
func (s *Service) ChangePassword(ctx context.Context, u *store.User, current, next string, c Client) (*Session, error) {
	if err := accounts.CheckPassword(u.PasswordHash, current); err != nil {
		return nil, &accounts.ValidationError{Field: "current_password", Message: "is not the account's password"}
	}
	if err := accounts.SetPassword(u, next); err != nil {
		var ve *accounts.ValidationError
		if errors.As(err, &ve) {
			ve.Field = "new_password"
		}
		return nil, err
	}
	if err := s.store.UpdateUser(ctx, u, "password_hash"); err != nil {
		return nil, err
	}
	if err := s.RevokeAll(ctx, u); err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, store.NewID(), c)
}

// RevokeAll ends every session of u: refresh tokens and access tokens.
func (s *Service) RevokeAll(ctx context.Context, u *store.User) error {
	if err := s.store.RevokeUserSessions(ctx, u.ID); err != nil {
		return err
	}
	u.SessionVersion++
	return nil
}

// BeginTOTP stores a new, not yet enabled, secret and returns it with its
// otpauth:// URL.
func (s *Service) BeginTOTP(ctx context.Context, u *store.User) (secret, url string, err error) {
	if u.TOTPEnabled {
		return "", "", ErrTOTPAlreadyEnabled
	}
	u.TOTPSecret = NewTOTPSecret()
	if err := s.store.UpdateUser(ctx, u, "totp_secret"); err != nil {
		return "", "", err
	}
	return u.TOTPSecret, TOTPURL("Catalyst", u.Email, u.TOTPSecret), nil
}

// EnableTOTP turns two-factor on once code proves the user's app has the
// pending secret, and returns ten recovery codes to show once.
func (s *Service) EnableTOTP(ctx context.Context, u *store.User, code string) ([]string, error) {
	if u.TOTPEnabled {
		return nil, ErrTOTPAlreadyEnabled
	}
	if u.TOTPSecret == "" {
		return nil, ErrTOTPNotPending
	}
	if !ValidTOTP(u.TOTPSecret, strings.TrimSpace(code), s.now()) {
		return nil, ErrInvalidTOTP
	}
	codes, hashes := NewRecoveryCodes(10)
	u.TOTPEnabled = true
	u.RecoveryCodes = hashes
	if err := s.store.UpdateUser(ctx, u, "totp_enabled", "recovery_codes"); err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns two-factor off; it takes the password and a current
// code (or recovery code), so a stolen session alone cannot.
func (s *Service) DisableTOTP(ctx context.Context, u *store.User, password, code string) error {
	if err := accounts.CheckPassword(u.PasswordHash, password); err != nil {
		return &accounts.ValidationError{Field: "password", Message: "is not the account's password"}
	}
	if !u.TOTPEnabled {
		return nil
	}
	if err := s.checkSecondFactor(ctx, u, code); err != nil {
		return err
	}
	u.TOTPEnabled, u.TOTPSecret, u.RecoveryCodes = false, "", []string{}
	return s.store.UpdateUser(ctx, u, "totp_enabled", "totp_secret", "recovery_codes")
}

// RandomToken is n random bytes, base32 in lower case: the secret part of
// refresh tokens, API keys and node tokens.
func RandomToken(n int) string {
	b := make([]byte, n)
	mustRead(b)
	return strings.ToLower(b32.EncodeToString(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
