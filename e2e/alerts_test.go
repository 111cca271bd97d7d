package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// discordMessage is what a Discord webhook receives (the fields the
// tests look at).
type discordMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Color       int    `json:"color"`
		Timestamp   string `json:"timestamp"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer struct {
			Text string `json:"text"`
		} `json:"footer"`
	} `json:"embeds"`
	// At is when it arrived; Status what the receiver answered.
	At     time.Time `json:"-"`
	Status int       `json:"-"`
}

func (m discordMessage) field(name string) string {
	for _, f := range m.Embeds[0].Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// discordReceiver stands in for Discord: it records every message, and
// answers 429 with a retry_after to the next requests when told to.
type discordReceiver struct {
	mu       sync.Mutex
	msgs     []discordMessage
	throttle []float64 // retry_after of the next requests' 429s
	url      string
}

func startDiscord(t testing.TB) *discordReceiver {
	d := &discordReceiver{}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	d.url = "http://" + ln.Addr().String() + "/api/webhooks/1234567890/e2e-token"
	return d
}

func (d *discordReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m discordMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || len(m.Embeds) == 0 {
		http.Error(w, `{"message": "Cannot send an empty message", "code": 50006}`, http.StatusBadRequest)
		return
	}
	m.At, m.Status = time.Now(), http.StatusOK
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.throttle) > 0 {
		after := d.throttle[0]
		d.throttle = d.throttle[1:]
		m.Status = http.StatusTooManyRequests
		d.msgs = append(d.msgs, m)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"message": "You are being rate limited.", "retry_after": %g, "global": false}`, after)
		return
	}
	d.msgs = append(d.msgs, m)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"id": "1"}`)
}

// delivered returns the messages answered 200 whose title contains sub.
func (d *discordReceiver) delivered(sub string) []discordMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []discordMessage
	for _, m := range d.msgs {
		if m.Status == http.StatusOK && strings.Contains(m.Embeds[0].Title, sub) {
			out = append(out, m)
		}
	}
	return out
}

func (d *discordReceiver) all() []discordMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]discordMessage(nil), d.msgs...)
}

// hookSecret signs the generic webhook sink's and the server webhook's
// deliveries in these tests.
const hookSecret = "e2e-webhook-secret-0123456789"

// hookDelivery is one signed POST a hook receiver took.
type hookDelivery struct {
	Path      string
	ID        string
	Timestamp string
	Signature string
	Body      []byte
}

// hookReceiver takes signed JSON deliveries on a fixed address, checked
// with the documented algorithm; it can be stopped and started again on
// the same address (a receiver that is down), and made slow.
type hookReceiver struct {
	t    testing.TB
	addr string

	mu     sync.Mutex
	srv    *http.Server
	got    []hookDelivery
	delay  time.Duration
	secret map[string]string // path → secret
}

func startHooks(t testing.TB) *hookReceiver {
	h := &hookReceiver{t: t, addr: freeAddr(t), secret: map[string]string{}}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *hookReceiver) start() {
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		h.t.Fatalf("listen again on %s: %v", h.addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(ln)
}

func (h *hookReceiver) stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (h *hookReceiver) url(path string) string { return "http://" + h.addr + path }

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	h.mu.Lock()
	delay, secret := h.delay, h.secret[r.URL.Path]
	h.mu.Unlock()
	time.Sleep(delay)
	d := hookDelivery{Path: r.URL.Path, ID: r.Header.Get("Catalyst-Webhook-Id"), Timestamp: r.Header.Get("Catalyst-Webhook-Timestamp"),
		Signature: r.Header.Get("Catalyst-Webhook-Signature"), Body: body}
	if err := verifyDocumented(secret, d, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, d)
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) deliveries(path string) []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookDelivery
	for _, d := range h.got {
		if d.Path == path {
			out = append(out, d)
		}
	}
	return out
}

// verifyDocumented checks a delivery the way plugins/alerts-webhook's
// README tells a receiver to, written here from that text rather than
// with the SDK's webhook.Verify: HMAC-SHA256 keyed with the secret over
// the timestamp header, ".", and the body as received, as lowercase hex
// after "v1=", compared in constant time; and a timestamp within 5
// minutes of the receiver's clock.
func verifyDocumented(secret string, d hookDelivery, now time.Time) error {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(d.Timestamp + "."))
	mac.Write(d.Body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	ok := false
	for _, sig := range strings.Split(d.Signature, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("signature %q does not match", d.Signature)
	}
	ts, err := strconv.ParseInt(d.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %v", d.Timestamp, err)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s from now: a replay", d.Timestamp, skew.Round(time.Second))
	}
	return nil
}

type delivery struct {
	ID        string `json:"id"`
	Sink      string `json:"sink"`
	Event     string `json:"event"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
}

