package api

import (
	"errors"
	"net/http"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

// Error is an API error with the status and machine-readable code clients
// see. Handlers return it (or a store/accounts sentinel) to fail; fail
// turns any error into the one JSON envelope.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorBody is the envelope every failed request answers with.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// respond writes {"data": data}.
func respond(c *gin.Context, status int, data any) {
	c.JSON(status, gin.H{"data": data})
}

// fail writes err as the error envelope, choosing the status in one place.
// Unexpected errors are logged and reach the client as a generic message:
// no SQL or stack traces leave the process.
func (a *API) fail(c *gin.Context, err error) {
	var apiErr *Error
	var valErr *accounts.ValidationError
	detail := errorDetail{}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &apiErr):
		status, detail.Code, detail.Message = apiErr.Status, apiErr.Code, apiErr.Message
	case errors.As(err, &valErr):
		status, detail.Code, detail.Message, detail.Field = http.StatusUnprocessableEntity, "invalid_field", valErr.Error(), valErr.Field
	case errors.Is(err, store.ErrNotFound):
		status, detail.Code, detail.Message = http.StatusNotFound, "not_found", "no such resource"
	case errors.Is(err, store.ErrConflict):
		status, detail.Code, detail.Message = http.StatusConflict, "conflict", "a resource with the same unique field already exists"
	default:
		a.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		detail.Code, detail.Message = "internal", "internal error; the server log has details"
	}
	c.AbortWithStatusJSON(status, errorBody{Error: detail})
}
