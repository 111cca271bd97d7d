package wire

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The agent's internal HTTP API, served on the streams the core opens in
// the tunnel. {id} is a server ID (a UUID). Bodies are JSON unless said
// otherwise; errors use the core's envelope (ErrorBody) with one of the
// Code* codes.
//
//	GET    /v1/servers               → []ServerState, the real state of every server the agent knows
//	PUT    /v1/servers/{id}          ServerConfig → 204; records the config. A stopped server's
//	                                 container is recreated from it before its next start.
//	GET    /v1/servers/{id}          → ServerState
//	DELETE /v1/servers/{id}          → 204; kills the process, removes container, snapshot, volume
//	                                 and config. Deleting an unknown server is 204.
//	POST   /v1/servers/{id}/install  InstallRequest → 202; runs in the background, reporting
//	                                 EventInstallProgress lines, then EventServerState
//	                                 stopped or install_failed. 409 while running or installing.
//	POST   /v1/servers/{id}/power    PowerRequest. start answers 204 once the process runs (so a
//	                                 bad image or config comes back as the error), kill 204 once it
//	                                 has exited; stop and restart answer 202 at once. Every state
//	                                 change is also reported as EventServerState. 409 (CodeConflict)
//	                                 when the action does not fit the state.
//	POST   /v1/servers/{id}/command  CommandRequest → 204; 409 (CodeNotRunning) when not running.
//	GET    /v1/servers/{id}/logs?lines=N → ConsoleLog: the last N console lines the agent holds
//	                                 (default 100, at most MaxLogLines), oldest first.
//	POST   /v1/images/import         body: an OCI image-layout or docker-save tar → ImportResult
const (
	AgentPathServers     = "/v1/servers"
	AgentPathImageImport = "/v1/images/import"
)

// AgentServerPath is the path of a server's resource on the agent;
// suffix is "", "/install", "/power", "/command" or "/logs".
func AgentServerPath(id, suffix string) string { return AgentPathServers + "/" + id + suffix }

// Error codes the agent API answers with.
const (
	CodeInvalid    = "invalid_request"   // 400
	CodeNotFound   = "not_found"         // 404: the agent has no such server
	CodeConflict   = "conflict"          // 409: not in a state that allows it
	CodeNotRunning = "not_running"       // 409: command to a stopped server
	CodeRuntime    = "runtime_error"     // 500: containerd refused
	CodeTooLarge   = "payload_too_large" // 413
)

// ErrorBody is the error envelope: {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is what went wrong.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Port is one allocation the container listens on; it is mapped for TCP and
// UDP alike, host IP:port to the same port inside.
type Port struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// ServerConfig is everything the agent needs to run a server. The core
// builds it from the server and its template; the agent keeps the last one
// it was given on disk, so it can start servers after a restart.
type ServerConfig struct {
	ID    string `json:"id"`
	Image string `json:"image"`
	// Argv is the startup command after {{VAR}} substitution, split into
	// words; empty runs the image's entrypoint. Startup is the same line
	// unsplit, also passed to the process as $STARTUP (for images whose
	// entrypoint evaluates it, as Pterodactyl's yolks do).
	Argv    []string `json:"argv"`
	Startup string   `json:"startup"`
	// Env is the server's environment: template variables, then the
	// SERVER_* values the core adds (SERVER_MEMORY, SERVER_IP, SERVER_PORT).
	Env        map[string]string `json:"env"`
	MemoryMB   int64             `json:"memory_mb"`
	CPUPercent int64             `json:"cpu_percent"`
	DiskMB     int64             `json:"disk_mb"`
	PidsLimit  int64             `json:"pids_limit"`
	// Ports lists the allocations, primary first.
	Ports []Port `json:"ports"`
	// StopCommand is written to the console to stop the game ("^C" means
	// SIGINT; "" means SIGTERM). StopTimeout is how long the agent waits
	// after it before SIGTERM, then SIGKILL.
	StopCommand string   `json:"stop_command"`
	StopTimeout Duration `json:"stop_timeout"`
	// StartupDone lists console substrings, any of which means the game
	// finished starting (starting → running). Empty: running at once.
	StartupDone    []string `json:"startup_done"`
	ReadOnlyRootfs bool     `json:"read_only_rootfs"`
	// Denylist holds the template's file patterns that the file manager and
	// SFTP neither show nor touch. A pattern without a slash matches a name
	// at any depth ("*.jar"); one with a slash matches from the volume's top
	// ("config/secret.yml"); both use path.Match syntax.
	Denylist []string `json:"denylist,omitempty"`
	// Restart is what the agent does when the process exits unasked.
	Restart RestartPolicy `json:"restart"`
	// ConfigFiles are rewritten in the volume, in order, before every
	// start (after the install too); their values are final (the core has
	// substituted the placeholders).
	ConfigFiles []ConfigFile `json:"config_files,omitempty"`
}

// Config file parsers.
const (
	ParserProperties = "properties"
	ParserYAML       = "yaml"
	ParserJSON       = "json"
	ParserINI        = "ini"
	ParserFile       = "file"
)

// Parsers lists the config file parsers every agent knows.
var Parsers = []string{ParserProperties, ParserYAML, ParserJSON, ParserINI, ParserFile}

