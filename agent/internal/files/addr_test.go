package files

import (
	"net/netip"
	"testing"
)

func TestInternalAddressesAreNamed(t *testing.T) {
	tests := []struct {
		ip   string
		want string // "" for a public address
	}{
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"127.0.0.1", "a loopback"},
		{"::1", "a loopback"},
		{"10.1.2.3", "a private"},
		{"172.16.0.1", "a private"},
		{"192.168.1.1", "a private"},
		{"fd12::1", "a private"},
		{"169.254.169.254", "a link-local"},
		{"fe80::1", "a link-local"},
		{"0.0.0.0", "an unspecified"},
		{"::", "an unspecified"},
		{"224.0.0.1", "a link-local"},
		{"239.1.1.1", "a multicast"},
		{"ff05::1", "a multicast"},
		{"100.64.0.1", "a carrier-grade NAT"},
		{"100.127.255.255", "a carrier-grade NAT"},
		{"100.128.0.1", ""},
		{"0.1.2.3", "a this-network"},
		{"255.255.255.255", "a reserved"},
		{"64:ff9b::7f00:1", "a loopback"}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", ""},
	}
	for _, tt := range tests {
		if got := internal(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.ip, got, tt.want)
		}
	}
}

func TestMappedAddressesAreCheckedAsIPv4(t *testing.T) {
	s := NewService(nil, nil, Options{})
	if err := s.checkDial("tcp6", "[::ffff:127.0.0.1]:80", nil); err == nil {
		t.Fatal("an IPv4-mapped loopback address was let through")
	}
	if err := s.checkDial("tcp6", "[fe80::1%eth0]:80", nil); err == nil {
		t.Fatal("a zoned link-local address was let through")
	}
}