type sinkStatus struct {
	Sink      string `json:"sink"`
	Pending   int    `json:"pending"`
	Delivered int    `json:"delivered"`
	LastError string `json:"last_error"`
}

func (c *cluster) sinkStatus(name string) sinkStatus {
	c.t.Helper()
	var sts []sinkStatus
	c.must(http.MethodGet, "/api/admin/alert-sinks", nil, &sts)
	for _, s := range sts {
		if s.Sink == name {
			return s
		}
	}
	c.t.Fatalf("no sink %q in %+v", name, sts)
	return sinkStatus{}
}

// testAlert queues a test alert for sink and returns its delivery ID,
// which is the alert's ID as the sink gets it.
func (c *cluster) testAlert(sink string) string {
	c.t.Helper()
	var d delivery
	c.must(http.MethodPost, "/api/admin/alert-sinks/"+sink+"/test", nil, &d)
	return d.ID
}

// pluginStatus is the plugin's entry in /api/admin/plugins.
func (c *cluster) pluginStatus(name string) (pid, restarts int) {
	c.t.Helper()
	var status []struct {
		Name     string `json:"name"`
		PID      int    `json:"pid"`
		Restarts int    `json:"restarts"`
	}
	c.must(http.MethodGet, "/api/admin/plugins", nil, &status)
	for _, p := range status {
		if p.Name == name {
			return p.PID, p.Restarts
		}
	}
	c.t.Fatalf("no plugin %q in %+v", name, status)
	return 0, 0
}

