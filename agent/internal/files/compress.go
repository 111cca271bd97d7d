package files

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"catalyst.dev/sdk/wire"
)

// Compress archives req.Paths (relative to req.Directory, and inside it)
// into a new file in req.Directory, as tar.gz or zip. Symlinks are
// stored as symlinks in both formats (zip marks them by mode, as Info-ZIP
// does), never followed; FIFOs, sockets, devices, the agent's temp files
// and what the denylist hides are left out. The archive is written to a
// temp file, each chunk approved by the quota, and linked into place
// only when complete; an existing archive of that name fails with
// fs.ErrExist.
func (v *Volume) Compress(ctx context.Context, req wire.CompressRequest) (wire.FileInfo, error) {
	if req.Format != wire.ArchiveTarGz && req.Format != wire.ArchiveZip {
		return wire.FileInfo{}, fmt.Errorf("%w: format %q: want %q or %q", ErrInvalid, req.Format, wire.ArchiveTarGz, wire.ArchiveZip)
	}
	if len(req.Paths) == 0 {
		return wire.FileInfo{}, fmt.Errorf("%w: no paths to compress", ErrInvalid)
	}
	dir, err := v.Locate(req.Directory)
	if err != nil {
		return wire.FileInfo{}, err
	}
	if fi, err := v.root.Stat(dir); err != nil {
		return wire.FileInfo{}, fail("compress", dir, err)
	} else if !fi.IsDir() {
		return wire.FileInfo{}, fail("compress", dir, fmt.Errorf("%w: it is not a directory", ErrInvalid))
	}
	var rels []string
	for _, p := range req.Paths {
		rel, err := v.Locate(path.Join(Display(dir), p))
		if err != nil {
			return wire.FileInfo{}, err
		}
		if dir != "." && rel != dir && !strings.HasPrefix(rel, dir+"/") {
			return wire.FileInfo{}, fail("compress", rel, fmt.Errorf("%w: it is not inside %s", ErrInvalid, Display(dir)))
		}
		if _, err := v.root.Lstat(rel); err != nil {
			return wire.FileInfo{}, fail("compress", rel, err)
		}
		rels = append(rels, rel)
	}
	name, err := archiveName(req.Name, req.Format)
	if err != nil {
		return wire.FileInfo{}, err
	}
	dst, err := v.Locate(path.Join(Display(dir), name))
	if err != nil {
		return wire.FileInfo{}, err
	}
	if _, err := v.root.Lstat(dst); err == nil {
		return wire.FileInfo{}, fail("compress", dst, fmt.Errorf("%w: it already exists", fs.ErrExist))
	}

	err = v.viaTemp(dir, dst, 0o644, false, func(f *os.File, tmp string) error {
		bw := bufio.NewWriterSize(v.NewQuotaWriter(f), chunk)
		a := newArchiver(req.Format, bw)
		w := walker{v: v, ctx: ctx, skip: tmp, buf: make([]byte, chunk)}
		for _, rel := range rels {
			if err := w.add(a, rel, archivePath(dir, rel)); err != nil {
				return err
			}
		}
		if err := a.Close(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return wire.FileInfo{}, fail("compress", dst, err)
	}
	return v.info(dst)
}

// archiveName is the archive's file name: the client's, with the
// format's extension added when missing, or "archive-<time>.<format>".
func archiveName(name, format string) (string, error) {
	if name == "" {
		return "archive-" + time.Now().UTC().Format("2006-01-02T150405") + "." + format, nil
	}
	name, err := baseName(name)
	if err != nil {
		return "", err
	}
	lower := strings.ToLower(name)
	switch {
	case format == wire.ArchiveZip && strings.HasSuffix(lower, ".zip"):
	case format == wire.ArchiveTarGz && (strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz")):
	default:
		name += "." + format
	}
	return name, nil
}

// archivePath is rel's name inside an archive of directory dir.
func archivePath(dir, rel string) string {
	if dir == "." {
		return rel
	}
	if rel == dir {
		return "."
	}
	return strings.TrimPrefix(rel, dir+"/")
}

// archiver writes entries of one archive format.
type archiver interface {
	dir(name string, fi fs.FileInfo) error
	symlink(name, target string, fi fs.FileInfo) error
	// file returns the writer of the file's size bytes.
	file(name string, fi fs.FileInfo) (io.Writer, error)
	Close() error
}

func newArchiver(format string, w io.Writer) archiver {
	if format == wire.ArchiveZip {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.DefaultCompression)
		})
		return zipArchiver{zw}
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression) // a valid level: no error
	return &tarArchiver{gz: gz, tw: tar.NewWriter(gz)}
}

