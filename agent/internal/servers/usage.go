package servers

import "sort"

// Volume is what the resource collector needs to know of one configured
// server: where its files are, how much disk it may use and whether a
// process of it runs.
type Volume struct {
	ID   string
	Path string
	// DiskLimitBytes is the config's disk_mb in bytes; 0 means no limit.
	DiskLimitBytes uint64
	// Running is true while the agent watches a process of the server.
	Running bool
	// Process tells processes apart: two Volumes of a server carry equal
	// values exactly when they saw the same process, so that a CPU counter
	// is never compared across a restart. It is the zero Process when
	// nothing runs.
	Process Process
}

// Process identifies one process the agent watches (see Volume.Process).
type Process struct{ r *run }

// Volumes describes every configured server, ordered by ID. It takes no
// runtime call and never blocks for long.
func (m *Manager) Volumes() []Volume {
	m.mu.Lock()
	all := make([]*server, 0, len(m.servers))
	for _, s := range m.servers {
		all = append(all, s)
	}
	m.mu.Unlock()
	out := make([]Volume, 0, len(all))
	for _, s := range all {
		s.mu.Lock()
		cfg, r, deleted := s.rec.Config, s.run, s.deleted
		s.mu.Unlock()
		if cfg.ID == "" || deleted {
			continue
		}
		v := Volume{ID: s.id, Path: m.volume(s.id), Running: r != nil, Process: Process{r}}
		if cfg.DiskMB > 0 {
			v.DiskLimitBytes = uint64(cfg.DiskMB) << 20
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
