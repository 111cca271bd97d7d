package live

import (
	"encoding/json"
	"fmt"
	"time"

	"catalyst.dev/sdk/wire"
)

// Messages the core sends on a server socket. Each is one JSON object
// whose "type" says which; nothing is JSON inside a string.
const (
	// TypeConsoleOutput carries Lines: game console output, in order.
	TypeConsoleOutput = "console_output"
	// TypeInstallOutput carries Lines: installer output.
	TypeInstallOutput = "install_output"
	// TypeStatus carries the server's state whenever it changes (and once
	// on connect).
	TypeStatus = "status"
	// TypeStats carries a wire.ServerStats sample (every stats interval).
	TypeStats = "stats"
	// TypeDaemonMessage is a sentence from the node or the core.
	TypeDaemonMessage = "daemon_message"
	// TypeTokenExpiring warns that the socket's credential expires soon;
	// answer with an auth message carrying a fresh access token.
	TypeTokenExpiring = "token_expiring"
	// TypeThrottled says console lines were not delivered: the node
	// throttled a flood (source "node") or this socket fell behind and the
	// oldest queued messages were dropped (source "socket").
	TypeThrottled = "throttled"
	// TypeBackupProgress carries a wire.BackupProgress: how far a backup,
	// a restore or a transfer's archive of the server has got (about one a
	// second while it runs).
	TypeBackupProgress = "backup_progress"
	// TypeBackupCompleted and TypeBackupFailed carry "backup", the backup
	// as GET /api/servers/:id/backups/:bid shows it, once it is made or
	// has failed (its "error" says why).
	TypeBackupCompleted = "backup_completed"
	TypeBackupFailed    = "backup_failed"
	// TypeRestoreCompleted and TypeRestoreFailed carry "backup", the
	// backup restored, and for a failure "error", why.
	TypeRestoreCompleted = "restore_completed"
	TypeRestoreFailed    = "restore_failed"
	// TypeAlert carries "alert", an alert about the server as GET
	// /api/servers/:id/alerts shows it, when it opens or resolves
	// ("status" says which).
	TypeAlert = "alert"
	// TypeLogs answers request_logs.
	TypeLogs = "logs"
	// TypeAuthSuccess answers auth.
	TypeAuthSuccess = "auth_success"
	// TypeError answers a client message that failed.
	TypeError = "error"
)

// Messages a client sends.
const (
	TypeSendCommand  = "send_command"
	TypeSetState     = "set_state"
	TypeRequestLogs  = "request_logs"
	TypeRequestStats = "request_stats"
	TypeAuth         = "auth"
)

// Close codes (4000-4999 are the application's) and reasons.
const (
	CloseTokenExpired = 4001
	CloseRevoked      = 4003
	CloseNodeMoved    = 4004
)

type linesMsg struct {
	Type  string   `json:"type"`
	Lines []string `json:"lines"`
}

// StatusMsg is a state change as sockets see it.
type StatusMsg struct {
	Type      string `json:"type"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	OOMKilled bool   `json:"oom_killed,omitempty"`
	CrashLoop bool   `json:"crash_loop,omitempty"`
}

type statsMsg struct {
	Type string `json:"type"`
	wire.ServerStats
}

type progressMsg struct {
	Type string `json:"type"`
	wire.BackupProgress
}

type daemonMsg struct {
	Type    string `json:"type"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

type tokenExpiringMsg struct {
	Type      string    `json:"type"`
	ExpiresAt time.Time `json:"expires_at"`
	Seconds   int       `json:"seconds"`
}

type throttledMsg struct {
	Type    string `json:"type"`
	Source  string `json:"source"`
	Dropped int    `json:"dropped"`
}

type authSuccessMsg struct {
	Type      string     `json:"type"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type errorMsg struct {
	Type    string `json:"type"`
	Request string `json:"request"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// clientMsg is any message a client sends; Type says which fields count.
type clientMsg struct {
	Type    string `json:"type"`
	Command string `json:"command,omitempty"` // send_command
	State   string `json:"state,omitempty"`   // set_state: start, stop, restart, kill
	Lines   int    `json:"lines,omitempty"`   // request_logs
	Token   string `json:"token,omitempty"`   // auth
}

// encodeTyped encodes data, a JSON object, with "type" set to typ.
func encodeTyped(typ string, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", typ, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("the data of a %s message must be a JSON object, not %.40s", typ, raw)
	}
	fields["type"], _ = json.Marshal(typ)
	return json.Marshal(fields)
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own message types are encoded here.
		panic("live: encode message: " + err.Error())
	}
	return b
}
