// Package sftpauth decides SFTP logins. Agents serve SFTP on their nodes
// and ask the core, over their tunnel (wire.CorePathSFTPAuth), whether a
// user name and password or key may log in; the answer names the server
// and the file permissions the session holds. The Revoker tells agents to
// close sessions that lost their access.
package sftpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// Errors Authenticate returns for a refused login. The agent hears no more
// than these: which part was wrong is for the audit log only.
var (
	ErrDenied    = errors.New("wrong user name, password or key, or no SFTP access to this server now")
	ErrThrottled = errors.New("too many failed logins from this address; try again later")
)

// ThrottledError is a login refused unchecked; it matches ErrThrottled.
type ThrottledError struct {
	// RetryAfter is how long until the address may try again.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string { return ErrThrottled.Error() }

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Audit actions.
const (
	ActionLogin       = "server.sftp.login"
	ActionLoginFailed = "sftp.login_failed"
)

// Login methods, as the audit log names them.
const (
	MethodPassword  = "password"
	MethodPublicKey = "publickey"
)

// Options tune the throttle and the password rule.
type Options struct {
	// MaxFailuresPerAccount and MaxFailuresPerIP bound the failed logins
	// of one client address on one account, and on all accounts, within
	// FailureWindow (defaults 10, 30 and 5 minutes).
	MaxFailuresPerAccount int
	MaxFailuresPerIP      int
	FailureWindow         time.Duration
	// PasswordWithTwoFactor lets accounts with two-factor authentication
	// log in with their password alone.
	PasswordWithTwoFactor bool
}

// OptionsFrom reads the sftp block of the core's configuration.
func OptionsFrom(c *config.SFTP) Options {
	return Options{MaxFailuresPerAccount: c.MaxFailuresPerAccount, MaxFailuresPerIP: c.MaxFailuresPerIP,
		FailureWindow: c.Window(), PasswordWithTwoFactor: c.PasswordWithTwoFactor}
}

func (o *Options) defaults() {
	if o.MaxFailuresPerAccount <= 0 {
		o.MaxFailuresPerAccount = 10
	}
	if o.MaxFailuresPerIP <= 0 {
		o.MaxFailuresPerIP = 30
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = 5 * time.Minute
	}
}

// Service checks logins. It is the http.Handler of wire.CorePathSFTPAuth
// behind the gateway's Remote handler, which tells it the calling node.
type Service struct {
	store *store.Store
	audit *audit.Recorder
	log   hclog.Logger
	opts  Options
	fails *failures
	// dummyHash is checked when the account does not exist, so that an
	// unknown name takes as long as a wrong password.
	dummyHash string
}

// New returns a Service on s that records every attempt with rec.
func New(s *store.Store, rec *audit.Recorder, log hclog.Logger, o Options) (*Service, error) {
	o.defaults()
	dummy, err := accounts.HashPassword("not a real password")
	if err != nil {
		return nil, fmt.Errorf("sftpauth: %w", err)
	}
	return &Service{store: s, audit: rec, log: log, opts: o, fails: newFailures(o.FailureWindow, time.Now), dummyHash: dummy}, nil
}

// Reasons a login is refused, for the audit log and the core's log.
const (
	reasonThrottled     = "throttled"
	reasonBadRequest    = "bad_request"
	reasonBadUsername   = "malformed_username"
	reasonUnknownUser   = "unknown_user"
	reasonWrongPassword = "wrong_password"
	reasonBadKey        = "unparseable_key"
	reasonUnknownKey    = "unknown_key"
	reasonTwoFactor     = "two_factor_needs_key"
	reasonUnknownServer = "unknown_server_on_node"
	reasonNoPermission  = "missing_permission"
)

var (
	accountRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	shortIDRE = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

// attempt is one login being decided, and what is known of it so far.
type attempt struct {
	wire.SFTPAuthRequest
	node       string
	method     string
	addr       string // the client's IP, for the audit log
	ipKey      string // what its failures count under
	login      string // the user name, lower case, bounded
	account    string
	shortID    string
	user       *store.User   // once found
	verified   bool          // the password or key was right
	server     *store.Server // once found
	rejectNote string        // detail for the core's log
}

// Authenticate decides one login asked by the agent of nodeID. A refusal
// is ErrDenied or a *ThrottledError; any other error is the core's own
// failure (its database) and counts against no one.
func (s *Service) Authenticate(ctx context.Context, nodeID string, req wire.SFTPAuthRequest) (wire.SFTPGrant, error) {
	a := &attempt{SFTPAuthRequest: req, node: nodeID}
	a.addr, a.ipKey = clientKeys(req.RemoteAddr)
	a.login = strings.ToLower(strings.TrimSpace(req.Username))
	if len(a.login) > 64 {
		a.login = a.login[:64]
	}
	switch {
	case req.Password != "" && req.PublicKey == "":
		a.method = MethodPassword
	case req.PublicKey != "" && req.Password == "":
		a.method = MethodPublicKey
	}
	if i := strings.LastIndexByte(a.login, '.'); i > 0 {
		a.account, a.shortID = a.login[:i], a.login[i+1:]
	}
	// The account's counter is keyed by the account, not the whole user
	// name, so that naming other servers does not buy more guesses.
	accountKey := a.ipKey + "|" + a.login
	if a.account != "" {
		accountKey = a.ipKey + "|" + a.account
	}

	// Throttling comes before anything is checked, so that a throttled
	// address learns nothing, not even from a right password.
	wait, first := s.fails.over(a.ipKey, s.opts.MaxFailuresPerIP)
	if w, f := s.fails.over(accountKey, s.opts.MaxFailuresPerAccount); w > wait {
		wait, first = w, f
	}
	if wait > 0 {
		if first {
			s.refused(ctx, a, reasonThrottled)
		}
		return wire.SFTPGrant{}, &ThrottledError{RetryAfter: wait}
	}

	grant, reason, err := s.check(ctx, a)
	if err != nil {
		s.log.Error("sftp login not decided", "node", nodeID, "username", a.login, "remote", a.addr, "error", err)
		return wire.SFTPGrant{}, err
	}
	if reason != "" {
		s.fails.add(a.ipKey, accountKey)
		s.refused(ctx, a, reason)
		return wire.SFTPGrant{}, ErrDenied
	}
	// A success clears this address's count on this account, not its
	// count across accounts: owning one account must not let an attacker
	// wipe the failures it made guessing others.
	s.fails.clear(accountKey)
	s.audit.Record(ctx, audit.Entry{
		ActorID: a.user.ID, ActorType: audit.ActorUser, IP: a.addr, Action: ActionLogin,
		TargetType: "server", TargetID: a.server.ID, ServerID: a.server.ID, Outcome: store.OutcomeSuccess,
		Metadata: map[string]any{"method": a.method, "username": a.login, "node": nodeID, "permissions": grant.Permissions},
	})
	s.log.Info("sftp login", "username", a.login, "server", a.server.ID, "node", nodeID, "method", a.method, "remote", a.addr)
	return grant, nil
}

// check verifies the attempt: the account, its password or key, then the
// server on the calling node, the user's permission on it and its state.
// The credential is checked before the server, so that only a user who
// proved who they are learns anything about servers. It returns the
// grant, or the reason for a refusal.
func (s *Service) check(ctx context.Context, a *attempt) (wire.SFTPGrant, string, error) {
	if a.method == "" {
		a.rejectNote = "want exactly one of password and public_key"
		return wire.SFTPGrant{}, reasonBadRequest, nil
	}
	if !accountRE.MatchString(a.account) || !shortIDRE.MatchString(a.shortID) {
		return wire.SFTPGrant{}, reasonBadUsername, nil
	}
	u, err := s.store.UserByUsername(ctx, a.account)
	if errors.Is(err, store.ErrNotFound) {
		if a.method == MethodPassword {
			_ = accounts.CheckPassword(s.dummyHash, a.Password)
		}
		return wire.SFTPGrant{}, reasonUnknownUser, nil
	}
	if err != nil {
		return wire.SFTPGrant{}, "", fmt.Errorf("find account %s: %w", a.account, err)
	}
	a.user = u
	if reason, err := s.verify(ctx, a); reason != "" || err != nil {
		return wire.SFTPGrant{}, reason, err
	}
	a.verified = true

	srv, err := s.store.ServerOnNodeByShortID(ctx, a.node, a.shortID)
	if errors.Is(err, store.ErrNotFound) {
		return wire.SFTPGrant{}, reasonUnknownServer, nil
	}
	if err != nil {
		return wire.SFTPGrant{}, "", fmt.Errorf("find server %s on node %s: %w", a.shortID, a.node, err)
	}
	a.server = srv

	p := rbac.Principal{UserID: u.ID, Admin: u.Admin}
	access := rbac.ServerAccess{Owner: srv.OwnerID == u.ID}
	if !access.Owner && !u.Admin {
		sub, err := s.store.Subuser(ctx, srv.ID, u.ID)
		switch {
		case err == nil:
			access.Granted = sub.Permissions
		case !errors.Is(err, store.ErrNotFound):
			return wire.SFTPGrant{}, "", fmt.Errorf("find %s's access to server %s: %w", u.ID, srv.ID, err)
		}
	}
	if !p.CanOnServer(rbac.FileSFTP, access) {
		return wire.SFTPGrant{}, reasonNoPermission, nil
	}
	switch srv.State {
	case store.StateInstalling, store.StateTransferring, store.StateSuspended:
		// The installer rewrites the files, a transfer moves them, and a
		// suspended server is closed to its users.
		return wire.SFTPGrant{}, "server_" + srv.State, nil
	}

	grant := wire.SFTPGrant{ServerID: srv.ID, UserID: u.ID, Username: u.Username, Permissions: []string{}}
	for _, perm := range p.Effective(access) {
		if strings.HasPrefix(perm, "file.") {
			grant.Permissions = append(grant.Permissions, perm)
		}
	}
	return grant, "", nil
}

// verify checks the password or key of a.user.
func (s *Service) verify(ctx context.Context, a *attempt) (string, error) {
	u := a.user
	if a.method == MethodPassword {
		err := accounts.CheckPassword(u.PasswordHash, a.Password)
		switch {
		case errors.Is(err, accounts.ErrPasswordMismatch):
			return reasonWrongPassword, nil
		case err != nil:
			return "", fmt.Errorf("check the password of %s: %w", u.ID, err)
		case u.TOTPEnabled && !s.opts.PasswordWithTwoFactor:
			// SFTP cannot ask for the second factor: the password alone
			// must not open an account that has one.
			return reasonTwoFactor, nil
		}
		return "", nil
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(a.PublicKey))
	if err != nil {
		a.rejectNote = err.Error()
		return reasonBadKey, nil
	}
	_, err = s.store.SSHKeyByFingerprint(ctx, u.ID, ssh.FingerprintSHA256(pk))
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.rejectNote = ssh.FingerprintSHA256(pk)
		return reasonUnknownKey, nil
	case err != nil:
		return "", fmt.Errorf("find the keys of %s: %w", u.ID, err)
	}
	return "", nil
}

// refused records a refused login. Until the credential is proved the
// attempt is anonymous; after, it is the user's, and the server's
// audit log shows it too.
func (s *Service) refused(ctx context.Context, a *attempt, reason string) {
	e := audit.Entry{ActorType: audit.ActorAnonymous, IP: a.addr, Action: ActionLoginFailed,
		TargetType: "user", TargetID: a.login, Outcome: store.OutcomeFailure,
		Metadata: map[string]any{"method": a.method, "reason": reason, "username": a.login, "node": a.node}}
	if reason == reasonThrottled {
		e.Outcome = store.OutcomeDenied
	}
	if a.user != nil {
		e.TargetID = a.user.ID
	}
	if a.verified {
		e.ActorID, e.ActorType, e.Outcome = a.user.ID, audit.ActorUser, store.OutcomeDenied
		if a.server != nil {
			e.ServerID = a.server.ID
		}
	}
	s.audit.Record(ctx, e)
	s.log.Info("sftp login refused", "username", a.login, "node", a.node, "method", a.method, "remote", a.addr,
		"reason", reason, "detail", a.rejectNote)
}

// maxRequestBytes bounds a login request: a user name, a password and
// an authorized_keys line.
const maxRequestBytes = 64 << 10

// ServeHTTP answers wire.CorePathSFTPAuth for the node whose tunnel the
// request came through.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	node := gateway.NodeFromContext(r.Context())
	if node == "" {
		writeError(w, http.StatusForbidden, wire.CodeUnauthorized, "SFTP logins are asked by agents, over their tunnel")
		return
	}
	var req wire.SFTPAuthRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "the body is not an SFTPAuthRequest: "+err.Error())
		return
	}
	grant, err := s.Authenticate(r.Context(), node, req)
	var te *ThrottledError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(grant)
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, wire.CodeThrottled, err.Error())
	case errors.Is(err, ErrDenied):
		writeError(w, http.StatusForbidden, wire.CodeUnauthorized, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", "the core could not decide the login; its log has details")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}
