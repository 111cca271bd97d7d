package sftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"catalyst.dev/agent/internal/files"
	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/sys/unix"
)

// The grant permissions the handlers check.
const (
	permRead        = "file.read"         // list, stat, readlink
	permReadContent = "file.read-content" // read file bytes
	permWrite       = "file.write"        // write, mkdir, rename, setstat, symlink
	permDelete      = "file.delete"       // remove, rmdir
)

// handler serves one session's SFTP requests from its volume. Errors go
// to the client as they are: pkg/sftp turns *fs.PathError with an errno
// and sftp.ErrSSHFx* (also wrapped) into status codes, the rest into
// SSH_FX_FAILURE with the error's text.
//
// The denylist is checked on the path as the client wrote it (Resolve).
// A symlink inside the volume can lead elsewhere in it, so opening a file
// or listing a directory checks again on the path the kernel actually
// opened; metadata requests (stat, chmod, times) follow in-volume
// symlinks without that second check.
type handler struct {
	sess  *session
	vol   *files.Volume
	root  *os.Root
	perms map[string]bool
}

var (
	_ pkgsftp.OpenFileWriter       = (*handler)(nil)
	_ pkgsftp.FileReader           = (*handler)(nil)
	_ pkgsftp.PosixRenameFileCmder = (*handler)(nil)
	_ pkgsftp.StatVFSFileCmder     = (*handler)(nil)
	_ pkgsftp.LstatFileLister      = (*handler)(nil)
	_ pkgsftp.ReadlinkFileLister   = (*handler)(nil)
)

func newHandlers(s *session) pkgsftp.Handlers {
	h := &handler{sess: s, vol: s.vol, root: s.vol.Root(), perms: map[string]bool{}}
	for _, p := range s.grant.Permissions {
		h.perms[p] = true
	}
	return pkgsftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
}

func (h *handler) need(perm string) error {
	if !h.perms[perm] {
		return fmt.Errorf("%w: this login lacks %s on the server", pkgsftp.ErrSSHFxPermissionDenied, perm)
	}
	return nil
}

// resolve is files.Volume.Resolve for a client path; a denylisted path
// is answered as if it did not exist.
func (h *handler) resolve(p string) (string, error) {
	rel, err := h.vol.Resolve(p)
	if errors.Is(err, files.ErrDenied) {
		return "", notFound(p)
	}
	return rel, err
}

func notFound(p string) error {
	return &fs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
}