// ConfigFile is a file in the server's volume the agent rewrites before
// each start. A file that does not exist is created (for file: left
// alone).
type ConfigFile struct {
	// Path is relative to the volume, with forward slashes.
	Path string `json:"path"`
	// Parser is one of the Parser* constants.
	Parser string `json:"parser"`
	// Replace is applied in order.
	Replace []ConfigReplace `json:"replace"`
}

// ConfigReplace sets one value in a config file.
type ConfigReplace struct {
	// Match names what to set: a key (properties), a dotted path
	// ("listeners[0].host"; "*" matches every key or element at its level)
	// for yaml and json, "section.key" for ini (a key outside any section:
	// "key"), and for file the start of each line to replace.
	Match string `json:"match"`
	// Value is the new value; for file, the whole new line. For yaml and
	// json, "true"/"false" become booleans and integers numbers.
	Value string `json:"value"`
}

// Restart policy modes.
const (
	// RestartNever leaves a crashed server crashed.
	RestartNever = "never"
	// RestartOnCrash restarts a process that crashed (the default).
	RestartOnCrash = "on_crash"
	// RestartAlways restarts a process that exited unasked, even cleanly.
	RestartAlways = "always"
)

// RestartPolicy says when the agent restarts a server whose process
// exited without being asked to. A crash is a non-zero exit, an OOM kill,
// or (with CleanExitIsCrash) any unasked exit. After crash k in the window
// the agent waits Backoff × 2^(k-1) (capped at MaxBackoff) and starts the
// server again, up to MaxRestarts times in Window; the next crash in the
// window is a crash loop: the server stays crashed (ServerState.CrashLoop).
// Zero fields take the defaults (DefaultRestartPolicy).
type RestartPolicy struct {
	Mode             string   `json:"mode"`
	MaxRestarts      int      `json:"max_restarts"`
	Window           Duration `json:"window"`
	Backoff          Duration `json:"backoff"`
	MaxBackoff       Duration `json:"max_backoff"`
	CleanExitIsCrash bool     `json:"clean_exit_is_crash"`
}

// DefaultRestartPolicy: restart crashes, at most 5 in 10 minutes, waiting
// 5 s after the first, doubling up to a minute.
var DefaultRestartPolicy = RestartPolicy{
	Mode:        RestartOnCrash,
	MaxRestarts: 5,
	Window:      Duration(10 * time.Minute),
	Backoff:     Duration(5 * time.Second),
	MaxBackoff:  Duration(time.Minute),
}

// WithDefaults fills p's zero fields from DefaultRestartPolicy.
func (p RestartPolicy) WithDefaults() RestartPolicy {
	d := DefaultRestartPolicy
	if p.Mode == "" {
		p.Mode = d.Mode
	}
	if p.MaxRestarts == 0 {
		p.MaxRestarts = d.MaxRestarts
	}
	if p.Window == 0 {
		p.Window = d.Window
	}
	if p.Backoff == 0 {
		p.Backoff = d.Backoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	return p
}

// Validate names what is wrong with p, or returns nil.
func (p RestartPolicy) Validate() error {
	var problems []string
	switch p.Mode {
	case "", RestartNever, RestartOnCrash, RestartAlways:
	default:
		problems = append(problems, fmt.Sprintf("restart mode %q is not one of never, on_crash, always", p.Mode))
	}
	if p.MaxRestarts < 0 || p.MaxRestarts > 1000 {
		problems = append(problems, "max_restarts must be between 0 and 1000")
	}
	for name, d := range map[string]Duration{"window": p.Window, "backoff": p.Backoff, "max_backoff": p.MaxBackoff} {
		if d < 0 || time.Duration(d) > 24*time.Hour {
			problems = append(problems, "restart "+name+" must be between 0 and 24h")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// InstallRequest starts an install. The config is recorded as by PUT.
type InstallRequest struct {
	Config ServerConfig `json:"config"`
	// Image runs the installer; Entrypoint is the interpreter (e.g. "bash",
	// "/bin/sh"); Script is written to /mnt/install/install.sh and run as
	// `Entrypoint /mnt/install/install.sh`, with the volume at /mnt/server.
	// An empty Script skips the installer: the server is stopped at once.
	Image      string `json:"image"`
	Entrypoint string `json:"entrypoint"`
	Script     string `json:"script"`
	// Env is the installer's environment (the server's, as a rule).
	Env map[string]string `json:"env"`
}

// Power actions.
const (
	PowerStart   = "start"
	PowerStop    = "stop"
	PowerRestart = "restart"
	PowerKill    = "kill"
)

// PowerRequest asks for a power action.
type PowerRequest struct {
	Action string `json:"action"`
}

// CommandRequest is a line for the game's console (no newline needed).
type CommandRequest struct {
	Command string `json:"command"`
}

// MaxLogLines bounds a console history request.
const MaxLogLines = 5000

// ConsoleLog is a server's recent console output.
type ConsoleLog struct {
	Lines []string `json:"lines"`
}

// ImportResult names the images an archive held.
type ImportResult struct {
	Images []string `json:"images"`
}
