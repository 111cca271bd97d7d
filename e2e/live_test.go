package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// liveMsg is any message of a server socket, as the tests read them.
type liveMsg struct {
	Type      string   `json:"type"`
	Lines     []string `json:"lines"`
	State     string   `json:"state"`
	Reason    string   `json:"reason"`
	ExitCode  *int     `json:"exit_code"`
	OOMKilled bool     `json:"oom_killed"`
	CrashLoop bool     `json:"crash_loop"`
	Level     string   `json:"level"`
	Message   string   `json:"message"`
	Source    string   `json:"source"`
	Dropped   int      `json:"dropped"`
	// Error is a failed backup's, restore's or transfer's reason; Stage
	// is a transfer's.
	Error string `json:"error"`
	Stage string `json:"stage"`
	// Alert and Status are an alert message's: the alert, and whether it
	// is firing or resolved.
	Alert struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Title string `json:"title"`
	} `json:"alert"`
	Status string `json:"status"`
}

// dialSocket opens the server's live socket the way the panel does: a
// ticket from the API, then the WebSocket. dialer may be nil.
func (c *cluster) dialSocket(id string, dialer *websocket.Dialer) *websocket.Conn {
	c.t.Helper()
	var tk struct {
		Ticket string `json:"ticket"`
	}
	c.must(http.MethodPost, "/api/servers/"+id+"/ws/ticket", nil, &tk)
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	ws, resp, err := dialer.Dial("ws://"+c.addr+"/api/servers/"+id+"/ws?ticket="+tk.Ticket, nil)
	if err != nil {
		c.t.Fatalf("open the socket of %s: %v (%v)", id, err, resp)
	}
	c.t.Cleanup(func() { ws.Close() })
	return ws
}

// socketReader reads a socket in the background, so that the core never
// waits for this client.
type socketReader struct {
	msgs chan liveMsg
	errc chan error
}

func readSocket(ws *websocket.Conn) *socketReader {
	r := &socketReader{msgs: make(chan liveMsg, 1<<16), errc: make(chan error, 1)}
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				r.errc <- err
				close(r.msgs)
				return
			}
			var m liveMsg
			if err := json.Unmarshal(b, &m); err != nil {
				r.errc <- fmt.Errorf("message %s: %w", b, err)
				close(r.msgs)
				return
			}
			r.msgs <- m
		}
	}()
	return r
}

// next returns the next message of one of types (every type when none).
func (r *socketReader) next(t testing.TB, timeout time.Duration, types ...string) liveMsg {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				t.Fatalf("socket closed: %v", <-r.errc)
			}
			if len(types) == 0 || contains(types, m.Type) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %v message within %v", types, timeout)
		}
	}
}

