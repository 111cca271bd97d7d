// Package files is the agent's access to server volumes, for the file
// manager (through the core) and SFTP alike. Every operation goes through
// an os.Root opened on the volume, which resolves paths one component at
// a time inside it and refuses any that would leave it — a symlink to
// "/etc" or one climbing out with "..", whoever made it, the game
// included. On top of that, files are opened by descriptor only after
// fstat says they are regular (a FIFO would block, a device node reach
// the host), writes go to a temp file renamed into place, and the
// template's denylist is checked where symlinks really lead.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
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
	// ErrTooLarge is an upload or pull past its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrBusy is a request refused because the server already runs as
	// many of its kind as it may (pulls).
	ErrBusy = errors.New("busy")
)

// errOutside is what a path that leads out of the volume (a symlink to
// "/etc", "../..") fails with.
var errOutside = fmt.Errorf("%w: it leads outside the server's volume", ErrInvalid)

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
	// realDir is the volume's directory as /proc/self/fd shows it, to
	// tell where an open file really is.
	realDir string
	deny    []string
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
	v := &Volume{ID: id, root: root, deny: deny, quota: quota, uid: uid, gid: gid}
	if v.quota == nil {
		v.quota = noQuota{}
	}
	top, err := root.OpenFile(".", oPath, 0)
	if err == nil {
		v.realDir, err = fdPath(top)
		top.Close()
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("server %s volume: %w", id, err)
	}
	return v, nil
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

// PathError is a failed operation on a volume path. Path is as clients
// see it ("/world/level.dat"), and Err never names a host path: the
// *fs.PathError an os.Root call returns is unwrapped to its cause.
type PathError struct {
	Op   string
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }

// fail wraps err from an operation on rel as a *PathError; an error that
// already is one passes unchanged.
func fail(op, rel string, err error) error {
	if err == nil {
		return nil
	}
	if pe := (*PathError)(nil); errors.As(err, &pe) {
		return err
	}
	cause := err
	for {
		switch e := cause.(type) {
		case *fs.PathError:
			cause = e.Err
			continue
		case *os.LinkError:
			cause = e.Err
			continue
		case *os.SyscallError:
			cause = e.Err
			continue
		}
		break
	}
	switch {
	// os.Root's escape error is not exported; its text is all there is.
	case cause.Error() == "path escapes from parent":
		cause = errOutside
	case errors.Is(cause, syscall.ELOOP):
		cause = fmt.Errorf("%w: too many levels of symbolic links", ErrInvalid)
	case errors.Is(cause, syscall.ENOTDIR):
		cause = fmt.Errorf("%w: a part of it is not a directory", ErrInvalid)
	case errors.Is(cause, syscall.ENAMETOOLONG):
		cause = fmt.Errorf("%w: a name is too long", ErrInvalid)
	}
	return &PathError{Op: op, Path: Display(rel), Err: cause}
}

type noQuota struct{}

func (noQuota) CheckWrite(string, uint64) error { return nil }