// Fileread opens a file for reading.
func (h *handler) Fileread(r *pkgsftp.Request) (io.ReaderAt, error) {
	if err := h.need(permReadContent); err != nil {
		return nil, err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	f, err := h.openRegular(rel, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return &file{h: h, f: f, rel: rel}, nil
}

// Filewrite opens a file for writing.
func (h *handler) Filewrite(r *pkgsftp.Request) (io.WriterAt, error) {
	return h.openWrite(r, os.O_WRONLY)
}

// OpenFile opens a file for reading and writing.
func (h *handler) OpenFile(r *pkgsftp.Request) (pkgsftp.WriterAtReaderAt, error) {
	if err := h.need(permReadContent); err != nil {
		return nil, err
	}
	return h.openWrite(r, os.O_RDWR)
}

// openWrite opens r's file with mode (O_WRONLY or O_RDWR) and r's flags.
// A file is created with O_EXCL first, so the handler knows it made it
// (to chown it, and to remove it if the upload fails for quota) and never
// creates through a dangling symlink. O_TRUNC is applied only once the
// file is known to be a regular file the denylist allows.
func (h *handler) openWrite(r *pkgsftp.Request, mode int) (*file, error) {
	if err := h.need(permWrite); err != nil {
		return nil, err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, &fs.PathError{Op: "open", Path: r.Filepath, Err: syscall.EISDIR}
	}
	flags := r.Pflags()
	// pkg/sftp does not pass on the attributes an open carries (it keeps
	// their flags from handlers), so new files get the usual mode.
	const perm = fs.FileMode(0o644)

	var f *os.File
	created := false
	if flags.Creat {
		f, err = h.openRegular(rel, mode|os.O_CREATE|os.O_EXCL, perm)
		created = err == nil
		if errors.Is(err, fs.ErrExist) && !flags.Excl {
			f, err = h.openRegular(rel, mode, 0)
		}
	} else {
		f, err = h.openRegular(rel, mode, 0)
	}
	if err != nil {
		return nil, err
	}
	if created {
		if err := h.vol.Own(rel); err != nil {
			f.Close()
			h.root.Remove(rel)
			return nil, fmt.Errorf("give %s to the server's user: %w", files.Display(rel), err)
		}
	}
	var size int64
	if flags.Trunc {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
	} else if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return &file{h: h, f: f, rel: rel, size: size, fresh: created || flags.Trunc}, nil
}

// openRegular opens rel and makes sure it is a regular file the denylist
// allows. O_NONBLOCK keeps a FIFO from blocking the open; it changes
// nothing for regular files.
func (h *handler) openRegular(rel string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := h.root.OpenFile(rel, flag|syscall.O_NONBLOCK|syscall.O_NOCTTY, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", pkgsftp.ErrSSHFxPermissionDenied, files.Display(rel))
	}
	if _, err := h.opened(f, rel); err != nil {
		f.Close()
		if flag&os.O_EXCL != 0 {
			h.root.Remove(rel) // made just now through a symlinked directory
		}
		return nil, err
	}
	return f, nil
}

// opened checks the denylist on the path f was actually opened at,
// which differs from rel when a symlink led there, and returns that path.
func (h *handler) opened(f *os.File, rel string) (string, error) {
	actual, err := h.vol.RelOf(f)
	if err != nil {
		// os.Root keeps every open inside the volume; a path outside
		// means the volume itself moved. Refuse rather than guess.
		return "", fmt.Errorf("%w: %s: %v", pkgsftp.ErrSSHFxPermissionDenied, files.Display(rel), err)
	}
	if actual != rel && h.vol.Denied(actual) {
		return "", notFound(files.Display(rel))
	}
	return actual, nil
}

// Filecmd runs the requests that change the tree.
func (h *handler) Filecmd(r *pkgsftp.Request) error {
	switch r.Method {
	case "Setstat":
		return h.setstat(r)
	case "Rename":
		return h.rename(r, false)
	case "Mkdir":
		return h.mkdir(r)
	case "Remove":
		return h.remove(r, false)
	case "Rmdir":
		return h.remove(r, true)
	case "Symlink":
		return h.symlink(r)
	case "Link":
		// A hard link would give a denylisted file a second name, and
		// count twice toward nothing: the disk walk counts it once.
		return fmt.Errorf("%w: hard links are not supported", pkgsftp.ErrSSHFxOpUnsupported)
	}
	return fmt.Errorf("%w: %s", pkgsftp.ErrSSHFxOpUnsupported, r.Method)
}

// PosixRename renames, replacing the target if it exists (as rename(2)).
func (h *handler) PosixRename(r *pkgsftp.Request) error { return h.rename(r, true) }

// rename moves r.Filepath to r.Target. Plain SFTP rename never replaces
// an existing target (the protocol says so; OpenSSH's server does the
// same); posix-rename@openssh.com, which OpenSSH's client uses when
// offered, replaces it atomically.
func (h *handler) rename(r *pkgsftp.Request, replace bool) error {
	if err := h.need(permWrite); err != nil {
		return err
	}
	from, err := h.resolve(r.Filepath)
	if err != nil {
		return err
	}
	to, err := h.resolve(r.Target)
	if err != nil {
		return err
	}
	if from == "." || to == "." {
		return fmt.Errorf("%w: the top of the volume cannot be renamed or replaced", pkgsftp.ErrSSHFxPermissionDenied)
	}
	if !replace {
		if _, err := h.root.Lstat(to); err == nil {
			return fmt.Errorf("%w: %s already exists", pkgsftp.ErrSSHFxFailure, files.Display(to))
		}
	}
	return h.root.Rename(from, to)
}

func (h *handler) mkdir(r *pkgsftp.Request) error {
	if err := h.need(permWrite); err != nil {
		return err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return err
	}
	// As for files, pkg/sftp does not pass mkdir's attributes on.
	if err := h.root.Mkdir(rel, 0o755); err != nil {
		return err
	}
	if err := h.vol.Own(rel); err != nil {
		h.root.Remove(rel)
		return fmt.Errorf("give %s to the server's user: %w", files.Display(rel), err)
	}
	return nil
}

func (h *handler) remove(r *pkgsftp.Request, dir bool) error {
	if err := h.need(permDelete); err != nil {
		return err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return err
	}
	if rel == "." {
		return fmt.Errorf("%w: the top of the volume cannot be removed", pkgsftp.ErrSSHFxPermissionDenied)
	}
	fi, err := h.root.Lstat(rel)
	if err != nil {
		return err
	}
	switch {
	case dir && !fi.IsDir():
		return &fs.PathError{Op: "rmdir", Path: r.Filepath, Err: syscall.ENOTDIR}
	case !dir && fi.IsDir():
		return &fs.PathError{Op: "remove", Path: r.Filepath, Err: syscall.EISDIR}
	}
	return h.root.Remove(rel)
}

// symlink makes r.Target a link to r.Filepath (pkg/sftp's order). Only
// relative targets that stay inside the volume, lexically, are allowed:
// os.Root would refuse to follow any other, so such a link could only
// mislead.
func (h *handler) symlink(r *pkgsftp.Request) error {
	if err := h.need(permWrite); err != nil {
		return err
	}
	link, err := h.resolve(r.Target)
	if err != nil {
		return err
	}
	target := r.Filepath
	if target == "" || path.IsAbs(target) || strings.IndexByte(target, 0) >= 0 {
		return fmt.Errorf("%w: a link target must be a relative path inside the volume", pkgsftp.ErrSSHFxPermissionDenied)
	}
	dest := path.Join(path.Dir(link), target)
	if dest == ".." || strings.HasPrefix(dest, "../") {
		return fmt.Errorf("%w: link target %s leaves the volume", pkgsftp.ErrSSHFxPermissionDenied, target)
	}
	if h.vol.Denied(dest) {
		return fmt.Errorf("%w: link target %s is denylisted", pkgsftp.ErrSSHFxPermissionDenied, target)
	}
	if err := h.root.Symlink(target, link); err != nil {
		return err
	}
	if err := h.vol.Own(link); err != nil {
		h.root.Remove(link)
		return fmt.Errorf("give %s to the server's user: %w", files.Display(link), err)
	}
	return nil
}

// setstat changes size, mode bits and times; changing the owner is
// refused before anything changes.
func (h *handler) setstat(r *pkgsftp.Request) error {
	if err := h.need(permWrite); err != nil {
		return err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return err
	}
	set := r.AttrFlags()
	attrs := r.Attributes()
	if attrs == nil {
		return fmt.Errorf("%w: the attributes are cut short", pkgsftp.ErrSSHFxBadMessage)
	}
	if set.UidGid {
		return fmt.Errorf("%w: files belong to the server's user; owners cannot be changed", pkgsftp.ErrSSHFxPermissionDenied)
	}
	if set.Size {
		if err := h.truncate(rel, int64(attrs.Size)); err != nil {
			return err
		}
	}
	if set.Permissions {
		if err := h.root.Chmod(rel, attrs.FileMode().Perm()); err != nil {
			return err
		}
	}
	if set.Acmodtime {
		if err := h.root.Chtimes(rel, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0)); err != nil {
			return err
		}
	}
	return nil
}

// truncate sets rel's size, asking the quota for any growth.
func (h *handler) truncate(rel string, size int64) error {
	if size < 0 {
		return fmt.Errorf("%w: size %d", pkgsftp.ErrSSHFxBadMessage, size)
	}
	f, err := h.openRegular(rel, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if grow := size - fi.Size(); grow > 0 {
		if err := h.vol.CheckWrite(uint64(grow)); err != nil {
			return fmt.Errorf("truncate %s: %w", files.Display(rel), err)
		}
	}
	return f.Truncate(size)
}

// StatVFS reports the file system the volume is on.
func (h *handler) StatVFS(r *pkgsftp.Request) (*pkgsftp.StatVFS, error) {
	if err := h.need(permRead); err != nil {
		return nil, err
	}
	top, err := h.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer top.Close()
	rc, err := top.SyscallConn()
	if err != nil {
		return nil, err
	}
	var st unix.Statfs_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstatfs(int(fd), &st) }); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, &fs.PathError{Op: "statvfs", Path: r.Filepath, Err: serr}
	}
	return &pkgsftp.StatVFS{
		Bsize: uint64(st.Bsize), Frsize: uint64(st.Frsize),
		Blocks: st.Blocks, Bfree: st.Bfree, Bavail: st.Bavail,
		Files: st.Files, Ffree: st.Ffree, Favail: st.Ffree,
		Flag: uint64(st.Flags), Namemax: uint64(st.Namelen),
	}, nil
}

