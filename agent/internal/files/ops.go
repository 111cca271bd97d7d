package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"catalyst.dev/sdk/wire"
)

// Mkdir makes directory p and its missing parents, owned by the game's
// user. An existing directory is no error.
func (v *Volume) Mkdir(p string) (wire.FileInfo, error) {
	rel, err := v.Locate(p)
	if err != nil {
		return wire.FileInfo{}, err
	}
	if fi, err := v.root.Stat(rel); err == nil && !fi.IsDir() {
		return wire.FileInfo{}, fail("mkdir", rel, fmt.Errorf("%w: it exists and is not a directory", fs.ErrExist))
	}
	if _, err := v.mkdirs(rel); err != nil {
		return wire.FileInfo{}, fail("mkdir", rel, err)
	}
	return v.info(rel)
}

// Rename moves from to to, making to's missing parents. An existing to
// fails with fs.ErrExist, unless it is from itself (a rename to the same
// path does nothing). A directory holding what the denylist hides cannot
// move: the hidden files would come out under another name.
func (v *Volume) Rename(from, to string) error {
	src, dst, err := v.fromTo("rename", from, to)
	if err != nil || src == dst {
		return err
	}
	sfi, err := v.root.Lstat(src)
	if err != nil {
		return fail("rename", src, err)
	}
	if dfi, err := v.root.Lstat(dst); err == nil && !os.SameFile(sfi, dfi) {
		return fail("rename", dst, fmt.Errorf("%w: it already exists", fs.ErrExist))
	}
	if err := v.deniedInside(src, sfi); err != nil {
		return fail("rename", src, err)
	}
	made, err := v.mkdirs(path.Dir(dst))
	if err != nil {
		return fail("rename", dst, err)
	}
	if err := v.root.Rename(src, dst); err != nil {
		v.unmake(made)
		if errors.Is(err, syscall.EINVAL) {
			err = fmt.Errorf("%w: %s is inside it", ErrInvalid, Display(dst))
		}
		return fail("rename", src, err)
	}
	return nil
}

// fromTo resolves the two paths of a move or copy; a copy's empty to
// stays empty.
func (v *Volume) fromTo(op, from, to string) (string, string, error) {
	src, err := v.Locate(from)
	if err != nil {
		return "", "", err
	}
	if src == "." {
		return "", "", fail(op, src, fmt.Errorf("%w: it is the volume's top directory", ErrInvalid))
	}
	if to == "" && op == "copy" {
		return src, "", nil
	}
	dst, err := v.Locate(to)
	if err != nil {
		return "", "", err
	}
	if dst == "." {
		return "", "", fail(op, dst, fmt.Errorf("%w: it is the volume's top directory", ErrInvalid))
	}
	if strings.HasPrefix(dst, src+"/") {
		return "", "", fail(op, src, fmt.Errorf("%w: %s is inside it", ErrInvalid, Display(dst)))
	}
	return src, dst, nil
}

// deniedInside refuses a directory that holds anything the denylist
// hides, for operations on the whole tree.
func (v *Volume) deniedInside(rel string, fi fs.FileInfo) error {
	if len(v.deny) == 0 || !fi.IsDir() {
		return nil
	}
	return fs.WalkDir(v.root.FS(), rel, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if v.Denied(name) {
			return fmt.Errorf("%w: it holds %s", ErrDenied, Display(name))
		}
		return nil
	})
}

// Delete removes each path, directories with all they hold. Every path
// is checked before any is removed: the volume's top, a path the
// denylist hides (or a directory holding one) and a missing path fail
// the whole request.
func (v *Volume) Delete(ctx context.Context, paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("%w: no paths to delete", ErrInvalid)
	}
	rels := make([]string, 0, len(paths))
	for _, p := range paths {
		rel, err := v.Locate(p)
		if err != nil {
			return err
		}
		if rel == "." {
			return fail("delete", rel, fmt.Errorf("%w: the volume's top directory cannot be deleted", ErrInvalid))
		}
		fi, err := v.root.Lstat(rel)
		if err != nil {
			return fail("delete", rel, err)
		}
		if err := v.deniedInside(rel, fi); err != nil {
			return fail("delete", rel, err)
		}
		rels = append(rels, rel)
	}
	for _, rel := range rels {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.root.RemoveAll(rel); err != nil {
			return fail("delete", rel, err)
		}
	}
	return nil
}