// waitLine reads console output until a line containing want, for at
// most 30s.
func (r *socketReader) waitLine(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := r.next(t, time.Until(deadline), "console_output")
		for _, l := range m.Lines {
			if strings.Contains(l, want) {
				return
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// smallBufferDialer makes a client whose kernel receive buffer is tiny, so
// that a client that stops reading is felt by the core at once.
var smallBufferDialer = &websocket.Dialer{
	ReadBufferSize: 1024,
	NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		return d.Dial(network, addr)
	},
}

// The live console, crash handling and history, through the real binaries
// on real containerd.
func TestLiveConsole(t *testing.T) {
	c := newCluster(t, clusterOptions{ports: 3}) // three servers
	s := c.createServer("live", nil)

	fast := readSocket(c.dialSocket(s.ID, nil))
	slow := c.dialSocket(s.ID, smallBufferDialer) // never read until the end
	if m := fast.next(t, 10*time.Second); m.Type != "status" || m.State != "stopped" {
		t.Fatalf("first message %+v, want status stopped", m)
	}

	step(t, "console output reaches the socket in order, a slow socket notwithstanding", func() {
		c.power(s.ID, "start")
		for m := fast.next(t, 60*time.Second, "status"); m.State != "running"; m = fast.next(t, 60*time.Second, "status") {
			if m.State == "crashed" {
				t.Fatalf("crashed: %+v", m)
			}
		}
		// 10,000 lines at 5,000 a second: under the node's default
		// throttle (2,000 lines per 100 ms), so every line is due.
		const n = 10000
		c.command(s.ID, fmt.Sprintf("flood %d 5000", n))
		next, finished := 1, false
		for !finished {
			m := fast.next(t, 30*time.Second, "console_output", "throttled")
			if m.Type == "throttled" {
				t.Fatalf("the fast socket lost lines: %+v", m)
			}
			for _, l := range m.Lines {
				if l == "flood done" {
					finished = true
					continue
				}
				f := strings.Fields(l)
				if len(f) != 3 || f[0] != "flood" {
					continue // the command's echo, ticks
				}
				if seq, _ := strconv.Atoi(f[1]); seq != next {
					t.Fatalf("line %q arrived when flood %d was due", l, next)
				}
				next++
			}
		}
		if next != n+1 {
			t.Fatalf("flood done after %d lines, want %d", next-1, n)
		}
		// The slow socket, which read nothing meanwhile, is still open and
		// gets what its queue kept, in order.
		sr := readSocket(slow)
		last, dropped := 0, 0
		for last < n {
			m := sr.next(t, 30*time.Second, "console_output", "throttled")
			if m.Type == "throttled" {
				dropped += m.Dropped
				continue
			}
			for _, l := range m.Lines {
				if f := strings.Fields(l); len(f) == 3 && f[0] == "flood" {
					seq, _ := strconv.Atoi(f[1])
					if seq <= last {
						t.Fatalf("slow socket: flood %d after %d", seq, last)
					}
					last = seq
				}
			}
		}
		t.Logf("the slow socket was told of %d dropped messages", dropped)
	})

	step(t, "history survives an agent restart", func() {
		c.command(s.ID, "say before-agent-restart")
		fast.waitLine(t, "> echo: say before-agent-restart")
		c.agent.kill()
		if m := fast.next(t, 30*time.Second, "daemon_message"); !strings.Contains(m.Message, "offline") {
			t.Fatalf("daemon message %+v, want the node offline", m)
		}
		c.waitOnline(false)
		c.startAgent()
		c.waitOnline(true)
		logs := c.logs(s.ID)
		if !strings.Contains(logs, "flood done") || !strings.Contains(logs, "> echo: say before-agent-restart") {
			t.Fatalf("history after the agent restart:\n%s", tail([]byte(logs), 20))
		}
		// The same socket carries the reattached console.
		c.command(s.ID, "say after-agent-restart")
		fast.waitLine(t, "> echo: say after-agent-restart")
		logs = c.logs(s.ID)
		if strings.Index(logs, "say before-agent-restart") > strings.Index(logs, "say after-agent-restart") {
			t.Fatalf("history out of order:\n%s", tail([]byte(logs), 20))
		}
		c.power(s.ID, "kill")
		c.waitState(s.ID, "stopped", 30*time.Second)
	})

	step(t, "a crash with exit 3 restarts, and the 6th crash in the window ends it", func() {
		var crashy server
		c.must(http.MethodPost, "/api/servers", map[string]any{
			"name": "crashy", "node_id": c.nodeID, "template_id": c.templateID,
			"memory_mb": 256, "cpu_percent": 100, "disk_mb": 1024,
			"environment": map[string]string{"GAMESRV_EXIT_AFTER": "300ms", "GAMESRV_EXIT_CODE": "3"},
			"restart":     map[string]any{"mode": "on_crash", "max_restarts": 5, "window_seconds": 600, "backoff_ms": 100},
		}, &crashy)
		c.waitState(crashy.ID, "stopped", 60*time.Second)
		r := readSocket(c.dialSocket(crashy.ID, nil))
		r.next(t, 10*time.Second, "status")
		c.power(crashy.ID, "start")
		crashes, starts := 0, 0
		for {
			m := r.next(t, 60*time.Second, "status")
			switch m.State {
			case "starting":
				starts++
			case "crashed":
				if m.ExitCode == nil || *m.ExitCode != 3 {
					t.Fatalf("crash %+v, want exit code 3", m)
				}
				if !m.CrashLoop {
					crashes++
				}
			}
			if m.CrashLoop {
				break
			}
		}
		if crashes != 6 || starts != 6 {
			t.Fatalf("%d crashes and %d starts before the crash loop, want 6 and 6 (1 start + 5 restarts)", crashes, starts)
		}
		// Nothing restarts it any more.
		time.Sleep(3 * time.Second)
		var v struct {
			State        string `json:"state"`
			CrashCount   int    `json:"crash_count"`
			LastExitCode *int   `json:"last_exit_code"`
		}
		c.must(http.MethodGet, "/api/servers/"+crashy.ID, nil, &v)
		if v.State != "crashed" || v.CrashCount != 6 || v.LastExitCode == nil || *v.LastExitCode != 3 {
			t.Fatalf("after the crash loop: %+v", v)
		}
		if c.taskPID(crashy.ID) != "" {
			t.Fatal("the crash-looping server runs again")
		}
	})

	step(t, "an OOM kill is reported as OOM", func() {
		var hog server
		c.must(http.MethodPost, "/api/servers", map[string]any{
			"name": "hog", "node_id": c.nodeID, "template_id": c.templateID,
			"memory_mb": 64, "cpu_percent": 100, "disk_mb": 1024,
			"restart": map[string]any{"mode": "never"},
		}, &hog)
		c.waitState(hog.ID, "stopped", 60*time.Second)
		r := readSocket(c.dialSocket(hog.ID, nil))
		c.power(hog.ID, "start")
		c.waitState(hog.ID, "running", 60*time.Second)
		c.command(hog.ID, "oom")
		for {
			m := r.next(t, 60*time.Second, "status")
			if m.State == "crashed" {
				if !m.OOMKilled {
					t.Fatalf("crash %+v, want oom_killed", m)
				}
				break
			}
		}
		var v struct {
			LastOOMKilled bool `json:"last_oom_killed"`
		}
		c.must(http.MethodGet, "/api/servers/"+hog.ID, nil, &v)
		if !v.LastOOMKilled {
			t.Fatal("server view: last_oom_killed is false")
		}
	})
}
