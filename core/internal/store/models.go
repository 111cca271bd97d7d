package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Server states. The state machine in internal/servers decides which
// transitions are legal; the store only keeps the current one.
const (
	StateInstalling    = "installing"
	StateInstallFailed = "install_failed"
	StateStopped       = "stopped"
	StateStarting      = "starting"
	StateRunning       = "running"
	StateStopping      = "stopping"
	StateCrashed       = "crashed"
	StateTransferring  = "transferring"
	StateSuspended     = "suspended"
)

// User is an account that logs in to the panel.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           string `bun:"id,pk" json:"id"`
	Email        string `bun:"email,notnull" json:"email"`
	Username     string `bun:"username,notnull" json:"username"`
	PasswordHash string `bun:"password_hash,notnull" json:"-"`
	Admin        bool   `bun:"admin,notnull" json:"admin"`
	// TOTPSecret is set by two-factor setup; TOTPEnabled once a code from
	// it was verified. RecoveryCodes are SHA-256 hashes, each usable once.
	TOTPSecret    string   `bun:"totp_secret,notnull" json:"-"`
	TOTPEnabled   bool     `bun:"totp_enabled,notnull" json:"totp_enabled"`
	RecoveryCodes []string `bun:"recovery_codes,notnull" json:"-"`
	// SessionVersion is carried by access tokens; bumping it refuses every
	// token issued before.
	SessionVersion int       `bun:"session_version,notnull" json:"-"`
	CreatedAt      time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// Node is a machine running the agent.
