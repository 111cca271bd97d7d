package sftp

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"catalyst.dev/sdk/wire"
)

func TestCoreAuthMapsTheCoresAnswers(t *testing.T) {
	grant := wire.SFTPGrant{ServerID: testServerID, UserID: testUserID, Username: "alice", Permissions: []string{permRead}}
	tests := []struct {
		name      string
		status    int
		body      string
		wantGrant bool
		wantErr   error  // a sentinel the error must wrap
		wantText  string // a text the error must hold
	}{
		{"accepted", http.StatusOK, mustJSON(grant), true, nil, ""},
		{"denied", http.StatusForbidden, `{"error":{"code":"unauthorized","message":"wrong password"}}`, false, ErrDenied, "wrong password"},
		{"throttled", http.StatusTooManyRequests, `{"error":{"code":"throttled","message":"slow down"}}`, false, ErrThrottled, "slow down"},
		{"core failure", http.StatusInternalServerError, `{"error":{"code":"internal","message":"database is down"}}`, false, nil, "500 Internal Server Error: database is down"},
		{"not the envelope", http.StatusBadGateway, "upstream gone\n", false, nil, "upstream gone"},
		{"grant that is not JSON", http.StatusOK, "<html>", false, nil, "decode the core's sftp grant"},
		{"grant without a server", http.StatusOK, `{"user_id":"u"}`, false, nil, "names no server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got wire.SFTPAuthRequest
			core := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != wire.CorePathSFTPAuth || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
					t.Error(err)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer core.Close()

			auth := NewCoreAuth(tunnelTo(core.Listener.Addr().String()))
			req := wire.SFTPAuthRequest{Username: testUser, Password: testPassword, RemoteAddr: "192.0.2.7:50000"}
			g, err := auth.Authenticate(context.Background(), req)
			if got != req {
				t.Errorf("the core got %+v, want %+v", got, req)
			}
			if tt.wantGrant {
				if err != nil || g.ServerID != grant.ServerID || g.UserID != grant.UserID || len(g.Permissions) != 1 {
					t.Fatalf("grant %+v, %v", g, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; grant %+v", g)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (errors.Is(err, ErrDenied) || errors.Is(err, ErrThrottled)) {
				t.Errorf("err = %v: a failure to ask is not a refusal", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %v, want it to hold %q", err, tt.wantText)
			}
		})
	}
}

func TestCoreAuthUnreachableCore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = NewCoreAuth(tunnelTo(addr)).Authenticate(context.Background(), wire.SFTPAuthRequest{Username: testUser, Password: "x"})
	if err == nil || errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "ask the core") {
		t.Errorf("err = %v", err)
	}
}

// tunnelTo is an http.Client that reaches addr whatever host a URL
// names, as the agent's tunnel transport reaches the core.
func tunnelTo(addr string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
	}}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
