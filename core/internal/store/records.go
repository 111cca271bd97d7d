package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ErrAllocationTaken is returned when a server asks for an allocation that
// is missing, on another node, or already assigned.
var ErrAllocationTaken = errors.New("allocation is not free on this node")

// --- users ---

// CreateUser inserts u, filling ID and timestamps. A taken email or user
// name is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.ID = NewID()
	u.CreatedAt = now()
	u.UpdatedAt = u.CreatedAt
	u.RecoveryCodes = nonNil(u.RecoveryCodes)
	_, err := s.db.NewInsert().Model(u).Exec(ctx)
	return mapError(err)
}

// UserByID returns the user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, mapError(err)
}

// UserByEmail returns the user or ErrNotFound. Emails are stored lower-case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("email = ?", email).Scan(ctx)
	return u, mapError(err)
}

// CountUsers counts every account.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*User)(nil)).Count(ctx)
	return int(n), mapError(err)
}

// --- nodes ---

// CreateNode inserts n, filling ID and timestamps.
func (s *Store) CreateNode(ctx context.Context, n *Node) error {
	n.ID = NewID()
	n.CreatedAt = now()
	n.UpdatedAt = n.CreatedAt
	_, err := s.db.NewInsert().Model(n).Exec(ctx)
	return mapError(err)
}

// NodeByID returns the node or ErrNotFound.
func (s *Store) NodeByID(ctx context.Context, id string) (*Node, error) {
	n := new(Node)
	err := s.db.NewSelect().Model(n).Where("id = ?", id).Scan(ctx)
	return n, mapError(err)
}

// UpdateNode writes the named columns of n and bumps updated_at.
func (s *Store) UpdateNode(ctx context.Context, n *Node, columns ...string) error {
	n.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(n).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// NodeByDeployToken returns the node whose unspent deployment token hashes
// to hash, or ErrNotFound.
func (s *Store) NodeByDeployToken(ctx context.Context, hash string) (*Node, error) {
	n := new(Node)
	err := s.db.NewSelect().Model(n).Where("deploy_token_hash = ?", hash).Where("deploy_token_hash <> ''").Scan(ctx)
	return n, mapError(err)
}

// EnrolNode swaps a node's deployment token for a credential, once: the
// compare-and-set on the token hash makes a second exchange of the same
// token fail with ErrNotFound.
func (s *Store) EnrolNode(ctx context.Context, id, deployHash, credentialHash string) error {
	res, err := s.db.NewUpdate().Model((*Node)(nil)).
		Set("credential_hash = ?", credentialHash).Set("deploy_token_hash = ''").
		Set("deploy_token_expires_at = NULL").Set("updated_at = ?", now()).
		Where("id = ?", id).Where("deploy_token_hash = ?", deployHash).Exec(ctx)
	return affectedOne(res, err)
}

// DeleteNode removes a node and its free allocations. A node that still
// has servers is ErrInUse.
func (s *Store) DeleteNode(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*Node)(nil)).Where("id = ?", id).Exec(ctx)
	return affectedOne(res, err)
}

// ListAllocations lists a node's allocations by address.
func (s *Store) ListAllocations(ctx context.Context, nodeID string) ([]*Allocation, error) {
	var as []*Allocation
	err := s.db.NewSelect().Model(&as).Where("node_id = ?", nodeID).Order("ip", "port").Scan(ctx)
	return as, mapError(err)
}

// ListNodes returns every node by name.
func (s *Store) ListNodes(ctx context.Context) ([]*Node, error) {
	var ns []*Node
	err := s.db.NewSelect().Model(&ns).Order("name").Scan(ctx)
	return ns, mapError(err)
}

// --- allocations ---

