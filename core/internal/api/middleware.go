package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

// Context keys for what the middleware learns about a request.
const (
	keyRequestID = "catalyst.request_id"
	keyUser      = "catalyst.user"
	keyPrincipal = "catalyst.principal"
	keyServer    = "catalyst.server"
	keyAccess    = "catalyst.access"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID takes a sane X-Request-ID from a proxy or makes one, and
// echoes it in the response, the logs and error bodies.
func (a *API) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDRE.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(keyRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestIDOf(c *gin.Context) string { return c.GetString(keyRequestID) }

// securityHeaders are sent on every answer. The API serves JSON only, so
// its policy forbids everything a page would need.
func (a *API) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
	}
	if a.Config.HTTP.HSTS {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}

// cors answers browsers on other origins listed in http.cors_origins.
// Credentials travel in the Authorization header, never cookies, so no
// Allow-Credentials.
func (a *API) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" {
		c.Next()
		return
	}
	allowed := a.Config.HTTP.CORSOrigins
	if !slices.Contains(allowed, "*") && !slices.Contains(allowed, origin) {
		if c.Request.Method == http.MethodOptions {
			a.fail(c, &Error{Status: http.StatusForbidden, Code: "cors_origin_denied", Message: "origin " + origin + " may not call this API"})
			return
		}
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
		h.Set("Access-Control-Max-Age", "600")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// limitBody caps request bodies at limit bytes; bind reports the
// overflow as 413.
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// tooMany answers 429 with Retry-After.
func (a *API) tooMany(c *gin.Context, wait int, what string) {
	c.Header("Retry-After", strconv.Itoa(wait))
	a.fail(c, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "too many requests " + what + "; retry in " + strconv.Itoa(wait) + "s"})
}

func (a *API) limitIP(group string) gin.HandlerFunc {
	l := a.limits[group]
	return func(c *gin.Context) {
		if ok, wait := l.perIP.allow(c.ClientIP()); !ok {
			a.tooMany(c, retryAfterSeconds(wait), "from this address")
			return
		}
		c.Next()
	}
}

func (a *API) limitUser(group string) gin.HandlerFunc {
	l := a.limits[group]
	return func(c *gin.Context) {
		if ok, wait := l.perUser.allow(principalOf(c).UserID); !ok {
			a.tooMany(c, retryAfterSeconds(wait), "for this account")
			return
		}
		c.Next()
	}
}

// authenticate resolves the bearer credential (or, on a WebSocket
// upgrade, the socket ticket standing for one); without a valid one the
// request ends with 401.
func (a *API) authenticate(c *gin.Context) {
	token, err := a.ticketBearer(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if token == "" {
		var ok bool
		token, ok = strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="catalyst"`)
			a.fail(c, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "send Authorization: Bearer <access token or API key>"})
			return
		}
	}
	ip, _ := netip.ParseAddr(c.ClientIP())
	u, p, err := a.Auth.Authenticate(c.Request.Context(), token, ip)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="catalyst", error="invalid_token"`)
		a.fail(c, err)
		return
	}
	c.Set(keyUser, u)
	c.Set(keyPrincipal, p)
	c.Set(keyBearer, token)
	c.Next()
}

func userOf(c *gin.Context) *store.User { return c.MustGet(keyUser).(*store.User) }

func principalOf(c *gin.Context) *rbac.Principal { return c.MustGet(keyPrincipal).(*rbac.Principal) }

func serverOf(c *gin.Context) *store.Server { return c.MustGet(keyServer).(*store.Server) }

func accessOf(c *gin.Context) rbac.ServerAccess { return c.MustGet(keyAccess).(rbac.ServerAccess) }

// requireGlobal checks a permission not tied to a server.
func (a *API) requireGlobal(perm rbac.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principalOf(c).Can(perm) {
			a.deny(c, perm, "", "")
			return
		}
		c.Next()
	}
}

// requireServer loads the server named by :id and checks perm on it. A
// server the principal has no access to at all does not exist for them.
// An empty perm only loads the server: the handler checks a permission
// that depends on the request (power actions).
func (a *API) requireServer(perm rbac.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		srv, err := a.Store.ServerByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			a.fail(c, err)
			return
		}
		access, err := a.serverAccess(c.Request.Context(), srv, p)
		if err != nil {
			a.fail(c, err)
			return
		}
		if !p.SeesServer(access) {
			a.fail(c, store.ErrNotFound)
			return
		}
		if perm != "" && !p.CanOnServer(perm, access) {
			a.deny(c, perm, "server", srv.ID)
			return
		}
		c.Set(keyServer, srv)
		c.Set(keyAccess, access)
		c.Next()
	}
}

// serverAccess is what p holds on srv: ownership or a subuser's grants.
func (a *API) serverAccess(ctx context.Context, srv *store.Server, p *rbac.Principal) (rbac.ServerAccess, error) {
	access := rbac.ServerAccess{Owner: srv.OwnerID == p.UserID}
	if access.Owner || p.Admin {
		return access, nil
	}
	sub, err := a.Store.Subuser(ctx, srv.ID, p.UserID)
	switch {
	case err == nil:
		access.Granted = sub.Permissions
	case !errors.Is(err, store.ErrNotFound):
		return access, err
	}
	return access, nil
}

// deny ends the request with 403 and records the refusal.
func (a *API) deny(c *gin.Context, perm rbac.Permission, targetType, targetID string) {
	serverID := ""
	if targetType == "server" {
		serverID = targetID
	}
	a.record(c, "permission.denied", targetType, targetID, serverID, store.OutcomeDenied,
		map[string]any{"permission": string(perm), "route": c.Request.Method + " " + c.FullPath()})
	a.fail(c, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "missing permission " + string(perm)})
}

// recordResult records an action that ended with err: a success, or a
// failure carrying the error's code.
func (a *API) recordResult(c *gin.Context, action, targetType, targetID, serverID string, err error, meta map[string]any) {
	outcome := store.OutcomeSuccess
	if err != nil {
		outcome = store.OutcomeFailure
		if meta == nil {
			meta = map[string]any{}
		}
		d, _, _ := errorStatus(err)
		meta["error"] = d.Code
	}
	a.record(c, action, targetType, targetID, serverID, outcome, meta)
}

// record writes an audit entry for the request's actor, if it has one
// (anonymous otherwise: logins, agent enrolment).
func (a *API) record(c *gin.Context, action, targetType, targetID, serverID, outcome string, meta map[string]any) {
	if meta == nil {
		meta = map[string]any{}
	}
	meta["request_id"] = requestIDOf(c)
	e := audit.Entry{
		IP: c.ClientIP(), Action: action, TargetType: targetType, TargetID: targetID,
		ServerID: serverID, Outcome: outcome, Metadata: meta,
	}
	if v, ok := c.Get(keyPrincipal); ok {
		p := v.(*rbac.Principal)
		e.ActorID, e.ActorType = p.UserID, audit.ActorUser
		if p.APIKeyID != "" {
			e.ActorType = audit.ActorAPIKey
			meta["api_key_id"] = p.APIKeyID
		}
	}
	a.Audit.Record(c.Request.Context(), e)
}
