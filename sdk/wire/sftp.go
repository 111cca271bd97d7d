package wire

// SFTP runs in the agent, which asks the core who may log in. The agent's
// requests to the core travel like the core's to the agent: HTTP/1.1 on a
// tunnel stream, here one the agent opens. The core knows the node from
// the tunnel.
//
//	POST /v1/sftp/auth    SFTPAuthRequest → SFTPGrant; 403 (CodeUnauthorized) for a wrong
//	                      username, password or key, a missing file.sftp permission or a
//	                      server in a state without file access; 429 (CodeThrottled) when the
//	                      address or account made too many failed attempts
//
// And the core's request to the agent:
//
//	POST /v1/sftp/revoke  SFTPRevoke → SFTPRevoked; closes the matching sessions
const (
	CorePathSFTPAuth    = "/v1/sftp/auth"
	AgentPathSFTPRevoke = "/v1/sftp/revoke"
)

// Error codes of the core's answers to the agent.
const (
	CodeUnauthorized = "unauthorized" // 403
	CodeThrottled    = "throttled"    // 429
	// CodeBusy (503 here; see files.go): the agent already has as many
	// requests in flight to the core as the core serves for one node;
	// retry shortly.
)

// SFTPAuthRequest is one login attempt. Username is
// "<account username>.<server short id>" (the server's short_id, the last
// eight characters of its ID, as the server view shows it); exactly one
// of Password and PublicKey is set.
type SFTPAuthRequest struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	// PublicKey is the offered key in authorized_keys format. The agent
	// asks before the client proves it holds the key, and lets the session
	// in only once it has.
	PublicKey string `json:"public_key,omitempty"`
	// RemoteAddr is the client's address, for throttling and the audit log.
	RemoteAddr string `json:"remote_addr"`
}

// SFTPGrant is an accepted login: whose session it is, on which server,
// and the file permissions it holds there (file.read, file.read-content,
// file.write, file.delete, file.archive, …).
type SFTPGrant struct {
	ServerID    string   `json:"server_id"`
	UserID      string   `json:"user_id"`
	Username    string   `json:"username"`
	Permissions []string `json:"permissions"`
}

// SFTPRevoke closes sessions: of UserID on ServerID; of UserID on every
// server when ServerID is empty; of every user on ServerID when UserID is
// empty (the server was suspended, reinstalled or moved). The core never
// sends both empty.
type SFTPRevoke struct {
	UserID   string `json:"user_id"`
	ServerID string `json:"server_id,omitempty"`
}

// SFTPRevoked says how many sessions were closed.
type SFTPRevoked struct {
	Closed int `json:"closed"`
}
