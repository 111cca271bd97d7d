package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		buckets []string
		wantErr string
	}{
		{[]string{"-bucket", "a", "-bucket", "b,c"}, []string{"a", "b", "c"}, ""},
		{nil, nil, ""},
		{[]string{"-bucket", "a,,b"}, nil, "empty bucket name"},
		{[]string{"-access-key", "k"}, nil, "go together"},
		{[]string{"extra"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFlags(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(o.buckets, tt.buckets) || o.addr != "127.0.0.1:0" {
			t.Errorf("parseFlags(%q) = %+v, %v", tt.args, o, err)
		}
	}
}

// start runs the server in-process until stop (or the end of the test)
// and returns its URL.
func start(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no address line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "s3server listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	return u, stop
}

// send makes a request signed by the AWS SDK's own SigV4 signer (not this
// package's code) with the given credentials; "" leaves it unsigned.
func send(t *testing.T, method, rawURL, body, accessKey, secretKey string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if accessKey != "" {
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
		if err := signer.SignHTTP(context.Background(), creds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Code string }
	_ = xml.Unmarshal(b, &e)
	return resp.StatusCode, e.Code
}

func TestSignedRequests(t *testing.T) {
	base, _ := start(t, "-bucket", "b1,b2", "-access-key", "key", "-secret-key", "secret")
	// A key needing escapes, and a query needing canonical encoding.
	obj := base + "/b1/" + (&url.URL{Path: "dir/a b+c=ü.tar"}).EscapedPath()
	tests := []struct {
		name, method, url, body, key, secret string
		status                               int
		code                                 string
	}{
		{"signed put", http.MethodPut, obj, "hello", "key", "secret", 200, ""},
		{"signed get", http.MethodGet, obj, "", "key", "secret", 200, ""},
		{"signed list with a query", http.MethodGet, base + "/b1?list-type=2&prefix=dir%2Fa%20b", "", "key", "secret", 200, ""},
		{"second bucket", http.MethodHead, base + "/b2", "", "key", "secret", 200, ""},
		{"wrong secret", http.MethodGet, obj, "", "key", "wrong", 403, "SignatureDoesNotMatch"},
		{"unknown key", http.MethodGet, obj, "", "other", "secret", 403, "InvalidAccessKeyId"},
		{"unsigned", http.MethodGet, obj, "", "", "", 403, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := send(t, tt.method, tt.url, tt.body, tt.key, tt.secret)
			if status != tt.status || code != tt.code {
				t.Fatalf("%s %s: %d %q, want %d %q", tt.method, tt.url, status, code, tt.status, tt.code)
			}
		})
	}
}

func TestDirKeepsObjectsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	base, stop := start(t, "-bucket", "b", "-dir", dir)
	// Without -access-key, requests need no signature.
	if status, _ := send(t, http.MethodPut, base+"/b/k", "kept", "", ""); status != 200 {
		t.Fatalf("put: %d", status)
	}
	stop()
	base, _ = start(t, "-bucket", "b", "-dir", dir)
	resp, err := http.Get(base + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "kept" {
		t.Fatalf("after a restart: %d %q", resp.StatusCode, b)
	}
}
