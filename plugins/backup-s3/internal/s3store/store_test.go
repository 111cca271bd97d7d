package s3store

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/backup-s3/internal/s3test"
	"catalyst.dev/sdk/plugin"
)

func TestConfigureSaysWhatIsWrong(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() // nothing listens there once closed
	ln.Close()
	where := fmt.Sprintf("s3: bucket %q at %s: ", s3test.Bucket, srv.URL)

	tests := []struct {
		name     string
		endpoint string
		cfg      map[string]any
		want     []string // in the message
		sentinel error
	}{
		{"wrong secret key", srv.URL, map[string]any{"secret_key": "not-the-secret"},
			[]string{where, "check secret_key"}, plugin.ErrPermissionDenied},
		{"unknown access key", srv.URL, map[string]any{"access_key": "nobody"},
			[]string{where, "check access_key"}, plugin.ErrPermissionDenied},
		{"missing bucket", srv.URL, map[string]any{"bucket": "no-such-bucket"},
			[]string{`s3: bucket "no-such-bucket" at ` + srv.URL + " does not exist"}, plugin.ErrInvalidArgument},
		{"endpoint down", down, nil,
			[]string{fmt.Sprintf("s3: bucket %q at %s: cannot reach the endpoint", s3test.Bucket, down)}, plugin.ErrUnavailable},
		{"part size too small", srv.URL, map[string]any{"part_size_mb": 4}, []string{"part_size_mb is 4; want a whole number from 5 to 5120"}, plugin.ErrInvalidArgument},
		{"part size too large", srv.URL, map[string]any{"part_size_mb": 5121}, []string{"part_size_mb"}, plugin.ErrInvalidArgument},
		{"fractional part size", srv.URL, map[string]any{"part_size_mb": 16.5}, []string{"part_size_mb is 16.5"}, plugin.ErrInvalidArgument},
		{"no concurrency", srv.URL, map[string]any{"concurrency": 0}, []string{"concurrency"}, plugin.ErrInvalidArgument},
		{"too much concurrency", srv.URL, map[string]any{"concurrency": 65}, []string{"concurrency"}, plugin.ErrInvalidArgument},
		{"negative retries", srv.URL, map[string]any{"part_retries": -1}, []string{"part_retries"}, plugin.ErrInvalidArgument},
		{"not a duration", srv.URL, map[string]any{"abort_stale_uploads_after": "soon"}, []string{"abort_stale_uploads_after"}, plugin.ErrInvalidArgument},
		{"negative duration", srv.URL, map[string]any{"abort_stale_uploads_after": "-1h"}, []string{"abort_stale_uploads_after"}, plugin.ErrInvalidArgument},
		{"endpoint scheme", "ftp://example.com", nil, []string{`endpoint "ftp://example.com"`}, plugin.ErrInvalidArgument},
		{"endpoint with a path", srv.URL + "/s3", nil, []string{"no path"}, plugin.ErrInvalidArgument},
		{"endpoint not a URL", "127.0.0.1:9000", nil, []string{"endpoint"}, plugin.ErrInvalidArgument},
		{"access key alone", srv.URL, map[string]any{"secret_key": nil}, []string{"access_key and secret_key go together"}, plugin.ErrInvalidArgument},
		{"session token alone", srv.URL, map[string]any{"access_key": nil, "secret_key": nil, "session_token": "t"}, []string{"session_token"}, plugin.ErrInvalidArgument},
		{"ca_file on http", srv.URL, map[string]any{"ca_file": "/etc/ssl/certs/ca-certificates.crt"}, []string{"only apply to an https endpoint"}, plugin.ErrInvalidArgument},
		{"prefix with ..", srv.URL, map[string]any{"prefix": "a/../b/"}, []string{"prefix"}, plugin.ErrInvalidArgument},
		{"prefix from the root", srv.URL, map[string]any{"prefix": "/backups/"}, []string{"prefix"}, plugin.ErrInvalidArgument},
		{"unknown key", srv.URL, map[string]any{"regoin": "eu-west-1"}, []string{`unknown key "regoin"`}, plugin.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configure(New(hclog.NewNullLogger()), tt.endpoint, tt.cfg)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("Configure = %v; want %v", err, tt.sentinel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Configure = %q; want it to say %q", err, w)
				}
			}
		})
	}
}

