package wire_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

func TestCheckProtocol(t *testing.T) {
	tests := []struct {
		v    int
		want string
	}{
		{wire.ProtocolVersion, ""},
		{wire.MinProtocolVersion - 1, "upgrade catalyst-agent"},
		{wire.ProtocolVersion + 1, "upgrade the core"},
	}
	for _, tt := range tests {
		err := wire.CheckProtocol(tt.v)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckProtocol(%d) = %v, want %q", tt.v, err, tt.want)
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := wire.NewEventWriter(&buf)
	code := 137
	if err := w.Write(wire.EventServerState, wire.ServerState{ServerID: "s1", State: wire.StateCrashed, ExitCode: &code, OOMKilled: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(wire.EventHeartbeat, wire.Heartbeat{Running: 2}); err != nil {
		t.Fatal(err)
	}
	r := wire.NewEventReader(&buf)
	e, err := r.Read()
	if err != nil || e.Type != wire.EventServerState {
		t.Fatalf("first event = %+v, %v", e, err)
	}
	var st wire.ServerState
	if err := e.Decode(&st); err != nil || st.ServerID != "s1" || *st.ExitCode != 137 || !st.OOMKilled {
		t.Fatalf("state = %+v, %v", st, err)
	}
	if e, err = r.Read(); err != nil || e.Type != wire.EventHeartbeat {
		t.Fatalf("second event = %+v, %v", e, err)
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last event: %v, want EOF", err)
	}
}

func TestEventReaderRefusesBadInput(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
	}{
		"oversized line": {strings.Repeat("x", wire.MaxEventBytes+10) + "\n", "size limit"},
		"not json":       {"hello\n", "malformed event"},
		"no type":        {`{"data":{}}` + "\n", "no type"},
		"cut off":        {`{"type":"heartbeat"`, "unexpected EOF"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := wire.NewEventReader(strings.NewReader(tt.in)).Read()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWriterRefusesOversizedEvent(t *testing.T) {
	err := wire.NewEventWriter(io.Discard).Write(wire.EventConsoleOutput, wire.ConsoleOutput{Lines: []string{strings.Repeat("x", wire.MaxEventBytes)}})
	if err == nil {
		t.Fatal("oversized event was written")
	}
}

func TestDurationTravelsAsText(t *testing.T) {
	var d wire.Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || time.Duration(d) != 90*time.Second {
		t.Fatalf("d = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Fatal("bad duration accepted")
	}
}

// yamux runs over NetConn across a real WebSocket, both directions, with a
// payload much larger than one stream window.
func TestYamuxOverWebSocket(t *testing.T) {
	payload := bytes.Repeat([]byte("catalyst"), 2<<20) // 16 MiB
	srvErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			srvErr <- err
			return
		}
		sess, err := yamux.Server(wire.NetConn(ws), wire.SessionConfig())
		if err != nil {
			srvErr <- err
			return
		}
		defer sess.Close()
		st, err := sess.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		// Echo everything back, and keep the session open until the
		// client hangs up: closing it here could drop echoed bytes still
		// queued for sending.
		_, err = io.Copy(st, st)
		st.Close()
		srvErr <- err
		<-sess.CloseChan()
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := yamux.Client(wire.NetConn(ws), wire.SessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	st, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		st.Write(payload)
		st.Close() // yamux: closes our side only
	}()
	got, err := io.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("echoed %d bytes, want %d identical", len(got), len(payload))
	}
	if err := <-srvErr; err != nil {
		t.Fatal(err)
	}
}