// CreateAllocations adds ip:port pairs to a node in one transaction; if any
// already exists none is added and the error is ErrConflict.
func (s *Store) CreateAllocations(ctx context.Context, nodeID, ip string, ports []int) ([]*Allocation, error) {
	allocs := make([]*Allocation, 0, len(ports))
	t := now()
	for _, p := range ports {
		allocs = append(allocs, &Allocation{ID: NewID(), NodeID: nodeID, IP: ip, Port: p, CreatedAt: t})
	}
	if len(allocs) == 0 {
		return allocs, nil
	}
	_, err := s.db.NewInsert().Model(&allocs).Exec(ctx)
	return allocs, mapError(err)
}

// FreeAllocations lists a node's unassigned allocations by port.
func (s *Store) FreeAllocations(ctx context.Context, nodeID string) ([]*Allocation, error) {
	var as []*Allocation
	err := s.db.NewSelect().Model(&as).
		Where("node_id = ?", nodeID).Where("server_id IS NULL").
		Order("ip", "port").Scan(ctx)
	return as, mapError(err)
}

// --- templates ---

// CreateTemplate inserts t, filling ID and timestamps. Nil lists are stored
// as empty lists.
func (s *Store) CreateTemplate(ctx context.Context, t *Template) error {
	t.ID = NewID()
	t.CreatedAt = now()
	t.UpdatedAt = t.CreatedAt
	t.Images = nonNil(t.Images)
	t.StartupDone = nonNil(t.StartupDone)
	t.Variables = nonNil(t.Variables)
	t.ConfigFiles = nonNil(t.ConfigFiles)
	t.Denylist = nonNil(t.Denylist)
	t.Features = nonNil(t.Features)
	_, err := s.db.NewInsert().Model(t).Exec(ctx)
	return mapError(err)
}

// TemplateByID returns the template or ErrNotFound.
func (s *Store) TemplateByID(ctx context.Context, id string) (*Template, error) {
	t := new(Template)
	err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx)
	return t, mapError(err)
}

// TemplateBySource returns the template imported from source's template
// ref, or ErrNotFound.
func (s *Store) TemplateBySource(ctx context.Context, source, ref string) (*Template, error) {
	t := new(Template)
	err := s.db.NewSelect().Model(t).Where("source = ?", source).Where("source_ref = ?", ref).Scan(ctx)
	return t, mapError(err)
}

// TemplateByName returns the template called name, or ErrNotFound.
func (s *Store) TemplateByName(ctx context.Context, name string) (*Template, error) {
	t := new(Template)
	err := s.db.NewSelect().Model(t).Where("name = ?", name).Scan(ctx)
	return t, mapError(err)
}

// ListTemplates returns every template by name.
func (s *Store) ListTemplates(ctx context.Context) ([]*Template, error) {
	var ts []*Template
	err := s.db.NewSelect().Model(&ts).Order("name").Scan(ctx)
	return ts, mapError(err)
}

// UpdateTemplate writes the named columns of t and bumps updated_at.
func (s *Store) UpdateTemplate(ctx context.Context, t *Template, columns ...string) error {
	t.UpdatedAt = now()
	t.Images = nonNil(t.Images)
	t.StartupDone = nonNil(t.StartupDone)
	t.Variables = nonNil(t.Variables)
	t.ConfigFiles = nonNil(t.ConfigFiles)
	t.Denylist = nonNil(t.Denylist)
	t.Features = nonNil(t.Features)
	res, err := s.db.NewUpdate().Model(t).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeleteTemplate removes a template. One that servers still use is
// ErrInUse (the servers' foreign key refuses it).
func (s *Store) DeleteTemplate(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*Template)(nil)).Where("id = ?", id).Exec(ctx)
	return affectedOne(res, err)
}

// --- servers ---