type tarArchiver struct {
	gz *gzip.Writer
	tw *tar.Writer
}

func tarHeader(name string, fi fs.FileInfo) *tar.Header {
	return &tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), ModTime: fi.ModTime().Truncate(time.Second)}
}

func (a *tarArchiver) dir(name string, fi fs.FileInfo) error {
	h := tarHeader(name+"/", fi)
	h.Typeflag = tar.TypeDir
	return a.tw.WriteHeader(h)
}

func (a *tarArchiver) symlink(name, target string, fi fs.FileInfo) error {
	h := tarHeader(name, fi)
	h.Typeflag, h.Linkname = tar.TypeSymlink, target
	return a.tw.WriteHeader(h)
}

func (a *tarArchiver) file(name string, fi fs.FileInfo) (io.Writer, error) {
	h := tarHeader(name, fi)
	h.Typeflag, h.Size = tar.TypeReg, fi.Size()
	return a.tw, a.tw.WriteHeader(h)
}

func (a *tarArchiver) Close() error {
	if err := a.tw.Close(); err != nil {
		return err
	}
	return a.gz.Close()
}

type zipArchiver struct{ zw *zip.Writer }

func zipHeader(name string, fi fs.FileInfo, method uint16) *zip.FileHeader {
	h := &zip.FileHeader{Name: name, Method: method, Modified: fi.ModTime()}
	h.SetMode(fi.Mode())
	return h
}

func (a zipArchiver) dir(name string, fi fs.FileInfo) error {
	_, err := a.zw.CreateHeader(zipHeader(name+"/", fi, zip.Store))
	return err
}

func (a zipArchiver) symlink(name, target string, fi fs.FileInfo) error {
	w, err := a.zw.CreateHeader(zipHeader(name, fi, zip.Store))
	if err == nil {
		_, err = io.WriteString(w, target)
	}
	return err
}

func (a zipArchiver) file(name string, fi fs.FileInfo) (io.Writer, error) {
	return a.zw.CreateHeader(zipHeader(name, fi, zip.Deflate))
}

func (a zipArchiver) Close() error { return a.zw.Close() }

// walker adds volume trees to an archive.
type walker struct {
	v    *Volume
	ctx  context.Context
	skip string // the archive being written
	buf  []byte
}

// add archives rel as name, and what it holds.
func (w *walker) add(a archiver, rel, name string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if rel == w.skip || w.v.Denied(rel) {
		return nil
	}
	fi, err := w.v.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed meanwhile
	}
	if err != nil {
		return fail("compress", rel, err)
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		target, err := w.v.root.Readlink(rel)
		if err != nil {
			return fail("compress", rel, err)
		}
		return a.symlink(name, target, fi)
	case m.IsDir():
		if name != "." {
			if err := a.dir(name, fi); err != nil {
				return err
			}
		}
		d, err := w.v.root.Open(rel)
		if err != nil {
			return fail("compress", rel, err)
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			return fail("compress", rel, err)
		}
		slices.Sort(names)
		for _, n := range names {
			child := n
			if name != "." {
				child = name + "/" + n
			}
			if err := w.add(a, path.Join(rel, n), child); err != nil {
				return err
			}
		}
		return nil
	case m.IsRegular():
		return w.file(a, rel, name)
	}
	return nil // FIFOs, sockets, devices
}

func (w *walker) file(a archiver, rel, name string) error {
	f, fi, err := w.v.openRegular(rel)
	if err != nil {
		return fail("compress", rel, err)
	}
	if f == nil {
		return nil // no longer a regular file
	}
	defer f.Close()
	out, err := a.file(name, fi)
	if err != nil {
		return err
	}
	// Exactly the size in the header: a file that shrank or grew since
	// cannot be archived as it was.
	n, err := io.CopyBuffer(onlyWriter{out}, io.LimitReader(ctxReader{w.ctx, f}, fi.Size()), w.buf)
	if err != nil {
		return fail("compress", rel, err)
	}
	if n != fi.Size() {
		return fail("compress", rel, fmt.Errorf("it changed while being archived"))
	}
	return nil
}

// onlyWriter hides everything but Write, so copies go through the one
// buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
