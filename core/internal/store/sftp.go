package store

import "context"

// Lookups of SFTP logins: the agent names an account, a server by its
// short ID, and a password or an SSH key.

// UserByUsername returns the user or ErrNotFound. User names are stored
// lower-case.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("username = ?", username).Scan(ctx)
	return u, mapError(err)
}

// ServerOnNodeByShortID returns the server with shortID on nodeID, or
// ErrNotFound: a server on another node is not found, so that one node can
// never name another's servers.
func (s *Store) ServerOnNodeByShortID(ctx context.Context, nodeID, shortID string) (*Server, error) {
	srv := new(Server)
	err := s.db.NewSelect().Model(srv).
		Where("short_id = ?", shortID).Where("node_id = ?", nodeID).Scan(ctx)
	return srv, mapError(err)
}

// SSHKeyByFingerprint returns the user's key with the fingerprint
// ("SHA256:…"), or ErrNotFound.
func (s *Store) SSHKeyByFingerprint(ctx context.Context, userID, fingerprint string) (*SSHKey, error) {
	k := new(SSHKey)
	err := s.db.NewSelect().Model(k).Where("user_id = ?", userID).Where("fingerprint = ?", fingerprint).Scan(ctx)
	return k, mapError(err)
}

// CountSSHKeys counts a user's keys.
func (s *Store) CountSSHKeys(ctx context.Context, userID string) (int, error) {
	n, err := s.db.NewSelect().Model((*SSHKey)(nil)).Where("user_id = ?", userID).Count(ctx)
	return int(n), mapError(err)
}
