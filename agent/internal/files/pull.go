package files

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"syscall"

	"catalyst.dev/sdk/wire"
)

// Pull downloads req.URL (http or https) into req.Directory of volume v,
// named req.Filename, else by the answer's Content-Disposition, else by
// the URL's last path segment. It connects only to public addresses:
// each address is checked as the connection is made, after DNS, so a
// name that resolves elsewhere the second time gains nothing, and so is
// each redirect's. The file is written as Write writes, within the
// configured size and time. A server runs at most MaxPullsPerServer
// pulls at once; another fails with ErrBusy.
func (s *Service) Pull(ctx context.Context, v *Volume, req wire.PullRequest) (wire.FileInfo, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return wire.FileInfo{}, fmt.Errorf("%w: url %q: want an http or https URL", ErrInvalid, req.URL)
	}
	dir, err := v.Locate(req.Directory)
	if err != nil {
		return wire.FileInfo{}, err
	}
	var name string
	if req.Filename != "" {
		if name, err = baseName(req.Filename); err != nil {
			return wire.FileInfo{}, err
		}
	}
	release, err := s.acquirePull(v.ID)
	if err != nil {
		return wire.FileInfo{}, err
	}
	defer release()

	ctx, cancel := context.WithTimeout(ctx, s.opts.Pull.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return wire.FileInfo{}, fmt.Errorf("%w: url %q: %v", ErrInvalid, req.URL, err)
	}
	hreq.Header.Set("User-Agent", "catalyst-agent")
	resp, err := s.client.Do(hreq)
	if err != nil {
		return wire.FileInfo{}, s.pullErr(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return wire.FileInfo{}, fmt.Errorf("%w: pull %s: the server answered %s", ErrInvalid, u.Redacted(), resp.Status)
	}
	max := s.opts.Pull.MaxBytes
	tooLarge := fmt.Errorf("%w: pull %s: the file is larger than the pull limit of %s", ErrTooLarge, u.Redacted(), formatBytes(max))
	if resp.ContentLength > max {
		return wire.FileInfo{}, tooLarge
	}
	if name == "" {
		if name, err = pullName(u, resp); err != nil {
			return wire.FileInfo{}, err
		}
	}
	rel, err := v.Locate(path.Join(Display(dir), name))
	if err != nil {
		return wire.FileInfo{}, err
	}
	fi, err := v.replace(ctx, rel, &limitReader{r: resp.Body, n: max, err: tooLarge})
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrTooLarge) {
			return wire.FileInfo{}, s.pullErr(ctx, u, err)
		}
		return wire.FileInfo{}, err
	}
	return fi, nil
}

// pullErr says why a pull's request failed, keeping ErrDenied for an
// address refused.
func (s *Service) pullErr(ctx context.Context, u *url.URL, err error) error {
	switch {
	case errors.Is(err, ErrDenied), errors.Is(err, ErrInvalid):
		return fmt.Errorf("pull %s: %w", u.Redacted(), err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: pull %s: not done within %v", ErrInvalid, u.Redacted(), s.opts.Pull.Timeout)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w: pull %s: %v", ErrInvalid, u.Redacted(), unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// pullName is the download's file name: the answer's
// Content-Disposition's, else the URL's last path segment (the one asked
// for, not a redirect's: mirrors redirect to opaque names).
func pullName(u *url.URL, resp *http.Response) (string, error) {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		if name, err := baseName(params["filename"]); err == nil {
			return name, nil
		}
	}
	for _, p := range []string{u.Path, resp.Request.URL.Path} {
		if name, err := baseName(path.Base(p)); err == nil {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: pull %s: the URL names no file; give a filename", ErrInvalid, u.Redacted())
}

func (s *Service) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > s.opts.Pull.MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrInvalid, s.opts.Pull.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: a redirect to %q, which is not http or https", ErrInvalid, req.URL.Redacted())
	}
	return nil
}

// checkDial refuses to connect to an internal address unless it is in
// an allowed network. It runs for every connection, with the address
// DNS gave for it.
func (s *Service) checkDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap().WithZone("")
	for _, n := range s.opts.Pull.AllowNetworks {
		if n.Contains(ip) {
			return nil
		}
	}
	if kind := internal(ip); kind != "" {
		return fmt.Errorf("%w: %s is %s address, which pulls may not reach (files { pull_allow_networks } in agent.hcl admits a network)", ErrDenied, ip, kind)
	}
	return nil
}

// internal names the kind of address ip is if it is not a public one.
func internal(ip netip.Addr) string {
	if ip.Is6() {
		// NAT64 (64:ff9b::/96) carries an IPv4 address.
		if nat64 := netip.MustParsePrefix("64:ff9b::/96"); nat64.Contains(ip) {
			b := ip.As16()
			if k := internal(netip.AddrFrom4([4]byte(b[12:]))); k != "" {
				return k
			}
		}
	}
	switch {
	case ip.IsLoopback():
		return "a loopback"
	case ip.IsPrivate():
		return "a private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local"
	case ip.IsUnspecified():
		return "an unspecified"
	case ip.IsMulticast():
		return "a multicast"
	}
	for _, r := range []struct{ prefix, kind string }{
		{"100.64.0.0/10", "a carrier-grade NAT"},
		{"0.0.0.0/8", "a this-network"},
		{"240.0.0.0/4", "a reserved"},
		{"192.0.0.0/24", "an IETF protocol"},
	} {
		if netip.MustParsePrefix(r.prefix).Contains(ip) {
			return r.kind
		}
	}
	return ""
}