type Node struct {
	bun.BaseModel `bun:"table:nodes"`

	ID   string `bun:"id,pk" json:"id"`
	Name string `bun:"name,notnull" json:"name"`
	FQDN string `bun:"fqdn,notnull" json:"fqdn"`
	// MemoryMB and DiskMB are what servers may be given on this node,
	// before overallocation (a percentage; -1 disables the check).
	MemoryMB           int64      `bun:"memory_mb,notnull" json:"memory_mb"`
	MemoryOverallocate int        `bun:"memory_overallocate,notnull" json:"memory_overallocate"`
	DiskMB             int64      `bun:"disk_mb,notnull" json:"disk_mb"`
	DiskOverallocate   int        `bun:"disk_overallocate,notnull" json:"disk_overallocate"`
	Maintenance        bool       `bun:"maintenance,notnull" json:"maintenance"`
	LastSeenAt         *time.Time `bun:"last_seen_at" json:"last_seen_at"`
	// DeployTokenHash is the one-time enrolment token's hash until the agent
	// spends it; CredentialHash then holds the agent's lasting credential.
	DeployTokenHash      string     `bun:"deploy_token_hash,notnull" json:"-"`
	DeployTokenExpiresAt *time.Time `bun:"deploy_token_expires_at" json:"-"`
	CredentialHash       string     `bun:"credential_hash,notnull" json:"-"`
	AgentVersion         string     `bun:"agent_version,notnull" json:"agent_version"`
	CreatedAt            time.Time  `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt            time.Time  `bun:"updated_at,notnull" json:"updated_at"`
}

// TemplateVariable is one environment variable a template exposes.
type TemplateVariable struct {
	Name         string `json:"name"`
	EnvName      string `json:"env_name"`
	Description  string `json:"description,omitempty"`
	Default      string `json:"default"`
	UserViewable bool   `json:"user_viewable"`
	UserEditable bool   `json:"user_editable"`
	Rules        string `json:"rules,omitempty"`
}

// TemplateImage is one image a template's servers may run on.
type TemplateImage struct {
	// Label is what users choose by ("Java 21").
	Label string `json:"label"`
	// Image is an OCI image reference.
	Image string `json:"image"`
}

// UnmarshalJSON also reads a bare string, the image reference alone, as
// templates stored before images had labels (and older API clients) wrote
// them; its label is the reference.
func (i *TemplateImage) UnmarshalJSON(b []byte) error {
	var ref string
	if err := json.Unmarshal(b, &ref); err == nil {
		*i = TemplateImage{Label: ref, Image: ref}
		return nil
	}
	type plain TemplateImage // without this method
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("an image is a reference or {\"label\", \"image\"}: %w", err)
	}
	*i = TemplateImage(p)
	return nil
}

// TemplateConfigFile is a file in a server's volume the agent rewrites
// before each start (see wire.ConfigFile).
type TemplateConfigFile struct {
	// Path is relative to the volume.
	Path string `json:"path"`
	// Parser is properties, yaml, json, ini or file.
	Parser string `json:"parser"`
	// Replace is applied in order.
	Replace []TemplateReplace `json:"replace"`
}

// TemplateReplace sets one value in a config file; Value may hold
// {{VARIABLE}} placeholders.
type TemplateReplace struct {
	Match string `json:"match"`
	Value string `json:"value"`
}

// Template describes how to install and run one kind of game server.
type Template struct {
	bun.BaseModel `bun:"table:templates"`

	ID          string          `bun:"id,pk" json:"id"`
	Name        string          `bun:"name,notnull" json:"name"`
	Description string          `bun:"description,notnull" json:"description"`
	Author      string          `bun:"author,notnull" json:"author"`
	Images      []TemplateImage `bun:"images,notnull" json:"images"`
	// Startup is the command line, with {{VAR}} placeholders.
	Startup     string   `bun:"startup,notnull" json:"startup"`
	StopCommand string   `bun:"stop_command,notnull" json:"stop_command"`
	StartupDone []string `bun:"startup_done,notnull" json:"startup_done"`

	InstallImage      string `bun:"install_image,notnull" json:"install_image"`
	InstallEntrypoint string `bun:"install_entrypoint,notnull" json:"install_entrypoint"`
	InstallScript     string `bun:"install_script,notnull" json:"install_script"`

	Variables   []TemplateVariable   `bun:"variables,notnull" json:"variables"`
	ConfigFiles []TemplateConfigFile `bun:"config_files,notnull" json:"config_files"`
	Denylist    []string             `bun:"denylist,notnull" json:"denylist"`
	Features    []string             `bun:"features,notnull" json:"features"`

	// Source is the template_source plugin the template was imported
	// from, SourceRef its ID there and SourceVersion the version imported;
	// all empty for a template made by hand. A file uploaded through a
	// source has a Source but no SourceRef. (Source, SourceRef) is unique
	// when SourceRef is set.
	Source        string `bun:"source,notnull" json:"source"`
	SourceRef     string `bun:"source_ref,notnull" json:"source_ref"`
	SourceVersion string `bun:"source_version,notnull" json:"source_version"`

	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// ImageRefs lists the references of t's images, in order.
func (t *Template) ImageRefs() []string {
	refs := make([]string, 0, len(t.Images))
	for _, im := range t.Images {
		refs = append(refs, im.Image)
	}
	return refs
}

// Server is one game server on one node.
type Server struct {
	bun.BaseModel `bun:"table:servers"`

	ID string `bun:"id,pk" json:"id"`
	// ShortID is the last eight characters of ID (its random part), unique,
	// used where a person types it (SFTP user names).
	ShortID     string `bun:"short_id,notnull" json:"short_id"`
	Name        string `bun:"name,notnull" json:"name"`
	Description string `bun:"description,notnull" json:"description"`
	OwnerID     string `bun:"owner_id,notnull" json:"owner_id"`
	NodeID      string `bun:"node_id,notnull" json:"node_id"`
	TemplateID  string `bun:"template_id,notnull" json:"template_id"`
	State       string `bun:"state,notnull" json:"state"`
	// StateReason says why the server is in its state (an install failure,
	// a crash) and is cleared by the next transition.
	StateReason string `bun:"state_reason,notnull" json:"state_reason"`

	MemoryMB   int64 `bun:"memory_mb,notnull" json:"memory_mb"`
	CPUPercent int64 `bun:"cpu_percent,notnull" json:"cpu_percent"`
	DiskMB     int64 `bun:"disk_mb,notnull" json:"disk_mb"`
	PidsLimit  int64 `bun:"pids_limit,notnull" json:"pids_limit"`

	Image       string            `bun:"image,notnull" json:"image"`
	Startup     string            `bun:"startup,notnull" json:"startup"`
	Environment map[string]string `bun:"environment,notnull" json:"environment"`

	// Restart policy (wire.RestartPolicy); zero values mean its defaults.
	RestartMode          string `bun:"restart_mode,notnull" json:"restart_mode"`
	RestartMax           int    `bun:"restart_max,notnull" json:"restart_max"`
	RestartWindowSeconds int    `bun:"restart_window_seconds,notnull" json:"restart_window_seconds"`
	RestartBackoffMS     int    `bun:"restart_backoff_ms,notnull" json:"restart_backoff_ms"`
	CleanExitIsCrash     bool   `bun:"clean_exit_is_crash,notnull" json:"clean_exit_is_crash"`

	// CrashCount counts every crash the server ever had; LastExitCode and
	// LastOOMKilled say how its last process ended (nil: never exited);
	// CrashedAt is when it last crashed.
	CrashCount    int        `bun:"crash_count,notnull" json:"crash_count"`
	LastExitCode  *int       `bun:"last_exit_code" json:"last_exit_code"`
	LastOOMKilled bool       `bun:"last_oom_killed,notnull" json:"last_oom_killed"`
	CrashedAt     *time.Time `bun:"crashed_at" json:"crashed_at"`
	// BackupLimit is how many backups the server keeps; nil takes the
	// core's default (config backups.limit), 0 turns backups off.
	BackupLimit *int      `bun:"backup_limit" json:"backup_limit"`
	CreatedAt   time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at,notnull" json:"updated_at"`

	Allocations []*Allocation `bun:"rel:has-many,join:id=server_id" json:"allocations,omitempty"`
}

