package files

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"catalyst.dev/agent/internal/archive"
	"catalyst.dev/sdk/wire"
)

// Extraction bounds.
const (
	// MaxArchiveEntries is the most entries an archive may hold.
	MaxArchiveEntries = 100_000
	// maxLinkTarget bounds a symlink entry's target, as PATH_MAX.
	maxLinkTarget = 4096
)

// Archive formats Decompress tells apart by their first bytes.
const (
	formatTar   = "tar"
	formatTarGz = "tar.gz"
	formatTarXz = "tar.xz"
	formatZip   = "zip"
)

// Decompress extracts the archive at req.Path (tar, tar.gz, tar.xz or zip,
// told by its first bytes, not its name) into req.Destination (default:
// the archive's directory), overwriting files of the same name and
// merging into directories of the same name.
//
// Everything is first extracted into a staging directory inside the
// volume, opened as a root of its own, then moved into place; a failure
// removes the staging directory, so nothing is half-written. The archive
// is refused (ErrInvalid, naming the entry) for absolute names, names
// leaving the destination, symlinks to absolute paths or out of the
// volume, hard links to anything but a file extracted before them,
// entries inside a symlink of the same archive, devices and FIFOs, more
// than MaxArchiveEntries entries, and entries whose content is not the
// size their header declares. Each file's size is approved by the quota
// before it is written (a zip's total up front). An entry whose type
// clashes with the destination (a directory where a file is) fails with
// fs.ErrExist before anything moves.
func (v *Volume) Decompress(ctx context.Context, req wire.DecompressRequest) error {
	arch, err := v.Locate(req.Path)
	if err != nil {
		return err
	}
	dest := path.Dir(arch)
	if req.Destination != "" {
		if dest, err = v.Locate(req.Destination); err != nil {
			return err
		}
	}
	f, fi, err := v.openFile(arch, os.O_RDONLY, 0)
	if err != nil {
		return fail("decompress", arch, err)
	}
	defer f.Close()
	if dfi, err := v.root.Stat(dest); err == nil && !dfi.IsDir() {
		return fail("decompress", dest, fmt.Errorf("%w: the destination is not a directory", ErrInvalid))
	}
	destReal, err := v.realOf(dest)
	if err != nil {
		return fail("decompress", dest, err)
	}
	format, err := sniff(f)
	if err != nil {
		return fail("decompress", arch, err)
	}

	stage, err := v.mkStage()
	if err != nil {
		return fail("decompress", arch, err)
	}
	defer v.root.RemoveAll(stage)
	sroot, err := v.root.OpenRoot(stage)
	if err != nil {
		return fail("decompress", arch, err)
	}
	defer sroot.Close()
	x := &extractor{v: v, ctx: ctx, root: sroot, dest: dest, destReal: destReal,
		links: map[string]bool{}, buf: make([]byte, chunk)}
	switch format {
	case formatZip:
		err = x.zip(f, fi.Size())
	case formatTarXz:
		if err = checkXZ(f, fi.Size(), maxXZDict); err == nil {
			err = x.xz(f)
		}
	case formatTarGz:
		err = x.gzip(f)
	default:
		err = x.tar(bufio.NewReaderSize(f, 64<<10))
	}
	if err == nil {
		err = x.own()
	}
	if err == nil {
		err = x.conflicts(".", dest)
	}
	if err != nil {
		return fail("decompress", arch, err)
	}
	if _, err := v.mkdirs(dest); err != nil {
		return fail("decompress", dest, err)
	}
	if err := x.move(stage, ".", dest); err != nil {
		return fail("decompress", dest, err)
	}
	return nil
}

// sniff tells the archive's format by its first bytes.
func sniff(f io.ReaderAt) (string, error) {
	var b [512]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	h := b[:n]
	switch {
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		return formatTarGz, nil
	case bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return formatTarXz, nil
	case bytes.HasPrefix(h, []byte("PK\x03\x04")), bytes.HasPrefix(h, []byte("PK\x05\x06")):
		return formatZip, nil
	case n >= 262 && string(h[257:262]) == "ustar":
		return formatTar, nil
	}
	return "", fmt.Errorf("%w: it is not a tar, tar.gz, tar.xz or zip archive", ErrInvalid)
}

