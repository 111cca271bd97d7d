package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"golang.org/x/sys/unix"
)

// Restore bounds.
const (
	// MaxEntries is the most entries Restore takes from one archive.
	MaxEntries = 1_000_000
	// maxLinkTarget bounds a symlink's target, as PATH_MAX does.
	maxLinkTarget = 4095
	// zstdMaxWindow bounds the window a zstd archive may ask the
	// decoder for (zstd -19 uses 8 MiB).
	zstdMaxWindow = 64 << 20
)

// stagePrefix starts the names of the staging directories beside the
// restored directory; oldSuffix ends the name the old tree has while a
// swap without RENAME_EXCHANGE is under way.
const (
	stagePrefix = ".restore-"
	oldSuffix   = ".old"
)

// Magic numbers of the compressions.
var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func refused(name, format string, args ...any) error {
	return fmt.Errorf("%w: entry %q "+format, append([]any{ErrCorrupt, name}, args...)...)
}

// extractor writes one archive into a staging directory.
type extractor struct {
	opts  RestoreOptions
	root  *os.Root // the staging directory
	buf   []byte
	in    *hashReader
	rep   *reporter
	prog  Progress
	count int
	// maxEntries is MaxEntries but in tests.
	maxEntries int

	// dirs indexes meta by name: every directory the staging holds ("."
	// is the top), whose mode and mtime are set once all is in.
	dirs map[string]int
	meta []dirMeta
	// links are the symlinks extracted: nothing is extracted through
	// one.
	links map[string]bool
	// cur is the directory curDir, where the last entry went: entries of
	// one directory come together, so one open serves them all.
	cur    *dirRef
	curDir string
	// w writes small files; pending names those queued since the last
	// wait, which no later entry may touch before they are written.
	w       *fileWriters
	pending map[string]bool
}

type dirMeta struct {
	name  string
	mode  fs.FileMode
	mtime time.Time // zero: leave as it is
}

// restoreEnv is what tests change of a restore.
type restoreEnv struct {
	clock      clock
	maxEntries int
}

func restore(ctx context.Context, dir string, r io.Reader, opts RestoreOptions, env restoreEnv) (res Result, err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return Result{}, fmt.Errorf("%q names no directory to restore into", dir)
	}
	old, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return Result{}, err
	case !old.IsDir():
		return Result{}, fmt.Errorf("%s is not a directory", dir)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, err
	}
	stage, err := mkStage(parent, base)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	root, err := os.OpenRoot(stage)
	if err != nil {
		return Result{}, err
	}
	x := &extractor{
		opts:       opts,
		root:       root,
		buf:        make([]byte, readChunk),
		in:         &hashReader{ctx: ctx, r: r, h: sha256.New()},
		rep:        newReporter(env.clock, opts.Progress),
		maxEntries: env.maxEntries,
		dirs:       map[string]int{".": 0},
		meta:       []dirMeta{{name: ".", mode: 0o755}},
		links:      map[string]bool{},
		pending:    map[string]bool{},
	}
	if old != nil {
		x.meta[0].mode = old.Mode().Perm()
	}
	res, err = x.run(ctx, dir, old != nil)
	x.closeCur()
	root.Close()
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, err
	}
	if err := swap(stage, dir, old != nil); err != nil {
		return Result{}, err
	}
	x.prog.Written = res.Size
	x.rep.report(x.prog)
	return res, nil
}

// run extracts, verifies and completes the staging directory.
func (x *extractor) run(ctx context.Context, dir string, exists bool) (Result, error) {
	if err := x.root.Lchown(".", x.opts.UID, x.opts.GID); err != nil {
		return Result{}, err
	}
	comp, err := x.extract(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Files:       x.prog.Files,
		Bytes:       x.prog.Bytes,
		Size:        x.in.n.Load(),
		SHA256:      hex.EncodeToString(x.in.h.Sum(nil)),
		Compression: comp,
	}
	if x.opts.Verify != nil {
		if err := x.opts.Verify(res.SHA256); err != nil {
			return Result{}, err
		}
	}
	if exists && !x.opts.Wipe {
		top, err := openTop(dir)
		if err != nil {
			return Result{}, err
		}
		err = x.merge(ctx, top, ".")
		top.Close()
		if err != nil {
			return Result{}, fmt.Errorf("keeping the files the archive does not hold: %w", err)
		}
	}
	return res, x.finishDirs()
}

