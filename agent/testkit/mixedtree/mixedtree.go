// Package mixedtree writes a deterministic tree that looks like a game
// server's volume to backup code: many small text files (configs, JSON,
// player data), mid-size logs and world data, a few big incompressible
// files (region files, jars, rotated .gz logs), nested directories, a
// couple of symlinks and the modes servers really have. The same size and
// seed always give the same tree, byte for byte, modes and mtimes included.
//
// It is the workload of the archive benchmarks and of the backup
// end-to-end bench.
package mixedtree

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Stats counts what Generate wrote.
type Stats struct {
	Files    int
	Dirs     int // below the top directory
	Symlinks int
	// Bytes is the regular files' content.
	Bytes int64
}

// Shares of the size by kind of file. What a Minecraft-like server holds:
// most bytes in world regions and jars, most files small text.
const (
	shareSmallText = 0.15 // configs, JSON, YAML: 100 B – 24 KiB
	shareLogs      = 0.20 // logs: 32 KiB – 4 MiB of text
	shareWorld     = 0.25 // region and player data: partly compressible
	// The rest: big incompressible files (jars, rotated .gz logs, backups
	// of plugins), 2 – 48 MiB.
)

// chunk is the most written at once.
const chunk = 1 << 20

// epoch is the newest mtime; files are up to a year older.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).Unix()

// Generate writes a tree of about size bytes of file content into dir,
// which must be empty or not exist yet.
func Generate(dir string, size int64, seed uint64) (Stats, error) {
	if size < 0 {
		return Stats{}, fmt.Errorf("mixedtree: negative size %d", size)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("mixedtree: %w", err)
	}
	if names, err := os.ReadDir(dir); err != nil {
		return Stats{}, fmt.Errorf("mixedtree: %w", err)
	} else if len(names) > 0 {
		return Stats{}, fmt.Errorf("mixedtree: %s is not empty", dir)
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	g := &gen{
		dir:   dir,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		noise: rand.NewChaCha8(key),
		buf:   make([]byte, chunk),
		dirs:  map[string]bool{},
	}
	if err := g.run(size); err != nil {
		return g.st, fmt.Errorf("mixedtree: %w", err)
	}
	return g.st, nil
}

type gen struct {
	dir   string
	rng   *rand.Rand
	noise *rand.ChaCha8 // fast random bytes, for incompressible content
	buf   []byte
	st    Stats
	dirs  map[string]bool
	// dirMtimes are applied last: writing files moves them.
	dirMtimes []string
}

func (g *gen) run(size int64) error {
	small := int64(float64(size) * shareSmallText)
	logs := int64(float64(size) * shareLogs)
	world := int64(float64(size) * shareWorld)
	big := size - small - logs - world

	// The fixed files of every server, then each kind until its share is
	// spent.
	fixed := []struct {
		name string
		mode fs.FileMode
		kind func() []byte
	}{
		{"server.properties", 0o640, g.properties},
		{"eula.txt", 0o644, func() []byte {
			return []byte("#By changing the setting below to TRUE you are indicating your agreement to our EULA.\neula=true\n")
		}},
		{"ops.json", 0o600, g.json},
		{"whitelist.json", 0o644, g.json},
		{"usercache.json", 0o644, g.json},
		{"bukkit.yml", 0o644, g.yaml},
		{"spigot.yml", 0o644, g.yaml},
		{"start.sh", 0o755, func() []byte { return []byte("#!/bin/sh\nexec java -Xms1G -Xmx4G -jar server.jar nogui\n") }},
	}
	for _, f := range fixed {
		b := f.kind()
		if err := g.writeBytes(f.name, f.mode, b); err != nil {
			return err
		}
		small -= int64(len(b))
	}

	for n := 0; small > 0; n++ {
		sz := min(g.between(100, 24<<10), small)
		name, mode, kind := g.smallName(n)
		if err := g.writeText(name, mode, sz, kind); err != nil {
			return err
		}
		small -= sz
	}
	day := time.Unix(epoch, 0).UTC().AddDate(0, 0, -300)
	var lastLog string
	for n := 0; logs > 0; n++ {
		sz := min(g.between(32<<10, 4<<20), logs)
		d := day.AddDate(0, 0, n/3)
		lastLog = fmt.Sprintf("%s-%d.log", d.Format("2006-01-02"), n%3+1)
		if err := g.writeText("logs/"+lastLog, 0o644, sz, kindLog); err != nil {
			return err
		}
		logs -= sz
	}
	for n := 0; world > 0; n++ {
		var name string
		var sz int64
		switch dim := []string{"world", "world_nether", "world_the_end"}[n%3]; {
		case n%4 == 3:
			name = fmt.Sprintf("%s/playerdata/%s.dat", dim, g.uuid())
			sz = g.between(2<<10, 64<<10)
		default:
			name = fmt.Sprintf("%s/region/r.%d.%d.mca", dim, n/12-4, n%12-6)
			sz = g.between(256<<10, 8<<20)
		}
		sz = min(sz, world)
		if err := g.writeSectors(name, 0o644, sz); err != nil {
			return err
		}
		world -= sz
	}
	for n := 0; big > 0; n++ {
		var name string
		switch n % 4 {
		case 0:
			name = fmt.Sprintf("plugins/Plugin%d-%d.%d.jar", n, n%5, n%7)
		case 1:
			name = fmt.Sprintf("libraries/org/example/lib%d/%d.0/lib%d-%d.0.jar", n, n%9, n, n%9)
		case 2:
			name = fmt.Sprintf("logs/archive/%d.log.gz", n)
		default:
			name = fmt.Sprintf("backups/plugin-data-%d.zip", n)
		}
		sz := min(g.between(2<<20, 48<<20), big)
		if err := g.writeNoise(name, 0o644, sz); err != nil {
			return err
		}
		big -= sz
	}

	links := [][2]string{{"logs/latest.log", lastLog}, {"start", "start.sh"}, {"world_the_end/datapacks", "../world/datapacks"}}
	for _, l := range links {
		if l[1] == "" {
			continue // no log was written
		}
		if err := g.mkdirs(filepath.Dir(l[0])); err != nil {
			return err
		}
		p := filepath.Join(g.dir, l[0])
		if err := os.Symlink(l[1], p); err != nil {
			return err
		}
		ts := unix.NsecToTimespec(g.mtime().UnixNano())
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lutimes", Path: p, Err: err}
		}
		g.st.Symlinks++
	}
	if err := g.mkdirs("world/datapacks"); err != nil {
		return err
	}
	// Deepest first, so setting a directory's mtime does not move its
	// parent's; the top last.
	g.dirMtimes = append([]string{"."}, g.dirMtimes...)
	for i := len(g.dirMtimes) - 1; i >= 0; i-- {
		t := g.mtime()
		if err := os.Chtimes(filepath.Join(g.dir, g.dirMtimes[i]), t, t); err != nil {
			return err
		}
	}
	return nil
}

