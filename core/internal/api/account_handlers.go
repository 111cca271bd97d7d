package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

type accountView struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Username    string    `json:"username"`
	Admin       bool      `json:"admin"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func viewAccount(u *store.User) accountView {
	return accountView{ID: u.ID, Email: u.Email, Username: u.Username, Admin: u.Admin, TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt}
}

type accountUpdate struct {
	Email    *string `json:"email,omitempty"`
	Username *string `json:"username,omitempty"`
}

func (a *API) getAccount(c *gin.Context) { respond(c, http.StatusOK, viewAccount(userOf(c))) }

func (a *API) updateAccount(c *gin.Context) {
	var req accountUpdate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u := userOf(c)
	cols, err := accounts.ApplyProfile(u, req.Email, req.Username)
	if err != nil {
		a.fail(c, err)
		return
	}
	if len(cols) > 0 {
		if err := a.Store.UpdateUser(c.Request.Context(), u, cols...); err != nil {
			a.fail(c, err)
			return
		}
		a.record(c, "account.update", "user", u.ID, "", store.OutcomeSuccess, map[string]any{"fields": cols})
	}
	respond(c, http.StatusOK, viewAccount(u))
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *API) changePassword(c *gin.Context) {
	var req passwordChange
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u := userOf(c)
	s, err := a.Auth.ChangePassword(c.Request.Context(), u, req.CurrentPassword, req.NewPassword, a.client(c))
	a.recordResult(c, "account.password_change", "user", u.ID, "", err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.Live.RevokeUser(u.ID) // sockets opened with the old sessions close
	a.revokeSFTPUser(u.ID)
	respond(c, http.StatusOK, sessionView(s))
}

type totpSetup struct {
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

type totpCode struct {
	Code string `json:"code"`
}

type totpDisable struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (a *API) beginTOTP(c *gin.Context) {
	secret, url, err := a.Auth.BeginTOTP(c.Request.Context(), userOf(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, totpSetup{Secret: secret, URL: url})
}

func (a *API) enableTOTP(c *gin.Context) {
	var req totpCode
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u := userOf(c)
	codes, err := a.Auth.EnableTOTP(c.Request.Context(), u, req.Code)
	a.recordResult(c, "account.totp_enable", "user", u.ID, "", err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, recoveryCodes{RecoveryCodes: codes})
}

func (a *API) disableTOTP(c *gin.Context) {
	var req totpDisable
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u := userOf(c)
	err := a.Auth.DisableTOTP(c.Request.Context(), u, req.Password, req.Code)
	a.recordResult(c, "account.totp_disable", "user", u.ID, "", err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// --- API keys ---

type apiKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	AllowedIPs []string   `json:"allowed_ips"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func viewAPIKey(k *store.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Prefix: auth.APIKeyPrefix + k.Prefix, Scopes: k.Scopes,
		AllowedIPs: k.AllowedIPs, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, CreatedAt: k.CreatedAt}
}

type apiKeyCreate struct {
	Name string `json:"name"`
	// Scopes limits the key to these permissions or families ("file.*");
	// omitted, the key has all of its user's permissions.
	Scopes     []string   `json:"scopes,omitempty"`
	AllowedIPs []string   `json:"allowed_ips,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

type apiKeyCreated struct {
	apiKeyView
	// Key is the whole secret, shown this once.
	Key string `json:"key"`
}

func (a *API) listAPIKeys(c *gin.Context) {
	ks, err := a.Store.ListAPIKeys(c.Request.Context(), userOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(ks, viewAPIKey))
}

func (a *API) createAPIKey(c *gin.Context) {
	var req apiKeyCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u := userOf(c)
	// A key made with a scoped key may not exceed that key's scopes.
	if p := principalOf(c); p.Scopes != nil && (req.Scopes == nil || !subsetOf(req.Scopes, p.Scopes)) {
		a.fail(c, invalidField("scopes", "must be within the scopes of the API key making it (%s)", strings.Join(p.Scopes, ", ")))
		return
	}
	key, k, err := a.Auth.CreateAPIKey(c.Request.Context(), u, auth.NewAPIKey{Name: req.Name, Scopes: req.Scopes, AllowedIPs: req.AllowedIPs, ExpiresAt: req.ExpiresAt})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "api_key.create", "api_key", k.ID, "", store.OutcomeSuccess, map[string]any{"name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes})
	respond(c, http.StatusCreated, apiKeyCreated{apiKeyView: viewAPIKey(k), Key: key})
}

func (a *API) deleteAPIKey(c *gin.Context) {
	if err := a.Store.DeleteAPIKey(c.Request.Context(), userOf(c).ID, c.Param("kid")); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "api_key.delete", "api_key", c.Param("kid"), "", store.OutcomeSuccess, nil)
	a.Live.RevokeUser(userOf(c).ID)
	c.Status(http.StatusNoContent)
}

// subsetOf reports whether every scope in want is covered by one in have.
func subsetOf(want, have []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return rbac.ScopeCovers(h, w) }) {
			return false
		}
	}
	return true
}

type permissionCatalog struct {
	Server []string `json:"server"`
	Global []string `json:"global"`
}

func (a *API) permissions(c *gin.Context) {
	var out permissionCatalog
	for _, p := range rbac.ServerPermissions {
		out.Server = append(out.Server, string(p))
	}
	for _, p := range rbac.GlobalPermissions {
		out.Global = append(out.Global, string(p))
	}
	respond(c, http.StatusOK, out)
}
