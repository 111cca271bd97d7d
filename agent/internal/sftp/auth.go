package sftp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"catalyst.dev/sdk/wire"
	"golang.org/x/crypto/ssh"
)

// Errors an Authenticator returns for the answers the server tells
// apart; anything else is a failure to ask.
var (
	// ErrDenied is a wrong username, password or key, or a login without
	// SFTP access to the server.
	ErrDenied = errors.New("sftp login denied")
	// ErrThrottled is a refusal because of too many failed attempts.
	ErrThrottled = errors.New("sftp login throttled")
)

// Authenticator decides who may log in: the core, in production
// (NewCoreAuth).
type Authenticator interface {
	// Authenticate checks one attempt and returns the grant of an
	// accepted one, or an error wrapping ErrDenied or ErrThrottled.
	Authenticate(ctx context.Context, req wire.SFTPAuthRequest) (wire.SFTPGrant, error)
}

// grantExtension is the ssh.Permissions extension that carries the
// grant, as JSON, from the auth callback to the session.
const grantExtension = "catalyst-grant@catalyst.dev"

// What a client is told on its terminal when a login fails for a reason
// other than wrong credentials.
const (
	bannerThrottled   = "Too many failed logins: try again in a few minutes.\r\n"
	bannerUnavailable = "Logins cannot be checked right now: try again shortly.\r\n"
)

// authenticate asks the Authenticator about one attempt, logs it and
// turns the answer into what x/crypto/ssh expects. fingerprint is set
// for public keys.
func (s *Server) authenticate(ctx context.Context, meta ssh.ConnMetadata, method, fingerprint string, req wire.SFTPAuthRequest) (*ssh.Permissions, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LoginTimeout)
	defer cancel()
	req.Username = meta.User()
	req.RemoteAddr = meta.RemoteAddr().String()
	grant, err := s.cfg.Auth.Authenticate(ctx, req)
	if err == nil {
		err = checkGrant(grant)
	}

	args := []any{"user", meta.User(), "remote", req.RemoteAddr, "method", method}
	if fingerprint != "" {
		args = append(args, "key", fingerprint)
	}
	switch {
	case err == nil:
		s.log.Info("sftp login attempt", append(args, "result", "accepted", "server", grant.ServerID)...)
	case errors.Is(err, ErrDenied):
		s.log.Info("sftp login attempt", append(args, "result", "denied")...)
		return nil, ErrDenied
	case errors.Is(err, ErrThrottled):
		s.log.Warn("sftp login attempt", append(args, "result", "throttled")...)
		return nil, &ssh.BannerError{Err: ErrThrottled, Message: bannerThrottled}
	default:
		s.log.Error("sftp login attempt", append(args, "result", "error", "error", err)...)
		return nil, &ssh.BannerError{Err: err, Message: bannerUnavailable}
	}

	encoded, err := json.Marshal(grant)
	if err != nil {
		return nil, fmt.Errorf("encode grant: %w", err)
	}
	return &ssh.Permissions{Extensions: map[string]string{grantExtension: string(encoded)}}, nil
}

func checkGrant(g wire.SFTPGrant) error {
	if g.ServerID == "" || g.UserID == "" {
		return fmt.Errorf("grant names no server or user: %+v", g)
	}
	return nil
}

// grantOf reads back the grant authenticate stored.
func grantOf(p *ssh.Permissions) (wire.SFTPGrant, error) {
	var g wire.SFTPGrant
	if p == nil || p.Extensions[grantExtension] == "" {
		return g, errors.New("login carries no grant")
	}
	if err := json.Unmarshal([]byte(p.Extensions[grantExtension]), &g); err != nil {
		return g, fmt.Errorf("decode grant: %w", err)
	}
	return g, nil
}

// authorizedKey is key as one authorized_keys line, without the newline.
func authorizedKey(key ssh.PublicKey) string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(key)), "\n")
}
