package files

import (
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"catalyst.dev/sdk/wire"
)

// Stat describes p itself; a symlink is reported as one, not followed.
func (v *Volume) Stat(p string) (wire.FileInfo, error) {
	rel, err := v.Locate(p)
	if err != nil {
		return wire.FileInfo{}, err
	}
	return v.info(rel)
}

// info describes rel, not following a final symlink.
func (v *Volume) info(rel string) (wire.FileInfo, error) {
	fi, err := v.root.Lstat(rel)
	if err != nil {
		return wire.FileInfo{}, fail("stat", rel, err)
	}
	return FileInfo(rel, fi), nil
}

// FileInfo describes fi, found at rel (a Clean path), as clients see it.
func FileInfo(rel string, fi fs.FileInfo) wire.FileInfo {
	m := fi.Mode()
	name := path.Base(rel)
	if rel == "." {
		name = "/"
	}
	return wire.FileInfo{
		Name:       name,
		Path:       Display(rel),
		Size:       fi.Size(),
		Mode:       fmt.Sprintf("%04o", m.Perm()),
		ModeString: lsMode(m),
		IsDir:      m.IsDir(),
		IsSymlink:  m&fs.ModeSymlink != 0,
		Modified:   fi.ModTime().UTC(),
		MimeType:   mimeType(name, m),
	}
}

// lsMode is m as ls -l prints it ("drwxr-xr-x", "lrwxrwxrwx"); Go's own
// FileMode.String differs for symlinks, devices and the special bits.
func lsMode(m fs.FileMode) string {
	var b [10]byte
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	default:
		b[0] = '-'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		} else {
			b[i+1] = '-'
		}
	}
	special := func(i int, set bool, on, off byte) {
		if !set {
			return
		}
		if b[i] == '-' {
			b[i] = off
		} else {
			b[i] = on
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b[:])
}

// isText says whether ext is one of the files game servers are
// configured with, which the system's MIME table rarely knows: the panel
// opens them in its editor.
func isText(ext string) bool {
	switch ext {
	case ".properties", ".yml", ".yaml", ".toml", ".cfg", ".conf", ".ini", ".log", ".txt",
		".json5", ".lang", ".sk", ".sh", ".env", ".md", ".csv", ".lua", ".js", ".xml", ".mcmeta":
		return true
	}
	return false
}

func mimeType(name string, m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "inode/directory"
	case m&fs.ModeSymlink != 0:
		return "inode/symlink"
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == ".json" {
		return "application/json"
	}
	if isText(ext) {
		return "text/plain"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
		return t
	}
	return "application/octet-stream"
}
