package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// DefaultTimeout bounds a whole delivery when ClientOptions.Timeout is unset.
const DefaultTimeout = 10 * time.Second

// ErrAddressDenied is what a client made with DenyPrivate returns (wrapped,
// naming the address and its kind) for a connection it refused. Send
// reports it as a permanent failure: the URL points somewhere a delivery
// must not go.
var ErrAddressDenied = errors.New("refusing to connect")

// ClientOptions configure NewClient.
type ClientOptions struct {
	Timeout            time.Duration // whole request; default 10s
	CAFile             string        // extra PEM roots added to the system pool
	InsecureSkipVerify bool          // off by default; TLS verification ON unless set
	// DenyPrivate refuses connections to loopback, private (RFC 1918, fc00::/7),
	// link-local (incl. 169.254.169.254), CGNAT 100.64/10, unspecified and
	// multicast addresses. Checked on the address actually dialled
	// (net.Dialer.Control), so DNS rebinding cannot get round it; the error
	// says which address was refused and why.
	//
	// With DenyPrivate set, HTTP(S)_PROXY is ignored: through a proxy the
	// address dialled would be the proxy's, and the check would mean nothing.
	DenyPrivate bool
}

// NewClient returns an HTTP client for deliveries. It never follows
// redirects (a 3xx is answered as a permanent failure naming Location).
func NewClient(o ClientOptions) (*http.Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tlsConfig := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The operator asked for it, for a receiver with a certificate
		// nobody signed; the plugin logs a warning when it is on.
		InsecureSkipVerify: o.InsecureSkipVerify,
	}
	if o.CAFile != "" {
		pool, err := rootsWith(o.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}

	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if o.DenyPrivate {
		dialer.Control = denyPrivate
		proxy = nil
	}
	transport := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   timeout,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			// Following would POST the signed body somewhere the
			// operator never configured (and past DenyPrivate's intent:
			// a public URL may redirect to an internal one).
			return http.ErrUseLastResponse
		},
	}, nil
}

// rootsWith returns the system roots plus the PEM certificates in file.
func rootsWith(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system pool (or none readable): the file's roots alone.
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// denyPrivate is a net.Dialer.Control: it sees the resolved address each
// connection attempt is about to use.
func denyPrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot tell the address of %s %s", ErrAddressDenied, network, address)
	}
	if kind := privateKind(ap.Addr()); kind != "" {
		return fmt.Errorf("%w: %s is not a public address (%s)", ErrAddressDenied, ap.Addr(), kind)
	}
	return nil
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
)

// privateKind says why ip is not a public unicast address, or "" when it
// is one.
func privateKind(ip netip.Addr) string {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		// Linux answers 0.0.0.0 on the loopback interface.
		return "unspecified"
	case ip.IsMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "shared (CGNAT)"
	}
	return ""
}