// CreateServer inserts srv and assigns it the given allocations (the first
// becomes primary), all in one transaction: if an allocation is not free on
// srv's node nothing is written and the error is ErrAllocationTaken.
func (s *Store) CreateServer(ctx context.Context, srv *Server, allocationIDs []string) error {
	srv.ID = NewID()
	srv.ShortID = srv.ID[len(srv.ID)-8:]
	srv.CreatedAt = now()
	srv.UpdatedAt = srv.CreatedAt
	if srv.Environment == nil {
		srv.Environment = map[string]string{}
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(srv).Exec(ctx); err != nil {
			return mapError(err)
		}
		for i, id := range allocationIDs {
			res, err := tx.NewUpdate().Model((*Allocation)(nil)).
				Set("server_id = ?", srv.ID).Set("is_primary = ?", i == 0).
				Where("id = ?", id).Where("node_id = ?", srv.NodeID).Where("server_id IS NULL").
				Exec(ctx)
			if err != nil {
				return mapError(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("%w: %s", ErrAllocationTaken, id)
			}
		}
		return nil
	})
}

// ServerByID returns the server with its allocations, or ErrNotFound.
func (s *Store) ServerByID(ctx context.Context, id string) (*Server, error) {
	srv := new(Server)
	err := s.db.NewSelect().Model(srv).
		Relation("Allocations", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("is_primary DESC", "port") }).
		Where("server.id = ?", id).Scan(ctx)
	return srv, mapError(err)
}

// ServerFilter narrows ListServers. Zero fields match everything.
type ServerFilter struct {
	OwnerID string
	NodeID  string
	// AccessibleBy matches servers the user owns or is a subuser of.
	AccessibleBy string
}

// ListServers returns servers by name with their allocations.
func (s *Store) ListServers(ctx context.Context, f ServerFilter) ([]*Server, error) {
	var ss []*Server
	q := s.db.NewSelect().Model(&ss).Relation("Allocations").Order("server.name", "server.id")
	if f.OwnerID != "" {
		q = q.Where("server.owner_id = ?", f.OwnerID)
	}
	if f.NodeID != "" {
		q = q.Where("server.node_id = ?", f.NodeID)
	}
	if f.AccessibleBy != "" {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("server.owner_id = ?", f.AccessibleBy).
				WhereOr("server.id IN (?)", s.db.NewSelect().Model((*Subuser)(nil)).Column("server_id").Where("user_id = ?", f.AccessibleBy))
		})
	}
	err := q.Scan(ctx)
	return ss, mapError(err)
}

// SetServerState records a server's new state if it is still in one of
// from; otherwise nothing changes and the error is ErrNotFound. The compare
// and set is one statement, so two writers cannot both win. It clears the
// state's reason.
func (s *Store) SetServerState(ctx context.Context, id, to string, from ...string) error {
	return s.TransitionServer(ctx, id, Transition{To: to, From: from})
}

// Transition is a compare-and-set change of a server's state.
type Transition struct {
	To string
	// From lists the states the server must be in; empty means any.
	From []string
	// Reason is a sentence for people on why the server is in To.
	Reason string
	// CountCrash adds one to the server's crash count and sets crashed_at
	// in the same write.
	CountCrash bool
	// Exit, when set, records how the process ended (last_exit_code,
	// last_oom_killed).
	Exit *Exit
}

// Exit is how a server's process ended.
type Exit struct {
	Code      *int
	OOMKilled bool
}

// TransitionServer applies t to a server, or changes nothing and returns
// ErrNotFound when the server is not in one of t.From.
func (s *Store) TransitionServer(ctx context.Context, id string, t Transition) error {
	q := s.db.NewUpdate().Model((*Server)(nil)).
		Set("state = ?", t.To).Set("state_reason = ?", t.Reason).Set("updated_at = ?", now()).
		Where("id = ?", id)
	if t.CountCrash {
		q = q.Set("crash_count = crash_count + 1").Set("crashed_at = ?", now())
	}
	if t.Exit != nil {
		q = q.Set("last_exit_code = ?", t.Exit.Code).Set("last_oom_killed = ?", t.Exit.OOMKilled)
	}
	if len(t.From) > 0 {
		q = q.Where("state IN (?)", bun.List(t.From))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return mapError(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFound
	}
	return nil
}

// UpdateServer writes the named columns of srv and bumps updated_at.
func (s *Store) UpdateServer(ctx context.Context, srv *Server, columns ...string) error {
	srv.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(srv).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeleteServer removes a server and frees its allocations in one
// transaction; its subusers go with it.
func (s *Store) DeleteServer(ctx context.Context, id string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*Allocation)(nil)).
			Set("server_id = NULL").Set("is_primary = ?", false).
			Where("server_id = ?", id).Exec(ctx); err != nil {
			return mapError(err)
		}
		res, err := tx.NewDelete().Model((*Server)(nil)).Where("id = ?", id).Exec(ctx)
		return affectedOne(res, err)
	})
}

