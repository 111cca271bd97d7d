package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
)

// A browser cannot set headers on a WebSocket or a download link, so it
// first asks for a ticket (authenticated as usual) and opens the socket,
// or follows the link, with ?ticket=. A ticket is good for one socket or
// one download on one server, for ticketTTL. Other clients may send the
// Authorization header instead.
const ticketTTL = 30 * time.Second

// keyBearer holds the credential a request authenticated with.
const keyBearer = "catalyst.bearer"

type socketTicket struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

type ticketEntry struct {
	serverID string
	bearer   string
	until    time.Time
}

// tickets holds the unspent tickets, in memory: a restarted core forgets
// them, and clients ask again.
type tickets struct {
	mu sync.Mutex
	m  map[string]ticketEntry
}

func (t *tickets) issue(serverID, bearer string, now time.Time) (string, time.Time) {
	tok := auth.RandomToken(24)
	until := now.Add(ticketTTL)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]ticketEntry{}
	}
	for k, e := range t.m {
		if now.After(e.until) {
			delete(t.m, k)
		}
	}
	t.m[tok] = ticketEntry{serverID: serverID, bearer: bearer, until: until}
	return tok, until
}

// redeem spends a ticket; it is valid for serverID only.
func (t *tickets) redeem(tok, serverID string, now time.Time) (bearer string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, found := t.m[tok]
	if !found {
		return "", false
	}
	delete(t.m, tok)
	if now.After(e.until) || e.serverID != serverID {
		return "", false
	}
	return e.bearer, true
}

func (a *API) socketTicket(c *gin.Context) {
	tok, until := a.tickets.issue(serverOf(c).ID, c.GetString(keyBearer), time.Now())
	respond(c, http.StatusCreated, socketTicket{Ticket: tok, ExpiresAt: until})
}

// keyTicketed marks a request to a route that takes ?ticket= (a
// download); WebSocket upgrades take one on any route.
const keyTicketed = "catalyst.ticketed"

// ticketBearer is the credential a WebSocket upgrade or a download
// carries as a ticket, or "" when it carries none.
func (a *API) ticketBearer(c *gin.Context) (string, error) {
	tok := c.Query("ticket")
	if tok == "" || !(websocket.IsWebSocketUpgrade(c.Request) || c.GetBool(keyTicketed)) {
		return "", nil
	}
	bearer, ok := a.tickets.redeem(tok, c.Param("id"), time.Now())
	if !ok {
		return "", &Error{Status: http.StatusUnauthorized, Code: "invalid_ticket",
			Message: "the ticket is unknown, spent, expired or for another server; ask for a new one"}
	}
	return bearer, nil
}

// checkOrigin accepts sockets from non-browser clients, from the panel's
// own origin and from http.cors_origins.
func (a *API) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if pub, err := url.Parse(a.Config.PublicURL); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, pub.Scheme+"://"+pub.Host) {
		return true
	}
	cors := a.Config.HTTP.CORSOrigins
	return slices.Contains(cors, "*") || slices.Contains(cors, origin)
}

func (a *API) serverSocket(c *gin.Context) {
	if !websocket.IsWebSocketUpgrade(c.Request) {
		a.fail(c, badRequest("websocket_required", "this is a WebSocket endpoint: send an Upgrade: websocket request"))
		return
	}
	srv, p, access := serverOf(c), principalOf(c), accessOf(c)
	if srv.State == store.StateSuspended && !p.Admin {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: "server_suspended", Message: "the server is suspended"})
		return
	}
	if !a.checkOrigin(c.Request) {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: "origin_denied",
			Message: "origin " + c.GetHeader("Origin") + " may not open sockets; add it to http.cors_origins"})
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize: 4 << 10, WriteBufferSize: 32 << 10, HandshakeTimeout: 10 * time.Second,
		CheckOrigin: func(*http.Request) bool { return true }, // checked above, with an error body
	}
	ws, err := up.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered
	}
	bearer := c.GetString(keyBearer)
	ip, _ := netip.ParseAddr(c.ClientIP())
	sa := &socketActions{a: a, serverID: srv.ID, userID: p.UserID, apiKeyID: p.APIKeyID, bearer: bearer, ip: ip, requestID: requestIDOf(c)}
	a.Log.Debug("server socket opened", "server", srv.ID, "user", p.UserID, "ip", c.ClientIP())
	a.Live.Serve(c.Request.Context(), ws, live.Session{
		ServerID: srv.ID, NodeID: srv.NodeID, UserID: p.UserID, State: srv.State, Reason: srv.StateReason,
		Access: socketAccess(p, access), Expires: a.Auth.Expiry(bearer),
	}, sa)
	a.Log.Debug("server socket closed", "server", srv.ID, "user", p.UserID)
}

func socketAccess(p *rbac.Principal, access rbac.ServerAccess) live.Access {
	return live.Access{Read: p.CanOnServer(rbac.ServerRead, access), Console: p.CanOnServer(rbac.ServerConsole, access)}
}