// mkStage makes the staging directory at the volume's top.
func (v *Volume) mkStage() (string, error) {
	for range 100 {
		name := tempPrefix + "extract-" + strconv.FormatUint(rand.Uint64(), 36)
		err := v.root.Mkdir(name, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, err
	}
	return "", errors.New("no free staging directory name")
}

type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindSymlink
	kindHardlink
)

// entry is one archive member, in either format.
type entry struct {
	name string
	kind entryKind
	mode fs.FileMode
	size int64
	// link is a symlink's target or a hard link's member.
	link string
}

// extractor writes archive members into the staging root.
type extractor struct {
	v    *Volume
	ctx  context.Context
	root *os.Root // the staging directory
	// dest is where the entries go, as resolved and where it really is.
	dest, destReal string
	// links are the symlinks extracted so far, which nothing may be
	// extracted through.
	links map[string]bool
	count int
	// zipApproved: the quota approved a zip's declared total up front.
	zipApproved bool
	buf         []byte
}

func invalidEntry(name, format string, args ...any) error {
	return fmt.Errorf("%w: entry %q "+format, append([]any{ErrInvalid, name}, args...)...)
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: not a readable tar archive: %v", ErrInvalid, err)
		}
		for k := range h.PAXRecords {
			// The reader expands a sparse file to its full size: a few
			// bytes of archive could fill the disk with zeros.
			if strings.HasPrefix(k, "GNU.sparse.") {
				return invalidEntry(h.Name, "is a sparse file; archives here may hold only plain files")
			}
		}
		e := entry{name: h.Name, mode: fs.FileMode(h.Mode).Perm(), size: h.Size, link: h.Linkname}
		switch h.Typeflag {
		case tar.TypeReg:
			e.kind = kindFile
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeSymlink:
			e.kind = kindSymlink
		case tar.TypeLink:
			e.kind = kindHardlink
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return invalidEntry(h.Name, "is a device or FIFO; archives may hold only files, directories and links")
		default:
			return invalidEntry(h.Name, "has tar type %q, which is not a file, directory or link", h.Typeflag)
		}
		if err := x.add(e, tr); err != nil {
			return err
		}
	}
}

func (x *extractor) gzip(r io.Reader) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return fmt.Errorf("%w: not a readable gzip file: %v", ErrInvalid, err)
	}
	defer zr.Close()
	return x.tar(zr)
}

// maxXZDict bounds an xz file's dictionary, which the decoder allocates
// whole: xz -9 uses 64 MiB.
const maxXZDict = 128 << 20

func (x *extractor) xz(r io.Reader) error {
	// The smallest dictionary to start with; each block's header raises
	// it to what that block needs (checkXZ bounded that).
	xr, err := xz.ReaderConfig{DictCap: 4096}.NewReader(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return fmt.Errorf("%w: not a readable xz file: %v", ErrInvalid, err)
	}
	return x.tar(xr)
}

func (x *extractor) zip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%w: not a readable zip archive: %v", ErrInvalid, err)
	}
	if len(zr.File) > MaxArchiveEntries {
		return fmt.Errorf("%w: the archive holds %d entries, more than %d", ErrInvalid, len(zr.File), MaxArchiveEntries)
	}
	var total uint64
	for _, zf := range zr.File {
		if zf.UncompressedSize64 > math.MaxInt64 || total+zf.UncompressedSize64 < total {
			return invalidEntry(zf.Name, "declares an impossible size")
		}
		total += zf.UncompressedSize64
	}
	if err := x.v.CheckWrite(total); err != nil {
		return err
	}
	x.zipApproved = true
	for _, zf := range zr.File {
		m := zf.Mode()
		e := entry{name: strings.ReplaceAll(zf.Name, "\\", "/"), mode: m.Perm(), size: int64(zf.UncompressedSize64)}
		switch {
		case m.IsDir() || strings.HasSuffix(e.name, "/"):
			e.kind = kindDir
		case m&fs.ModeSymlink != 0:
			e.kind = kindSymlink
		case m.IsRegular():
			e.kind = kindFile
		default:
			return invalidEntry(zf.Name, "is a device, FIFO or socket; archives may hold only files, directories and links")
		}
		if err := x.zipEntry(zf, e); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) zipEntry(zf *zip.File, e entry) error {
	if e.kind == kindDir {
		return x.add(e, nil)
	}
	rc, err := zf.Open()
	if err != nil {
		return invalidEntry(zf.Name, "cannot be read: %v", err)
	}
	defer rc.Close()
	if e.kind == kindSymlink {
		// A zip symlink's content is its target.
		target, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
		if err != nil {
			return invalidEntry(zf.Name, "cannot be read: %v", err)
		}
		e.link = string(target)
		return x.add(e, nil)
	}
	return x.add(e, rc)
}

