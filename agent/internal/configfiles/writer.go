package configfiles

import (
	"context"
	"fmt"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

// Writer rewrites servers' config files for the server manager before
// each start (it is a servers.ConfigWriter).
type Writer struct {
	quota    files.Quota
	uid, gid int
}

// NewWriter returns a Writer whose writes quota approves (nil: no limit)
// and whose new files belong to uid:gid, the game's user (-1 keeps the
// agent's own).
func NewWriter(quota files.Quota, uid, gid int) *Writer {
	return &Writer{quota: quota, uid: uid, gid: gid}
}

// WriteConfigFiles applies list (see Apply) to server id's volume at dir.
//
// The template's denylist does not apply: it hides files from the file
// manager and SFTP, and a template may well hide the very config file it
// has the agent fill in (an RCON password's). What the volume refuses (a
// path out of it, a FIFO) is refused all the same.
func (w *Writer) WriteConfigFiles(ctx context.Context, id, dir string, list []wire.ConfigFile) error {
	if len(list) == 0 {
		return nil
	}
	v, err := files.OpenVolume(id, dir, nil, w.quota, w.uid, w.gid)
	if err != nil {
		return fmt.Errorf("config files: %w", err)
	}
	defer v.Close()
	return Apply(ctx, v, list)
}
