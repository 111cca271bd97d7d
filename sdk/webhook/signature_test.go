package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// signed returns the headers Send would put on body signed with secret at ts.
func signed(secret []byte, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderID, "delivery-1")
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, ts, body))
	return h
}

// The vector the README documents, computed once outside Go with
//
//	printf '%s' '1767225600.{"id":"alert-1","version":1}' | openssl dgst -sha256 -hmac whsec_catalyst_test
//
// (and checked against Python's hmac module): if it changes, every
// receiver in the field breaks.
func TestSignMatchesTheDocumentedVector(t *testing.T) {
	got := Sign([]byte("whsec_catalyst_test"), time.Unix(1767225600, 0), []byte(`{"id":"alert-1","version":1}`))
	const want = "v1=c65b0b247053580aa494e9e4605a0efa8634e345fceac2ad4eb6be87131d971d"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	other := []byte("another secret")
	body := []byte(`{"version":1,"id":"a-1"}`)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name      string
		header    func() http.Header
		body      []byte
		tolerance time.Duration
		want      error // nil: accepted
	}{
		{
			name:   "round trip",
			header: func() http.Header { return signed(secret, now, body) },
		},
		{
			name:   "signed a second ago",
			header: func() http.Header { return signed(secret, now.Add(-time.Second), body) },
		},
		{
			name:   "tampered body",
			header: func() http.Header { return signed(secret, now, body) },
			body:   []byte(`{"version":1,"id":"a-2"}`),
			want:   ErrSignature,
		},
		{
			name:   "wrong secret",
			header: func() http.Header { return signed(other, now, body) },
			want:   ErrSignature,
		},
		{
			name: "timestamp changed after signing",
			header: func() http.Header {
				h := signed(secret, now.Add(-time.Minute), body)
				h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
				return h
			},
			want: ErrSignature,
		},
		{
			name: "rotation: new signature listed after the old one",
			header: func() http.Header {
				h := signed(other, now, body)
				h.Set(HeaderSignature, Sign(other, now, body)+","+Sign(secret, now, body))
				return h
			},
		},
		{
			name: "rotation: old signature listed first, with spaces",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, Sign(secret, now, body)+" , "+Sign(other, now, body))
				return h
			},
		},
		{
			name: "rotation: signatures in repeated headers",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, Sign(other, now, body))
				h.Add(HeaderSignature, Sign(secret, now, body))
				return h
			},
		},
		{
			name: "rotation: no listed signature is ours",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, Sign(other, now, body)+","+Sign([]byte("third"), now, body))
				return h
			},
			want: ErrSignature,
		},
		{
			name: "unknown schemes beside v1 are skipped",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, "v2=abc,"+Sign(secret, now, body))
				return h
			},
		},
		{
			name:   "timestamp too old",
			header: func() http.Header { return signed(secret, now.Add(-DefaultTolerance-time.Second), body) },
			want:   ErrTimestamp,
		},
		{
			name:   "timestamp too far ahead",
			header: func() http.Header { return signed(secret, now.Add(DefaultTolerance+time.Second), body) },
			want:   ErrTimestamp,
		},
		{
			name:   "timestamp at the edge of the window",
			header: func() http.Header { return signed(secret, now.Add(-DefaultTolerance), body) },
		},
		{
			name:      "custom tolerance",
			header:    func() http.Header { return signed(secret, now.Add(-10*time.Second), body) },
			tolerance: 5 * time.Second,
			want:      ErrTimestamp,
		},
		{
			name:      "non-positive tolerance means the default",
			header:    func() http.Header { return signed(secret, now.Add(-4*time.Minute), body) },
			tolerance: -1,
		},
		{
			name: "absurd timestamp",
			header: func() http.Header {
				h := http.Header{}
				h.Set(HeaderTimestamp, "-9223372036854775808")
				h.Set(HeaderSignature, Sign(secret, time.Unix(-9223372036854775808, 0), body))
				return h
			},
			want: ErrTimestamp,
		},
		{
			name: "forged and stale is a signature error",
			header: func() http.Header {
				h := signed(other, now.Add(-time.Hour), body)
				return h
			},
			want: ErrSignature,
		},
		{
			name: "no timestamp",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Del(HeaderTimestamp)
				return h
			},
			want: ErrNoSignature,
		},
		{
			name: "timestamp not a number",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderTimestamp, now.Format(time.RFC3339))
				return h
			},
			want: ErrNoSignature,
		},
		{
			name: "no signature",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Del(HeaderSignature)
				return h
			},
			want: ErrNoSignature,
		},
		{
			name: "signature without scheme",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, Sign(secret, now, body)[len("v1="):])
				return h
			},
			want: ErrNoSignature,
		},
		{
			name: "signature not hex",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, "v1=not-hex")
				return h
			},
			want: ErrNoSignature,
		},
		{
			name: "signature cut short",
			header: func() http.Header {
				h := signed(secret, now, body)
				h.Set(HeaderSignature, Sign(secret, now, body)[:40])
				return h
			},
			want: ErrNoSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			tolerance := tt.tolerance
			if tolerance == 0 {
				tolerance = DefaultTolerance
			}
			err := Verify(secret, tt.header(), b, now, tolerance)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Verify: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && err.Error() == tt.want.Error() {
				t.Errorf("error %q carries no detail", err)
			}
		})
	}
}

// Sign writes the timestamp in whole seconds, so what the header says and
// what was signed agree whatever the sub-second part of ts.
func TestSignIgnoresSubSeconds(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 999_999_999, time.UTC)
	body := []byte("{}")
	if Sign([]byte("k"), ts, body) != Sign([]byte("k"), ts.Truncate(time.Second), body) {
		t.Fatal("signature depends on the sub-second part of the timestamp")
	}
	if err := Verify([]byte("k"), signed([]byte("k"), ts, body), body, ts, 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
