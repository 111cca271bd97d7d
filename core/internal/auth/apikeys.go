package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
)

// An API key reads cat_<prefix>_<secret>: the prefix finds the stored
// record and is safe to show; only the secret's hash is stored.
const (
	keyPrefixLen = 12
	keySecretLen = 32
)

// NewAPIKey is what creating a key takes.
type NewAPIKey struct {
	Name string
	// Scopes limits the key; nil means all of the user's permissions.
	Scopes []string
	// AllowedIPs are addresses or CIDR prefixes; empty allows any.
	AllowedIPs []string
	ExpiresAt  *time.Time
}

// CreateAPIKey stores a new key for u and returns its full text, which is
// shown once and never again.
func (s *Service) CreateAPIKey(ctx context.Context, u *store.User, n NewAPIKey) (string, *store.APIKey, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" || len(name) > 100 {
		return "", nil, &accounts.ValidationError{Field: "name", Message: "must be 1-100 characters"}
	}
	for _, sc := range n.Scopes {
		if !rbac.ValidScope(sc) {
			return "", nil, &accounts.ValidationError{Field: "scopes", Message: fmt.Sprintf("%q is not a permission or permission family", sc)}
		}
	}
	for _, ip := range n.AllowedIPs {
		if _, err := parseAllowed(ip); err != nil {
			return "", nil, &accounts.ValidationError{Field: "allowed_ips", Message: fmt.Sprintf("%q is not an IP address or CIDR prefix", ip)}
		}
	}
	if n.ExpiresAt != nil && !n.ExpiresAt.After(s.now()) {
		return "", nil, &accounts.ValidationError{Field: "expires_at", Message: "must be in the future"}
	}
	prefix := RandomToken(keyPrefixLen)[:keyPrefixLen]
	secret := RandomToken(keySecretLen)
	k := &store.APIKey{
		UserID: u.ID, Name: name, Prefix: prefix, KeyHash: HashSecret(secret),
		Scopes: n.Scopes, AllowedIPs: n.AllowedIPs, ExpiresAt: n.ExpiresAt,
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return APIKeyPrefix + prefix + "_" + secret, k, nil
}

func (s *Service) authenticateKey(ctx context.Context, key string, ip netip.Addr) (*store.User, *rbac.Principal, error) {
	prefix, secret, ok := strings.Cut(strings.TrimPrefix(key, APIKeyPrefix), "_")
	if !ok || len(prefix) != keyPrefixLen || secret == "" {
		return nil, nil, ErrInvalidToken
	}
	k, err := s.store.APIKeyByPrefix(ctx, prefix)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(k.KeyHash)) != 1 {
		return nil, nil, ErrInvalidToken
	}
	if k.ExpiresAt != nil && s.now().After(*k.ExpiresAt) {
		return nil, nil, ErrInvalidToken
	}
	if !ipAllowed(k.AllowedIPs, ip) {
		return nil, nil, ErrIPNotAllowed
	}
	// Record use at most once a minute: the row just read says when it was
	// last recorded, so most requests skip the write entirely.
	if now := s.now(); k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			return nil, nil, err
		}
	}
	u := k.User
	return u, &rbac.Principal{UserID: u.ID, Admin: u.Admin, Scopes: k.Scopes, APIKeyID: k.ID}, nil
}

func parseAllowed(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func ipAllowed(allowed []string, ip netip.Addr) bool {
	if len(allowed) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, s := range allowed {
		if p, err := parseAllowed(s); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}
