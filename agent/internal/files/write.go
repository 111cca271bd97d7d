package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"os"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"catalyst.dev/sdk/wire"
)

// chunk is the size of each quota check and of the one buffer a copy
// uses: a write of any size costs this much memory.
const chunk = 1 << 20

// quotaWriter asks the volume's quota before each chunk it writes, so a
// write stops at the disk limit instead of after it.
type quotaWriter struct {
	v *Volume
	w io.Writer
}

func (q quotaWriter) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		c := p[:min(len(p), chunk)]
		if err := q.v.CheckWrite(uint64(len(c))); err != nil {
			return n, err
		}
		m, err := q.w.Write(c)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(c):]
	}
	return n, nil
}

// NewQuotaWriter wraps w so that every write is approved by the volume's
// quota first, chunk by chunk.
func (v *Volume) NewQuotaWriter(w io.Writer) io.Writer { return quotaWriter{v: v, w: w} }

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// limitReader fails with ErrTooLarge once more than n bytes come.
type limitReader struct {
	r    io.Reader
	n    int64
	err  error // what to fail with
	read int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	rem := l.n - l.read
	if rem < 0 {
		return 0, l.err
	}
	if rem < int64(len(p)) {
		p = p[:rem+1] // one more than allowed, to tell "exactly n" from "more"
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.read > l.n {
		return n, l.err
	}
	return n, err
}

// LimitReader reads r, failing with ErrTooLarge (naming the limit) once
// more than n bytes come.
func LimitReader(r io.Reader, n int64) io.Reader {
	return &limitReader{r: r, n: n, err: fmt.Errorf("%w: the upload is larger than its limit of %s", ErrTooLarge, formatBytes(n))}
}

// copyBuffer copies r to w with one chunk-sized buffer, never through
// ReadFrom/WriteTo, so every write passes w's checks chunk by chunk.
func copyBuffer(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, chunk)
	var n int64
	rr := ctxReader{ctx: ctx, r: r}
	for {
		m, rerr := io.ReadFull(rr, buf)
		if m > 0 {
			wn, err := w.Write(buf[:m])
			n += int64(wn)
			if err != nil {
				return n, err
			}
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return n, nil
		case rerr != nil:
			return n, rerr
		}
	}
}

// Write replaces the content of file p with r: streamed to a temp file
// in p's directory, synced, given the old file's mode (0644 for a new
// one) and the game's user, and renamed over p. On any error the temp
// file goes and the old file stays as it was. Missing parent directories
// are created (and removed again if the write fails). A symlink at p is
// written through when it leads to a file in the volume.
func (v *Volume) Write(ctx context.Context, p string, r io.Reader) (wire.FileInfo, error) {
	rel, err := v.Locate(p)
	if err != nil {
		return wire.FileInfo{}, err
	}
	return v.replace(ctx, rel, r)
}

func (v *Volume) replace(ctx context.Context, rel string, r io.Reader) (wire.FileInfo, error) {
	if rel == "." {
		return wire.FileInfo{}, fail("write", rel, fmt.Errorf("%w: it is the volume's top directory", ErrInvalid))
	}
	target, mode, err := v.writeTarget(rel)
	if err != nil {
		return wire.FileInfo{}, fail("write", rel, err)
	}
	made, err := v.mkdirs(path.Dir(target))
	if err != nil {
		return wire.FileInfo{}, fail("write", rel, err)
	}
	if err := v.writeTemp(ctx, target, mode, r); err != nil {
		v.unmake(made)
		return wire.FileInfo{}, fail("write", rel, err)
	}
	return v.info(target)
}

// writeTarget is the path a write to rel replaces and the mode it keeps.
func (v *Volume) writeTarget(rel string) (string, fs.FileMode, error) {
	fi, err := v.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return rel, 0o644, nil
	case err != nil:
		return "", 0, err
	case fi.Mode()&fs.ModeSymlink != 0:
		pf, real, tfi, err := v.follow(rel)
		if errors.Is(err, fs.ErrNotExist) {
			return rel, 0o644, nil // a dangling link: replaced by the file
		}
		if err != nil {
			return "", 0, err
		}
		pf.Close()
		if v.Denied(real) {
			return "", 0, fmt.Errorf("%w: it leads to %s", ErrDenied, Display(real))
		}
		if err := regular(tfi); err != nil {
			return "", 0, err
		}
		return real, tfi.Mode().Perm(), nil
	}
	if err := regular(fi); err != nil {
		return "", 0, err
	}
	return rel, fi.Mode().Perm(), nil
}

// writeTemp streams r into a new temp file beside target and renames it
// over target.
func (v *Volume) writeTemp(ctx context.Context, target string, mode fs.FileMode, r io.Reader) error {
	return v.viaTemp(path.Dir(target), target, mode, true, func(f *os.File, _ string) error {
		if real, err := v.RelOf(f); err != nil {
			return err
		} else if final := path.Join(path.Dir(real), path.Base(target)); v.Denied(final) {
			return fmt.Errorf("%w: it leads to %s", ErrDenied, Display(final))
		}
		_, err := copyBuffer(ctx, v.NewQuotaWriter(f), r)
		return err
	})
}

