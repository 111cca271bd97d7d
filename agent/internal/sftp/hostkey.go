package sftp

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// loadOrCreateHostKey reads the ed25519 host key at path, or makes one
// there when the file does not exist. A file that exists but does not
// hold an ed25519 key is an error: replacing it would change the
// fingerprint every client has pinned, which is the operator's call.
func loadOrCreateHostKey(path string) (signer ssh.Signer, created bool, err error) {
	pemBytes, err := os.ReadFile(path)
	switch {
	case err == nil:
		signer, err := parseHostKey(pemBytes)
		if err != nil {
			return nil, false, fmt.Errorf("sftp host key %s: %w", path, err)
		}
		return signer, false, nil
	case errors.Is(err, fs.ErrNotExist):
		signer, err := createHostKey(path)
		if err != nil {
			return nil, false, fmt.Errorf("sftp host key %s: %w", path, err)
		}
		return signer, true, nil
	default:
		return nil, false, fmt.Errorf("sftp host key: %w", err)
	}
}

func parseHostKey(pemBytes []byte) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("not a readable private key (move it away to have a new one made): %w", err)
	}
	if t := signer.PublicKey().Type(); t != ssh.KeyAlgoED25519 {
		return nil, fmt.Errorf("holds a %s key; the SFTP server only uses ed25519", t)
	}
	return signer, nil
}

// createHostKey writes a new key to a temporary file beside path and
// renames it into place, so a crash never leaves half a key behind.
func createHostKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "catalyst agent sftp host key")
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	dir := filepath.Dir(path)
	// An existing directory keeps its mode: it may be the operator's.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// CreateTemp makes the file 0600.
	tmp, err := os.CreateTemp(dir, ".hostkey-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}
