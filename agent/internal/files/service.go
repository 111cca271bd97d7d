package files

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// VolumeSource finds a server's volume directory and config
// (*servers.Manager).
type VolumeSource interface {
	Volume(id string) (dir string, cfg wire.ServerConfig, err error)
}

var _ VolumeSource = (*servers.Manager)(nil)

// Defaults of Options.
const (
	DefaultUID            = 988
	DefaultGID            = 988
	DefaultMaxUploadBytes = 10 << 30
	DefaultPullMaxBytes   = 10 << 30
	DefaultPullTimeout    = 30 * time.Minute
	DefaultPullRedirects  = 5
	// MaxPullsPerServer is how many pulls one server may run at once.
	MaxPullsPerServer = 3
)

// Options configure a Service. Zero values take the defaults above.
type Options struct {
	// UID and GID own what the service creates: the game's user (the
	// runtime config's). -1 keeps the agent's own.
	UID, GID int
	// MaxUploadBytes caps one upload request (all its files) and one
	// content write.
	MaxUploadBytes int64
	Pull           PullOptions
}

// PullOptions bound downloads from URLs into volumes.
type PullOptions struct {
	// MaxBytes caps one download.
	MaxBytes int64
	// Timeout bounds one pull, connection to last byte.
	Timeout time.Duration
	// MaxRedirects is how many redirects a pull follows; -1 follows none.
	MaxRedirects int
	// AllowNetworks are networks a pull may reach although they are
	// loopback, private, link-local or otherwise internal (a mirror on
	// the LAN).
	AllowNetworks []netip.Prefix
}

func (o Options) withDefaults() Options {
	if o.UID == 0 {
		o.UID = DefaultUID
	}
	if o.GID == 0 {
		o.GID = DefaultGID
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.Pull.MaxBytes <= 0 {
		o.Pull.MaxBytes = DefaultPullMaxBytes
	}
	if o.Pull.Timeout <= 0 {
		o.Pull.Timeout = DefaultPullTimeout
	}
	switch {
	case o.Pull.MaxRedirects == 0:
		o.Pull.MaxRedirects = DefaultPullRedirects
	case o.Pull.MaxRedirects < 0:
		o.Pull.MaxRedirects = 0
	}
	return o
}

// Service opens server volumes for the file API and SFTP, and runs pulls.
type Service struct {
	vols   VolumeSource
	quota  Quota
	opts   Options
	client *http.Client

	mu    sync.Mutex
	pulls map[string]int // running pulls by server
}

// NewService returns a service over vols' volumes; quota approves their
// writes (nil: no limit).
func NewService(vols VolumeSource, quota Quota, opts Options) *Service {
	s := &Service{vols: vols, quota: quota, opts: opts.withDefaults(), pulls: map[string]int{}}
	dialer := &net.Dialer{Timeout: 30 * time.Second, Control: s.checkDial}
	s.client = &http.Client{
		Transport: &http.Transport{
			// No proxy: the address checked at connect time must be the
			// one the request goes to.
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			// Pulls are rare and each to anywhere: no idle connections
			// to keep, and no goroutine left behind by one.
			DisableKeepAlives: true,
		},
		CheckRedirect: s.checkRedirect,
	}
	return s
}

// MaxUploadBytes is the cap of one upload or content write.
func (s *Service) MaxUploadBytes() int64 { return s.opts.MaxUploadBytes }

// Open opens server id's volume, with its template's denylist; close it
// when done. An unknown server fails with ErrNotFound.
func (s *Service) Open(id string) (*Volume, error) {
	dir, cfg, err := s.vols.Volume(id)
	if errors.Is(err, servers.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return OpenVolume(id, dir, cfg.Denylist, s.quota, s.opts.UID, s.opts.GID)
}

// acquirePull takes one of server id's pull slots, or fails with ErrBusy.
func (s *Service) acquirePull(id string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pulls[id] >= MaxPullsPerServer {
		return nil, fmt.Errorf("%w: the server already runs %d pulls; wait for one to finish", ErrBusy, MaxPullsPerServer)
	}
	s.pulls[id]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.pulls[id]--; s.pulls[id] == 0 {
			delete(s.pulls, id)
		}
	}, nil
}