// socketActions does what one socket's client asks, as its user, with the
// same checks and audit records as the REST routes. Its methods are called
// one at a time (live reads a socket's messages in order).
type socketActions struct {
	a         *API
	serverID  string
	userID    string
	apiKeyID  string
	bearer    string
	ip        netip.Addr
	requestID string
}

var _ live.Inbound = (*socketActions)(nil)

// resolve authenticates the socket's credential again and loads the
// server and the user's access to it, as requireServer does.
func (s *socketActions) resolve(ctx context.Context) (*store.Server, *rbac.Principal, rbac.ServerAccess, error) {
	_, p, err := s.a.Auth.Authenticate(ctx, s.bearer, s.ip)
	if err != nil {
		return nil, nil, rbac.ServerAccess{}, err
	}
	srv, err := s.a.Store.ServerByID(ctx, s.serverID)
	if err != nil {
		return nil, nil, rbac.ServerAccess{}, err
	}
	access, err := s.a.serverAccess(ctx, srv, p)
	if err != nil {
		return nil, nil, rbac.ServerAccess{}, err
	}
	return srv, p, access, nil
}

// permitted resolves and checks perm; the error is what the client sees.
func (s *socketActions) permitted(ctx context.Context, perm rbac.Permission) (*store.Server, error) {
	srv, p, access, err := s.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if !p.CanOnServer(perm, access) {
		return nil, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "missing permission " + string(perm)}
	}
	return srv, nil
}

// audit records what a socket did, like recordResult does for requests.
func (s *socketActions) audit(ctx context.Context, action string, err error, meta map[string]any) {
	outcome := store.OutcomeSuccess
	if err != nil {
		outcome = store.OutcomeFailure
		d, _, _ := errorStatus(err)
		meta["error"] = d.Code
	}
	meta["via"] = "websocket"
	meta["request_id"] = s.requestID
	e := audit.Entry{
		IP: s.ip.String(), Action: action, TargetType: "server", TargetID: s.serverID, ServerID: s.serverID,
		Outcome: outcome, Metadata: meta, ActorID: s.userID, ActorType: audit.ActorUser,
	}
	if s.apiKeyID != "" {
		e.ActorType = audit.ActorAPIKey
		meta["api_key_id"] = s.apiKeyID
	}
	s.a.Audit.Record(ctx, e)
}

func (s *socketActions) Command(ctx context.Context, line string) error {
	srv, err := s.permitted(ctx, rbac.ServerConsole)
	if err == nil {
		err = s.a.Servers.Command(ctx, srv, line)
	}
	s.audit(ctx, "server.command", err, map[string]any{"bytes": len(line)})
	return err
}

func (s *socketActions) Power(ctx context.Context, action string) error {
	perm, ok := powerPerm[action]
	if !ok {
		return invalidField("state", "must be one of %s", strings.Join(servers.Actions(), ", "))
	}
	_, err := s.permitted(ctx, perm)
	if err == nil {
		err = s.a.checkStartAllowed(s.serverID, action)
	}
	if err == nil {
		_, err = s.a.Servers.Power(ctx, s.serverID, action)
	}
	s.audit(ctx, "server.power."+action, err, map[string]any{})
	return err
}

func (s *socketActions) Logs(ctx context.Context, lines int) ([]string, error) {
	if lines == 0 {
		lines = 100
	}
	if lines < 1 || lines > wire.MaxLogLines {
		return nil, invalidField("lines", "must be between 1 and %d", wire.MaxLogLines)
	}
	srv, err := s.permitted(ctx, rbac.ServerConsole)
	if err != nil {
		return nil, err
	}
	return s.a.Servers.Logs(ctx, srv, lines)
}

func (s *socketActions) Stats(ctx context.Context) (wire.ServerStats, bool) {
	if _, err := s.permitted(ctx, rbac.ServerRead); err != nil {
		return wire.ServerStats{}, false
	}
	return s.a.Metrics.LatestServer(s.serverID)
}

func (s *socketActions) Reauth(ctx context.Context, token string) (live.Access, time.Time, error) {
	u, _, err := s.a.Auth.Authenticate(ctx, token, s.ip)
	if err != nil {
		return live.Access{}, time.Time{}, err
	}
	if u.ID != s.userID {
		return live.Access{}, time.Time{}, &Error{Status: http.StatusForbidden, Code: "other_user",
			Message: "the token belongs to another user; open a new socket instead"}
	}
	prev := s.bearer
	s.bearer = token
	a, err := s.Recheck(ctx)
	if err != nil {
		s.bearer = prev
		return live.Access{}, time.Time{}, err
	}
	return a, s.a.Auth.Expiry(token), nil
}

func (s *socketActions) Recheck(ctx context.Context) (live.Access, error) {
	srv, p, access, err := s.resolve(ctx)
	if err != nil {
		return live.Access{}, err
	}
	if srv.State == store.StateSuspended && !p.Admin {
		return live.Access{}, errors.New("server suspended")
	}
	return socketAccess(p, access), nil
}

func (s *socketActions) Describe(err error) (string, string) {
	d, _, ok := errorStatus(err)
	if !ok {
		s.a.Log.Error("socket request failed", "server", s.serverID, "error", err)
		return "internal", "internal error; the server log has details"
	}
	return d.Code, d.Message
}