// extract reads the whole stream, extracting the tar it holds.
func (x *extractor) extract(ctx context.Context) (Compression, error) {
	br := bufio.NewReaderSize(x.in, readChunk)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	comp, dec, err := newDecompressor(magic, br)
	if err != nil {
		return "", err
	}
	defer dec.Close()
	x.w = startWriters(ctx, numWriters(), x.opts.UID, x.opts.GID)
	defer x.w.stop()
	// tail keeps the last bytes the tar reader took: a stream that ends
	// without the end-of-archive blocks was cut short.
	tail := &tailReader{r: dec}
	tr := tar.NewReader(tail)
	for {
		before := tail.n
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if !tail.endMarker(before) {
				return "", corrupt("the archive ends before its end-of-archive marker: it was cut short")
			}
			break
		}
		if err != nil {
			return "", readErr(ctx, "the tar stream", err)
		}
		if err := x.entry(ctx, h, tr); err != nil {
			return "", err
		}
	}
	if err := x.waitWriters(); err != nil {
		return "", err
	}
	// Everything past the tar, decompressed and raw: the digest is of
	// the whole stream, and the decompressor checks its own checksum at
	// its end.
	if _, err := io.CopyBuffer(io.Discard, dec, x.buf); err != nil {
		return "", readErr(ctx, "past the tar", err)
	}
	if _, err := io.CopyBuffer(io.Discard, br, x.buf); err != nil {
		return "", readErr(ctx, "past the "+string(comp)+" stream", err)
	}
	return comp, nil
}

// readErr names what could not be read: the archive's fault, unless the
// reader or the context failed.
func readErr(ctx context.Context, what string, err error) error {
	var re *sourceError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &re):
		return re.err
	}
	return corrupt("reading %s: %v", what, err)
}

func newDecompressor(magic []byte, r io.Reader) (Compression, io.ReadCloser, error) {
	switch {
	case bytes.HasPrefix(magic, zstdMagic):
		// Synchronous: zstd decodes faster than files are written, and
		// no goroutine is left behind whatever r does.
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderConcurrency(1),
		)
		if err != nil {
			return "", nil, corrupt("zstd: %v", err)
		}
		return Zstd, zr.IOReadCloser(), nil
	case bytes.HasPrefix(magic, gzipMagic):
		// Reads ahead in a goroutine: inflating takes as long as writing
		// the files, and the two overlap.
		zr, err := pgzip.NewReaderN(r, gzipBlock, 4)
		if err != nil {
			return "", nil, corrupt("gzip: %v", err)
		}
		return Gzip, zr, nil
	}
	return None, io.NopCloser(r), nil
}

// hashReader hashes and counts the raw stream, and stops it once ctx is
// done.
type hashReader struct {
	ctx context.Context
	r   io.Reader
	h   hash.Hash
	n   atomic.Int64 // the gzip reader reads ahead in a goroutine of its own
}

// sourceError is an error of the reader Restore was given, told apart
// from the archive's own faults.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

func (hr *hashReader) Read(p []byte) (int, error) {
	if err := hr.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n.Add(int64(n))
	if err != nil && err != io.EOF {
		err = &sourceError{fmt.Errorf("reading the archive: %w", err)}
	}
	return n, err
}

