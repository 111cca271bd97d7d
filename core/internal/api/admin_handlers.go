package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin/host"
	"github.com/gin-gonic/gin"
)

func normalizeEmailLoose(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

type userPage struct {
	Users []accountView `json:"users"`
	// Next is the cursor for the following page ("after"); empty at the end.
	Next string `json:"next"`
}

type userCreate struct {
	Email    string `json:"email"`
	Username string `json:"username,omitempty"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

type userUpdate struct {
	Email    *string `json:"email,omitempty"`
	Username *string `json:"username,omitempty"`
	Password *string `json:"password,omitempty"`
	Admin    *bool   `json:"admin,omitempty"`
}

// queryLimit reads ?limit=, refusing what is not a number in 1..500.
func queryLimit(c *gin.Context) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 500 {
		return 0, invalidField("limit", "must be a whole number from 1 to 500")
	}
	return n, nil
}

func (a *API) adminListUsers(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	us, err := a.Store.ListUsers(c.Request.Context(), store.UserFilter{Query: c.Query("q"), After: c.Query("after"), Limit: limit})
	if err != nil {
		a.fail(c, err)
		return
	}
	page := userPage{Users: viewAll(us, viewAccount)}
	if len(us) == limit {
		page.Next = us[len(us)-1].ID
	}
	respond(c, http.StatusOK, page)
}

func (a *API) adminCreateUser(c *gin.Context) {
	var req userCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u, err := a.Accounts.Create(c.Request.Context(), accounts.NewUser{Email: req.Email, Username: req.Username, Password: req.Password, Admin: req.Admin})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.user.create", "user", u.ID, "", store.OutcomeSuccess, map[string]any{"email": u.Email, "admin": u.Admin})
	respond(c, http.StatusCreated, viewAccount(u))
}

func (a *API) adminGetUser(c *gin.Context) {
	u, err := a.Store.UserByID(c.Request.Context(), c.Param("uid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAccount(u))
}

func (a *API) adminUpdateUser(c *gin.Context) {
	var req userUpdate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := a.Store.UserByID(ctx, c.Param("uid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	cols, err := accounts.ApplyProfile(u, req.Email, req.Username)
	if err != nil {
		a.fail(c, err)
		return
	}
	if req.Password != nil {
		if err := accounts.SetPassword(u, *req.Password); err != nil {
			a.fail(c, err)
			return
		}
		cols = append(cols, "password_hash")
	}
	if req.Admin != nil && *req.Admin != u.Admin {
		if !*req.Admin && u.ID == principalOf(c).UserID {
			a.fail(c, invalidField("admin", "you cannot remove your own administrator rights"))
			return
		}
		u.Admin = *req.Admin
		cols = append(cols, "admin")
	}
	if len(cols) > 0 {
		if err := a.Store.UpdateUser(ctx, u, cols...); err != nil {
			a.fail(c, err)
			return
		}
		// A new password or lost admin rights end the user's sessions.
		if req.Password != nil || (req.Admin != nil && !*req.Admin) {
			if err := a.Auth.RevokeAll(ctx, u); err != nil {
				a.fail(c, err)
				return
			}
		}
		a.record(c, "admin.user.update", "user", u.ID, "", store.OutcomeSuccess, map[string]any{"fields": cols})
		a.Live.RevokeUser(u.ID)
		if req.Password != nil || (req.Admin != nil && !*req.Admin) {
			a.revokeSFTPUser(u.ID)
		}
	}
	respond(c, http.StatusOK, viewAccount(u))
}

func (a *API) adminDeleteUser(c *gin.Context) {
	id := c.Param("uid")
	if id == principalOf(c).UserID {
		a.fail(c, &Error{Status: http.StatusConflict, Code: "in_use", Message: "you cannot delete your own account"})
		return
	}
	err := a.Store.DeleteUser(c.Request.Context(), id)
	a.recordResult(c, "admin.user.delete", "user", id, "", err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.Live.RevokeUser(id)
	a.revokeSFTPUser(id)
	c.Status(http.StatusNoContent)
}

type auditPage struct {
	Entries []*store.AuditEntry `json:"entries"`
	// Next is the cursor for the following page ("before"); empty at the end.
	Next string `json:"next"`
}

func parseTimeQuery(c *gin.Context, name string) (time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalidField(name, "must be an RFC 3339 time such as 2026-11-21T08:00:00Z")
	}
	return t, nil
}

func (a *API) auditLogs(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	since, err := parseTimeQuery(c, "since")
	if err != nil {
		a.fail(c, err)
		return
	}
	until, err := parseTimeQuery(c, "until")
	if err != nil {
		a.fail(c, err)
		return
	}
	es, err := a.Store.ListAudit(c.Request.Context(), store.AuditFilter{
		ActorID: c.Query("actor"), Action: c.Query("action"), ServerID: c.Query("server"),
		Since: since, Until: until, Before: c.Query("before"), Limit: limit,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	page := auditPage{Entries: es}
	if len(es) == limit {
		page.Next = es[len(es)-1].ID
	}
	respond(c, http.StatusOK, page)
}

func (a *API) listPlugins(c *gin.Context) {
	st := a.Plugins.Status()
	if st == nil {
		st = []host.Status{}
	}
	respond(c, http.StatusOK, st)
}
