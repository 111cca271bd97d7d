package api

import (
	"errors"
	"net/http"
	"strings"

	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/auth"
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
	return sessionResponse{Token: s.Token, RefreshToken: s.RefreshToken, ExpiresAt: s.ExpiresAt.Format("2006-01-02T15:04:05Z07:00")}
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
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email == "" || req.Password == "" {
		a.fail(c, invalidField("email", "email and password are required"))
		return
	}
	if ok, wait := a.loginLimiter.allow(c.ClientIP() + "|" + email); !ok {
		a.Audit.Record(c.Request.Context(), audit.Entry{IP: c.ClientIP(), Action: "auth.login", TargetType: "user",
			TargetID: email, Outcome: store.OutcomeDenied, Metadata: map[string]any{"reason": "throttled", "request_id": requestIDOf(c)}})
		a.tooMany(c, retryAfterSeconds(wait), "logging in to this account from this address")
		return
	}
	s, err := a.Auth.Login(c.Request.Context(), email, req.Password, req.TOTPCode, a.client(c))
	if err != nil {
		reason := "error"
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			reason = "invalid_credentials"
		case errors.Is(err, auth.ErrTOTPRequired):
			reason = "two_factor_required"
		case errors.Is(err, auth.ErrInvalidTOTP):
			reason = "invalid_two_factor_code"
		}
		a.Audit.Record(c.Request.Context(), audit.Entry{IP: c.ClientIP(), Action: "auth.login", TargetType: "user",
			TargetID: email, Outcome: store.OutcomeFailure, Metadata: map[string]any{"reason": reason, "request_id": requestIDOf(c)}})
		a.fail(c, err)
		return
	}
	a.Audit.Record(c.Request.Context(), audit.Entry{ActorID: s.User.ID, ActorType: audit.ActorUser, IP: c.ClientIP(),
		Action: "auth.login", TargetType: "user", TargetID: s.User.ID, Outcome: store.OutcomeSuccess,
		Metadata: map[string]any{"request_id": requestIDOf(c), "two_factor": s.User.TOTPEnabled}})
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
			a.Audit.Record(c.Request.Context(), audit.Entry{IP: c.ClientIP(), Action: "auth.refresh",
				Outcome: store.OutcomeFailure, Metadata: map[string]any{"request_id": requestIDOf(c)}})
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
	a.Audit.Record(c.Request.Context(), audit.Entry{IP: c.ClientIP(), Action: "auth.logout",
		Outcome: store.OutcomeSuccess, Metadata: map[string]any{"request_id": requestIDOf(c)}})
	c.Status(http.StatusNoContent)
}
