// Package webhook signs, sends and verifies Catalyst webhook deliveries.
//
// The core uses it for the webhooks it POSTs itself and the alerts-webhook
// plugin for the alerts it delivers, so both sign alike; a receiver written
// in Go verifies either with Verify.
//
// A signed delivery carries three headers. Catalyst-Webhook-Id names the
// delivery and stays the same on retries, so a receiver can drop
// duplicates. Catalyst-Webhook-Timestamp is the Unix time in seconds at
// which this attempt was signed. Catalyst-Webhook-Signature is
// "v1=" followed by the lowercase hex HMAC-SHA256, keyed with the shared
// secret, of the timestamp, a ".", and the raw request body. Several
// signatures may be listed, separated by commas, while a secret is being
// rotated; one match is enough.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Headers every signed delivery carries.
const (
	HeaderID        = "Catalyst-Webhook-Id"        // delivery ID, same on retries (receivers dedupe on it)
	HeaderTimestamp = "Catalyst-Webhook-Timestamp" // unix seconds when this attempt was signed
	HeaderSignature = "Catalyst-Webhook-Signature" // "v1=<lowercase hex HMAC-SHA256>"
)

// DefaultTolerance is the replay window receivers should use.
const DefaultTolerance = 5 * time.Minute

// signatureScheme prefixes every signature; a future algorithm gets v2.
const signatureScheme = "v1"

// Errors Verify returns, wrapped with detail; test with errors.Is.
var (
	// ErrNoSignature: the timestamp or signature header is missing or
	// malformed, or carries no v1 signature.
	ErrNoSignature = errors.New("webhook: no valid signature headers")
	// ErrTimestamp: the delivery was signed outside the tolerance window,
	// so it may be a replay of an old one (or the clocks disagree).
	ErrTimestamp = errors.New("webhook: timestamp outside the tolerance window")
	// ErrSignature: no signature matches the body and the secret.
	ErrSignature = errors.New("webhook: signature mismatch")
)

// Sign returns the HeaderSignature value for body sent at ts:
// "v1=" + hex(HMAC-SHA256(secret, "<unix seconds>" + "." + body)).
func Sign(secret []byte, ts time.Time, body []byte) string {
	return signatureScheme + "=" + hex.EncodeToString(mac(secret, ts.Unix(), body))
}

func mac(secret []byte, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery: the timestamp header is within tolerance of now
// (either direction) and one of the v1 signatures (comma-separated list
// allowed, for secret rotation) matches, compared in constant time.
// A tolerance of zero or less means DefaultTolerance.
//
// The signature is checked before the timestamp, so ErrTimestamp means a
// genuine delivery that arrived too late or too early (a replay, or clocks
// apart), while a forgery is always ErrSignature. A receiver that holds
// two secrets during a rotation calls Verify once with each.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	tsValue := strings.TrimSpace(h.Get(HeaderTimestamp))
	if tsValue == "" {
		return fmt.Errorf("missing header %s: %w", HeaderTimestamp, ErrNoSignature)
	}
	unix, err := strconv.ParseInt(tsValue, 10, 64)
	if err != nil {
		return fmt.Errorf("header %s %q is not Unix seconds: %w", HeaderTimestamp, truncate(tsValue, 32), ErrNoSignature)
	}
	sigs, err := signatures(h.Values(HeaderSignature))
	if err != nil {
		return err
	}

	want := mac(secret, unix, body)
	matched := false
	for _, sig := range sigs {
		// Go on after a match so the time taken does not tell which
		// position in the list matched.
		if hmac.Equal(sig, want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("none of the %d v1 signatures matches the body: %w", len(sigs), ErrSignature)
	}

	// Compare in whole seconds, the header's resolution; written so that
	// no timestamp, however absurd, overflows.
	signed, limit := time.Unix(unix, 0).UTC(), int64(tolerance/time.Second)
	switch {
	case unix < now.Unix()-limit:
		return fmt.Errorf("signed at %s, more than %s before now (%s): %w", signed.Format(time.RFC3339), tolerance, now.UTC().Format(time.RFC3339), ErrTimestamp)
	case unix > now.Unix()+limit:
		return fmt.Errorf("signed at %s, more than %s after now (%s): %w", signed.Format(time.RFC3339), tolerance, now.UTC().Format(time.RFC3339), ErrTimestamp)
	}
	return nil
}

// signatures decodes the v1 entries of the signature header values.
// Entries of other schemes are skipped, so a receiver keeps working when a
// sender adds a newer scheme beside v1, and so are malformed ones: a match
// still needs a valid HMAC.
func signatures(values []string) ([][]byte, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("missing header %s: %w", HeaderSignature, ErrNoSignature)
	}
	var sigs [][]byte
	for _, v := range values {
		for entry := range strings.SplitSeq(v, ",") {
			scheme, value, ok := strings.Cut(strings.TrimSpace(entry), "=")
			if !ok || scheme != signatureScheme {
				continue
			}
			if sig, err := hex.DecodeString(value); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("header %s %q holds no well-formed v1 signature: %w", HeaderSignature, truncate(strings.Join(values, ","), 160), ErrNoSignature)
	}
	return sigs, nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence,
// marking the cut, and replaces invalid UTF-8: the result goes into error
// messages and logs.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