// Allocation is an ip:port on a node, free or assigned to one server.
type Allocation struct {
	bun.BaseModel `bun:"table:allocations"`

	ID       string  `bun:"id,pk" json:"id"`
	NodeID   string  `bun:"node_id,notnull" json:"node_id"`
	IP       string  `bun:"ip,notnull" json:"ip"`
	Port     int     `bun:"port,notnull" json:"port"`
	ServerID *string `bun:"server_id" json:"server_id"`
	// Primary marks the allocation a server's game listens on.
	Primary   bool      `bun:"is_primary,notnull" json:"primary"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditEntry records one privileged action. IDs are time-ordered, so they
// double as a pagination cursor.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID         string         `bun:"id,pk" json:"id"`
	CreatedAt  time.Time      `bun:"created_at,notnull" json:"created_at"`
	ActorID    *string        `bun:"actor_id" json:"actor_id"`
	ActorType  string         `bun:"actor_type,notnull" json:"actor_type"`
	IP         string         `bun:"ip,notnull" json:"ip"`
	Action     string         `bun:"action,notnull" json:"action"`
	TargetType string         `bun:"target_type,notnull" json:"target_type"`
	TargetID   string         `bun:"target_id,notnull" json:"target_id"`
	ServerID   *string        `bun:"server_id" json:"server_id"`
	Outcome    string         `bun:"outcome,notnull" json:"outcome"`
	Metadata   map[string]any `bun:"metadata,notnull" json:"metadata"`
}

// RefreshToken is one link of a rotating refresh-token chain. Tokens of one
// login share a family; presenting a revoked token revokes its family.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	ID        string     `bun:"id,pk"`
	UserID    string     `bun:"user_id,notnull"`
	FamilyID  string     `bun:"family_id,notnull"`
	TokenHash string     `bun:"token_hash,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	RevokedAt *time.Time `bun:"revoked_at"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	IP        string     `bun:"ip,notnull"`
	UserAgent string     `bun:"user_agent,notnull"`
}

// APIKey lets automation act as its user. Only a hash of the secret is
// kept; Prefix identifies the key in lists and logs.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID      string `bun:"id,pk" json:"id"`
	UserID  string `bun:"user_id,notnull" json:"user_id"`
	Name    string `bun:"name,notnull" json:"name"`
	Prefix  string `bun:"prefix,notnull" json:"prefix"`
	KeyHash string `bun:"key_hash,notnull" json:"-"`
	// Scopes limits the key to these permissions (nil: all of the user's).
	Scopes     []string   `bun:"scopes" json:"scopes"`
	AllowedIPs []string   `bun:"allowed_ips,notnull" json:"allowed_ips"`
	LastUsedAt *time.Time `bun:"last_used_at" json:"last_used_at"`
	ExpiresAt  *time.Time `bun:"expires_at" json:"expires_at"`
	CreatedAt  time.Time  `bun:"created_at,notnull" json:"created_at"`

	// User is loaded with the key when authenticating, in the same query.
	User *User `bun:"rel:belongs-to,join:user_id=id" json:"-"`
}

// SSHKey is a public key its user may log in to SFTP with.
type SSHKey struct {
	bun.BaseModel `bun:"table:ssh_keys"`

	ID          string    `bun:"id,pk" json:"id"`
	UserID      string    `bun:"user_id,notnull" json:"user_id"`
	Name        string    `bun:"name,notnull" json:"name"`
	PublicKey   string    `bun:"public_key,notnull" json:"public_key"`
	Fingerprint string    `bun:"fingerprint,notnull" json:"fingerprint"`
	CreatedAt   time.Time `bun:"created_at,notnull" json:"created_at"`
}

// Subuser gives a user a chosen set of permissions on one server.
type Subuser struct {
	bun.BaseModel `bun:"table:subusers"`

	ID          string    `bun:"id,pk" json:"id"`
	ServerID    string    `bun:"server_id,notnull" json:"server_id"`
	UserID      string    `bun:"user_id,notnull" json:"user_id"`
	Permissions []string  `bun:"permissions,notnull" json:"permissions"`
	CreatedAt   time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at,notnull" json:"updated_at"`

	User *User `bun:"rel:belongs-to,join:user_id=id" json:"user,omitempty"`
}
