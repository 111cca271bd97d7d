package auth

import (
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 vectors (8 digits there; the last 6 here).
func TestTOTPMatchesRFC6238(t *testing.T) {
	secret := b32.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"},
	} {
		got, err := TOTPCodeAt(secret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.code {
			t.Errorf("code at %d = %q, %v; want %q", tc.unix, got, err, tc.code)
		}
	}
}

func TestValidTOTPWindow(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Now()
	code, _ := TOTPCodeAt(secret, now)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{now, true}, {now.Add(-30 * time.Second), true}, {now.Add(30 * time.Second), true},
		{now.Add(-90 * time.Second), false}, {now.Add(90 * time.Second), false},
	} {
		if got := ValidTOTP(secret, code, tc.at); got != tc.want {
			t.Errorf("ValidTOTP at %v = %v, want %v", tc.at.Sub(now), got, tc.want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if ValidTOTP(secret, bad, now) {
			t.Errorf("accepted %q", bad)
		}
	}
}