// entryName is archive.EntryName for a decompression, where an unsafe
// name is the user's invalid input.
func entryName(name string) (string, error) {
	clean, err := archive.EntryName(name)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return clean, nil
}

// escapes says whether p, a cleaned path relative to the volume, leaves
// it.
func escapes(p string) bool { return p == ".." || strings.HasPrefix(p, "../") }

// add extracts one entry into the staging root; body holds a file's
// content.
func (x *extractor) add(e entry, body io.Reader) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	if x.count++; x.count > MaxArchiveEntries {
		return fmt.Errorf("%w: the archive holds more than %d entries", ErrInvalid, MaxArchiveEntries)
	}
	name, err := entryName(e.name)
	if err != nil {
		return err
	}
	if name == "." {
		if e.kind == kindDir {
			return nil // "./", the destination itself
		}
		return invalidEntry(e.name, "names no file")
	}
	if err := x.place(e.name, name, e.kind == kindDir); err != nil {
		return err
	}
	switch e.kind {
	case kindDir:
		return x.mkdir(e.name, name, e.mode)
	case kindSymlink:
		return x.symlink(e, name)
	case kindHardlink:
		return x.hardlink(e, name)
	}
	return x.file(e, name, body)
}

// place checks where an entry goes: not hidden by the denylist, not
// inside a symlink of the archive.
func (x *extractor) place(raw, name string, isDir bool) error {
	for _, final := range []string{path.Join(x.dest, name), path.Join(x.destReal, name)} {
		if x.v.Denied(final) {
			return fmt.Errorf("%w: entry %q would be %s", ErrDenied, raw, Display(final))
		}
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if x.links[p] {
			return invalidEntry(raw, "lies inside the archive's symlink %q", p)
		}
	}
	if isDir && x.links[name] {
		return invalidEntry(raw, "is a directory where the archive has a symlink")
	}
	return nil
}

func (x *extractor) mkdir(raw, name string, mode fs.FileMode) error {
	perm := mode | 0o700 // the game's user must be able to use it
	fi, err := x.root.Lstat(name)
	switch {
	case err == nil && !fi.IsDir():
		return invalidEntry(raw, "is a directory where the archive has a file")
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.MkdirAll(name, perm); err != nil {
			return invalidEntry(raw, "cannot be created: %v", err)
		}
	default:
		return err
	}
	return x.root.Chmod(name, perm)
}

// clear makes room for a file or link at name: a file or link of the
// same name earlier in the archive is replaced, as tar does.
func (x *extractor) clear(raw, name string) error {
	if err := x.root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return invalidEntry(raw, "cannot be created: %v", err)
	}
	fi, err := x.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return invalidEntry(raw, "is a file where the archive has a directory")
	}
	delete(x.links, name)
	return x.root.Remove(name)
}

func (x *extractor) symlink(e entry, name string) error {
	switch {
	case e.link == "":
		return invalidEntry(e.name, "is a symlink to nothing")
	case len(e.link) > maxLinkTarget || strings.IndexByte(e.link, 0) >= 0:
		return invalidEntry(e.name, "is a symlink with an impossible target")
	case path.IsAbs(e.link):
		return invalidEntry(e.name, "is a symlink to the absolute path %q", e.link)
	}
	// Where the link leads once in place, by where the destination is
	// named and where it really is.
	for _, base := range []string{x.dest, x.destReal} {
		if escapes(path.Join(base, path.Dir(name), e.link)) {
			return invalidEntry(e.name, "is a symlink to %q, outside the volume", e.link)
		}
	}
	if err := x.clear(e.name, name); err != nil {
		return err
	}
	if err := x.root.Symlink(e.link, name); err != nil {
		return invalidEntry(e.name, "cannot be created: %v", err)
	}
	x.links[name] = true
	return nil
}

