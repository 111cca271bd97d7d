package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ignoreTree is the tree every ignore case archives.
var ignoreTree = []fsEntry{
	{path: "a.log"},
	{path: "b.log"},
	{path: "notes.txt"},
	{path: "#hash"},
	{path: "logs/x.log"},
	{path: "logs/keep.log"},
	{path: "logs/old/y.log"},
	{path: "cache/c1"},
	{path: "sub/cache"}, // a file named cache
	{path: "sub/deep/cache/c2"},
	{path: "build/out.bin"},
	{path: "doc/build/readme"},
}

// allIgnoreTree is every entry Create writes for ignoreTree, but the
// ignore file itself.
var allIgnoreTree = []string{
	"./", "#hash", "a.log", "b.log", "build/", "build/out.bin", "cache/", "cache/c1",
	"doc/", "doc/build/", "doc/build/readme", "logs/", "logs/keep.log", "logs/old/", "logs/old/y.log",
	"logs/x.log", "notes.txt", "sub/", "sub/cache", "sub/deep/", "sub/deep/cache/", "sub/deep/cache/c2",
}

func TestIgnorePatterns(t *testing.T) {
	for _, tt := range []struct {
		name   string
		file   string   // the .catalystignore, if any
		option []string // CreateOptions.Ignore
		gone   []string // what the archive lacks of allIgnoreTree
	}{
		{name: "nothing to ignore"},
		{name: "a name matches at any depth", file: "*.log",
			gone: []string{"a.log", "b.log", "logs/keep.log", "logs/old/y.log", "logs/x.log"}},
		{name: "! includes again", file: "*.log\n!keep.log",
			gone: []string{"a.log", "b.log", "logs/old/y.log", "logs/x.log"}},
		{name: "the last match decides", file: "!a.log\n*.log",
			gone: []string{"a.log", "b.log", "logs/keep.log", "logs/old/y.log", "logs/x.log"}},
		{name: "a trailing slash matches directories only", file: "cache/",
			gone: []string{"cache/", "cache/c1", "sub/deep/cache/", "sub/deep/cache/c2"}},
		{name: "without the slash files match too", file: "cache",
			gone: []string{"cache/", "cache/c1", "sub/cache", "sub/deep/cache/", "sub/deep/cache/c2"}},
		{name: "a leading slash anchors at the top", file: "/build",
			gone: []string{"build/", "build/out.bin"}},
		{name: "an inner slash anchors at the top", file: "doc/build",
			gone: []string{"doc/build/", "doc/build/readme"}},
		{name: "an unanchored directory name matches at any depth", file: "build",
			gone: []string{"build/", "build/out.bin", "doc/build/", "doc/build/readme"}},
		{name: "dir/** is what the directory holds, not the directory", file: "logs/**",
			gone: []string{"logs/keep.log", "logs/old/", "logs/old/y.log", "logs/x.log"}},
		{name: "leading ** matches at any depth", file: "**/old",
			gone: []string{"logs/old/", "logs/old/y.log"}},
		{name: "inner ** spans zero or more directories", file: "sub/**/cache",
			gone: []string{"sub/cache", "sub/deep/cache/", "sub/deep/cache/c2"}},
		{name: "* does not cross a slash", file: "logs/*.log\n!logs/keep.log",
			gone: []string{"logs/x.log"}},
		{name: "an ignored directory is not entered, so ! below it cannot bring files back",
			file: "logs/\n!logs/keep.log",
			gone: []string{"logs/", "logs/keep.log", "logs/old/", "logs/old/y.log", "logs/x.log"}},
		{name: "comments, blank lines and trailing spaces", file: "# a comment\n\n   \r\nnotes.txt  \r\n",
			gone: []string{"notes.txt"}},
		{name: "an escaped # is a name", file: `\#hash`, gone: []string{"#hash"}},
		{name: "character classes", file: "[ab].log", gone: []string{"a.log", "b.log"}},
		{name: "options add patterns", file: "a.log", option: []string{"b.log", "/sub"},
			gone: []string{"a.log", "b.log", "sub/", "sub/cache", "sub/deep/", "sub/deep/cache/", "sub/deep/cache/c2"}},
		{name: "options come after the file", file: "*.log", option: []string{"!b.log"},
			gone: []string{"a.log", "logs/keep.log", "logs/old/y.log", "logs/x.log"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, ignoreTree)
			want := slices.DeleteFunc(slices.Clone(allIgnoreTree), func(s string) bool { return slices.Contains(tt.gone, s) })
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
				want = append(want, IgnoreFile) // it is kept, like any file
			}
			archive, _ := createArchive(t, dir, CreateOptions{Compression: None, Ignore: tt.option})
			got := listTar(t, archive)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("archived\n %q\nwant\n %q", got, want)
			}
		})
	}
}

func TestBadIgnorePatternsFailBeforeWriting(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		option     []string
		want       string
	}{
		{name: "a bad class in the file", file: "# fine\n*.log\n[abc\n", want: `.catalystignore line 3: pattern "[abc"`},
		{name: "a bad pattern in the options", option: []string{"ok", "logs/[z-a"}, want: `ignore pattern 2: pattern "logs/[z-a"`},
		{name: "a pattern of nothing", file: "!\n", want: ".catalystignore line 1"},
		{name: "an empty path element", file: "a//b\n", want: ".catalystignore line 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, ignoreTree)
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			_, err := Create(context.Background(), dir, &out, CreateOptions{Ignore: tt.option})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create: %v, want an error naming %s", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("%d bytes written before the error", out.Len())
			}
		})
	}
}

func TestIgnoreFileMustBeARegularFile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, ignoreTree)
	// A symlink could make an error message quote another file.
	if err := os.Symlink("/etc/shadow", filepath.Join(dir, IgnoreFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Create(context.Background(), dir, &bytes.Buffer{}, CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("Create with a symlinked %s: %v, want an error saying it is a symlink", IgnoreFile, err)
	}
}

func TestAnIgnoredDirectoryIsNotEntered(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, ignoreTree)
	if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("logs/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, progress := range []bool{false, true} {
		var opened []string
		c := newCreator(CreateOptions{}, realClock{})
		c.beforeDir = func(rel string) { opened = append(opened, rel) }
		if progress {
			c.opts.Progress = func(Progress) {} // the measuring walk too
		}
		if _, err := c.create(context.Background(), dir, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(opened, func(s string) bool { return strings.HasPrefix(s, "logs") }) {
			t.Errorf("opened %q, an ignored directory among them", opened)
		}
		if !slices.Contains(opened, "sub/deep") {
			t.Errorf("opened %q, not the directories that are archived", opened)
		}
	}
}