// ParseMode reads a permission mode in octal, "644" or "0644": 0000 to
// 0777, without setuid, setgid or sticky bits.
func ParseMode(s string) (fs.FileMode, error) {
	if len(s) < 3 || len(s) > 4 {
		return 0, fmt.Errorf("%w: mode %q: want three or four octal digits, like \"0644\"", ErrInvalid, s)
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: mode %q: want octal digits, like \"0644\"", ErrInvalid, s)
	}
	if m > 0o777 {
		return 0, fmt.Errorf("%w: mode %q: setuid, setgid and sticky bits may not be set (0000 to 0777)", ErrInvalid, s)
	}
	return fs.FileMode(m), nil
}

// Chmod sets p's permission bits (mode as ParseMode reads it). A symlink
// is followed to its target, inside the volume.
func (v *Volume) Chmod(p, mode string) error {
	m, err := ParseMode(mode)
	if err != nil {
		return err
	}
	return v.SetMode(p, m)
}

// SetMode is Chmod with the bits as a number; any outside 0777 (setuid,
// setgid, sticky) fail with ErrInvalid.
func (v *Volume) SetMode(p string, m fs.FileMode) error {
	if m&^0o777 != 0 {
		return fmt.Errorf("%w: mode %04o: only permission bits (0000 to 0777) may be set", ErrInvalid, uint32(m))
	}
	rel, err := v.Locate(p)
	if err != nil {
		return err
	}
	pf, real, _, err := v.follow(rel)
	if err != nil {
		return fail("chmod", rel, err)
	}
	defer pf.Close()
	if v.Denied(real) {
		return fail("chmod", rel, fmt.Errorf("%w: it leads to %s", ErrDenied, Display(real)))
	}
	// Through the descriptor, not the path: the file fstat saw is the one
	// changed.
	rc, err := pf.SyscallConn()
	if err != nil {
		return fail("chmod", rel, err)
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cerr = os.Chmod("/proc/self/fd/"+strconv.Itoa(int(fd)), m)
	}); err != nil {
		return fail("chmod", rel, err)
	}
	return fail("chmod", rel, cerr)
}

// Copy copies from (a file, or a directory with all it holds) to to; an
// empty to picks a free name beside from ("name copy.ext", "name copy
// 2.ext", …). Symlinks are copied as symlinks; FIFOs, sockets, devices
// and what the denylist hides are left out. The copy is built under a
// temp name and renamed into place, each chunk approved by the quota: a
// failed copy leaves nothing.
func (v *Volume) Copy(ctx context.Context, from, to string) (wire.FileInfo, error) {
	src, dst, err := v.fromTo("copy", from, to)
	if err != nil {
		return wire.FileInfo{}, err
	}
	// Copy from where src really is, so the denylist applies to the real
	// paths of what it holds, and refuse a copy into itself however the
	// paths are spelt.
	real, err := v.realOf(src)
	if err != nil {
		return wire.FileInfo{}, fail("copy", src, err)
	}
	if dst != "" {
		if rd, err := v.realOf(dst); err == nil && strings.HasPrefix(rd, real+"/") {
			return wire.FileInfo{}, fail("copy", src, fmt.Errorf("%w: %s is inside it", ErrInvalid, Display(dst)))
		}
	}
	src = real
	sfi, err := v.root.Lstat(src)
	if err != nil {
		return wire.FileInfo{}, fail("copy", src, err)
	}
	if dst == "" {
		if dst, err = v.freeName(src, sfi.IsDir()); err != nil {
			return wire.FileInfo{}, fail("copy", src, err)
		}
	} else if _, err := v.root.Lstat(dst); err == nil {
		return wire.FileInfo{}, fail("copy", dst, fmt.Errorf("%w: it already exists", fs.ErrExist))
	}
	made, err := v.mkdirs(path.Dir(dst))
	if err != nil {
		return wire.FileInfo{}, fail("copy", dst, err)
	}
	tmp := tempName(path.Dir(dst))
	err = v.copyTree(ctx, src, tmp, sfi)
	if err == nil {
		if _, serr := v.root.Lstat(dst); serr == nil {
			err = fmt.Errorf("%w: %s appeared meanwhile", fs.ErrExist, Display(dst))
		} else {
			err = v.root.Rename(tmp, dst)
		}
	}
	if err != nil {
		_ = v.root.RemoveAll(tmp)
		v.unmake(made)
		return wire.FileInfo{}, fail("copy", src, err)
	}
	return v.info(dst)
}