func TestTLSEndpoint(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	target, _ := url.Parse(srv.URL)
	tlsFront := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	tlsFront.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	tlsFront.StartTLS()
	t.Cleanup(tlsFront.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsFront.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		cfg     map[string]any
		wantErr string
	}{
		{"untrusted certificate", nil, "not signed by a trusted CA (set ca_file)"},
		{"ca_file", map[string]any{"ca_file": caFile}, ""},
		{"insecure_skip_verify", map[string]any{"insecure_skip_verify": true}, ""},
		{"ca_file without a certificate", map[string]any{"ca_file": junk}, "holds no PEM certificate"},
		{"ca_file missing", map[string]any{"ca_file": filepath.Join(dir, "missing.pem")}, "ca_file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(hclog.NewNullLogger())
			err := configure(s, tlsFront.URL, tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Configure = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("tls/%d", i)
			data := randomData(uint64(i), 1000)
			if err := s.Put(context.Background(), key, strings.NewReader(string(data)), nil); err != nil {
				t.Fatal(err)
			}
			readBack(t, s, key, data)
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	s := newStore(t, srv.URL, nil)
	ctx := context.Background()
	meta := map[string]string{
		"server":         "6f1c2a",
		"sha256":         strings.Repeat("ab", 32),
		"created_by":     "agent-1",
		"note":           "ünïcode ✓ and 日本語",
		"padded":         "  spaces around  ",
		"looks-encoded":  "=?UTF-8?B?aGk=?=",
		"empty":          "",
		"control":        "line1\nline2\ttab",
		"2nd-gen-format": "tar+zstd",
	}
	if err := s.Put(ctx, "meta/obj", strings.NewReader("x"), meta); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "meta/obj")
	if err != nil {
		t.Fatal(err)
	}
	// An empty value may not survive HTTP as a header; everything else must.
	delete(meta, "empty")
	delete(info.Metadata, "empty")
	for k, v := range meta {
		if info.Metadata[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, info.Metadata[k], v)
		}
	}
	if len(info.Metadata) != len(meta) {
		t.Errorf("Stat metadata %v has keys the Put did not set", info.Metadata)
	}
	_, got, err := s.Get(ctx, "meta/obj")
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["note"] != meta["note"] {
		t.Errorf("Get metadata note = %q", got.Metadata["note"])
	}

	for name, bad := range map[string]map[string]string{
		"upper-case key": {"ServerID": "x"},
		"space in key":   {"my key": "x"},
		"too large":      {"big": strings.Repeat("x", 2100)},
		"invalid UTF-8":  {"bad": "\xff"},
	} {
		err := s.Put(ctx, "meta/bad", strings.NewReader("x"), bad)
		if !errors.Is(err, plugin.ErrInvalidArgument) {
			t.Errorf("%s: Put = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := s.Stat(ctx, "meta/bad"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("a Put refused for its metadata stored an object: %v", err)
	}
}

func TestListPagesAndStripsThePrefix(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	ctx := context.Background()
	s := newStore(t, srv.URL, map[string]any{"prefix": "node-7/"})
	s.listPage = 2
	keys := []string{"servers/a/3", "servers/a/1", "servers/b/2", "servers/a-b/4", "other/5"}
	for i, k := range keys {
		if err := s.Put(ctx, k, strings.NewReader(strings.Repeat("x", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Another store's objects, outside the prefix, stay out of sight.
	other := newStore(t, srv.URL, map[string]any{"prefix": "node-8/"})
	if err := other.Put(ctx, "servers/a/9", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	objs, err := s.List(ctx, "servers/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Key)
		if want := int64(slices.Index(keys, o.Key)); o.Size != want {
			t.Errorf("%s: size %d, want %d", o.Key, o.Size, want)
		}
	}
	want := []string{"servers/a-b/4", "servers/a/1", "servers/a/3", "servers/b/2"}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if raw := objectsUnder(t, rawClient(t, srv.URL), "node-7/servers/a/1"); len(raw) != 1 {
		t.Fatalf("the bucket holds %v; want the key under the prefix", raw)
	}
}

func TestKeysAreValidated(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	s := newStore(t, srv.URL, map[string]any{"prefix": strings.Repeat("p", 100) + "/"})
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a//b", "a/", "a/../b", "..", "./a", ".hidden", `a\b`, "a\x00b", "a\nb", "\xff",
		strings.Repeat("k", 950), // fine alone, too long with the 101-byte prefix
	} {
		errs := map[string]error{"Put": s.Put(ctx, key, strings.NewReader("x"), nil)}
		_, errs["Stat"] = s.Stat(ctx, key)
		_, _, errs["Get"] = s.Get(ctx, key)
		errs["Delete"] = s.Delete(ctx, key)
		for op, err := range errs {
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Errorf("%s(%q): want ErrInvalidArgument, got %v", op, key, err)
			}
		}
	}
	if _, err := s.List(ctx, "../"); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Errorf("List(\"../\"): want ErrInvalidArgument, got %v", err)
	}
	if _, err := New(hclog.NewNullLogger()).Stat(ctx, "a"); !errors.Is(err, plugin.ErrUnavailable) {
		t.Errorf("unconfigured store: want ErrUnavailable, got %v", err)
	}
}