// between is a size in [lo, hi), drawn to favour the small end as file
// sizes do.
func (g *gen) between(lo, hi int64) int64 {
	f := g.rng.Float64()
	return lo + int64(f*f*float64(hi-lo))
}

func (g *gen) mtime() time.Time {
	return time.Unix(epoch-g.rng.Int64N(365*24*3600), 0)
}

func (g *gen) uuid() string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.rng.Uint32(), g.rng.Uint32()&0xffff,
		g.rng.Uint32()&0xffff, g.rng.Uint32()&0xffff, g.rng.Uint64()&0xffffffffffff)
}

// smallName names the n-th small file: plugin configs and data, nested a
// few levels deep.
func (g *gen) smallName(n int) (string, fs.FileMode, textKind) {
	plugin := "plugins/" + pluginNames[n%len(pluginNames)]
	switch n % 5 {
	case 0:
		return fmt.Sprintf("%s/config-%d.yml", plugin, n), 0o644, kindYAML
	case 1:
		return fmt.Sprintf("%s/data/users/%02x/%s.yml", plugin, n%64, g.uuid()), 0o640, kindYAML
	case 2:
		return fmt.Sprintf("%s/lang/messages_%d.properties", plugin, n), 0o644, kindProperties
	case 3:
		return fmt.Sprintf("world/stats/%s.json", g.uuid()), 0o644, kindJSON
	}
	return fmt.Sprintf("config/%s/settings-%d.json", pluginNames[(n/5)%len(pluginNames)], n), 0o600, kindJSON
}

var pluginNames = []string{"EssentialsX", "WorldEdit", "LuckPerms", "Vault", "CoreProtect", "Dynmap", "GriefPrevention", "Multiverse-Core"}

func (g *gen) mkdirs(rel string) error {
	if rel == "." || g.dirs[rel] {
		return nil
	}
	if err := g.mkdirs(filepath.Dir(rel)); err != nil {
		return err
	}
	mode := fs.FileMode(0o755)
	if g.rng.IntN(4) == 0 {
		mode = 0o750
	}
	if err := os.Mkdir(filepath.Join(g.dir, rel), mode); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(g.dir, rel), mode); err != nil { // past the umask
		return err
	}
	g.dirs[rel] = true
	g.dirMtimes = append(g.dirMtimes, rel)
	g.st.Dirs++
	return nil
}

