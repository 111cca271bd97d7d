package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/openssh"
)

// benchFileSize is the file each transfer benchmark moves.
const benchFileSize = 256 << 20

// sftpCipher is the cipher both SFTP servers are measured with, so the
// figure compares the servers rather than two ciphers.
const sftpCipher = "aes128-gcm@openssh.com"

// BenchmarkSFTP moves one file up and down through the agent's SFTP
// server, and the same file through OpenSSH's sshd and sftp-server on this
// machine, with the same OpenSSH client and cipher.
func BenchmarkSFTP(b *testing.B) {
	c := newCluster(b, clusterOptions{})
	s := c.createServer("bench-sftp", nil)
	admin := c.adminAccount()
	keyFile, pub := openssh.Keygen(b, b.TempDir(), "bench")
	c.must(http.MethodPost, "/api/account/ssh-keys", map[string]any{"name": "bench", "public_key": pub}, nil)
	catalyst := openssh.Login{User: c.sftpUser(admin, s.ID), KeyFile: keyFile}

	work := b.TempDir()
	src := filepath.Join(work, "src.bin")
	randomFile(b, src, benchFileSize)
	sshdAddr, sshdDir := startSSHD(b, keyFile+".pub")
	root := openssh.Login{User: "root", KeyFile: keyFile}

	for _, dir := range []string{"upload", "download"} {
		for _, target := range []struct {
			name  string
			addr  string
			login openssh.Login
			// remote is where the file lands on the server.
			remote string
		}{
			{"catalyst", c.sftpAddr, catalyst, "bench.bin"},
			{"baseline-openssh", sshdAddr, root, filepath.Join(sshdDir, "bench.bin")},
		} {
			b.Run(dir+"/"+target.name, func(b *testing.B) {
				batch := fmt.Sprintf("put %s %s\n", src, target.remote)
				if dir == "download" {
					if out, err := runSFTPCipher(b, target.addr, target.login, batch); err != nil {
						b.Fatalf("seed the download: %v\n%s", err, out)
					}
					batch = fmt.Sprintf("get %s %s\n", target.remote, filepath.Join(work, "dst.bin"))
				}
				b.SetBytes(benchFileSize)
				for b.Loop() {
					if out, err := runSFTPCipher(b, target.addr, target.login, batch); err != nil {
						b.Fatalf("sftp: %v\n%s", err, out)
					}
				}
			})
		}
	}
}

func runSFTPCipher(b *testing.B, addr string, l openssh.Login, batch string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := sftpCommand(ctx, b, addr, l, "-c", sftpCipher)
	cmd.Stdin = strings.NewReader(batch)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startSSHD runs OpenSSH's sshd on a free port, letting root in with the
// key, and serving SFTP with its own sftp-server. It returns the address
// and a directory for the files.
func startSSHD(b *testing.B, authorizedKeys string) (addr, dir string) {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if sshd = "/usr/sbin/sshd"; !fileExists(sshd) {
			b.Fatal("the OpenSSH baseline needs sshd: apt-get install openssh-server")
		}
	}
	sftpServer := "/usr/lib/openssh/sftp-server"
	if !fileExists(sftpServer) {
		b.Fatal("the OpenSSH baseline needs " + sftpServer + ": apt-get install openssh-sftp-server")
	}
	dir = b.TempDir()
	hostKey := filepath.Join(dir, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	addr = freeAddr(b)
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp %s
`, port, hostKey, filepath.Join(dir, "sshd.pid"), authorizedKeys, sftpServer)), 0o600); err != nil {
		b.Fatal(err)
	}
	// sshd refuses to run from a relative path and wants its privilege
	// separation directory.
	_ = os.MkdirAll("/run/sshd", 0o755)
	p := startProc(b, "sshd", filepath.Join(dir, "sshd.log"), sshd, "-D", "-e", "-f", conf)
	b.Cleanup(p.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return addr, dir
		}
		if time.Now().After(deadline) || !p.running() {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			b.Fatalf("sshd did not listen on %s: %s", addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// BenchmarkFilesHTTP moves one file through the core's file API (browser →
// core → tunnel → agent → disk, and back) beside a direct copy of the same
// file on this machine's disk.
func BenchmarkFilesHTTP(b *testing.B) {
	c := newCluster(b, clusterOptions{})
	s := c.createServer("bench-http", nil)
	work := b.TempDir()
	src := filepath.Join(work, "src.bin")
	randomFile(b, src, benchFileSize)

	b.Run("upload/catalyst", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		for b.Loop() {
			c.putFile(b, s.ID, "bench.bin", src)
		}
	})
	b.Run("upload/baseline-local-copy", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		for b.Loop() {
			localCopy(b, src, filepath.Join(work, "copy.bin"))
		}
	})
	b.Run("download/catalyst", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		for b.Loop() {
			c.getFile(b, s.ID, "bench.bin", filepath.Join(work, "dst.bin"))
		}
	})
	b.Run("download/baseline-local-copy", func(b *testing.B) {
		b.SetBytes(benchFileSize)
		for b.Loop() {
			localCopy(b, filepath.Join(c.volume(s.ID), "bench.bin"), filepath.Join(work, "dst.bin"))
		}
	})
}

// BenchmarkFilesHTTPMemory uploads and downloads a 2 GiB file through the
// core and reports the agent's peak resident memory while it does, beside
// its resident memory before: streaming keeps the two close.
func BenchmarkFilesHTTPMemory(b *testing.B) {
	c := newCluster(b, clusterOptions{})
	// Room for the file and its temporary copy while it replaces itself.
	s := c.createServerWith("bench-mem", map[string]any{"disk_mb": 8192})
	work := b.TempDir()
	src := filepath.Join(work, "src.bin")
	randomFile(b, src, 2<<30)
	pid := c.agent.cmd.Process.Pid
	for b.Loop() {
		before := procStatusKB(b, pid, "VmRSS")
		// Writing 5 resets the peak (VmHWM) to the current RSS.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Fatal(err)
		}
		c.putFile(b, s.ID, "big.bin", src)
		c.getFile(b, s.ID, "big.bin", filepath.Join(work, "dst.bin"))
		peak := procStatusKB(b, pid, "VmHWM")
		b.ReportMetric(float64(before)/1024, "agent-rss-before-MB")
		b.ReportMetric(float64(peak)/1024, "agent-peak-MB")
	}
}

func (c *cluster) putFile(b *testing.B, id, remote, local string) {
	f, err := os.Open(local)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	// A browser sends a file's length.
	resp := c.fileRequest(http.MethodPut, id, "/content"+q(remote), sizedReader{f, st.Size()}, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		b.Fatalf("PUT %s: %d %s", remote, resp.StatusCode, msg)
	}
}

func (c *cluster) getFile(b *testing.B, id, remote, local string) {
	resp := c.fileRequest(http.MethodGet, id, "/content"+q(remote), nil, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		b.Fatalf("GET %s: %d %s", remote, resp.StatusCode, msg)
	}
	f, err := os.Create(local)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatal(err)
	}
}

// localCopy copies src to dst and syncs it, as the agent's writes do.
func localCopy(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// procStatusKB reads one "kB" line of /proc/<pid>/status.
func procStatusKB(b *testing.B, pid int, key string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// sizedReader is a body whose length is known, as a browser's upload of
// a file is.
type sizedReader struct {
	io.Reader
	n int64
}
