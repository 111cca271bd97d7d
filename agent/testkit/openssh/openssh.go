// Package openssh runs Debian's OpenSSH client (sftp, ssh, ssh-keygen)
// against a test server: no known_hosts, no user config, and a password
// given without a terminal.
package openssh

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Login is how the client logs in: with KeyFile (a private key file) when
// it is set, else with Password.
type Login struct {
	User     string
	Password string
	KeyFile  string
}

// Command is the OpenSSH client name ("sftp" or "ssh") logging in as l.
// Its arguments are options, then l's login options, then target (the
// destination and what follows it). ssh keeps the first value it is given
// for an option, so options win over l's (LogLevel=INFO, say), and l's
// BatchMode=no wins over the BatchMode=yes that sftp -b adds — without it
// no password could be asked for.
func (l Login) Command(ctx context.Context, t testing.TB, name string, options []string, target ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{}, options...)
	args = append(args, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=20")
	env := os.Environ()
	if l.KeyFile != "" {
		args = append(args, "-o", "BatchMode=yes", "-o", "PreferredAuthentications=publickey",
			"-i", l.KeyFile, "-o", "IdentitiesOnly=yes")
	} else {
		// With no terminal, the client asks SSH_ASKPASS for the password.
		askpass := filepath.Join(t.TempDir(), "askpass")
		script := "#!/bin/sh\nprintf '%s\\n' '" + strings.ReplaceAll(l.Password, "'", `'\''`) + "'\n"
		if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
		args = append(args, "-o", "BatchMode=no", "-o", "PreferredAuthentications=password",
			"-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1")
	}
	cmd := exec.CommandContext(ctx, name, append(args, target...)...)
	cmd.Env = env
	return cmd
}

// Keygen makes an ed25519 key without a passphrase in dir and returns its
// private key file and its public key in authorized_keys format.
func Keygen(t testing.TB, dir, comment string) (keyFile, publicKey string) {
	t.Helper()
	keyFile = filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, strings.TrimSpace(string(pub))
}
