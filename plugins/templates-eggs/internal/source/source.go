// Package source is the templates-eggs plugin's template source: the
// Pterodactyl eggs of a directory, and eggs administrators upload,
// converted by package egg.
package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/templates-eggs/internal/egg"
	"catalyst.dev/sdk/plugin"
)

// Version is reported by Info.
const Version = "1.0.0"

// Source is a plugin.TemplateSource over Pterodactyl eggs.
type Source struct {
	log hclog.Logger

	mu  sync.RWMutex
	dir string // absolute; empty: no directory, uploads only
}

var _ plugin.TemplateSource = (*Source)(nil)

// New returns an unconfigured source that logs to log.
func New(log hclog.Logger) *Source { return &Source{log: log} }

func (s *Source) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "templates-eggs", Kind: plugin.KindTemplateSource, Version: Version}, nil
}

func (s *Source) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{{
		Name: "directory", Type: plugin.TypeString,
		Description: "Directory searched, with its subdirectories, for egg files (*.json). " +
			"A relative path is relative to the core's working directory. Empty: no listed templates, only uploaded eggs.",
	}}}, nil
}

func (s *Source) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		Directory string `json:"directory"`
	}
	if err := cfg.Decode(&c); err != nil {
		return fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	dir := ""
	if c.Directory != "" {
		abs, err := filepath.Abs(c.Directory)
		if err != nil {
			return fmt.Errorf("config: directory %q: %w: %w", c.Directory, err, plugin.ErrInvalidArgument)
		}
		if fi, err := os.Stat(abs); err != nil {
			return fmt.Errorf("config: directory %q cannot be read: %w: %w", c.Directory, err, plugin.ErrInvalidArgument)
		} else if !fi.IsDir() {
			return fmt.Errorf("config: directory %q is not a directory: %w", c.Directory, plugin.ErrInvalidArgument)
		}
		dir = abs
	}
	s.mu.Lock()
	s.dir = dir
	s.mu.Unlock()
	return nil
}

// root opens the configured directory; nil without one.
func (s *Source) root() (*os.Root, error) {
	s.mu.RLock()
	dir := s.dir
	s.mu.RUnlock()
	if dir == "" {
		return nil, nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("egg directory %s: %w: %w", dir, err, plugin.ErrUnavailable)
	}
	return root, nil
}

// List converts every egg file under the directory, each time, so a
// changed file shows at once. Files that do not convert are logged and
// left out.
func (s *Source) List(ctx context.Context) ([]plugin.TemplateSummary, error) {
	root, err := s.root()
	if root == nil {
		return nil, err
	}
	defer root.Close()
	var list []plugin.TemplateSummary
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.log.Warn("cannot read part of the egg directory", "path", p, "error", err)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Links are followed by load, as far as they stay inside.
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		t, err := load(root, strings.TrimSuffix(p, ".json"))
		if err != nil {
			s.log.Warn("egg skipped", "file", filepath.Join(root.Name(), p), "error", err)
			return nil
		}
		list = append(list, plugin.TemplateSummary{ID: t.ID, Name: t.Name, Description: t.Description, Version: t.Version})
		return nil
	})
	return list, err
}

// Fetch converts the egg file <id>.json of the directory. IDs that leave
// the directory are unknown, like missing files.
func (s *Source) Fetch(_ context.Context, id string) (plugin.Template, error) {
	if !validID(id) {
		return plugin.Template{}, fmt.Errorf("template %q: %w", id, plugin.ErrNotFound)
	}
	root, err := s.root()
	if err != nil {
		return plugin.Template{}, err
	}
	if root == nil {
		return plugin.Template{}, fmt.Errorf("template %q: %w", id, plugin.ErrNotFound)
	}
	defer root.Close()
	return load(root, id)
}

// validID accepts IDs as List makes them: slash-separated paths inside
// the directory, without the .json.
func validID(id string) bool {
	return id != "" && !strings.Contains(id, `\`) && fs.ValidPath(id+".json") && path.Clean(id) == id
}

// load converts <id>.json under root. A file that cannot be read
// (missing, not a regular file, a link out of the directory) is no such
// template here: ErrNotFound.
func load(root *os.Root, id string) (plugin.Template, error) {
	data, err := read(root, id)
	if err != nil {
		return plugin.Template{}, fmt.Errorf("template %q: %w: %w", id, err, plugin.ErrNotFound)
	}
	t, err := egg.Convert(id, data)
	if err != nil {
		return plugin.Template{}, fmt.Errorf("egg %s.json: %w", id, err)
	}
	return t, nil
}

// read reads <id>.json under root; os.Root keeps the read inside the
// directory whatever symbolic links say.
func read(root *os.Root, id string) ([]byte, error) {
	f, err := root.Open(filepath.FromSlash(id + ".json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s.json is not a regular file", id)
	}
	// One byte more than egg.Convert accepts, so it sees the file is too
	// large.
	return io.ReadAll(io.LimitReader(f, egg.MaxSize+1))
}

// Parse converts an uploaded egg; its ID is the file name without
// directories and without .json.
func (s *Source) Parse(_ context.Context, name string, data []byte) (plugin.Template, error) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	id := strings.TrimSuffix(base, ".json")
	if id == "" || id == "." || id == "/" {
		id = "uploaded-egg"
	}
	t, err := egg.Convert(id, data)
	if err != nil {
		return plugin.Template{}, fmt.Errorf("egg %s: %w", base, err)
	}
	return t, nil
}
