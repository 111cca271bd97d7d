package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Event types on the event stream.
const (
	// EventHello carries Hello (agent → core, first).
	EventHello = "node_handshake"
	// EventWelcome carries Welcome and EventRefused carries Refused
	// (core → agent, the only messages the core writes on the stream).
	EventWelcome = "welcome"
	EventRefused = "refused"
	// EventHeartbeat carries Heartbeat.
	EventHeartbeat = "heartbeat"
	// EventServerState carries ServerState: a server changed state.
	EventServerState = "server_state_update"
	// EventInstallProgress carries InstallProgress: installer output.
	EventInstallProgress = "install_progress"
	// EventConsoleOutput carries ConsoleOutput: game server output.
	EventConsoleOutput = "console_output"
	// EventConsoleThrottled carries ConsoleThrottled: live console lines
	// the agent did not publish because a server wrote faster than its
	// throttle allows (they are still in the node's console log).
	EventConsoleThrottled = "console_throttled"
	// EventDaemonMessage carries DaemonMessage: something the agent tells
	// the server's viewers (a restart after a crash, a disk quota warning).
	EventDaemonMessage = "daemon_message"
	// EventResourceStats carries ResourceStats: a sample of every running
	// server's resource use, sent every stats interval.
	EventResourceStats = "resource_stats"
	// EventHealthReport carries NodeHealth: the node's own resource use.
	EventHealthReport = "health_report"
)

// Envelope is one line on the event stream.
type Envelope struct {
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// Decode unmarshals the envelope's data into v.
func (e Envelope) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s event: %w", e.Type, err)
	}
	return nil
}

// Heartbeat says the agent is alive.
type Heartbeat struct {
	// Running counts the server processes running on the node.
	Running int `json:"running"`
}

// ServerState reports a server's state.
type ServerState struct {
	ServerID string `json:"server_id"`
	State    string `json:"state"`
	// ExitCode and OOMKilled say how the process ended, on stopped and
	// crashed; ExitCode is nil when unknown (e.g. never started).
	ExitCode  *int `json:"exit_code,omitempty"`
	OOMKilled bool `json:"oom_killed,omitempty"`
	// Reason is a sentence for people: why it crashed, why install failed.
	Reason string `json:"reason,omitempty"`
	// CrashLoop is set on a crashed report when the restart policy gave up:
	// the server crashed more often than its policy allows in the window
	// and stays crashed until someone starts it.
	CrashLoop bool `json:"crash_loop,omitempty"`
}

// InstallProgress is a line of installer output.
type InstallProgress struct {
	ServerID string `json:"server_id"`
	Line     string `json:"line"`
}

// ConsoleOutput is one or more lines of a server's console.
type ConsoleOutput struct {
	ServerID string   `json:"server_id"`
	Lines    []string `json:"lines"`
}

// ConsoleThrottled says how many console lines of a server were not
// published live in the throttle period that just ended.
type ConsoleThrottled struct {
	ServerID string `json:"server_id"`
	Dropped  int    `json:"dropped"`
}

// Daemon message levels.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
)

// DaemonMessage is a sentence from the agent about a server, for people.
type DaemonMessage struct {
	ServerID string `json:"server_id"`
	Level    string `json:"level"`
	Message  string `json:"message"`
}

// ResourceStats is one sample of every server the node has: running ones
// with their process figures, stopped ones with zeros but their disk use.
type ResourceStats struct {
	Servers []ServerStats `json:"servers"`
}

// ServerStats is one server's resource use at At. CPUPercent is over the
// last interval, 100 being one core busy all the time. Disk figures are
// those of the last walk of the volume (see DiskAt).
type ServerStats struct {
	ServerID         string    `json:"server_id"`
	At               time.Time `json:"at"`
	CPUPercent       float64   `json:"cpu_percent"`
	MemoryBytes      uint64    `json:"memory_bytes"`
	MemoryLimitBytes uint64    `json:"memory_limit_bytes"`
	Pids             uint64    `json:"pids"`
	NetRxBytes       uint64    `json:"net_rx_bytes"`
	NetTxBytes       uint64    `json:"net_tx_bytes"`
	DiskBytes        uint64    `json:"disk_bytes"`
	DiskLimitBytes   uint64    `json:"disk_limit_bytes"`
	DiskAt           time.Time `json:"disk_at"`
}

// NodeHealth is the node's own resource use at At.
type NodeHealth struct {
	At               time.Time `json:"at"`
	CPUPercent       float64   `json:"cpu_percent"` // all cores: 100 × cores at most
	CPUCores         int       `json:"cpu_cores"`
	MemoryUsedBytes  uint64    `json:"memory_used_bytes"`
	MemoryTotalBytes uint64    `json:"memory_total_bytes"`
	DiskUsedBytes    uint64    `json:"disk_used_bytes"` // the file system holding the data directory
	DiskTotalBytes   uint64    `json:"disk_total_bytes"`
	Load1            float64   `json:"load1"`
	Load5            float64   `json:"load5"`
	Load15           float64   `json:"load15"`
	Containers       int       `json:"containers"` // server processes running
}

// EventWriter writes envelopes, one JSON line each. It is safe for
// concurrent use.
type EventWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEventWriter writes envelopes to w.
func NewEventWriter(w io.Writer) *EventWriter { return &EventWriter{w: w} }

// Write sends one event.
func (ew *EventWriter) Write(typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	line, err := json.Marshal(Envelope{Type: typ, At: time.Now().UTC(), Data: raw})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	if len(line)+1 > MaxEventBytes {
		return fmt.Errorf("encode %s event: %d bytes is over the %d-byte limit", typ, len(line), MaxEventBytes)
	}
	ew.mu.Lock()
	defer ew.mu.Unlock()
	_, err = ew.w.Write(append(line, '\n'))
	return err
}

// ErrEventTooLarge is a line longer than MaxEventBytes.
var ErrEventTooLarge = errors.New("event line over the size limit")

// EventReader reads envelopes written by an EventWriter, refusing lines
// over MaxEventBytes (the peer is not trusted).
type EventReader struct {
	r *bufio.Reader
}

// NewEventReader reads envelopes from r.
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Read returns the next envelope; io.EOF at a clean end.
func (er *EventReader) Read() (Envelope, error) {
	var line []byte
	for {
		frag, err := er.r.ReadSlice('\n')
		if len(line)+len(frag) > MaxEventBytes {
			return Envelope{}, ErrEventTooLarge
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(bytes.TrimSpace(line)) > 0 {
			return Envelope{}, io.ErrUnexpectedEOF
		}
		return Envelope{}, err
	}
	var e Envelope
	if err := json.Unmarshal(line, &e); err != nil {
		return Envelope{}, fmt.Errorf("malformed event line: %w", err)
	}
	if e.Type == "" {
		return Envelope{}, errors.New("malformed event line: no type")
	}
	return e, nil
}
