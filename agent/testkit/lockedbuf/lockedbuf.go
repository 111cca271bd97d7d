// Package lockedbuf is a bytes.Buffer that one goroutine (a logger, a
// process's output) writes while a test reads it from another.
package lockedbuf

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is safe for concurrent Write and String. The zero value is ready.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains says whether s has been written.
func (b *Buffer) Contains(s string) bool { return strings.Contains(b.String(), s) }
