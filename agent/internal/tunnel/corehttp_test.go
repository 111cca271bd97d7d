package tunnel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/tunnel"
	"catalyst.dev/agent/internal/tunnel/tunneltest"
	"catalyst.dev/sdk/wire"
)

// post sends body to the core through the agent's CoreHTTP client.
func post(ctx context.Context, c *tunnel.Client, path, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://core"+path, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	resp, err := c.CoreHTTP().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestCoreHTTP(t *testing.T) {
	core := tunneltest.Start(t, "node-1", "secret", time.Second)
	entered := make(chan struct{}, 1)
	remote := http.NewServeMux()
	remote.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	})
	remote.HandleFunc("POST /hold", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	})
	core.Remote = remote

	client, err := tunnel.New(tunnel.Config{
		CoreURL: core.URL, NodeID: "node-1", Credential: "secret", AgentVersion: "test",
		Handler:    http.NotFoundHandler(),
		Hello:      func(context.Context) (wire.Hello, error) { return wire.Hello{}, nil },
		Heartbeat:  func() wire.Heartbeat { return wire.Heartbeat{} },
		Queue:      tunnel.NewQueue(16),
		Log:        hclog.NewNullLogger(),
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Before any connection a call fails at once.
	if _, err := post(ctx, client, "/echo", "x"); !errors.Is(err, tunnel.ErrNotConnected) {
		t.Fatalf("call before connecting = %v, want ErrNotConnected", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(runCtx) }()
	conn := core.Accept(t)

	// Welcome is written before the agent records its session: wait for it.
	var got string
	for {
		got, err = post(ctx, client, "/echo", "hello core")
		if !errors.Is(err, tunnel.ErrNotConnected) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil || got != "hello core" {
		t.Fatalf("echo through the tunnel = %q, %v", got, err)
	}

	// A call in flight when the tunnel drops fails.
	failed := make(chan error, 1)
	go func() {
		_, err := post(ctx, client, "/hold", "")
		failed <- err
	}()
	<-entered
	conn.Sess.Close()
	if err := <-failed; err == nil {
		t.Fatal("a call in flight when the tunnel dropped succeeded")
	}

	// The agent reconnects, and calls use the new connection.
	core.Accept(t)
	for {
		got, err = post(ctx, client, "/echo", "again")
		if !errors.Is(err, tunnel.ErrNotConnected) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil || got != "again" {
		t.Fatalf("echo after reconnecting = %q, %v", got, err)
	}

	// Once Run has returned, calls fail at once again.
	stop()
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := post(ctx, client, "/echo", "x"); !errors.Is(err, tunnel.ErrNotConnected) {
		t.Fatalf("call after Run returned = %v, want ErrNotConnected", err)
	}
}
