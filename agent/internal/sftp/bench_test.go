package sftp

import (
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSize is the file moved per iteration.
const benchSize = 256 << 20

// BenchmarkOpenSSHClient moves a 256 MiB file through the server with
// OpenSSH's sftp client, with large buffers and many requests in flight,
// for each cipher a client may pick. The buffer is 255 KiB (-B 261120),
// the largest read OpenSSH's own sftp-server answers: with -B 262144 the
// client refuses to upload ("Outbound message too long"), as a write of
// 256 KiB plus its header passes the protocol's 256 KiB message limit.
func BenchmarkOpenSSHClient(b *testing.B) {
	for _, cipher := range []string{"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"} {
		for _, dir := range []string{"upload", "download"} {
			b.Run(dir+"/"+cipher, func(b *testing.B) {
				benchTransfer(b, dir, cipher)
			})
		}
	}
}

func benchTransfer(b *testing.B, direction, cipher string) {
	e := newEnv(b, envOptions{quiet: true})
	local := filepath.Join(e.work, "big")
	writeRandomFile(b, local, benchSize)
	if direction == "download" {
		writeRandomFile(b, filepath.Join(e.dir, "big"), benchSize)
	}
	command := "put big big"
	if direction == "download" {
		command = "get big big"
	}
	batch := filepath.Join(e.work, "batch")
	if err := os.WriteFile(batch, []byte(command+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		args := append(e.sshOptions(withKey, ""), "-c", cipher, "-B", "261120", "-R", "64",
			"-P", strconv.Itoa(e.port), "-b", batch, testUser+"@127.0.0.1")
		cmd := exec.Command("sftp", args...)
		cmd.Dir = e.work
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sftp: %v: %s", err, out)
		}
	}
}

// writeRandomFile writes size random bytes to p.
func writeRandomFile(tb testing.TB, p string, size int64) {
	tb.Helper()
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	if _, err := io.CopyN(f, rng, size); err != nil {
		tb.Fatal(err)
	}
}