// tailReader remembers the last two blocks read through it.
type tailReader struct {
	r    io.Reader
	tail [2 * 512]byte
	n    int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= len(t.tail) {
		copy(t.tail[:], p[n-len(t.tail):n])
	} else if n > 0 {
		copy(t.tail[:], t.tail[n:])
		copy(t.tail[len(t.tail)-n:], p[:n])
	}
	t.n += int64(n)
	return n, err
}

// endMarker says whether the tar reader, looking for a header after
// offset before, read the two zero blocks that end an archive (and not
// merely the end of the stream, or a file's zeros).
func (t *tailReader) endMarker(before int64) bool {
	return t.n-before >= int64(len(t.tail)) && t.tail == [len(t.tail)]byte{}
}

// EntryName cleans an archive entry's name (or a link's target), refusing
// one that is empty, holds a NUL byte, is absolute or leads out of the
// directory the archive is extracted into; the error names the entry and
// says which. Every extractor of the agent checks names with it.
func EntryName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("entry %q has no name", name)
	case strings.IndexByte(name, 0) >= 0:
		return "", fmt.Errorf("entry %q holds a NUL byte", name)
	case path.IsAbs(name):
		return "", fmt.Errorf("entry %q has an absolute name", name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("entry %q leads out of the archive's directory", name)
	}
	return clean, nil
}

// cleanName is EntryName for a restore, where an unsafe name makes the
// archive corrupt.
func cleanName(name string) (string, error) {
	clean, err := EntryName(name)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return clean, nil
}

func (x *extractor) entry(ctx context.Context, h *tar.Header, body io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	if x.count++; x.count > x.maxEntries {
		return corrupt("the archive holds more than %d entries", x.maxEntries)
	}
	for k := range h.PAXRecords {
		// The tar reader expands sparse files: a few bytes of archive
		// could fill the disk with zeros.
		if strings.HasPrefix(k, "GNU.sparse.") {
			return refused(h.Name, "is a sparse file, which Restore does not take")
		}
	}
	name, err := cleanName(h.Name)
	if err != nil {
		return err
	}
	if name == "." && h.Typeflag != tar.TypeDir {
		return refused(h.Name, "names the top directory but is no directory")
	}
	if err := x.notThroughLink(h.Name, name); err != nil {
		return err
	}
	if err := x.w.failed(); err != nil {
		return err
	}
	// A name queued for writing, or a hard link's target, must be
	// written before anything else is done with it.
	if x.pending[name] || h.Typeflag == tar.TypeLink {
		if err := x.waitWriters(); err != nil {
			return err
		}
	}
	switch h.Typeflag {
	case tar.TypeDir:
		return x.dir(h, name)
	case tar.TypeReg:
		return x.file(ctx, h, name, body)
	case tar.TypeSymlink:
		return x.symlink(h, name)
	case tar.TypeLink:
		return x.hardlink(h, name)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return refused(h.Name, "is a device or FIFO; a volume holds only files, directories and symlinks")
	}
	return refused(h.Name, "has the tar type %q, which is no file, directory or link", h.Typeflag)
}

// notThroughLink refuses an entry below one of the archive's symlinks:
// extracting it would write wherever the link leads.
func (x *extractor) notThroughLink(raw, name string) error {
	if len(x.links) == 0 {
		return nil
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if x.links[p] {
			return refused(raw, "lies below the archive's symlink %q", p)
		}
	}
	return nil
}

// parent makes the directories above name and returns the descriptor of
// the one that holds it, with name's last element. The directory is
// opened through the root, so it lies inside; below it, entries are
// made with *at calls on that one element, which never follow a
// symlink.
func (x *extractor) parent(raw, name string) (int, string, error) {
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	if dir != x.curDir {
		if err := x.mkdirs(raw, dir); err != nil {
			return -1, "", err
		}
		x.closeCur()
		d, err := x.root.Open(dir)
		if err != nil {
			return -1, "", err
		}
		x.cur, x.curDir = newDirRef(d), dir
	}
	return int(x.cur.f.Fd()), base, nil
}

