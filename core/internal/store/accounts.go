package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// UpdateUser writes the named columns of u and bumps updated_at.
func (s *Store) UpdateUser(ctx context.Context, u *User, columns ...string) error {
	u.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(u).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	// Query matches a substring of the email or user name.
	Query string
	// After is a cursor: only users with a greater ID.
	After string
	Limit int
}

// ListUsers returns users in ID (creation) order.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]*User, error) {
	var us []*User
	q := s.db.NewSelect().Model(&us).Order("id").Limit(clampLimit(f.Limit))
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("email LIKE ? ESCAPE '\\'", like).WhereOr("username LIKE ? ESCAPE '\\'", like)
		})
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	err := q.Scan(ctx)
	return us, mapError(err)
}

// DeleteUser removes an account and, by cascade, its sessions, keys and
// subuser grants. A user who still owns servers is ErrInUse.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx)
	return affectedOne(res, err)
}

// --- refresh tokens ---

// CreateRefreshToken stores t, filling ID and creation time.
func (s *Store) CreateRefreshToken(ctx context.Context, t *RefreshToken) error {
	t.ID = NewID()
	t.CreatedAt = now()
	_, err := s.db.NewInsert().Model(t).Exec(ctx)
	return mapError(err)
}

// RefreshTokenByHash returns the token or ErrNotFound.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error) {
	t := new(RefreshToken)
	err := s.db.NewSelect().Model(t).Where("token_hash = ?", hash).Scan(ctx)
	return t, mapError(err)
}

// RevokeRefreshToken marks one token revoked if it is not already; the
// compare-and-set makes a token usable exactly once even under concurrent
// refreshes. ErrNotFound means it was already revoked.
func (s *Store) RevokeRefreshToken(ctx context.Context, id string) error {
	res, err := s.db.NewUpdate().Model((*RefreshToken)(nil)).
		Set("revoked_at = ?", now()).Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	return affectedOne(res, err)
}

// RevokeRefreshFamily revokes every token of one login.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := s.db.NewUpdate().Model((*RefreshToken)(nil)).
		Set("revoked_at = ?", now()).Where("family_id = ?", familyID).Where("revoked_at IS NULL").Exec(ctx)
	return mapError(err)
}

// RevokeUserSessions revokes all of a user's refresh tokens and, by bumping
// the session version, every access token issued so far.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) error {
	t := now()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*RefreshToken)(nil)).
			Set("revoked_at = ?", t).Where("user_id = ?", userID).Where("revoked_at IS NULL").Exec(ctx); err != nil {
			return mapError(err)
		}
		res, err := tx.NewUpdate().Model((*User)(nil)).
			Set("session_version = session_version + 1").Set("updated_at = ?", t).Where("id = ?", userID).Exec(ctx)
		return affectedOne(res, err)
	})
}

// --- API keys ---

// CreateAPIKey stores k, filling ID and creation time.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey) error {
	k.ID = NewID()
	k.CreatedAt = now()
	k.AllowedIPs = nonNil(k.AllowedIPs)
	_, err := s.db.NewInsert().Model(k).Exec(ctx)
	return mapError(err)
}

// APIKeyByPrefix returns the key with its user, or ErrNotFound.
func (s *Store) APIKeyByPrefix(ctx context.Context, prefix string) (*APIKey, error) {
	k := new(APIKey)
	err := s.db.NewSelect().Model(k).Relation("User").Where("api_key.prefix = ?", prefix).Scan(ctx)
	return k, mapError(err)
}

// ListAPIKeys returns a user's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID string) ([]*APIKey, error) {
	var ks []*APIKey
	err := s.db.NewSelect().Model(&ks).Where("user_id = ?", userID).Order("id DESC").Scan(ctx)
	return ks, mapError(err)
}

// DeleteAPIKey removes one of a user's keys.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	res, err := s.db.NewDelete().Model((*APIKey)(nil)).Where("id = ?", id).Where("user_id = ?", userID).Exec(ctx)
	return affectedOne(res, err)
}

