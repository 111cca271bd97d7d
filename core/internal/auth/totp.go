package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP per RFC 6238: SHA-1, 6 digits, 30-second steps, the form every
// authenticator app reads.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// totpSkew accepts the previous and next step for clock drift.
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a random 160-bit secret, base32-encoded.
func NewTOTPSecret() string {
	b := make([]byte, 20)
	mustRead(b)
	return b32.EncodeToString(b)
}

// TOTPURL is the otpauth:// URL an authenticator app scans as a QR code.
func TOTPURL(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("digits", fmt.Sprint(totpDigits))
	v.Set("period", fmt.Sprint(int(totpStep.Seconds())))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// totpCode is the code for one time step.
func totpCode(secret []byte, step uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], step)
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, n%1_000_000)
}

// ValidTOTP reports whether code is right for secret at t, give or take
// one step.
func ValidTOTP(secret, code string, t time.Time) bool {
	key, err := b32.DecodeString(strings.ToUpper(strings.TrimSpace(secret)))
	if err != nil || len(code) != totpDigits {
		return false
	}
	step := uint64(t.Unix()) / uint64(totpStep.Seconds())
	ok := 0
	for d := -totpSkew; d <= totpSkew; d++ {
		ok |= subtle.ConstantTimeCompare([]byte(totpCode(key, step+uint64(d))), []byte(code))
	}
	return ok == 1
}

// TOTPCodeAt returns the code for secret at t (for tests and tooling).
func TOTPCodeAt(secret string, t time.Time) (string, error) {
	key, err := b32.DecodeString(secret)
	if err != nil {
		return "", err
	}
	return totpCode(key, uint64(t.Unix())/uint64(totpStep.Seconds())), nil
}

// NewRecoveryCodes returns n one-time codes to show the user and their
// hashes to store.
func NewRecoveryCodes(n int) (codes, hashes []string) {
	for range n {
		b := make([]byte, 5)
		mustRead(b)
		c := strings.ToLower(b32.EncodeToString(b)) // 8 characters
		c = c[:4] + "-" + c[4:]
		codes = append(codes, c)
		hashes = append(hashes, HashSecret(c))
	}
	return codes, hashes
}

// HashSecret is the stored form of a high-entropy secret (refresh token,
// API key, recovery code, node token): SHA-256 suffices because the secret itself is
// random, unlike a password.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
}
