package files

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"catalyst.dev/sdk/wire"
)

// Listing and search bounds.
const (
	DefaultListLimit   = 1000
	MaxListLimit       = 10000
	DefaultSearchLimit = 100
	MaxSearchLimit     = 1000
	// maxSearchVisits bounds one search's walk, so a volume of millions
	// of files answers in bounded time (with what it found so far).
	maxSearchVisits = 200_000
)

// Sort orders of a listing.
const (
	SortName     = "name"
	SortSize     = "size"
	SortModified = "modified"
)

// ListOptions pages and orders a listing. The zero value is the first
// DefaultListLimit entries by name.
type ListOptions struct {
	Offset int
	// Limit is at most MaxListLimit; 0 means DefaultListLimit.
	Limit int
	// Sort is SortName (the default), SortSize or SortModified.
	Sort string
	Desc bool
}

func (o *ListOptions) check() error {
	if o.Offset < 0 {
		return fmt.Errorf("%w: offset %d is negative", ErrInvalid, o.Offset)
	}
	switch {
	case o.Limit == 0:
		o.Limit = DefaultListLimit
	case o.Limit < 0 || o.Limit > MaxListLimit:
		return fmt.Errorf("%w: limit %d is not between 1 and %d", ErrInvalid, o.Limit, MaxListLimit)
	}
	switch o.Sort {
	case "":
		o.Sort = SortName
	case SortName, SortSize, SortModified:
	default:
		return fmt.Errorf("%w: sort %q: want name, size or modified", ErrInvalid, o.Sort)
	}
	return nil
}

// List returns one page of directory p's entries: directories first, then
// the rest, each group ordered as opts says. Entries the denylist hides
// are left out (and not counted); symlinks are reported as symlinks, not
// by what they point to. The whole directory is read, however large, so
// that the order holds across pages.
func (v *Volume) List(ctx context.Context, p string, opts ListOptions) (wire.FileList, error) {
	if err := opts.check(); err != nil {
		return wire.FileList{}, err
	}
	rel, err := v.Locate(p)
	if err != nil {
		return wire.FileList{}, err
	}
	entries, err := v.readDir(ctx, rel)
	if err != nil {
		return wire.FileList{}, fail("list", rel, err)
	}
	sortEntries(entries, opts.Sort, opts.Desc)
	out := wire.FileList{Path: Display(rel), Total: len(entries), Offset: opts.Offset, Entries: []wire.FileInfo{}}
	if opts.Offset < len(entries) {
		out.Entries = entries[opts.Offset:min(len(entries), opts.Offset+opts.Limit)]
	}
	return out, nil
}

// readDir describes rel's entries (following rel if it is a symlink),
// leaving out what the denylist hides.
func (v *Volume) readDir(ctx context.Context, rel string) ([]wire.FileInfo, error) {
	pf, real, fi, err := v.follow(rel)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: it is not a directory", ErrInvalid)
	}
	if v.Denied(real) {
		return nil, fmt.Errorf("%w: it leads to %s", ErrDenied, Display(real))
	}
	d, err := reopen(pf, os.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []wire.FileInfo
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, err := d.ReadDir(1024)
		for _, e := range batch {
			child := path.Join(rel, e.Name())
			if v.Denied(child) || v.Denied(path.Join(real, e.Name())) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the directory was read
			}
			if err != nil {
				return nil, err
			}
			out = append(out, FileInfo(child, info))
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
	}
}

func sortEntries(es []wire.FileInfo, by string, desc bool) {
	slices.SortStableFunc(es, func(a, b wire.FileInfo) int {
		if a.IsDir != b.IsDir {
			if a.IsDir {
				return -1
			}
			return 1
		}
		var c int
		switch by {
		case SortSize:
			c = cmp.Compare(a.Size, b.Size)
		case SortModified:
			c = a.Modified.Compare(b.Modified)
		}
		if c == 0 {
			c = cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
		}
		if desc {
			return -c
		}
		return c
	})
}

// Search finds entries under directory p whose name holds query, ignoring
// case; at most limit (0 means DefaultSearchLimit, at most
// MaxSearchLimit). Symlinks are not followed and what the denylist hides
// is neither reported nor searched; a walk stops after visiting 200,000
// entries.
func (v *Volume) Search(ctx context.Context, p, query string, limit int) (wire.FileList, error) {
	switch {
	case strings.TrimSpace(query) == "":
		return wire.FileList{}, fmt.Errorf("%w: the search query is empty", ErrInvalid)
	case limit == 0:
		limit = DefaultSearchLimit
	case limit < 0 || limit > MaxSearchLimit:
		return wire.FileList{}, fmt.Errorf("%w: limit %d is not between 1 and %d", ErrInvalid, limit, MaxSearchLimit)
	}
	rel, err := v.Locate(p)
	if err != nil {
		return wire.FileList{}, err
	}
	pf, start, fi, err := v.follow(rel)
	if err != nil {
		return wire.FileList{}, fail("search", rel, err)
	}
	pf.Close()
	if !fi.IsDir() {
		return wire.FileList{}, fail("search", rel, fmt.Errorf("%w: it is not a directory", ErrInvalid))
	}
	if v.Denied(start) {
		return wire.FileList{}, fmt.Errorf("%w: %s", ErrDenied, Display(rel))
	}
	q := strings.ToLower(query)
	out := wire.FileList{Path: Display(rel), Entries: []wire.FileInfo{}}
	visits := 0
	// WalkDir does not follow symlinks: it descends only into what Lstat
	// calls a directory, and the root keeps a directory swapped for a
	// symlink meanwhile inside the volume.
	err = fs.WalkDir(v.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == start {
				return err
			}
			return nil // unreadable below the start: search the rest
		}
		if name == start {
			return nil
		}
		if visits++; visits > maxSearchVisits || len(out.Entries) >= limit {
			return fs.SkipAll
		}
		if visits%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if v.Denied(name) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if strings.Contains(strings.ToLower(d.Name()), q) {
			info, err := d.Info()
			if err != nil {
				return nil
			}
			out.Entries = append(out.Entries, FileInfo(name, info))
		}
		return nil
	})
	if err != nil {
		return wire.FileList{}, fail("search", rel, err)
	}
	out.Total = len(out.Entries)
	return out, nil
}