// TouchAPIKey records that the key was used at t.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	_, err := s.db.NewUpdate().Model((*APIKey)(nil)).
		Set("last_used_at = ?", t.UTC().Truncate(time.Microsecond)).Where("id = ?", id).Exec(ctx)
	return mapError(err)
}

// --- SSH keys ---

// CreateSSHKey stores k, filling ID and creation time. The same key twice
// for one user is ErrConflict.
func (s *Store) CreateSSHKey(ctx context.Context, k *SSHKey) error {
	k.ID = NewID()
	k.CreatedAt = now()
	_, err := s.db.NewInsert().Model(k).Exec(ctx)
	return mapError(err)
}

// ListSSHKeys returns a user's keys, newest first.
func (s *Store) ListSSHKeys(ctx context.Context, userID string) ([]*SSHKey, error) {
	var ks []*SSHKey
	err := s.db.NewSelect().Model(&ks).Where("user_id = ?", userID).Order("id DESC").Scan(ctx)
	return ks, mapError(err)
}

// DeleteSSHKey removes one of a user's keys.
func (s *Store) DeleteSSHKey(ctx context.Context, userID, id string) error {
	res, err := s.db.NewDelete().Model((*SSHKey)(nil)).Where("id = ?", id).Where("user_id = ?", userID).Exec(ctx)
	return affectedOne(res, err)
}

// --- subusers ---

// CreateSubuser stores u, filling ID and timestamps. A user already on the
// server is ErrConflict.
func (s *Store) CreateSubuser(ctx context.Context, u *Subuser) error {
	u.ID = NewID()
	u.CreatedAt = now()
	u.UpdatedAt = u.CreatedAt
	u.Permissions = nonNil(u.Permissions)
	_, err := s.db.NewInsert().Model(u).Exec(ctx)
	return mapError(err)
}

// Subuser returns userID's grant on serverID, or ErrNotFound.
func (s *Store) Subuser(ctx context.Context, serverID, userID string) (*Subuser, error) {
	u := new(Subuser)
	err := s.db.NewSelect().Model(u).Relation("User").
		Where("subuser.server_id = ?", serverID).Where("subuser.user_id = ?", userID).Scan(ctx)
	return u, mapError(err)
}

// SubuserGrants maps each server userID is a subuser of to the granted
// permissions, in one query, for listing many servers at once.
func (s *Store) SubuserGrants(ctx context.Context, userID string) (map[string][]string, error) {
	var us []*Subuser
	if err := s.db.NewSelect().Model(&us).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, mapError(err)
	}
	out := make(map[string][]string, len(us))
	for _, u := range us {
		out[u.ServerID] = u.Permissions
	}
	return out, nil
}

// ListSubusers returns a server's subusers with their accounts.
func (s *Store) ListSubusers(ctx context.Context, serverID string) ([]*Subuser, error) {
	var us []*Subuser
	err := s.db.NewSelect().Model(&us).Relation("User").
		Where("subuser.server_id = ?", serverID).Order("subuser.id").Scan(ctx)
	return us, mapError(err)
}

// UpdateSubuserPermissions replaces a subuser's permissions.
func (s *Store) UpdateSubuserPermissions(ctx context.Context, serverID, userID string, perms []string) error {
	res, err := s.db.NewUpdate().Model((*Subuser)(nil)).
		Set("permissions = ?", jsonList(perms)).Set("updated_at = ?", now()).
		Where("server_id = ?", serverID).Where("user_id = ?", userID).Exec(ctx)
	return affectedOne(res, err)
}

// DeleteSubuser removes a user's grant on a server.
func (s *Store) DeleteSubuser(ctx context.Context, serverID, userID string) error {
	res, err := s.db.NewDelete().Model((*Subuser)(nil)).
		Where("server_id = ?", serverID).Where("user_id = ?", userID).Exec(ctx)
	return affectedOne(res, err)
}
