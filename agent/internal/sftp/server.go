// Package sftp is the agent's SFTP server. Users log in as
// "<account>.<server short id>" with their panel password or an SSH key;
// the core decides (Authenticator) and answers with a grant naming the
// server and the file permissions held on it. A session then sees that
// server's volume and nothing else: every path goes through
// files.Volume and its os.Root.
package sftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// Defaults for the zero values of Config.
const (
	DefaultAddr         = ":2022"
	DefaultIdleTimeout  = 15 * time.Minute
	DefaultMaxSessions  = 1000
	DefaultLoginTimeout = 30 * time.Second
)

// VolumeOpener opens a server's volume for a session (files.Service).
type VolumeOpener interface {
	Open(serverID string) (*files.Volume, error)
}

// Config configures a Server.
type Config struct {
	// Addr is where ListenAndServe listens. Default ":2022".
	Addr string
	// HostKeyPath holds the server's ed25519 host key, made on first
	// start.
	HostKeyPath string
	Auth        Authenticator
	Volumes     VolumeOpener
	Log         hclog.Logger
	// IdleTimeout closes a connection after this long without a byte from
	// the client. Default 15 minutes.
	IdleTimeout time.Duration
	// MaxSessions bounds the open connections, logged in or still logging
	// in; more are closed at once. Default 1000.
	MaxSessions int
	// LoginTimeout bounds the handshake and login. Default 30 seconds.
	LoginTimeout time.Duration
}

// Server is the SFTP server. Serve it once.
type Server struct {
	cfg         Config
	log         hclog.Logger
	base        ssh.ServerConfig
	fingerprint string

	mu sync.Mutex
	// conns counts open connections; sessions holds the logged-in ones.
	conns    int
	sessions map[*session]struct{}
}

// The algorithms offered: only modern ones, as OpenSSH's defaults of
// today minus the legacy entries. The AES-GCM ciphers lead because Go's
// implementation of them is the fastest (AES-NI); clients pick by their
// own order, and OpenSSH's puts chacha20-poly1305 first.
var (
	keyExchanges = []string{ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519, "curve25519-sha256@libssh.org"}
	ciphers      = []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305}
	macs         = []string{ssh.HMACSHA256ETM, ssh.HMACSHA512ETM}
	clientKeys   = []string{
		ssh.KeyAlgoED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512,
	}
)

// New loads the host key (making it on first start) and returns a
// server ready to Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Volumes == nil {
		return nil, errors.New("sftp: Config.Auth and Config.Volumes are required")
	}
	if cfg.HostKeyPath == "" {
		return nil, errors.New("sftp: Config.HostKeyPath is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = DefaultLoginTimeout
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	signer, created, err := loadOrCreateHostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		log:         cfg.Log,
		fingerprint: ssh.FingerprintSHA256(signer.PublicKey()),
		sessions:    map[*session]struct{}{},
		base: ssh.ServerConfig{
			Config:                  ssh.Config{KeyExchanges: keyExchanges, Ciphers: ciphers, MACs: macs},
			PublicKeyAuthAlgorithms: clientKeys,
			ServerVersion:           "SSH-2.0-Catalyst",
		},
	}
	s.base.AddHostKey(signer)
	s.log.Info("sftp host key", "path", cfg.HostKeyPath, "fingerprint", s.fingerprint, "created", created)
	return s, nil
}

// HostKeyFingerprint is the host key's SHA256 fingerprint, as OpenSSH
// prints it ("SHA256:…").
func (s *Server) HostKeyFingerprint() string { return s.fingerprint }

// ListenAndServe listens on Config.Addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sftp: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends, then closes ln and
// every connection and returns once their goroutines are done: nil after
// ctx ended, else the error that stopped accepting.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("sftp listening", "addr", ln.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // closes the listener and every connection
		wg.Wait()
	}()
	// Closing the listener is what ends Accept.
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if retryableAccept(err) {
				// Out of file descriptors or the like: wait and retry,
				// as net/http does, rather than give up on SFTP.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("sftp accept failed; retrying", "error", err, "in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			return fmt.Errorf("sftp: accept: %w", err)
		}
		backoff = 0
		if !s.admit() {
			s.log.Warn("sftp connection refused: too many sessions", "remote", nc.RemoteAddr().String(), "max_sessions", s.cfg.MaxSessions)
			nc.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.release()
			s.serveConn(ctx, nc)
		}()
	}
}

// admit counts a new connection, unless there are MaxSessions already.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns >= s.cfg.MaxSessions {
		return false
	}
	s.conns++
	return true
}

func (s *Server) release() {
	s.mu.Lock()
	s.conns--
	s.mu.Unlock()
}

// Sessions is the number of logged-in sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Revoke closes the sessions of userID on serverID and returns how many
// it closed. An empty serverID means every server; an empty userID every
// user (the server went installing or transferring); both empty closes
// nothing.
func (s *Server) Revoke(userID, serverID string) int {
	if userID == "" && serverID == "" {
		return 0
	}
	s.mu.Lock()
	var matched []*session
	for sess := range s.sessions {
		if (userID == "" || sess.grant.UserID == userID) && (serverID == "" || sess.grant.ServerID == serverID) {
			matched = append(matched, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range matched {
		sess.close("revoked")
	}
	return len(matched)
}

// serveConn runs one connection: handshake and login within
// LoginTimeout, then the session until the client leaves, it idles, it
// is revoked or ctx ends.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	remote := nc.RemoteAddr().String()
	ac := newActivityConn(nc)
	defer ac.Close()

	// Closing the connection is the one way to stop x/crypto/ssh, be it in
	// the handshake or later.
	stop := context.AfterFunc(ctx, func() { ac.closeWith("agent shutting down") })
	defer stop()

	if err := nc.SetDeadline(time.Now().Add(s.cfg.LoginTimeout)); err != nil {
		return
	}
	cfg := s.base // per connection, so the callbacks see ctx
	cfg.PasswordCallback = func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
		return s.authenticate(ctx, meta, "password", "", wire.SFTPAuthRequest{Password: string(password)})
	}
	cfg.PublicKeyCallback = func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		return s.authenticate(ctx, meta, "publickey", ssh.FingerprintSHA256(key), wire.SFTPAuthRequest{PublicKey: authorizedKey(key)})
	}
	sc, chans, reqs, err := ssh.NewServerConn(ac, &cfg)
	if err != nil {
		// Scanners, health checks and failed logins end here; the login
		// attempts themselves were logged by authenticate.
		s.log.Debug("sftp handshake ended", "remote", remote, "error", err)
		return
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		sc.Close()
		return
	}
	grant, err := grantOf(sc.Permissions)
	if err != nil {
		s.log.Error("sftp login without a grant", "remote", remote, "error", err)
		sc.Close()
		return
	}
	vol, err := s.cfg.Volumes.Open(grant.ServerID)
	if err != nil {
		s.log.Error("sftp session refused: cannot open the server's volume", "user", sc.User(), "server", grant.ServerID, "remote", remote, "error", err)
		sc.Close()
		return
	}
	defer vol.Close()

	sess := newSession(s, sc, ac, grant, vol)
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
	}()

	idle := ac.watchIdle(s.cfg.IdleTimeout, func() { ac.closeWith("idle for " + s.cfg.IdleTimeout.String()) })
	defer idle.stop()
	sess.serve(chans, reqs)
}

// retryableAccept says whether an Accept error is a passing shortage.
func retryableAccept(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
