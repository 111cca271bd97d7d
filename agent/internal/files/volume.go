// Package files is the agent's access to server volumes, for the file
// manager (through the core) and SFTP alike. Every operation goes through
// an os.Root opened on the volume, so no "..", absolute path or symlink —
// whoever made it, the game included — reaches outside the volume: the
// kernel resolves each path inside the root (openat2 RESOLVE_IN_ROOT
// semantics), not this package's string handling.
package files

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
)

// Errors callers branch on; the API maps them to wire codes.
var (
	// ErrInvalid is a request that cannot be carried out as asked: a
	// malformed path, a bad mode, an unknown archive format.
	ErrInvalid = errors.New("invalid request")
	// ErrDenied is a path the template's denylist hides.
	ErrDenied = errors.New("denied by the server's file denylist")
	// ErrNotFound is a server the agent has no volume for.
	ErrNotFound = errors.New("no such server")
)

// Quota approves writes against a server's disk limit
// (*metrics.Collector). It fails with an error wrapping
// metrics.ErrOverQuota when addBytes do not fit.
type Quota interface {
	CheckWrite(id string, addBytes uint64) error
}

// Volume is one server's files, open for the length of a request or an
// SFTP session. Close it when done.
type Volume struct {
	// ID is the server's.
	ID   string
	root *os.Root
	deny []string
	// quota is never nil; see noQuota.
	quota    Quota
	uid, gid int
}

// OpenVolume opens the volume at dir for server id. deny holds the
// template's denylist patterns (wire.ServerConfig.Denylist); files the
// agent creates are owned by uid:gid, the game's user (-1 keeps the
// agent's own). A nil quota approves every write.
func OpenVolume(id, dir string, deny []string, quota Quota, uid, gid int) (*Volume, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("server %s volume: %w", id, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("server %s volume: %w", id, err)
	}
	if quota == nil {
		quota = noQuota{}
	}
	return &Volume{ID: id, root: root, deny: deny, quota: quota, uid: uid, gid: gid}, nil
}

// Close releases the volume's root.
func (v *Volume) Close() error { return v.root.Close() }

// Root is the volume's os.Root. Every path given to it must come from
// Resolve, so the denylist holds.
func (v *Volume) Root() *os.Root { return v.root }

// Resolve turns a path as a client wrote it ("/plugins/../server.jar",
// "world/level.dat") into the form os.Root takes ("server.jar",
// "world/level.dat", "." for the top), refusing NUL bytes and paths the
// denylist hides. ".." at the top stays at the top, as in a chroot; the
// os.Root does the rest (symlinks).
func (v *Volume) Resolve(p string) (string, error) {
	rel, err := Clean(p)
	if err != nil {
		return "", err
	}
	if v.Denied(rel) {
		return "", fmt.Errorf("%w: %s", ErrDenied, Display(rel))
	}
	return rel, nil
}

// Clean is Resolve without the denylist.
func Clean(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%w: path %q holds a NUL byte", ErrInvalid, p)
	}
	if len(p) > 4096 {
		return "", fmt.Errorf("%w: path is longer than 4096 bytes", ErrInvalid)
	}
	rel := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
	if rel == "" {
		return ".", nil
	}
	return rel, nil
}

// Display is rel as clients see it: with a leading slash.
func Display(rel string) string {
	if rel == "." {
		return "/"
	}
	return "/" + rel
}

// Denied says whether the denylist hides rel (a Clean path) or any
// directory above it. A pattern without a slash is matched against each
// name on the way ("*.jar" hides every jar); one with a slash against the
// whole path from the top ("config/secret.yml").
func (v *Volume) Denied(rel string) bool {
	if rel == "." || len(v.deny) == 0 {
		return false
	}
	parts := strings.Split(rel, "/")
	for _, pat := range v.deny {
		pat = strings.Trim(pat, "/")
		if pat == "" {
			continue
		}
		if !strings.Contains(pat, "/") {
			for _, name := range parts {
				if ok, _ := path.Match(pat, name); ok {
					return true
				}
			}
			continue
		}
		for i := range parts {
			if ok, _ := path.Match(pat, strings.Join(parts[:i+1], "/")); ok {
				return true
			}
		}
	}
	return false
}

// CheckWrite asks the quota whether the volume may grow by n bytes; call
// it before each write (or chunk of one).
func (v *Volume) CheckWrite(n uint64) error { return v.quota.CheckWrite(v.ID, n) }

// Own gives rel to the game's user, so the server can change what the
// file manager or SFTP created. It does not follow a final symlink.
func (v *Volume) Own(rel string) error {
	if v.uid < 0 && v.gid < 0 {
		return nil
	}
	return v.root.Lchown(rel, v.uid, v.gid)
}

type noQuota struct{}

func (noQuota) CheckWrite(string, uint64) error { return nil }