// Alerts end to end: a real crash, a node going offline, the shipped sink
// plugins posting to local receivers standing in for Discord and a
// webhook endpoint, a server's own webhook, rate limits, a receiver down
// for a minute and a sink plugin killed mid-delivery.
func TestAlerts(t *testing.T) {
	discord := startDiscord(t)
	hooks := startHooks(t)
	hooks.secret["/alerts"] = hookSecret
	plugins := filepath.Join(env.dir, "plugins")
	c := newCluster(t, clusterOptions{coreHCL: fmt.Sprintf(`
public_url = "https://panel.example.com"

plugin "discord" {
  path = %q
  config {
    webhook_url        = %q
    allow_insecure_url = true
  }
}

plugin "hook" {
  path = %q
  config {
    url     = %q
    secret  = %q
    timeout = "2s"
  }
}

alerts {
  min_backoff           = "200ms"
  max_backoff           = "5s"
  attempt_timeout       = "5s"
  webhook_allow_private = true

  route {
    sinks = ["discord"]
  }
  route {
    sinks         = ["hook"]
    severities    = ["critical"]
    send_resolved = false
  }
}
`, filepath.Join(plugins, "catalyst-alerts-discord"), discord.url,
		filepath.Join(plugins, "catalyst-alerts-webhook"), hooks.url("/alerts"), hookSecret)})

	s := c.createServer("alerted", nil)
	var hook struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	c.must(http.MethodPost, "/api/servers/"+s.ID+"/webhooks", map[string]any{
		"url": hooks.url("/server"), "events": []string{"server.started", "server.crashed", "alert.firing"},
	}, &hook)
	if !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("a new webhook's secret = %q, want a generated whsec_ one", hook.Secret)
	}
	hooks.mu.Lock()
	hooks.secret["/server"] = hook.Secret
	hooks.mu.Unlock()

	step(t, "a crash sends exactly one Discord message, with the embed", func() {
		ws := readSocket(c.dialSocket(s.ID, nil))
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		c.command(s.ID, "crash 3")
		c.waitState(s.ID, "crashed", 30*time.Second)

		c.eventually(20*time.Second, "the crash's Discord message", func() bool { return len(discord.delivered("alerted crashed")) > 0 })
		m := discord.delivered("alerted crashed")[0]
		e := m.Embeds[0]
		if e.Color != 0xF39C12 {
			t.Errorf("embed colour %#x, want warning orange %#x", e.Color, 0xF39C12)
		}
		if !strings.Contains(m.field("Server"), "alerted") || !strings.Contains(m.field("Server"), s.ID) {
			t.Errorf("Server field %q, want the server's name and ID", m.field("Server"))
		}
		if !strings.Contains(m.field("Node"), c.nodeID) {
			t.Errorf("Node field %q, want the node's ID %s", m.field("Node"), c.nodeID)
		}
		if !strings.Contains(m.field("Type"), "server_crashed") || !strings.Contains(strings.ToLower(m.field("Severity")), "warning") {
			t.Errorf("Type %q, Severity %q", m.field("Type"), m.field("Severity"))
		}
		if !strings.Contains(e.Description, "exit") {
			t.Errorf("description %q does not say how the process exited", e.Description)
		}
		if ts, err := time.Parse(time.RFC3339, e.Timestamp); err != nil || time.Since(ts) > time.Minute {
			t.Errorf("timestamp %q: %v", e.Timestamp, err)
		}

		var open []struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			Status string `json:"status"`
		}
		c.must(http.MethodGet, "/api/servers/"+s.ID+"/alerts?status=open", nil, &open)
		if len(open) != 1 || open[0].Type != "server_crashed" {
			t.Fatalf("open alerts of the server: %+v, want one server_crashed", open)
		}
		if !strings.Contains(e.Footer.Text, open[0].ID) {
			t.Errorf("footer %q does not name the alert %s", e.Footer.Text, open[0].ID)
		}
		if msg := ws.next(t, 10*time.Second, "alert"); msg.Status != "firing" || msg.Alert.ID != open[0].ID {
			t.Errorf("live alert message %+v, want the firing alert %s", msg, open[0].ID)
		}
		// Nothing else comes: one crash, one message.
		time.Sleep(2 * time.Second)
		if n := len(discord.delivered("crashed")); n != 1 {
			t.Fatalf("%d Discord messages about the crash, want exactly 1", n)
		}
	})

	step(t, "the server's webhook gets the crash, signed as documented; a replay is refused", func() {
		var crashed *hookDelivery
		c.eventually(20*time.Second, "the server.crashed delivery", func() bool {
			for _, d := range hooks.deliveries("/server") {
				if strings.Contains(string(d.Body), `"event":"server.crashed"`) {
					crashed = &d
					return true
				}
			}
			return false
		})
		var p struct {
			Version int    `json:"version"`
			Event   string `json:"event"`
			Server  struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"server"`
			Data struct {
				State    string `json:"state"`
				ExitCode *int   `json:"exit_code"`
			} `json:"data"`
		}
		if err := json.Unmarshal(crashed.Body, &p); err != nil || p.Version != 1 || p.Server.ID != s.ID || p.Data.State != "crashed" ||
			p.Data.ExitCode == nil || *p.Data.ExitCode != 3 {
			t.Fatalf("server.crashed payload %s (%v)", crashed.Body, err)
		}
		// The receiver took it, so the signature held; the same request
		// presented six minutes later is a replay the documented check
		// refuses, and a fresh timestamp on the old body breaks the
		// signature.
		if err := verifyDocumented(hook.Secret, *crashed, time.Now().Add(6*time.Minute)); err == nil || !strings.Contains(err.Error(), "replay") {
			t.Fatalf("a replay six minutes later was not refused: %v", err)
		}
		forged := *crashed
		forged.Timestamp = strconv.FormatInt(time.Now().Unix()+1, 10)
		if err := verifyDocumented(hook.Secret, forged, time.Now()); err == nil {
			t.Fatal("a delivery with a new timestamp and the old signature was accepted")
		}
		if err := verifyDocumented("another-secret-0123456", *crashed, time.Now()); err == nil {
			t.Fatal("a delivery verified with the wrong secret")
		}
	})

	step(t, "starting it again resolves the alert", func() {
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		c.eventually(20*time.Second, "the resolved message", func() bool { return len(discord.delivered("[RESOLVED] alerted crashed")) == 1 })
		if m := discord.delivered("[RESOLVED]")[0]; m.Embeds[0].Color != 0x2ECC71 {
			t.Errorf("resolved colour %#x, want green", m.Embeds[0].Color)
		}
		c.power(s.ID, "kill")
		c.waitState(s.ID, "stopped", 30*time.Second)
	})

	step(t, "Discord's 429 retry_after is waited out", func() {
		discord.mu.Lock()
		discord.throttle = []float64{2.5}
		discord.mu.Unlock()
		id := c.testAlert("discord")
		c.eventually(30*time.Second, "the throttled test alert", func() bool { return len(discord.delivered("Catalyst test alert")) == 1 })
		var limited, ok time.Time
		for _, m := range discord.all() {
			if strings.Contains(m.Embeds[0].Title, "Catalyst test alert") {
				if m.Status == http.StatusTooManyRequests {
					limited = m.At
				} else {
					ok = m.At
				}
			}
		}
		if limited.IsZero() || ok.Sub(limited) < 2500*time.Millisecond {
			t.Fatalf("429 at %v, retried at %v: want the retry at least 2.5s after", limited, ok)
		}
		var log []delivery
		c.must(http.MethodGet, "/api/admin/deliveries?sink=discord", nil, &log)
		if len(log) == 0 || log[0].ID != id || log[0].Status != "delivered" || log[0].Attempts != 2 || !strings.Contains(log[0].LastError, "429") {
			t.Fatalf("delivery log %+v, want %s delivered on the 2nd attempt after a 429", log, id)
		}
	})

	step(t, "a receiver down for a minute gets every alert once it is back", func() {
		hooks.stop()
		down := time.Now()
		var ids []string
		for range 5 {
			ids = append(ids, c.testAlert("hook"))
		}
		c.eventually(20*time.Second, "a failed attempt in the sink's status", func() bool {
			st := c.sinkStatus("hook")
			return st.LastError != "" && st.Pending == 5
		})
		time.Sleep(time.Until(down.Add(time.Minute)))
		if st := c.sinkStatus("hook"); st.Pending != 5 {
			t.Fatalf("after a minute down, the hook sink has %d pending deliveries, want the 5 alerts (%+v)", st.Pending, st)
		}
		hooks.start()
		c.eventually(30*time.Second, "every alert after the receiver came back", func() bool {
			return hasAll(hooks.deliveries("/alerts"), ids)
		})
		if st := c.sinkStatus("hook"); st.Pending != 0 || st.Delivered < 5 {
			t.Fatalf("hook sink status %+v after recovery", st)
		}
	})

	step(t, "killing the sink plugin mid-delivery loses nothing", func() {
		hooks.mu.Lock()
		hooks.delay = 300 * time.Millisecond
		hooks.mu.Unlock()
		before := len(hooks.deliveries("/alerts"))
		var ids []string
		for range 10 {
			ids = append(ids, c.testAlert("hook"))
		}
		c.eventually(20*time.Second, "the first delivery", func() bool { return len(hooks.deliveries("/alerts")) > before })
		pid, restarts := c.pluginStatus("hook")
		if pid == 0 {
			t.Fatal("the hook plugin has no process")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.eventually(60*time.Second, "every alert despite the kill", func() bool { return hasAll(hooks.deliveries("/alerts"), ids) })
		if newPID, after := c.pluginStatus("hook"); after <= restarts || newPID == pid {
			t.Errorf("plugin hook: %d restarts (pid %d) after being killed, had %d (pid %d)", after, newPID, restarts, pid)
		}
		hooks.mu.Lock()
		hooks.delay = 0
		hooks.mu.Unlock()
	})

	step(t, "a node offline past its rule's wait raises a critical alert, resolved when it is back", func() {
		c.must(http.MethodPatch, "/api/admin/alert-rules/01900000-0000-7000-8000-000000000006", map[string]any{"for_seconds": 2}, nil)
		c.agent.stop(t)
		c.waitOnline(false)
		c.eventually(30*time.Second, "the node offline message", func() bool { return len(discord.delivered("is offline")) == 1 })
		if m := discord.delivered("is offline")[0]; m.Embeds[0].Color != 0xE74C3C {
			t.Errorf("node offline colour %#x, want critical red", m.Embeds[0].Color)
		}
		// Critical: the hook route takes it too.
		c.eventually(20*time.Second, "the node offline alert at the hook", func() bool {
			for _, d := range hooks.deliveries("/alerts") {
				if strings.Contains(string(d.Body), `"type":"node_offline"`) {
					return true
				}
			}
			return false
		})
		c.startAgent()
		c.waitOnline(true)
		c.eventually(30*time.Second, "the node's alert resolved", func() bool { return len(discord.delivered("[RESOLVED] Node")) == 1 })
	})
}

// hasAll says whether the deliveries hold every ID.
func hasAll(ds []hookDelivery, ids []string) bool {
	seen := map[string]bool{}
	for _, d := range ds {
		var p struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(d.Body, &p) == nil {
			seen[p.ID] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return true
}
