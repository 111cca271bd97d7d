package api

import (
	"errors"
	"net/http"
	"time"

	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// TOTPCode is the authenticator's code or a recovery code, required
	// when the account has two-factor authentication on.
	TOTPCode string `json:"totp_code,omitempty"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type sessionResponse struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    string `json:"expires_at"`
}

func sessionView(s *auth.Session) sessionResponse {
	return sessionResponse{Token: s.Token, RefreshToken: s.RefreshToken, ExpiresAt: s.ExpiresAt.Format(time.RFC3339)}
}

func (a *API) client(c *gin.Context) auth.Client {
	return auth.Client{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}

func (a *API) login(c *gin.Context) {
	var req loginRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	email := normalizeEmailLoose(req.Email)
	if email == "" || req.Password == "" {
		a.fail(c, invalidField("email", "email and password are required"))
		return
	}
	if ok, wait := a.loginLimiter.allow(c.ClientIP() + "|" + email); !ok {
		a.record(c, "auth.login", "user", email, "", store.OutcomeDenied, map[string]any{"reason": "throttled"})
		a.tooMany(c, retryAfterSeconds(wait), "logging in to this account from this address")
		return
	}
	s, err := a.Auth.Login(c.Request.Context(), email, req.Password, req.TOTPCode, a.client(c))
	if err != nil {
		d, _, _ := errorStatus(err)
		a.record(c, "auth.login", "user", email, "", store.OutcomeFailure, map[string]any{"reason": d.Code})
		a.fail(c, err)
		return
	}
	// The request now has an actor: the user who just logged in.
	c.Set(keyPrincipal, &rbac.Principal{UserID: s.User.ID, Admin: s.User.Admin})
	a.record(c, "auth.login", "user", s.User.ID, "", store.OutcomeSuccess, map[string]any{"two_factor": s.User.TOTPEnabled})
	respond(c, http.StatusOK, sessionView(s))
}

func (a *API) refresh(c *gin.Context) {
	var req refreshRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if req.RefreshToken == "" {
		a.fail(c, invalidField("refresh_token", "is required"))
		return
	}
	s, err := a.Auth.Refresh(c.Request.Context(), req.RefreshToken, a.client(c))
	if err != nil {
		if errors.Is(err, auth.ErrInvalidRefresh) {
			a.record(c, "auth.refresh", "", "", "", store.OutcomeFailure, nil)
		}
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, sessionView(s))
}

func (a *API) logout(c *gin.Context) {
	var req refreshRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.Auth.Logout(c.Request.Context(), req.RefreshToken); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "auth.logout", "", "", "", store.OutcomeSuccess, nil)
	c.Status(http.StatusNoContent)
}
