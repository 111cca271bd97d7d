package sftp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestHostKeyIsMadeOnceAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sftp", "ssh_host_ed25519_key")
	first := newEnv(t, envOptions{hostKey: path})
	second := newEnv(t, envOptions{hostKey: path})
	if first.srv.HostKeyFingerprint() != second.srv.HostKeyFingerprint() {
		t.Errorf("fingerprints differ: %s, %s", first.srv.HostKeyFingerprint(), second.srv.HostKeyFingerprint())
	}
	if !strings.Contains(first.log.String(), "created=true") || !strings.Contains(second.log.String(), "created=false") ||
		!strings.Contains(second.log.String(), first.srv.HostKeyFingerprint()) {
		t.Error("the host key log lines do not say created and the fingerprint")
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, fi.Mode(), err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".hostkey-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// OpenSSH reads the file and sees the same key.
	out, err := exec.Command("ssh-keygen", "-l", "-f", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), first.srv.HostKeyFingerprint()) || !strings.Contains(string(out), "ED25519") {
		t.Errorf("ssh-keygen -l: %s, %v", out, err)
	}
	// And a client that pinned the key from the first server trusts the
	// second: it offers that very key.
	pinned := hostKeyOf(t, first)
	conn, err := ssh.Dial("tcp", "127.0.0.1:"+strconv.Itoa(second.port), &ssh.ClientConfig{
		User: testUser, Auth: []ssh.AuthMethod{ssh.PublicKeys(second.signer)}, HostKeyCallback: ssh.FixedHostKey(pinned),
	})
	if err != nil {
		t.Fatalf("the second server's host key differs: %v", err)
	}
	conn.Close()
}

func TestUnusableHostKeyFileIsAnError(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM, err := ssh.MarshalPrivateKey(ecKey, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"garbage", []byte("not a key\n"), "not a readable private key"},
		{"empty", nil, "not a readable private key"},
		{"truncated", pem.EncodeToMemory(ecPEM)[:100], "not a readable private key"},
		{"another key type", pem.EncodeToMemory(ecPEM), "only uses ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ssh_host_ed25519_key")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{HostKeyPath: path, Auth: &testAuth{}, Volumes: testVolumes{}})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, path, tt.want)
			}
			if b, _ := os.ReadFile(path); string(b) != string(tt.content) {
				t.Error("the file was replaced")
			}
		})
	}
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]Config{
		"no auth":     {HostKeyPath: filepath.Join(dir, "k"), Volumes: testVolumes{}},
		"no volumes":  {HostKeyPath: filepath.Join(dir, "k"), Auth: &testAuth{}},
		"no host key": {Auth: &testAuth{}, Volumes: testVolumes{}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
