// Package s3test runs tools/s3server, a real S3-compatible server, for
// this module's tests and benchmarks. Nothing here is faked: the server is
// built from the repository and started as a process.
package s3test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Credentials and bucket every server started here uses.
const (
	AccessKey = "catalyst-test"
	SecretKey = "catalyst-test-secret"
	Bucket    = "backups"
)

// Build compiles tools/s3server into dir and returns the executable. It
// finds the repository through the go.work workspace the tests run in.
func Build(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", errors.New("the backup-s3 tests need the repository's go.work workspace to build tools/s3server")
	}
	bin := filepath.Join(dir, "s3server")
	cmd := exec.Command("go", "build", "-o", bin, "./s3server")
	cmd.Dir = filepath.Join(filepath.Dir(work), "tools")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build tools/s3server: %w\n%s", err, b)
	}
	return bin, nil
}

// Server is a running s3server.
type Server struct {
	URL string // http://127.0.0.1:port
}

// Config is a backup-s3 configuration for the server's bucket.
func (s *Server) Config() map[string]any {
	return map[string]any{
		"bucket":     Bucket,
		"endpoint":   s.URL,
		"access_key": AccessKey,
		"secret_key": SecretKey,
		"path_style": true,
	}
}

// syncBuffer collects the server's stderr for a failing test's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs the server binary bin until the test ends. A server that does
// not start fails the test: never a skip.
func Start(tb testing.TB, bin string, extraArgs ...string) *Server {
	tb.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-bucket", Bucket, "-access-key", AccessKey, "-secret-key", SecretKey}, extraArgs...)
	cmd := exec.Command(bin, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start s3server: %v", err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			tb.Errorf("s3server ignored SIGTERM for 10s")
		}
		if tb.Failed() {
			tb.Logf("s3server stderr:\n%s", stderr.String())
		}
	})
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		tb.Fatalf("s3server did not report its address within 30s; stderr:\n%s", stderr.String())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "s3server listening on ")
	if !ok {
		tb.Fatalf("s3server said %q; stderr:\n%s", line, stderr.String())
	}
	return &Server{URL: url}
}
