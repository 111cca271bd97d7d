// Package configfiles rewrites the config files a server's template names
// (wire.ConfigFile) in the server's volume before each start: the port in
// server.properties, the listener's address in a proxy's config.yml.
//
// Each file is read and written through the volume (package files), so a
// symlink the game or a user planted ("server.properties" → /etc/passwd,
// "config" → /) can neither be read nor written through; writes go to a
// temp file renamed into place, keep the file's mode, belong to the game's
// user and count against the disk quota. Each parser changes only what a
// replacement names and keeps the rest of the file: comments, order and,
// for the line-based formats, spacing.
//
// One file failing (it does not parse, it leads out of the volume) does not
// stop the others; a replacement that cannot be carried out (an index past
// the end of a list) is skipped and the rest of its file is still written.
// Apply reports both.
package configfiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

// MaxFileBytes is the size of the largest file Apply rewrites; a config
// file larger than this is most likely not one, and is left alone.
const MaxFileBytes = 8 << 20

// Error is a config file that was left as it was, or, when Skipped, one
// replacement in it that was skipped while the others were written.
type Error struct {
	// Path is the file's path as the template gives it.
	Path   string
	Parser string
	// Skipped says the error is one replacement's, whose Match it holds.
	Skipped bool
	Match   string
	Err     error
}

func (e *Error) Error() string {
	if e.Skipped {
		return fmt.Sprintf("config file %s (%s): %q not set: %v", e.Path, e.Parser, e.Match, e.Err)
	}
	return fmt.Sprintf("config file %s (%s) left as it was: %v", e.Path, e.Parser, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Apply rewrites each file of list in v, in order. The error joins one
// *Error per file that failed and per replacement that was skipped; nil
// means every value was set.
func Apply(ctx context.Context, v *files.Volume, list []wire.ConfigFile) error {
	var errs []error
	for _, cf := range list {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		skipped, err := applyFile(ctx, v, cf)
		if err != nil {
			errs = append(errs, &Error{Path: cf.Path, Parser: cf.Parser, Err: err})
			continue
		}
		for _, s := range skipped {
			errs = append(errs, &Error{Path: cf.Path, Parser: cf.Parser, Skipped: true, Match: s.match, Err: s.err})
		}
	}
	return errors.Join(errs...)
}

// skip is a replacement that could not be carried out.
type skip struct {
	match string
	err   error
}

// rewrite applies a file's replacements, none with an empty Match, to its
// content (nil for a file that does not exist) and returns the new
// content; an error leaves the file as it was.
type rewrite func(content []byte, repl []wire.ConfigReplace) (out []byte, skipped []skip, err error)

var parsers = map[string]rewrite{
	wire.ParserProperties: rewriteProperties,
	wire.ParserYAML:       rewriteYAML,
	wire.ParserJSON:       rewriteJSON,
	wire.ParserINI:        rewriteINI,
	wire.ParserFile:       rewriteLines,
}

// applyFile reads cf's file, rewrites it and writes it back when it
// changed (or did not exist).
func applyFile(ctx context.Context, v *files.Volume, cf wire.ConfigFile) ([]skip, error) {
	fn, ok := parsers[cf.Parser]
	if !ok {
		return nil, fmt.Errorf("unknown parser %q (want properties, yaml, json, ini or file)", cf.Parser)
	}
	content, err := read(v, cf.Path)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case missing && cf.Parser == wire.ParserFile:
		return nil, nil // nothing to replace lines in
	case err != nil && !missing:
		return nil, err
	}
	repl, skipped := withMatch(cf.Replace)
	out, more, err := fn(content, repl)
	if err != nil {
		return nil, err
	}
	skipped = append(skipped, more...)
	if missing || !bytes.Equal(out, content) {
		if _, err := v.Write(ctx, cf.Path, bytes.NewReader(out)); err != nil {
			return nil, err
		}
	}
	return skipped, nil
}

var errEmptyMatch = errors.New("the match is empty")

// withMatch splits repl into the replacements with a Match, for the
// parsers, and skips for those without.
func withMatch(repl []wire.ConfigReplace) ([]wire.ConfigReplace, []skip) {
	var skipped []skip
	ok := make([]wire.ConfigReplace, 0, len(repl))
	for _, r := range repl {
		if r.Match == "" {
			skipped = append(skipped, skip{r.Match, errEmptyMatch})
			continue
		}
		ok = append(ok, r)
	}
	return ok, skipped
}

// read returns the content of the regular file p, refusing files past
// MaxFileBytes. A missing file fails with an error matching
// fs.ErrNotExist.
func read(v *files.Volume, p string) ([]byte, error) {
	f, fi, err := v.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := fmt.Errorf("it is larger than %d MiB, too large for a config file", MaxFileBytes>>20)
	if fi.Size() > MaxFileBytes {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileBytes {
		return nil, tooLarge
	}
	return b, nil
}