func (x *extractor) closeCur() {
	if x.cur != nil {
		x.cur.release()
	}
	x.cur, x.curDir = nil, ""
}

// waitWriters waits until the queued files are written.
func (x *extractor) waitWriters() error {
	clear(x.pending)
	return x.w.wait()
}

// mkdirs makes dir and the directories above it that the archive has
// not made yet; they take the default mode.
func (x *extractor) mkdirs(raw, dir string) error {
	if _, ok := x.dirs[dir]; ok {
		return nil
	}
	if err := x.mkdirs(raw, path.Dir(dir)); err != nil {
		return err
	}
	if x.pending[dir] {
		if err := x.waitWriters(); err != nil {
			return err
		}
	}
	if err := x.root.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refused(raw, "lies below %q, which the archive holds as a file", dir)
		}
		return err
	}
	if err := x.root.Lchown(dir, x.opts.UID, x.opts.GID); err != nil {
		return err
	}
	x.madeDir(dir, 0o755, time.Time{})
	return nil
}

func (x *extractor) madeDir(name string, mode fs.FileMode, mtime time.Time) {
	x.dirs[name] = len(x.meta)
	x.meta = append(x.meta, dirMeta{name: name, mode: mode, mtime: mtime})
}

// chown gives base (in directory dfd) to the restored files' owner.
func (x *extractor) chown(dfd int, base, raw string) error {
	if x.opts.UID < 0 && x.opts.GID < 0 {
		return nil
	}
	if err := unix.Fchownat(dfd, base, x.opts.UID, x.opts.GID, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: raw, Err: err}
	}
	return nil
}

func (x *extractor) dir(h *tar.Header, name string) error {
	mode := fs.FileMode(h.Mode).Perm()
	if i, ok := x.dirs[name]; ok {
		x.meta[i].mode, x.meta[i].mtime = mode, h.ModTime
		return nil
	}
	dfd, base, err := x.parent(h.Name, name)
	if err != nil {
		return err
	}
	if err := unix.Mkdirat(dfd, base, 0o700); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return refused(h.Name, "is a directory where the archive has a file or symlink")
		}
		return &os.PathError{Op: "mkdir", Path: h.Name, Err: err}
	}
	if err := x.chown(dfd, base, h.Name); err != nil {
		return err
	}
	x.madeDir(name, mode, h.ModTime)
	return nil
}

// replace makes room for a file or link: one of the same name earlier in
// the archive goes, as with tar.
func (x *extractor) replace(raw, name string, dfd int, base string) error {
	if _, ok := x.dirs[name]; ok {
		return refused(raw, "is a file where the archive has a directory")
	}
	delete(x.links, name)
	if err := unix.Unlinkat(dfd, base, 0); err != nil {
		return &os.PathError{Op: "unlink", Path: raw, Err: err}
	}
	return nil
}

func (x *extractor) file(ctx context.Context, h *tar.Header, name string, body io.Reader) error {
	dfd, base, err := x.parent(h.Name, name)
	if err != nil {
		return err
	}
	// A name of a directory or symlink is left to replace, below.
	if _, isDir := x.dirs[name]; h.Size <= smallFile && !isDir && !x.links[name] {
		return x.queueFile(ctx, h, name, base, body)
	}
	open := func() (int, error) {
		return ignoringEINTR(func() (int, error) { return unix.Openat(dfd, base, createFlags, 0o600) })
	}
	fd, err := open()
	if errors.Is(err, unix.EEXIST) {
		if err := x.replace(h.Name, name, dfd, base); err != nil {
			return err
		}
		fd, err = open()
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: h.Name, Err: err}
	}
	for {
		n, err := body.Read(x.buf)
		if n > 0 {
			if err := writeAll(fd, x.buf[:n]); err != nil {
				unix.Close(fd)
				return &os.PathError{Op: "write", Path: h.Name, Err: err}
			}
			x.prog.Bytes += int64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			unix.Close(fd)
			return readErr(ctx, fmt.Sprintf("entry %q", h.Name), err)
		}
		if x.rep.due() {
			x.prog.Written = x.in.n.Load()
			x.rep.report(x.prog)
		}
	}
	if err := finishFile(fd, h.Name, x.opts.UID, x.opts.GID, fs.FileMode(h.Mode), h.ModTime); err != nil {
		return err
	}
	x.prog.Files++
	return nil
}

