package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The console benchmarks measure the whole path a game's output takes to
// browsers: container stdout → containerd FIFO → agent (line split, batch,
// history, log file) → tunnel → core (decode, encode once) → every
// socket's queue → WebSocket → client, on loopback.
//
// The node's console throttle is turned off and the core's socket queues
// are made large, so that the figures are the pipeline's capacity rather
// than the limits an operator sets (by default a node publishes at most
// 2,000 lines per 100 ms per server, which is 20,000 lines/s).
var consoleBenchOptions = clusterOptions{
	agentSet: map[string]string{"throttle_lines": "0"},
	coreHCL:  "websocket {\n  queue_size = 65536\n}\n",
}

// BenchmarkConsoleThroughput: one op is one console line reaching every
// client. The baseline echoes one-line messages over a raw gorilla
// websocket on loopback (a client writing, a server echoing, the client
// reading), with nothing else in the path.
func BenchmarkConsoleThroughput(b *testing.B) {
	c := newCluster(b, consoleBenchOptions)
	s := c.createServer("bench-console", nil)
	c.power(s.ID, "start")
	c.waitState(s.ID, "running", time.Minute)
	b.Run("catalyst-1-client", func(b *testing.B) { benchFlood(b, c, s.ID, 1) })
	b.Run("catalyst-100-clients", func(b *testing.B) { benchFlood(b, c, s.ID, 100) })
	b.Run("baseline-gorilla-echo", benchEcho)
}

// benchFlood has the game print b.N lines as fast as it can and times
// until every client has received the last one.
func benchFlood(b *testing.B, c *cluster, id string, clients int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	dropped := 0
	done := make(chan struct{}, clients)
	var sockets []*websocket.Conn
	defer func() {
		for _, ws := range sockets {
			ws.Close()
		}
		wg.Wait()
	}()
	for range clients {
		ws := c.dialSocket(id, nil)
		sockets = append(sockets, ws)
		wg.Go(func() {
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if bytes.Contains(msg, []byte(`"type":"throttled"`)) {
					var m liveMsg
					_ = json.Unmarshal(msg, &m)
					mu.Lock()
					dropped += m.Dropped
					mu.Unlock()
				}
				if bytes.Contains(msg, []byte("flood done")) {
					done <- struct{}{}
				}
			}
		})
	}
	b.ResetTimer()
	start := time.Now()
	c.command(id, fmt.Sprintf("flood %d 0", b.N))
	timeout := time.After(5 * time.Minute)
	for range clients {
		select {
		case <-done:
		case <-timeout:
			b.Fatalf("not every client received the flood's end within 5 minutes")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(dropped), "dropped-msgs")
}

// benchEcho is the baseline: b.N one-line messages written by a client,
// echoed by a gorilla server, read back by the client.
func benchEcho(b *testing.B) {
	srv := echoServer(b)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for i := range b.N {
			if err := ws.WriteMessage(websocket.TextMessage, floodLine(i+1)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lines/s")
}

func echoServer(b *testing.B) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// floodLine is a console message as the core sends it, carrying one line
// like gamesrv's flood lines.
func floodLine(seq int) []byte {
	return fmt.Appendf(nil, `{"type":"console_output","lines":["flood %d %d"]}`, seq, time.Now().UnixNano())
}

// BenchmarkConsoleLatency: the game prints 1,000 lines a second for 3 s,
// each stamped with the time it was written; the client notes how long
// each took to arrive (p50 and p99, in ms). The baseline sends the same
// lines at the same rate over a raw gorilla websocket on loopback.
func BenchmarkConsoleLatency(b *testing.B) {
	const lines, rate = 3000, 1000
	b.Run("catalyst-1000-lines-per-s", func(b *testing.B) {
		c := newCluster(b, clusterOptions{})
		s := c.createServer("bench-latency", nil)
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", time.Minute)
		r := readSocket(c.dialSocket(s.ID, nil))
		var lat []time.Duration
		for b.Loop() {
			c.command(s.ID, fmt.Sprintf("flood %d %d", lines, rate))
			for got := 0; got < lines; {
				m := r.next(b, time.Minute, "console_output", "throttled")
				if m.Type == "throttled" {
					b.Fatalf("lines were throttled at %d lines/s: %+v", rate, m)
				}
				now := time.Now()
				for _, l := range m.Lines {
					if d, ok := floodLatency(l, now); ok {
						lat = append(lat, d)
						got++
					}
				}
			}
		}
		reportLatency(b, lat)
	})
	b.Run("baseline-gorilla-1000-lines-per-s", func(b *testing.B) {
		up := websocket.Upgrader{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			start := time.Now()
			for i := range lines {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
				if err := ws.WriteMessage(websocket.TextMessage, floodLine(i+1)); err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		var lat []time.Duration
		for b.Loop() {
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			for range lines {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					b.Fatal(err)
				}
				now := time.Now()
				var m liveMsg
				if err := json.Unmarshal(msg, &m); err != nil {
					b.Fatal(err)
				}
				for _, l := range m.Lines {
					if d, ok := floodLatency(l, now); ok {
						lat = append(lat, d)
					}
				}
			}
			ws.Close()
		}
		reportLatency(b, lat)
	})
}

// floodLatency reads the time stamp of a "flood SEQ UNIXNANO" line.
func floodLatency(line string, now time.Time) (time.Duration, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "flood" {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return 0, false
	}
	return now.Sub(time.Unix(0, ns)), true
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		b.Fatal("no latency samples")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
