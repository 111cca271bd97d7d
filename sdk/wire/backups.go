package wire

import (
	"fmt"
	"strings"
)

// The agent's backup and archive API, under AgentServerPath(id, suffix).
// Backups live in the agent's backup stores (backup_store plugins declared
// in agent.hcl, reported in Hello.BackupStores); the core keeps the record
// of each and tells the agent which store and key to use. Keys of a server's
// objects always start with BackupKeyPrefix(id), and the agent refuses any
// other.
//
//	POST   /backups                BackupRequest → BackupResult. Streams the volume as a
//	                               compressed tar straight into the store, reporting
//	                               EventBackupProgress; answers when the object is stored.
//	                               One backup or restore per server at a time: CodeBusy (429).
//	                               The backup is abandoned (and no object appears) when the
//	                               request's stream closes.
//	POST   /backups/restore        RestoreRequest → ArchiveResult. The server must be stopped
//	                               (CodeConflict) and stays so until the restore ends. The
//	                               archive is extracted into a staging directory while its
//	                               sha256 is checked, then swapped in; a corrupt archive
//	                               (CodeChecksum) or any failure leaves the volume untouched.
//	GET    /backups/object?store=S&key=K → the object's bytes (Content-Length set)
//	DELETE /backups/object?store=S&key=K → 204; deleting a missing object is 204
//	GET    /archive                → the volume as a compressed tar (a transfer's source).
//	                               The server must be stopped and stays so while it streams;
//	                               the archive's sha256 follows in the trailer
//	                               ArchiveSHA256Trailer.
//	POST   /archive?wipe=true[&sha256=H] body: an archive as GET /archive makes →
//	                               ArchiveResult. Restores a stream into the volume (a
//	                               transfer's target, or a backup held on another node): as
//	                               /backups/restore, the digest from the query or, when
//	                               absent, from the request's ArchiveSHA256Trailer trailer.
//	                               The server must be configured (PUT /v1/servers/{id})
//	                               and stopped.
const (
	BackupsSuffix       = "/backups"
	BackupRestoreSuffix = "/backups/restore"
	BackupObjectSuffix  = "/backups/object"
	ArchiveSuffix       = "/archive"
)

// ArchiveSHA256Trailer is the HTTP trailer that carries an archive
// stream's hex sha256 once the stream has ended.
const ArchiveSHA256Trailer = "Catalyst-Archive-Sha256"

// Backup API error codes.
const (
	// CodeChecksum (422): the archive's sha256 is not the one expected,
	// or it cannot be read (damaged, cut short, refused entries).
	CodeChecksum = "checksum_mismatch"
	// CodeNoStore (404): the agent has no backup store of that name.
	CodeNoStore = "no_such_store"
)

// EventBackupProgress carries BackupProgress: how far a backup, restore
// or transfer archive of a server has got.
const EventBackupProgress = "backup_progress"

// Operations BackupProgress reports on.
const (
	OpBackup  = "backup"
	OpRestore = "restore"
	OpExport  = "export" // a transfer's source streaming the volume
	OpImport  = "import" // a transfer's target extracting it
)

// BackupKeyPrefix is where a server's backup objects live in a store.
func BackupKeyPrefix(serverID string) string { return "servers/" + serverID + "/" }

// BackupKey is the key of a backup's object: the core knows it before
// the agent answers, so a backup cut short can be cleaned up by key.
func BackupKey(serverID, backupID string) string { return BackupKeyPrefix(serverID) + backupID }

// CheckBackupKey refuses a key that is not one of the server's objects:
// under BackupKeyPrefix(serverID), one path element, no control characters.
func CheckBackupKey(serverID, key string) error {
	name, ok := strings.CutPrefix(key, BackupKeyPrefix(serverID))
	if !ok || name == "" || len(key) > 512 || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return fmt.Errorf("backup key %q is not an object of server %s (want %s<name>)", key, serverID, BackupKeyPrefix(serverID))
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("backup key %q has control characters", key)
		}
	}
	return nil
}

// BackupRequest asks for a backup of a server's volume.
type BackupRequest struct {
	// BackupID is the core's ID of the backup; it names the object.
	BackupID string `json:"backup_id"`
	// Store is the backup store plugin's name in agent.hcl.
	Store string `json:"store"`
	// Ignore holds patterns of files to leave out, on top of those in
	// the volume's .catalystignore (same syntax).
	Ignore []string `json:"ignore,omitempty"`
}

// BackupResult is a stored backup.
type BackupResult struct {
	// Key is the object's key in the store.
	Key string `json:"key"`
	ArchiveResult
}

// ArchiveResult describes an archive made or restored.
type ArchiveResult struct {
	// Size is the archive's size in bytes (compressed); SHA256 its hex
	// digest.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Files and Bytes count the regular files and their bytes (before
	// compression).
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// Compression is "zstd", "gzip" or "none".
	Compression string `json:"compression"`
}

// RestoreRequest restores a backup object into a server's volume.
type RestoreRequest struct {
	Store string `json:"store"`
	Key   string `json:"key"`
	// SHA256 is the digest the core recorded when the backup was made.
	SHA256 string `json:"sha256"`
	// Wipe removes the files the archive does not hold; without it they
	// stay, and those it holds are replaced.
	Wipe bool `json:"wipe"`
}

// BackupProgress is a progress report (at most about one a second per
// operation, and one when it ends).
type BackupProgress struct {
	ServerID string `json:"server_id"`
	// BackupID is the backup made or restored; empty for a transfer.
	BackupID string `json:"backup_id,omitempty"`
	Op       string `json:"op"`
	// Bytes of file data handled so far, of Total (0 when unknown).
	Bytes int64 `json:"bytes"`
	Total int64 `json:"total"`
	Files int64 `json:"files"`
	// Written is the archive bytes so far (compressed).
	Written int64 `json:"written"`
}
