package wire

import "time"

// The agent's file API, under AgentServerPath(id, "/files"+suffix). The
// core's /api/servers/:id/files routes forward each request to the same
// suffix with the same query and body, and stream the answer back as it
// came. Paths are slash-separated and relative to the server's volume
// ("/" and "" are its top); ".." never leaves the volume, and neither
// does a symlink.
//
//	GET  /files?path=D&offset=N&limit=N&sort=name|size|modified&order=asc|desc
//	                                 → FileList: D's entries, directories first, then by sort
//	GET  /files/stat?path=P          → FileInfo
//	GET  /files/content?path=P       → P's bytes; honours Range (206); Content-Length, Last-Modified
//	PUT  /files/content?path=P       raw body → FileInfo; written to a temp file, renamed over P
//	POST /files/upload?path=D        multipart/form-data, any number of "files" parts, each
//	                                 streamed to D/<part filename> → []FileInfo
//	GET  /files/download?path=P      → P's bytes as an attachment (Content-Disposition)
//	POST /files/mkdir                MkdirRequest → FileInfo
//	POST /files/rename               RenameRequest → 204
//	POST /files/copy                 CopyRequest → FileInfo of the copy
//	POST /files/delete               DeleteRequest → 204 (directories recursively)
//	POST /files/chmod                ChmodRequest → 204
//	POST /files/compress             CompressRequest → FileInfo of the archive
//	POST /files/decompress           DecompressRequest → 204
//	POST /files/pull                 PullRequest → FileInfo of the downloaded file
//	GET  /files/search?path=D&query=Q&limit=N → FileList of entries under D whose name
//	                                 contains Q (case-insensitive)
//
// Errors besides the Code* above: CodeDenied (403) for a path the
// template's denylist hides, CodeOverQuota (507) for a write past the
// server's disk limit, CodeExists (409) for a target that is already there,
// CodeTooLarge (413) for an upload or pull past the agent's limit, CodeBusy
// (429) for a pull while the server already runs as many as it may.
const (
	FilesSuffix = "/files"
)

// File API error codes.
const (
	CodeDenied    = "denied"     // 403: the template's denylist hides the path
	CodeOverQuota = "over_quota" // 507: the write does not fit the disk limit
	CodeExists    = "exists"     // 409: the target exists
	CodeBusy      = "busy"       // 429: the server runs as many pulls as it may
)

// Archive formats for CompressRequest.
const (
	ArchiveTarGz = "tar.gz"
	ArchiveZip   = "zip"
)

// FileInfo describes one file or directory of a volume.
type FileInfo struct {
	Name string `json:"name"`
	// Path is relative to the volume, with a leading slash.
	Path string `json:"path"`
	Size int64  `json:"size"`
	// Mode is the permission bits in octal ("0644"); ModeString is as ls
	// prints it ("-rw-r--r--").
	Mode       string    `json:"mode"`
	ModeString string    `json:"mode_string"`
	IsDir      bool      `json:"is_dir"`
	IsSymlink  bool      `json:"is_symlink"`
	Modified   time.Time `json:"modified"`
	// MimeType is guessed from the name ("inode/directory" for directories).
	MimeType string `json:"mime_type"`
}

// FileList is one page of a directory listing or search.
type FileList struct {
	Path    string     `json:"path"`
	Entries []FileInfo `json:"entries"`
	// Total is the number of entries in all pages.
	Total  int `json:"total"`
	Offset int `json:"offset"`
}

// MkdirRequest creates a directory and any missing parents.
type MkdirRequest struct {
	Path string `json:"path"`
}

// RenameRequest moves From to To (both volume paths). To must not exist.
type RenameRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// CopyRequest copies a file or directory. An empty To picks a free name
// beside From ("name copy.ext", "name copy 2.ext", …).
type CopyRequest struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

// DeleteRequest removes files and directories (recursively).
type DeleteRequest struct {
	Paths []string `json:"paths"`
}

// ChmodRequest sets a path's permission bits, in octal ("0644").
type ChmodRequest struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
}

// CompressRequest archives Paths (relative to Directory) into a new file
// in Directory; an empty Name picks "archive-<time>.<format>".
type CompressRequest struct {
	Directory string   `json:"directory"`
	Paths     []string `json:"paths"`
	Format    string   `json:"format"`
	Name      string   `json:"name,omitempty"`
}

// DecompressRequest extracts the archive at Path (tar, tar.gz, tar.xz or
// zip, told by its content) into Destination (default: the archive's
// directory).
type DecompressRequest struct {
	Path        string `json:"path"`
	Destination string `json:"destination,omitempty"`
}

// PullRequest downloads URL into Directory; an empty Filename takes the
// name from the answer's Content-Disposition or the URL's last segment.
type PullRequest struct {
	URL       string `json:"url"`
	Directory string `json:"directory"`
	Filename  string `json:"filename,omitempty"`
}
