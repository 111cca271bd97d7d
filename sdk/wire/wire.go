// Package wire holds what the core and the agent say to each other, so both
// sides compile against one definition.
//
// The agent dials the core: GET PathConnect with its node ID, credential and
// protocol version in headers (HeaderNode, Authorization: Bearer …,
// HeaderProtocol). The core checks all three before upgrading to a WebSocket;
// a refusal is an ordinary HTTP error whose JSON body says why (an
// incompatible protocol is 426 Upgrade Required). Over the WebSocket (binary
// messages, see NetConn) runs a yamux session in which the agent is the
// client:
//
//   - The agent opens the first stream, the event stream. It writes a Hello
//     envelope; the core answers Welcome (or Refused and hangs up). From then
//     on the agent writes events (Envelope per line: EventHeartbeat,
//     EventServerState, EventInstallProgress, EventConsoleOutput …) and the
//     core only reads.
//   - Every other stream the core opens carries HTTP/1.1 requests to the
//     agent's internal API (the Agent* paths below), so that uploads and
//     downloads stream with yamux's flow control.
//   - Every other stream the agent opens carries HTTP/1.1 requests to the
//     core (the Core* paths, such as CorePathSFTPAuth); the core knows the
//     node from the tunnel.
//
// Versioning: ProtocolVersion grows when a message changes in a way an older
// peer would misread. New optional fields and new event types do not bump
// it: a peer ignores fields and events it does not know. The core accepts
// agents speaking MinProtocolVersion through ProtocolVersion.
package wire

import (
	"fmt"
	"time"
)

// Protocol versions this build speaks.
const (
	ProtocolVersion    = 1
	MinProtocolVersion = 1
)

// The tunnel's HTTP entry point on the core and its headers.
const (
	PathConnect    = "/api/agent/connect"
	HeaderNode     = "X-Catalyst-Node"
	HeaderProtocol = "X-Catalyst-Protocol"
	HeaderAgent    = "X-Catalyst-Agent-Version"
)

// MaxEventBytes bounds one event line. The core refuses (and disconnects)
// an agent that sends a longer one.
const MaxEventBytes = 1 << 20

// CheckProtocol says whether a peer speaking version v can talk to this
// build, with a message an operator can act on when it cannot.
func CheckProtocol(v int) error {
	switch {
	case v < MinProtocolVersion:
		return fmt.Errorf("agent speaks tunnel protocol %d but this core needs %d to %d: upgrade catalyst-agent on the node", v, MinProtocolVersion, ProtocolVersion)
	case v > ProtocolVersion:
		return fmt.Errorf("agent speaks tunnel protocol %d but this core only knows %d to %d: upgrade the core first", v, MinProtocolVersion, ProtocolVersion)
	}
	return nil
}

// Server states as the agent reports them. They are the core's state names;
// the agent reports only the ones it can observe.
const (
	StateInstalling    = "installing"
	StateInstallFailed = "install_failed"
	StateStopped       = "stopped"
	StateStarting      = "starting"
	StateRunning       = "running"
	StateStopping      = "stopping"
	StateCrashed       = "crashed"
)

// Capabilities an agent may announce in Hello.
const (
	CapImageImport = "image_import"
	CapCNI         = "cni"
	CapHostNetwork = "host_network"
)

// Resources describe the node the agent runs on.
type Resources struct {
	Hostname    string `json:"hostname"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	CPUCores    int    `json:"cpu_cores"`
	MemoryBytes uint64 `json:"memory_bytes"`
	// DiskBytes and DiskFreeBytes describe the file system holding the
	// agent's data directory (the server volumes).
	DiskBytes     uint64 `json:"disk_bytes"`
	DiskFreeBytes uint64 `json:"disk_free_bytes"`
	// Runtime names the container runtime and its version, e.g.
	// "containerd 1.6.20".
	Runtime string `json:"runtime"`
}

// Hello is the agent's first message (EventHello).
type Hello struct {
	ProtocolVersion int       `json:"protocol_version"`
	AgentVersion    string    `json:"agent_version"`
	Capabilities    []string  `json:"capabilities"`
	Resources       Resources `json:"resources"`
	// Servers is the real state of every server the agent knows, read from
	// the runtime at connect time: the core reconciles its records with it.
	Servers []ServerState `json:"servers"`
	// SFTPAddr is where the agent serves SFTP (":2022"), empty when off.
	SFTPAddr string `json:"sftp_addr,omitempty"`
	// BackupStores names the backup_store plugins the agent runs (its
	// plugin blocks' labels), where its servers' backups can go.
	BackupStores []string `json:"backup_stores,omitempty"`
}

// Welcome is the core's answer to an accepted Hello.
type Welcome struct {
	ProtocolVersion int    `json:"protocol_version"`
	NodeID          string `json:"node_id"`
	// HeartbeatInterval is how often the agent must send EventHeartbeat;
	// the core drops the tunnel after a few missed ones.
	HeartbeatInterval Duration `json:"heartbeat_interval"`
}

// Refused is the core's answer to a Hello it will not accept.
type Refused struct {
	Message string `json:"message"`
}

// Duration is a time.Duration that travels as a string ("10s").
type Duration time.Duration

// MarshalText writes d as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what time.ParseDuration reads.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