// NodeUsage is what a node's servers are given, summed.
type NodeUsage struct {
	MemoryMB int64 `bun:"memory_mb"`
	DiskMB   int64 `bun:"disk_mb"`
}

// NodeUsage sums the memory and disk of a node's servers, leaving out
// exceptID (the server being resized), if any.
func (s *Store) NodeUsage(ctx context.Context, nodeID, exceptID string) (NodeUsage, error) {
	var u NodeUsage
	q := s.db.NewSelect().Model((*Server)(nil)).
		ColumnExpr("COALESCE(SUM(memory_mb), 0) AS memory_mb").
		ColumnExpr("COALESCE(SUM(disk_mb), 0) AS disk_mb").
		Where("node_id = ?", nodeID)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	err := q.Scan(ctx, &u)
	return u, mapError(err)
}

// --- audit log ---

// AppendAudit records e, filling ID and time.
func (s *Store) AppendAudit(ctx context.Context, e *AuditEntry) error {
	e.ID = NewID()
	e.CreatedAt = now()
	if e.Metadata == nil {
		e.Metadata = map[string]any{}
	}
	_, err := s.db.NewInsert().Model(e).Exec(ctx)
	return mapError(err)
}

// AuditFilter narrows ListAudit. Zero fields match everything.
type AuditFilter struct {
	ActorID  string
	Action   string
	ServerID string
	Since    time.Time
	Until    time.Time
	// Before is a cursor: only entries older than this ID.
	Before string
	Limit  int
}

// ListAudit returns entries newest first. The last entry's ID is the cursor
// for the next page.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	var es []*AuditEntry
	q := s.db.NewSelect().Model(&es).Order("id DESC").Limit(clampLimit(f.Limit))
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.ServerID != "" {
		q = q.Where("server_id = ?", f.ServerID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	err := q.Scan(ctx)
	return es, mapError(err)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MoveServer puts a server on another node with the given allocations of
// that node (the first becomes primary), freeing those it had, in one
// transaction: a server that was transferred changes node and ports
// together or not at all. An allocation taken meanwhile is
// ErrAllocationTaken and nothing changes. The server must be in state
// from; it leaves in state to.
func (s *Store) MoveServer(ctx context.Context, id, nodeID string, allocationIDs []string, from, to string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*Server)(nil)).
			Set("node_id = ?", nodeID).Set("state = ?", to).Set("state_reason = ?", "").Set("updated_at = ?", now()).
			Where("id = ?", id).Where("state = ?", from).Exec(ctx)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Allocation)(nil)).
			Set("server_id = NULL").Set("is_primary = ?", false).
			Where("server_id = ?", id).Exec(ctx); err != nil {
			return mapError(err)
		}
		for i, aid := range allocationIDs {
			res, err := tx.NewUpdate().Model((*Allocation)(nil)).
				Set("server_id = ?", id).Set("is_primary = ?", i == 0).
				Where("id = ?", aid).Where("node_id = ?", nodeID).Where("server_id IS NULL").
				Exec(ctx)
			if err != nil {
				return mapError(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("%w: %s", ErrAllocationTaken, aid)
			}
		}
		return nil
	})
}