// write creates rel and fills it with size bytes that fill makes, a
// buffer at a time.
func (g *gen) write(rel string, mode fs.FileMode, size int64, fill func([]byte)) error {
	if err := g.mkdirs(filepath.Dir(rel)); err != nil {
		return err
	}
	p := filepath.Join(g.dir, rel)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	for left := size; left > 0; {
		b := g.buf[:min(left, chunk)]
		fill(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
		left -= int64(len(b))
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	t := g.mtime()
	if err := os.Chtimes(p, t, t); err != nil {
		return err
	}
	g.st.Files++
	g.st.Bytes += size
	return nil
}

func (g *gen) writeBytes(rel string, mode fs.FileMode, b []byte) error {
	return g.write(rel, mode, int64(len(b)), func(dst []byte) { copy(dst, b) })
}

func (g *gen) writeNoise(rel string, mode fs.FileMode, size int64) error {
	return g.write(rel, mode, size, func(b []byte) { g.noise.Read(b) })
}

// writeSectors writes world data as region files hold it: 4 KiB sectors,
// each a run of compressed (random) bytes padded with zeros.
func (g *gen) writeSectors(rel string, mode fs.FileMode, size int64) error {
	return g.write(rel, mode, size, func(b []byte) {
		for i := 0; i < len(b); i += 4096 {
			s := b[i:min(i+4096, len(b))]
			used := len(s) * (40 + g.rng.IntN(60)) / 100
			g.noise.Read(s[:used])
			clear(s[used:])
		}
	})
}

type textKind int

const (
	kindLog textKind = iota
	kindYAML
	kindJSON
	kindProperties
)

func (g *gen) writeText(rel string, mode fs.FileMode, size int64, kind textKind) error {
	var carry []byte // what the last line left over
	return g.write(rel, mode, size, func(b []byte) {
		n := copy(b, carry)
		carry = carry[n:]
		line := make([]byte, 0, 256)
		for n < len(b) {
			line = g.line(line[:0], kind)
			c := copy(b[n:], line)
			n += c
			if c < len(line) {
				carry = append(carry[:0], line[c:]...)
			}
		}
	})
}

var (
	words = []string{"player", "joined", "the", "game", "left", "lost", "connection", "Timed", "out", "saving",
		"chunks", "for", "level", "ServerLevel", "overworld", "nether", "end", "all", "have", "been", "saved",
		"Can't", "keep", "up!", "Is", "server", "overloaded?", "Running", "behind", "skipping", "ticks",
		"issued", "command:", "/tp", "/give", "diamond_sword", "teleported", "to", "UUID", "of", "is",
		"logged", "in", "with", "entity", "id", "at", "Done", "Preparing", "spawn", "area", "Loading",
		"plugin", "Enabling", "Disabling", "version", "world", "moved", "too", "quickly", "wrongly"}
	levels = []string{"INFO", "INFO", "INFO", "WARN", "ERROR"}
	keys   = []string{"enabled", "max-players", "view-distance", "spawn-protection", "motd", "difficulty",
		"allow-flight", "prefix", "cooldown", "database", "host", "port", "username", "interval", "radius",
		"message", "permission", "world", "economy", "starting-balance", "auto-save", "debug", "locale"}
)

// line appends one line of text of the kind.
func (g *gen) line(b []byte, kind textKind) []byte {
	r := g.rng
	switch kind {
	case kindLog:
		b = append(b, '[')
		b = appendPad(b, r.IntN(24))
		b = append(b, ':')
		b = appendPad(b, r.IntN(60))
		b = append(b, ':')
		b = appendPad(b, r.IntN(60))
		b = append(b, "] [Server thread/"...)
		b = append(b, levels[r.IntN(len(levels))]...)
		b = append(b, "]: "...)
		for i, n := 0, 3+r.IntN(9); i < n; i++ {
			if r.IntN(6) == 0 {
				b = strconv.AppendInt(b, int64(r.IntN(100000))-50000, 10)
			} else {
				b = append(b, words[r.IntN(len(words))]...)
			}
			b = append(b, ' ')
		}
	case kindYAML:
		for i := r.IntN(3); i > 0; i-- {
			b = append(b, "  "...)
		}
		b = append(b, keys[r.IntN(len(keys))]...)
		b = append(b, ": "...)
		b = g.value(b)
	case kindJSON:
		b = append(b, "  \""...)
		b = append(b, keys[r.IntN(len(keys))]...)
		b = append(b, "\": "...)
		b = g.value(b)
		b = append(b, ',')
	case kindProperties:
		b = append(b, keys[r.IntN(len(keys))]...)
		b = append(b, '=')
		b = g.value(b)
	}
	return append(b, '\n')
}

func (g *gen) value(b []byte) []byte {
	switch g.rng.IntN(4) {
	case 0:
		return strconv.AppendInt(b, int64(g.rng.IntN(10000)), 10)
	case 1:
		return strconv.AppendBool(b, g.rng.IntN(2) == 0)
	case 2:
		return append(b, g.uuid()...)
	}
	b = append(b, '"')
	b = append(b, words[g.rng.IntN(len(words))]...)
	b = append(b, ' ')
	b = append(b, words[g.rng.IntN(len(words))]...)
	return append(b, '"')
}

func appendPad(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func (g *gen) properties() []byte {
	var b []byte
	b = append(b, "#Minecraft server properties\n"...)
	for range 40 {
		b = g.line(b, kindProperties)
	}
	return b
}

func (g *gen) json() []byte {
	b := []byte("{\n")
	for range 20 + g.rng.IntN(200) {
		b = g.line(b, kindJSON)
	}
	return append(b, "  \"end\": true\n}\n"...)
}

func (g *gen) yaml() []byte {
	var b []byte
	for range 30 + g.rng.IntN(100) {
		b = g.line(b, kindYAML)
	}
	return b
}