// queueFile reads a small file whole and hands it to the writers.
func (x *extractor) queueFile(ctx context.Context, h *tar.Header, name, base string, body io.Reader) error {
	data := make([]byte, h.Size)
	if _, err := io.ReadFull(body, data); err != nil {
		return readErr(ctx, fmt.Sprintf("entry %q", h.Name), err)
	}
	x.pending[name] = true
	x.w.queue(fileJob{dir: x.cur.hold(), base: base, name: h.Name, data: data, mode: fs.FileMode(h.Mode), mtime: h.ModTime})
	x.prog.Files++
	x.prog.Bytes += h.Size
	if x.rep.due() {
		x.prog.Written = x.in.n.Load()
		x.rep.report(x.prog)
	}
	return nil
}

// writeAll writes b whole.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (x *extractor) symlink(h *tar.Header, name string) error {
	switch {
	case h.Linkname == "":
		return refused(h.Name, "is a symlink to nothing")
	case len(h.Linkname) > maxLinkTarget || strings.IndexByte(h.Linkname, 0) >= 0:
		return refused(h.Name, "is a symlink with an impossible target")
	}
	dfd, base, err := x.parent(h.Name, name)
	if err != nil {
		return err
	}
	// The target may be anything, even outside: it is only a link, and
	// nothing is extracted through it.
	err = unix.Symlinkat(h.Linkname, dfd, base)
	if errors.Is(err, unix.EEXIST) {
		if err := x.replace(h.Name, name, dfd, base); err != nil {
			return err
		}
		err = unix.Symlinkat(h.Linkname, dfd, base)
	}
	if err != nil {
		return &os.PathError{Op: "symlink", Path: h.Name, Err: err}
	}
	x.links[name] = true
	return x.chown(dfd, base, h.Name)
}

func (x *extractor) hardlink(h *tar.Header, name string) error {
	target, err := cleanName(h.Linkname)
	if err != nil || target == "." {
		return refused(h.Name, "is a hard link to %q, outside the archive", h.Linkname)
	}
	missing := refused(h.Name, "is a hard link to %q, which is no file the archive holds before it", h.Linkname)
	if target == name || x.links[target] || x.notThroughLink(h.Linkname, target) != nil {
		return missing
	}
	if fi, err := x.root.Lstat(target); err != nil || !fi.Mode().IsRegular() {
		return missing
	}
	dfd, base, err := x.parent(h.Name, name)
	if err != nil {
		return err
	}
	err = x.root.Link(target, name)
	if errors.Is(err, fs.ErrExist) {
		if err := x.replace(h.Name, name, dfd, base); err != nil {
			return err
		}
		err = x.root.Link(target, name)
	}
	if err != nil {
		return err
	}
	x.prog.Files++
	return nil
}