func (x *extractor) hardlink(e entry, name string) error {
	target, err := entryName(e.link)
	if err != nil {
		return invalidEntry(e.name, "is a hard link to %q, outside the archive", e.link)
	}
	missing := invalidEntry(e.name, "is a hard link to %q, which is not a file the archive holds before it", e.link)
	if target == "." || target == name || x.links[target] {
		return missing
	}
	for p := path.Dir(target); p != "."; p = path.Dir(p) {
		if x.links[p] {
			return missing
		}
	}
	fi, err := x.root.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return missing
	}
	if err := x.clear(e.name, name); err != nil {
		return err
	}
	if err := x.root.Link(target, name); err != nil {
		return invalidEntry(e.name, "cannot be created: %v", err)
	}
	return nil
}

func (x *extractor) file(e entry, name string, body io.Reader) error {
	if e.size < 0 {
		return invalidEntry(e.name, "declares a negative size")
	}
	if !x.zipApproved {
		if err := x.v.CheckWrite(uint64(e.size)); err != nil {
			return err
		}
	}
	if err := x.clear(e.name, name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return invalidEntry(e.name, "cannot be created: %v", err)
	}
	defer f.Close()
	// Never trust the declared size: read one byte past it to catch a
	// member that holds more.
	src := entryReader{name: e.name, r: io.LimitReader(ctxReader{x.ctx, body}, e.size+1)}
	n, err := io.CopyBuffer(onlyWriter{f}, src, x.buf)
	if err != nil {
		return err
	}
	if n != e.size {
		return invalidEntry(e.name, "holds a different number of bytes than the %d its header declares", e.size)
	}
	if err := f.Chmod(e.mode | 0o600); err != nil {
		return err
	}
	return f.Close()
}

// entryReader names the entry in errors reading its content: a corrupt
// archive is the request's fault, not the agent's.
type entryReader struct {
	name string
	r    io.Reader
}

func (e entryReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = invalidEntry(e.name, "cannot be read: %v", err)
	}
	return n, err
}

// own gives everything extracted to the game's user.
func (x *extractor) own() error {
	if x.v.uid < 0 && x.v.gid < 0 {
		return nil
	}
	return fs.WalkDir(x.root.FS(), ".", func(name string, _ fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		return x.root.Lchown(name, x.v.uid, x.v.gid)
	})
}

// conflicts refuses, before anything moves, an entry under src (in the
// staging root) whose type clashes with what dst (in the volume) holds
// at its path.
func (x *extractor) conflicts(src, dst string) error {
	names, err := readNames(x.root, src)
	if err != nil {
		return err
	}
	for _, n := range names {
		s, d := path.Join(src, n), path.Join(dst, n)
		dfi, err := x.v.root.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fail("decompress", d, err)
		}
		sfi, err := x.root.Lstat(s)
		if err != nil {
			return err
		}
		switch {
		case sfi.IsDir() && dfi.IsDir():
			if err := x.conflicts(s, d); err != nil {
				return err
			}
		case sfi.IsDir():
			return fail("decompress", d, fmt.Errorf("%w: the archive holds a directory there", fs.ErrExist))
		case dfi.IsDir():
			return fail("decompress", d, fmt.Errorf("%w: it is a directory and the archive holds a file there", fs.ErrExist))
		}
	}
	return nil
}

// move renames what src (in the staging directory stage) holds into dst,
// merging into directories that exist and replacing files.
func (x *extractor) move(stage, src, dst string) error {
	names, err := readNames(x.root, src)
	if err != nil {
		return err
	}
	for _, n := range names {
		s, d := path.Join(src, n), path.Join(dst, n)
		if sfi, err := x.root.Lstat(s); err != nil {
			return err
		} else if dfi, err := x.v.root.Lstat(d); err == nil && sfi.IsDir() && dfi.IsDir() {
			if err := x.move(stage, s, d); err != nil {
				return err
			}
			continue
		}
		if err := x.v.root.Rename(path.Join(stage, s), d); err != nil {
			return fail("decompress", d, err)
		}
	}
	return nil
}

func readNames(root *os.Root, dir string) ([]string, error) {
	d, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