// copyTree copies src (described by fi) to the new path dst.
func (v *Volume) copyTree(ctx context.Context, src, dst string, fi fs.FileInfo) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		target, err := v.root.Readlink(src)
		if err != nil {
			return err
		}
		if err := v.root.Symlink(target, dst); err != nil {
			return err
		}
		return v.Own(dst)
	case m.IsDir():
		if err := v.root.Mkdir(dst, m.Perm()|0o700); err != nil {
			return err
		}
		if err := v.Own(dst); err != nil {
			return err
		}
		d, err := v.root.Open(src)
		if err != nil {
			return err
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return err
		}
		for _, e := range entries {
			child := path.Join(src, e.Name())
			if v.Denied(child) {
				continue
			}
			cfi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := v.copyTree(ctx, child, path.Join(dst, e.Name()), cfi); err != nil {
				return err
			}
		}
		return nil
	case m.IsRegular():
		return v.copyFile(ctx, src, dst)
	}
	return nil // FIFOs, sockets, devices: nothing a copy should open
}

func (v *Volume) copyFile(ctx context.Context, src, dst string) error {
	in, fi, err := v.openRegular(src)
	if err != nil || in == nil {
		return err
	}
	defer in.Close()
	out, err := v.root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := copyBuffer(ctx, v.NewQuotaWriter(out), in); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return v.Own(dst)
}

// openRegular opens rel (no symlink at its end) for reading if it is a
// regular file; (nil, nil, nil) if it is something else by now.
func (v *Volume) openRegular(rel string) (*os.File, fs.FileInfo, error) {
	pf, _, fi, err := v.lopen(rel)
	if err != nil {
		return nil, nil, err
	}
	defer pf.Close()
	if !fi.Mode().IsRegular() {
		return nil, nil, nil
	}
	f, err := reopen(pf, os.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	return f, fi, nil
}

// freeName picks a name beside rel that nothing has yet: "name copy.ext",
// then "name copy 2.ext", and so on. Directories keep their whole name as
// the stem.
func (v *Volume) freeName(rel string, isDir bool) (string, error) {
	dir, base := path.Split(rel)
	stem, ext := base, ""
	if !isDir {
		stem, ext = splitExt(base)
	}
	for i := 1; i <= 1000; i++ {
		name := stem + " copy" + ext
		if i > 1 {
			name = stem + " copy " + strconv.Itoa(i) + ext
		}
		cand := path.Join(dir, name)
		if _, err := v.root.Lstat(cand); errors.Is(err, fs.ErrNotExist) {
			if v.Denied(cand) {
				return "", fmt.Errorf("%w: the copy's name %s", ErrDenied, Display(cand))
			}
			return cand, nil
		}
	}
	return "", fmt.Errorf("%w: no free name for a copy", fs.ErrExist)
}

// splitExt splits a file name before its extension, keeping ".tar.gz"
// and the like whole; a dot file (".env") has no extension.
func splitExt(name string) (string, string) {
	if i := strings.LastIndex(strings.ToLower(name), ".tar."); i > 0 {
		return name[:i], name[i:]
	}
	ext := path.Ext(name)
	if ext == name {
		return name, ""
	}
	return strings.TrimSuffix(name, ext), ext
}