// merge links into the staging directory what the directory src (rel
// below the top) holds and the archive does not, so that the swap keeps
// it. Only links: src is never written to.
func (x *extractor) merge(ctx context.Context, src *os.File, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	es, err := entries(src)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: rel, Err: err}
	}
	dst, err := x.root.Open(rel)
	if err != nil {
		return err
	}
	defer dst.Close()
	dfd, sfd := int(dst.Fd()), int(src.Fd())
	for _, e := range es {
		child := path.Join(rel, e.Name())
		if _, ok := x.dirs[child]; ok {
			// A directory in both: merge what it holds.
			if !e.IsDir() {
				continue
			}
			sub, ok, err := openDir(src, e.Name())
			if err != nil {
				return &os.PathError{Op: "open", Path: child, Err: err}
			}
			if ok {
				err = x.merge(ctx, sub, child)
				sub.Close()
				if err != nil {
					return err
				}
			}
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			continue // the archive's file wins
		} else if !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "lstat", Path: child, Err: err}
		}
		if !e.IsDir() {
			// Without AT_SYMLINK_FOLLOW a symlink is linked itself, not
			// what it leads to.
			err := unix.Linkat(sfd, e.Name(), dfd, e.Name(), 0)
			if err != nil && !errors.Is(err, unix.ENOENT) {
				return &os.PathError{Op: "link", Path: child, Err: err}
			}
			continue
		}
		sub, ok, err := openDir(src, e.Name())
		if err != nil {
			return &os.PathError{Op: "open", Path: child, Err: err}
		}
		if !ok {
			continue
		}
		err = x.keepDir(ctx, sub, dfd, e.Name(), child)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// keepDir makes a directory the archive lacks as src has it, then merges
// what it holds.
func (x *extractor) keepDir(ctx context.Context, src *os.File, dfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: rel, Err: err}
	}
	if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
		return &os.PathError{Op: "mkdir", Path: rel, Err: err}
	}
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: rel, Err: err}
	}
	x.madeDir(rel, fs.FileMode(st.Mode).Perm(), time.Unix(st.Mtim.Unix()))
	return x.merge(ctx, src, rel)
}

// finishDirs gives the directories their modes and mtimes, deepest
// first: making an entry moves its directory's mtime, and a read-only
// directory takes no more entries.
func (x *extractor) finishDirs() error {
	for i := len(x.meta) - 1; i >= 0; i-- {
		m := x.meta[i]
		if err := x.root.Chmod(m.name, m.mode); err != nil {
			return err
		}
		if !m.mtime.IsZero() {
			if err := x.root.Chtimes(m.name, m.mtime, m.mtime); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkStage makes a staging directory beside the restored one: on its
// filesystem, so the swap is a rename.
func mkStage(parent, base string) (string, error) {
	for range 100 {
		p := filepath.Join(parent, stagePrefix+base+"-"+strconv.FormatUint(rand.Uint64(), 36))
		err := os.Mkdir(p, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return p, err
	}
	return "", errors.New("no free staging directory name")
}

// swap puts the complete staging directory in dir's place in one step
// and removes what dir held. Should the old tree's removal fail, it
// stays behind as a staging directory, which Recover removes.
func swap(stage, dir string, exists bool) error {
	if !exists {
		return os.Rename(stage, dir)
	}
	err := unix.Renameat2(unix.AT_FDCWD, stage, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return swapByRenames(stage, dir)
	}
	if err != nil {
		return &os.LinkError{Op: "exchange", Old: stage, New: dir, Err: err}
	}
	os.RemoveAll(stage) // now the old tree
	return nil
}

// swapByRenames swaps on filesystems without RENAME_EXCHANGE: the old
// tree moves aside first, and Recover moves it back should the agent die
// before the staging directory takes its place.
func swapByRenames(stage, dir string) error {
	old := stage + oldSuffix
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		if back := os.Rename(old, dir); back != nil {
			return errors.Join(err, fmt.Errorf("moving the old tree back from %s: %w", old, back))
		}
		return err
	}
	os.RemoveAll(old)
	return nil
}

func recoverDir(parent string) error {
	es, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	// An old tree moved aside by a swap that did not finish goes back
	// first: its directory is otherwise gone.
	for _, e := range es {
		name := e.Name()
		if !strings.HasPrefix(name, stagePrefix) || !strings.HasSuffix(name, oldSuffix) {
			continue
		}
		stem := strings.TrimSuffix(strings.TrimPrefix(name, stagePrefix), oldSuffix)
		i := strings.LastIndexByte(stem, '-')
		if i <= 0 {
			continue
		}
		dir := filepath.Join(parent, stem[:i])
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.Rename(filepath.Join(parent, name), dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
