package webhook

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeCA writes the certificate of a TLS test server as a PEM file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSVerification(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	// The refused handshake is the point, not news for the test log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		opts   ClientOptions
		wantOK bool
	}{
		{name: "self-signed refused by default", opts: ClientOptions{}},
		{name: "accepted with its CA file", opts: ClientOptions{CAFile: writeCA(t, srv)}, wantOK: true},
		{name: "accepted with verification off", opts: ClientOptions{InsecureSkipVerify: true}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Send(context.Background(), newTestClient(t, tt.opts), Request{URL: srv.URL, Body: []byte("{}")})
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("a self-signed certificate was accepted")
			}
			if !strings.Contains(err.Error(), "certificate") {
				t.Errorf("error %q does not say the certificate was the problem", err)
			}
		})
	}
}

func TestNewClientRejectsBadCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing": filepath.Join(dir, "missing.pem"),
		"not PEM": notPEM,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewClient(ClientOptions{CAFile: path})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("NewClient = %v, want an error naming %s", err, path)
			}
		})
	}
}

func TestDenyPrivate(t *testing.T) {
	v4 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(v4.Close)
	port := v4.Listener.Addr().(*net.TCPAddr).Port

	type target struct {
		name, url, refused string
	}
	targets := []target{
		{name: "IPv4 loopback", url: v4.URL, refused: "127.0.0.1"},
		// localhost resolves to loopback addresses only; whichever one is
		// dialled is refused.
		{name: "hostname resolving to loopback", url: "http://localhost:" + strconv.Itoa(port), refused: "loopback"},
	}
	// A listener on [::1] proves the refusal is ours, not an unreachable
	// address; without IPv6 on this machine, that case cannot run.
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		v6 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		v6.Listener.Close()
		v6.Listener = l
		v6.Start()
		t.Cleanup(v6.Close)
		targets = append(targets, target{name: "IPv6 loopback", url: v6.URL, refused: "::1"})
	} else {
		t.Logf("no IPv6 loopback (%v): the [::1] case is skipped", err)
	}

	for _, tt := range targets {
		t.Run(tt.name+" refused", func(t *testing.T) {
			err := Send(context.Background(), newTestClient(t, ClientOptions{DenyPrivate: true}), Request{URL: tt.url, Body: []byte("{}")})
			if !errors.Is(err, ErrAddressDenied) {
				t.Fatalf("Send = %v, want ErrAddressDenied", err)
			}
			if de := deliveryError(t, err); de.Retryable {
				t.Errorf("a refused address is retryable: %v", err)
			}
			if !strings.Contains(err.Error(), tt.refused) || !strings.Contains(err.Error(), "loopback") {
				t.Errorf("error %q does not say which address was refused and why", err)
			}
		})
		t.Run(tt.name+" allowed when off", func(t *testing.T) {
			if err := Send(context.Background(), newTestClient(t, ClientOptions{}), Request{URL: tt.url, Body: []byte("{}")}); err != nil {
				t.Fatalf("Send: %v", err)
			}
		})
	}
}

func TestPrivateKind(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" for allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fd12:3456::1", "private"},
		{"::ffff:10.0.0.1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700:4700::1111", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := privateKind(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("privateKind(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
