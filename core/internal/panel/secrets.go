package panel

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"catalyst.dev/core/internal/config"
)

// jwtSecret returns the configured JWT secret or, when none is configured,
// the one kept in DataDir/jwt-secret, generating it on first start. Several
// replicas must share one secret, so they must configure it explicitly.
func jwtSecret(cfg *config.Config) ([]byte, error) {
	if cfg.Auth.JWTSecret != "" {
		return []byte(cfg.Auth.JWTSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "jwt-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		secret := strings.TrimSpace(string(b))
		if len(secret) < 32 {
			return nil, fmt.Errorf("%s holds a secret shorter than 32 characters; delete it to have a new one generated (this logs everyone out)", path)
		}
		return []byte(secret), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read JWT secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	// O_EXCL: if another process created it meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return jwtSecret(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("create JWT secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write JWT secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write JWT secret: %w", err)
	}
	return []byte(secret), nil
}
