package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/sdk/wire"
)

// callCore sends a POST to the core as the agent does, and returns the
// answer's status and body.
func callCore(ctx context.Context, t *testing.T, a *gatewaytest.Agent, path, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://core"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.CoreHTTP().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func wireCode(t *testing.T, body string) string {
	t.Helper()
	var eb wire.ErrorBody
	if err := json.Unmarshal([]byte(body), &eb); err != nil {
		t.Fatalf("answer %q is not a wire error: %v", body, err)
	}
	return eb.Error.Code
}

func TestAgentCallsTheCoreAsItsNode(t *testing.T) {
	remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, gateway.NodeFromContext(r.Context())+" "+string(b))
	})
	w := newWorldRemote(t, gateway.Options{}, remote)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := gatewaytest.Dial(ctx, gatewaytest.Config{URL: w.srv.URL, NodeID: w.node.ID, Credential: w.credential,
		Hello: wire.Hello{AgentVersion: "v", SFTPAddr: ":2022"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	w.rec.waitFor(t, "hello v")
	if info, _ := w.gw.Info(w.node.ID); info.SFTPAddr != ":2022" {
		t.Errorf("Info.SFTPAddr = %q, want the hello's", info.SFTPAddr)
	}
	// Several calls, some on reused streams: each knows its node.
	for i := range 3 {
		status, body, err := callCore(ctx, t, a, "/v1/anything", "call")
		if err != nil || status != http.StatusOK || body != w.node.ID+" call" {
			t.Fatalf("call %d = %d %q, %v", i, status, body, err)
		}
	}
	if got := w.gw.OnlineNodes(); len(got) != 1 || got[0] != w.node.ID {
		t.Errorf("OnlineNodes = %v", got)
	}
}

func TestAgentCallWithoutARemoteHandlerIsNotFound(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	status, body, err := callCore(context.Background(), t, a, wire.CorePathSFTPAuth, "{}")
	if err != nil || status != http.StatusNotFound || wireCode(t, body) != wire.CodeNotFound {
		t.Fatalf("call = %d %q, %v", status, body, err)
	}
}

func TestAgentCallsOverTheLimitAreRefused(t *testing.T) {
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "done")
	})
	w := newWorldRemote(t, gateway.Options{RemoteStreams: 2}, remote)
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	results := make(chan string, 2)
	for range 2 {
		go func() {
			status, body, err := callCore(ctx, t, a, "/v1/hold", "")
			if err != nil {
				body = err.Error()
			}
			results <- http.StatusText(status) + " " + body
		}()
	}
	<-entered
	<-entered
	status, body, err := callCore(ctx, t, a, "/v1/hold", "")
	if err != nil || status != http.StatusServiceUnavailable || wireCode(t, body) != wire.CodeBusy {
		t.Fatalf("third concurrent call = %d %q, %v; want 503 %s", status, body, err, wire.CodeBusy)
	}
	close(release)
	for range 2 {
		if got := <-results; got != "OK done" {
			t.Errorf("a call within the limit ended %q", got)
		}
	}
}

func TestTunnelEndEndsTheAgentsCalls(t *testing.T) {
	entered, returned := make(chan struct{}, 1), make(chan struct{}, 1)
	remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
		returned <- struct{}{}
	})
	w := newWorldRemote(t, gateway.Options{}, remote)
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	failed := make(chan error, 1)
	go func() {
		_, _, err := callCore(context.Background(), t, a, "/v1/hold", "")
		failed <- err
	}()
	<-entered
	w.gw.Disconnect(w.node.ID, "test")
	if err := <-failed; err == nil {
		t.Fatal("a call in flight when the tunnel ended succeeded")
	}
	// The handler was told, and has returned, once the node is offline.
	w.rec.waitFor(t, "disconnect")
	select {
	case <-returned:
	default:
		t.Fatal("the handler of a call was still running after the tunnel's end")
	}
}
