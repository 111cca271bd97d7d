package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// oPath opens a descriptor that only names a file: opening it neither
// blocks on a FIFO nor reaches a device's driver, and fstat on it tells
// what the file is before anything reads it.
const oPath = unix.O_PATH

// maxLinks is how many symlinks one path may pass through, as Linux's
// own limit.
const maxLinks = 40

// fdPath is where the kernel says the open file f is, on the host.
func fdPath(f *os.File) (string, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	var p string
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		p, rerr = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd)))
	}); err != nil {
		return "", err
	}
	return p, rerr
}

// RelOf is where the open file f really is, relative to the volume
// (Clean form): where a symlink led, not the path it was opened by. The
// denylist is checked on it by callers that opened f themselves.
func (v *Volume) RelOf(f *os.File) (string, error) {
	p, err := fdPath(f)
	if err != nil {
		return "", err
	}
	switch {
	case p == v.realDir:
		return ".", nil
	case strings.HasPrefix(p, v.realDir+"/"):
		return p[len(v.realDir)+1:], nil
	}
	return "", errOutside
}

// reopen opens f (an oPath descriptor) again with flag, through
// /proc/self/fd: the same inode fstat described, so no rename in between
// can swap in another file.
func reopen(f *os.File, flag int) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var out *os.File
	var oerr error
	if err := rc.Control(func(fd uintptr) {
		out, oerr = os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(fd)), flag|unix.O_NOCTTY, 0)
	}); err != nil {
		return nil, err
	}
	return out, oerr
}

// follow opens rel with oPath, following symlinks, also a final one, as
// the kernel would inside the root. It returns the descriptor, the file's
// real path relative to the volume and its fstat.
func (v *Volume) follow(rel string) (*os.File, string, fs.FileInfo, error) {
	cur := rel
	for range maxLinks {
		f, real, fi, err := v.lopen(cur)
		if err != nil {
			return nil, "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return f, real, fi, nil
		}
		f.Close()
		target, err := v.root.Readlink(real)
		if err != nil {
			return nil, "", nil, err
		}
		if path.IsAbs(target) {
			return nil, "", nil, errOutside
		}
		// Unclean, so the root resolves ".." after the symlinks before it.
		if dir := path.Dir(real); dir != "." {
			target = dir + "/" + target
		}
		cur = target
	}
	return nil, "", nil, syscall.ELOOP
}

// lopen opens rel with oPath without following a final symlink, and says
// where it really is and what it is.
func (v *Volume) lopen(rel string) (*os.File, string, fs.FileInfo, error) {
	f, err := v.root.OpenFile(rel, oPath|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, "", nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		var real string
		if real, err = v.RelOf(f); err == nil {
			return f, real, fi, nil
		}
	}
	f.Close()
	return nil, "", nil, err
}

// realOf is where rel really is once the symlinks on the way are
// followed, the final name not followed. Missing names are appended to
// the real path of the nearest ancestor that exists.
func (v *Volume) realOf(rel string) (string, error) {
	var missing []string
	for cur := rel; ; {
		f, real, _, err := v.lopen(cur)
		if err == nil {
			f.Close()
			for i := len(missing) - 1; i >= 0; i-- {
				real = path.Join(real, missing[i])
			}
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || cur == "." {
			return "", err
		}
		missing = append(missing, path.Base(cur))
		cur = path.Dir(cur)
	}
}

// Locate is Resolve plus the denylist checked where the path really
// leads: a symlink ("cfg" → "config") cannot reach what the list hides.
// Operations that follow a final symlink (OpenFile, Chmod) check its
// target too.
func (v *Volume) Locate(p string) (string, error) {
	rel, err := v.Resolve(p)
	if err != nil || len(v.deny) == 0 || rel == "." {
		return rel, err
	}
	real, err := v.realOf(rel)
	if err != nil {
		return "", fail("open", rel, err)
	}
	if v.Denied(real) {
		return "", fmt.Errorf("%w: %s", ErrDenied, Display(rel))
	}
	return rel, nil
}

// OpenFile opens the regular file at p (a client's path) with flag, as
// os.OpenFile does, following symlinks inside the volume. O_CREATE makes
// a missing file with perm, owned by the game's user. Directories, FIFOs,
// sockets and devices fail with ErrInvalid, before anything opens them
// for reading or writing: a FIFO would block and a device node (which a
// game may create) would reach the host's hardware. The FileInfo is the
// file's as opened.
func (v *Volume) OpenFile(p string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	rel, err := v.Locate(p)
	if err != nil {
		return nil, nil, err
	}
	f, fi, err := v.openFile(rel, flag, perm)
	if err != nil {
		return nil, nil, fail("open", rel, err)
	}
	return f, fi, nil
}

func (v *Volume) openFile(rel string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	if rel == "." {
		return nil, nil, fmt.Errorf("%w: it is the volume's top directory", ErrInvalid)
	}
	pf, real, fi, err := v.follow(rel)
	if errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0 {
		return v.create(rel, flag, perm)
	}
	if err != nil {
		return nil, nil, err
	}
	defer pf.Close()
	if v.Denied(real) {
		return nil, nil, fmt.Errorf("%w: it leads to %s", ErrDenied, Display(real))
	}
	if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL {
		return nil, nil, fs.ErrExist
	}
	if err := regular(fi); err != nil {
		return nil, nil, err
	}
	f, err := reopen(pf, flag&^(os.O_CREATE|os.O_EXCL))
	if err != nil {
		return nil, nil, err
	}
	return f, fi, nil
}

// create makes rel, which did not exist a moment ago. O_EXCL keeps it
// from opening whatever appeared there since; the new file is ours.
func (v *Volume) create(rel string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	f, err := v.root.OpenFile(rel, flag|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
	if err != nil {
		return nil, nil, err
	}
	real, err := v.RelOf(f)
	if err == nil && v.Denied(real) {
		err = fmt.Errorf("%w: it leads to %s", ErrDenied, Display(real))
	}
	if err == nil {
		err = v.Own(real)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err != nil {
		f.Close()
		if real != "" {
			_ = v.root.Remove(real)
		}
		return nil, nil, err
	}
	return f, fi, nil
}

var errIsDir = fmt.Errorf("%w: it is a directory", ErrInvalid)

// regular refuses what is not a regular file.
func regular(fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errIsDir
	default:
		return fmt.Errorf("%w: it is not a regular file (%s)", ErrInvalid, typeName(m))
	}
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "of an unknown type"
}

// OpenRead opens p's content for a download: OpenFile read-only, with a
// clearer word for directories.
func (v *Volume) OpenRead(p string) (*os.File, fs.FileInfo, error) {
	f, fi, err := v.OpenFile(p, os.O_RDONLY, 0)
	if errors.Is(err, errIsDir) {
		rel, _ := Clean(p)
		return nil, nil, &PathError{Op: "read", Path: Display(rel), Err: fmt.Errorf("%w: it is a directory; compress it first to download it", ErrInvalid)}
	}
	return f, fi, err
}
