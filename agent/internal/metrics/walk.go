package metrics

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// walkResult is what a walk of a volume found.
type walkResult struct {
	// Bytes adds up the apparent size (st_size) of the regular files,
	// each inode once. Directories, symlinks and special files count
	// nothing: the figure is what a user sees as file sizes, and what
	// writes through the agent grow.
	Bytes uint64
	// Skipped counts entries that could not be read; FirstSkip says why
	// the first of them could not.
	Skipped   int
	FirstSkip error
}

// ctxCheckEvery is how many entries a walk visits between looks at its
// context: often enough to stop a huge walk at once, rarely enough to cost
// nothing.
const ctxCheckEvery = 256

// walkVolume measures the volume at root. It never follows a symlink and
// never descends into another mount (a bind mount or a file system
// someone mounted inside the volume belongs to someone else); an
// unreadable entry is skipped and counted. A missing root is an empty
// volume. Only ctx ending or an unreadable root make it fail.
func walkVolume(ctx context.Context, root string) (walkResult, error) {
	var res walkResult
	// The volume path is the agent's own (data_dir/volumes/<id>), so a
	// symlink at the root itself — data_dir on another disk — is followed.
	dir, err := filepath.EvalSymlinks(root)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("disk usage of %s: %w", root, err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return res, fmt.Errorf("disk usage of %s: %w", root, err)
	}
	rootSt, ok := info.Sys().(*syscall.Stat_t)
	if !ok || !info.IsDir() {
		return res, fmt.Errorf("disk usage of %s: not a directory", root)
	}
	type inode struct{ dev, ino uint64 }
	// Only files with more than one link can be met twice.
	linked := map[inode]struct{}{}
	visited := 0
	skip := func(path string, err error) {
		res.Skipped++
		if res.FirstSkip == nil {
			res.FirstSkip = fmt.Errorf("%s: %w", path, err)
		}
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if visited++; visited%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err != nil {
			if path == dir && d == nil {
				return err
			}
			// A directory that could not be listed (WalkDir calls again
			// with the error), or an entry gone since it was listed.
			if !errors.Is(err, fs.ErrNotExist) {
				skip(path, err)
			}
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				skip(path, err)
			}
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			skip(path, errors.New("no stat information"))
			return nil
		}
		if d.IsDir() {
			if st.Dev != rootSt.Dev {
				return fs.SkipDir
			}
			return nil
		}
		if st.Nlink > 1 {
			key := inode{uint64(st.Dev), st.Ino}
			if _, seen := linked[key]; seen {
				return nil
			}
			linked[key] = struct{}{}
		}
		res.Bytes += uint64(info.Size())
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("disk usage of %s: %w", root, err)
	}
	return res, ctx.Err()
}