// Filelist answers List (a directory's entries) and Stat.
func (h *handler) Filelist(r *pkgsftp.Request) (pkgsftp.ListerAt, error) {
	if err := h.need(permRead); err != nil {
		return nil, err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		return h.list(rel)
	case "Stat":
		fi, err := h.root.Stat(rel)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, fmt.Errorf("%w: %s", pkgsftp.ErrSSHFxOpUnsupported, r.Method)
}

// Lstat answers Lstat: a symlink itself, not what it points to.
func (h *handler) Lstat(r *pkgsftp.Request) (pkgsftp.ListerAt, error) {
	if err := h.need(permRead); err != nil {
		return nil, err
	}
	rel, err := h.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	fi, err := h.root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	return listerAt{fi}, nil
}

// Readlink returns a symlink's target as stored.
func (h *handler) Readlink(p string) (string, error) {
	if err := h.need(permRead); err != nil {
		return "", err
	}
	rel, err := h.resolve(p)
	if err != nil {
		return "", err
	}
	return h.root.Readlink(rel)
}

// list reads a directory's entries, leaving out denylisted ones. Each
// entry is stat'ed through a root opened on the directory, never by a
// host path, so a directory swapped for a symlink meanwhile cannot lead
// outside.
func (h *handler) list(rel string) (pkgsftp.ListerAt, error) {
	dir, err := h.root.OpenRoot(rel)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	d, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	actual, err := h.opened(d, rel)
	if err != nil {
		d.Close()
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	infos := make([]os.FileInfo, 0, len(names))
	for _, name := range names {
		if h.vol.Denied(path.Join(rel, name)) || h.vol.Denied(path.Join(actual, name)) {
			continue
		}
		fi, err := dir.Lstat(name)
		if err != nil {
			continue // removed since the directory was read
		}
		infos = append(infos, fi)
	}
	return listerAt(infos), nil
}

// listerAt serves a listing from memory.
type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[offset:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}