// viaTemp makes a file at dst by way of a temp file in dir: fill writes
// it (f, named tmp in the volume), then it gets mode, is synced and given to the game's user, and takes
// its place — renamed over dst when replace, else linked, so that a file
// that appeared at dst meanwhile is never replaced. The temp name never
// outlives the call, so a failure leaves dst as it was.
func (v *Volume) viaTemp(dir, dst string, mode fs.FileMode, replace bool, fill func(f *os.File, tmp string) error) error {
	f, tmp, err := v.createTemp(dir)
	if err != nil {
		return err
	}
	err = func() error {
		defer f.Close()
		if err := fill(f, tmp); err != nil {
			return err
		}
		if err := f.Chmod(mode); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		return f.Close()
	}()
	if err == nil {
		if err = v.Own(tmp); err == nil {
			if replace {
				err = v.root.Rename(tmp, dst)
			} else {
				err = v.root.Link(tmp, dst)
			}
		}
	}
	if err != nil || !replace {
		_ = v.root.Remove(tmp)
	}
	return err
}

// tempPrefix starts the names of the agent's temp files and directories,
// which a failed operation removes and which archives leave out.
const tempPrefix = ".catalyst-"

// tempName is a fresh temp name in dir.
func tempName(dir string) string {
	return path.Join(dir, tempPrefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
}

// createTemp creates a new empty file in dir, only the agent's for now.
func (v *Volume) createTemp(dir string) (*os.File, string, error) {
	for range 100 {
		name := tempName(dir)
		f, err := v.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("no free temp file name in %s", Display(dir))
}

// mkdirs makes dir and its missing parents, each owned by the game's
// user, and returns those it made, deepest last.
func (v *Volume) mkdirs(dir string) ([]string, error) {
	if dir == "." {
		return nil, nil
	}
	var made []string
	parts := strings.Split(dir, "/")
	for i := range parts {
		d := strings.Join(parts[:i+1], "/")
		fi, err := v.root.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				v.unmake(made)
				return nil, fmt.Errorf("%w: %s is not a directory", ErrInvalid, Display(d))
			}
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			v.unmake(made)
			return nil, err
		}
		if err := v.root.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			v.unmake(made)
			return nil, err
		}
		made = append(made, d)
		if err := v.Own(d); err != nil {
			v.unmake(made)
			return nil, err
		}
	}
	return made, nil
}

// unmake removes the directories mkdirs made, if they are still empty.
func (v *Volume) unmake(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		_ = v.root.Remove(made[i])
	}
}

// baseName checks a file name a client gave (an upload's, a pull's): its
// last path element, with no control characters, at most 255 bytes.
func baseName(name string) (string, error) {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	switch {
	case base == "." || base == ".." || base == "/" || strings.TrimSpace(base) == "":
		return "", fmt.Errorf("%w: file name %q names no file", ErrInvalid, name)
	case len(base) > 255:
		return "", fmt.Errorf("%w: file name %q is longer than 255 bytes", ErrInvalid, name)
	case !utf8.ValidString(base):
		return "", fmt.Errorf("%w: file name %q is not UTF-8", ErrInvalid, name)
	}
	for _, r := range base {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: file name %q holds a control character", ErrInvalid, name)
		}
	}
	return base, nil
}

// Upload writes each "files" part of a multipart body into directory
// dir (created if missing), named by the part's file name, as Write
// does; other parts are skipped. The parts together may hold maxBytes (0:
// no limit); past that the upload fails with ErrTooLarge. A failed part
// leaves nothing behind; the files before it stay, and the error names
// them.
func (v *Volume) Upload(ctx context.Context, dir string, mr *multipart.Reader, maxBytes int64) ([]wire.FileInfo, error) {
	dirRel, err := v.Locate(dir)
	if err != nil {
		return nil, err
	}
	if maxBytes <= 0 {
		maxBytes = 1<<63 - 1
	}
	tooLarge := fmt.Errorf("%w: the upload is larger than its limit of %s", ErrTooLarge, formatBytes(maxBytes))
	done := []wire.FileInfo{}
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return done, uploaded(done, fmt.Errorf("%w: multipart body: %v", ErrInvalid, err))
		}
		if part.FormName() != "files" {
			part.Close()
			continue
		}
		name, err := baseName(part.FileName())
		if err != nil {
			return done, uploaded(done, err)
		}
		rel, err := v.Locate(path.Join(Display(dirRel), name))
		if err != nil {
			return done, uploaded(done, err)
		}
		lr := &limitReader{r: part, n: maxBytes - total, err: tooLarge}
		fi, err := v.replace(ctx, rel, lr)
		total += lr.read
		if err != nil {
			return done, uploaded(done, err)
		}
		done = append(done, fi)
	}
	if len(done) == 0 {
		return done, fmt.Errorf("%w: the upload holds no \"files\" part", ErrInvalid)
	}
	return done, nil
}

// uploaded adds to err which files were written before it.
func uploaded(done []wire.FileInfo, err error) error {
	if len(done) == 0 {
		return err
	}
	names := make([]string, len(done))
	for i, fi := range done {
		names[i] = fi.Path
	}
	return fmt.Errorf("%w (uploaded before it: %s)", err, strings.Join(names, ", "))
}

// formatBytes is n in the largest binary unit that keeps it readable
// ("1.5 GiB").
func formatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, unit := float64(n)/1024, 0
	for f >= 1024 && unit < 5 {
		f /= 1024
		unit++
	}
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0") + " " + "KMGTPE"[unit:unit+1] + "iB"
}
