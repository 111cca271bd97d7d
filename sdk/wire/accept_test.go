package wire_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/yamux"
)

// sessions returns the core's (server) and the agent's (client) ends of a
// yamux session over an in-memory pipe.
func sessions(t *testing.T) (core, agent *yamux.Session) {
	t.Helper()
	a, b := net.Pipe()
	core, err := yamux.Server(a, wire.SessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	agent, err = yamux.Client(b, wire.SessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Close()
		core.Close()
	})
	return core, agent
}

func TestAcceptHelloKeepsWhatFollowsTheHello(t *testing.T) {
	core, agent := sessions(t)
	st, err := agent.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	// Hello and the first event in one write: the reader must keep both.
	go func() {
		w := wire.NewEventWriter(st)
		_ = w.Write(wire.EventHello, wire.Hello{ProtocolVersion: wire.ProtocolVersion, AgentVersion: "1.0"})
		_ = w.Write(wire.EventHeartbeat, wire.Heartbeat{Running: 2})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, events, hello, err := wire.AcceptHello(ctx, core)
	if err != nil || hello.AgentVersion != "1.0" {
		t.Fatalf("AcceptHello = %+v, %v", hello, err)
	}
	e, err := events.Read()
	var hb wire.Heartbeat
	if err != nil || e.Type != wire.EventHeartbeat || e.Decode(&hb) != nil || hb.Running != 2 {
		t.Fatalf("event after hello = %+v, %v", e, err)
	}
}

func TestAcceptHelloRefuses(t *testing.T) {
	cases := []struct {
		name  string
		typ   string
		data  any
		error string
	}{
		{"not a hello first", wire.EventHeartbeat, wire.Heartbeat{}, `first event is "heartbeat"`},
		{"newer protocol", wire.EventHello, wire.Hello{ProtocolVersion: wire.ProtocolVersion + 1}, "upgrade the core"},
		{"older protocol", wire.EventHello, wire.Hello{ProtocolVersion: wire.MinProtocolVersion - 1}, "upgrade catalyst-agent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			core, agent := sessions(t)
			st, err := agent.OpenStream()
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = wire.NewEventWriter(st).Write(tc.typ, tc.data) }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, _, _, err := wire.AcceptHello(ctx, core); err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("AcceptHello = %v, want an error saying %q", err, tc.error)
			}
			// The agent is told why.
			_ = st.SetReadDeadline(time.Now().Add(5 * time.Second))
			e, err := wire.NewEventReader(st).Read()
			var r wire.Refused
			if err != nil || e.Type != wire.EventRefused || e.Decode(&r) != nil || !strings.Contains(r.Message, tc.error) {
				t.Fatalf("agent read %+v, %v; want refused saying %q", e, err, tc.error)
			}
		})
	}
}

func TestAcceptHelloGivesUpAtTheDeadline(t *testing.T) {
	t.Run("no stream", func(t *testing.T) {
		core, _ := sessions(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, _, _, err := wire.AcceptHello(ctx, core); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("AcceptHello = %v, want the deadline", err)
		}
	})
	t.Run("stream but no hello", func(t *testing.T) {
		core, agent := sessions(t)
		if _, err := agent.OpenStream(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, _, _, err := wire.AcceptHello(ctx, core)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "read hello") {
				t.Fatalf("AcceptHello = %v, want a failed read", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("AcceptHello waited past its deadline for a silent agent")
		}
	})
}
