package api

import (
	"catalyst.dev/core/internal/schedules"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

// Error is an API error with the status and machine-readable code clients
// see. Handlers return it (or a sentinel from store, accounts or auth) to
// fail; fail turns any error into the one JSON envelope.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidField(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_field", Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// errorBody is the envelope every failed request answers with.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// respond writes {"data": data}.
func respond(c *gin.Context, status int, data any) {
	c.JSON(status, gin.H{"data": data})
}

// viewAll maps records to their views; never nil, so an empty list
// answers [] rather than null.
func viewAll[T, V any](records []T, view func(T) V) []V {
	out := make([]V, 0, len(records))
	for _, r := range records {
		out = append(out, view(r))
	}
	return out
}

// agentCodeBusy is the agent's answer to more concurrent work than it
// takes on one server (file pulls); the agent's wire codes gain it as
// wire.CodeBusy with its file routes.
const agentCodeBusy = "busy"

// errorStatus maps the errors handlers return to what the client sees, in
// one place. ok is false for unexpected errors.
func errorStatus(err error) (d errorDetail, status int, ok bool) {
	var apiErr *Error
	var valErr *accounts.ValidationError
	var maxErr *http.MaxBytesError
	var protoErr *gateway.ProtocolError
	var agentErr *gateway.AgentError
	switch {
	case errors.As(err, &apiErr):
		return errorDetail{Code: apiErr.Code, Message: apiErr.Message, Field: apiErr.Field}, apiErr.Status, true
	case errors.As(err, &valErr):
		return errorDetail{Code: "invalid_field", Message: valErr.Error(), Field: valErr.Field}, http.StatusUnprocessableEntity, true
	case errors.As(err, &maxErr):
		return errorDetail{Code: "body_too_large", Message: fmt.Sprintf("request body exceeds %d bytes", maxErr.Limit)}, http.StatusRequestEntityTooLarge, true
	case errors.Is(err, store.ErrNotFound):
		return errorDetail{Code: "not_found", Message: "no such resource"}, http.StatusNotFound, true
	case errors.Is(err, store.ErrConflict):
		return errorDetail{Code: "conflict", Message: "a resource with the same unique field already exists"}, http.StatusConflict, true
	case errors.Is(err, store.ErrInUse):
		return errorDetail{Code: "in_use", Message: "other records still depend on this resource"}, http.StatusConflict, true
	case errors.Is(err, auth.ErrInvalidCredentials):
		return errorDetail{Code: "invalid_credentials", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, auth.ErrTOTPRequired):
		return errorDetail{Code: "two_factor_required", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, auth.ErrInvalidTOTP):
		return errorDetail{Code: "invalid_two_factor_code", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, auth.ErrInvalidToken):
		return errorDetail{Code: "invalid_token", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, auth.ErrInvalidRefresh):
		return errorDetail{Code: "invalid_refresh_token", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, nodes.ErrInvalidToken):
		return errorDetail{Code: "invalid_node_token", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.Is(err, auth.ErrIPNotAllowed):
		return errorDetail{Code: "ip_not_allowed", Message: err.Error()}, http.StatusForbidden, true
	case errors.Is(err, auth.ErrTOTPNotPending), errors.Is(err, auth.ErrTOTPAlreadyEnabled):
		return errorDetail{Code: "two_factor_state", Message: err.Error()}, http.StatusConflict, true

	// Servers and the agents that run them.
	case errors.Is(err, servers.ErrBusy):
		return errorDetail{Code: "busy", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, servers.ErrStateConflict):
		return errorDetail{Code: "state_conflict", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, servers.ErrInsufficientResources):
		return errorDetail{Code: "insufficient_resources", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, servers.ErrNoAllocation):
		return errorDetail{Code: "no_free_allocation", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, servers.ErrNodeMaintenance):
		return errorDetail{Code: "node_maintenance", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, schedules.ErrRunning):
		return errorDetail{Code: "busy", Message: err.Error()}, http.StatusConflict, true
	// Backups.
	case errors.Is(err, backups.ErrBusy), errors.Is(err, backups.ErrHeldStopped):
		return errorDetail{Code: "busy", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, backups.ErrDisabled):
		return errorDetail{Code: "backups_disabled", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, backups.ErrLimit):
		return errorDetail{Code: "backup_limit", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, backups.ErrLocked):
		return errorDetail{Code: "backup_locked", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, backups.ErrBackupState):
		return errorDetail{Code: "backup_state", Message: err.Error()}, http.StatusConflict, true
	case errors.Is(err, backups.ErrBadStore):
		return errorDetail{Code: "bad_store", Message: err.Error()}, http.StatusBadRequest, true
	case errors.Is(err, backups.ErrObjectMismatch):
		return errorDetail{Code: "backup_damaged", Message: err.Error()}, http.StatusBadGateway, true
	case errors.Is(err, backups.ErrClosed):
		return errorDetail{Code: "shutting_down", Message: err.Error()}, http.StatusServiceUnavailable, true

	case errors.Is(err, gateway.ErrNodeOffline):
		return errorDetail{Code: "node_offline", Message: err.Error()}, http.StatusServiceUnavailable, true
	case errors.Is(err, gateway.ErrRequestBody):
		return errorDetail{Code: "body_incomplete", Message: "the request body was cut off before its end; the node discards the file it was writing"}, http.StatusBadRequest, true
	case errors.Is(err, gateway.ErrUnreachable):
		return errorDetail{Code: "agent_unreachable", Message: "the node's agent did not answer; the action may or may not have happened"}, http.StatusBadGateway, true
	case errors.As(err, &agentErr):
		switch agentErr.Code {
		case wire.CodeNoStore:
			return errorDetail{Code: "bad_store", Message: agentErr.Message}, http.StatusBadRequest, true
		case wire.CodeChecksum:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusUnprocessableEntity, true
		case wire.CodeNotRunning, wire.CodeConflict:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Error()}, http.StatusConflict, true
		case wire.CodeTooLarge:
			return errorDetail{Code: "body_too_large", Message: agentErr.Error()}, http.StatusRequestEntityTooLarge, true
		// The file API's refusals are about what the caller asked for; the
		// agent's message names the path as the caller wrote it.
		case wire.CodeInvalid:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusBadRequest, true
		case wire.CodeNotFound:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusNotFound, true
		case wire.CodeDenied:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusForbidden, true
		case wire.CodeExists:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusConflict, true
		case wire.CodeOverQuota:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusInsufficientStorage, true
		case agentCodeBusy:
			return errorDetail{Code: agentErr.Code, Message: agentErr.Message}, http.StatusTooManyRequests, true
		}
		switch agentErr.Status {
		case http.StatusRequestedRangeNotSatisfiable:
			return errorDetail{Code: "range_not_satisfiable", Message: agentErr.Message}, agentErr.Status, true
		case http.StatusPreconditionFailed:
			return errorDetail{Code: "precondition_failed", Message: agentErr.Message}, agentErr.Status, true
		}
		return errorDetail{Code: "agent_error", Message: agentErr.Error()}, http.StatusBadGateway, true

	// The agent tunnel's entry point.
	case errors.Is(err, gateway.ErrUnauthenticated):
		return errorDetail{Code: "unauthenticated", Message: err.Error()}, http.StatusUnauthorized, true
	case errors.As(err, &protoErr):
		return errorDetail{Code: "protocol_mismatch", Message: err.Error()}, http.StatusUpgradeRequired, true
	case errors.Is(err, gateway.ErrNotWebSocket):
		return errorDetail{Code: "websocket_required", Message: err.Error()}, http.StatusBadRequest, true
	case errors.Is(err, gateway.ErrClosed):
		return errorDetail{Code: "shutting_down", Message: err.Error()}, http.StatusServiceUnavailable, true
	}
	return errorDetail{Code: "internal", Message: "internal error; the server log has details"}, http.StatusInternalServerError, false
}

// fail writes err as the error envelope. Unexpected errors are logged with
// the request ID and reach the client as a generic message: no SQL or stack
// trace leaves the process.
func (a *API) fail(c *gin.Context, err error) {
	d, status, ok := errorStatus(err)
	if !ok {
		a.Log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err, "request_id", requestIDOf(c))
	}
	d.RequestID = requestIDOf(c)
	c.AbortWithStatusJSON(status, errorBody{Error: d})
}

// bind decodes the JSON body into v strictly: unknown fields, trailing
// data, wrong types and oversized bodies are errors naming what was wrong.
func bind(c *gin.Context, v any) error {
	if c.Request.Body == nil || c.Request.ContentLength == 0 {
		return badRequest("missing_body", "a JSON request body is required")
	}
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send application/json, not " + ct}
	}
	return decodeJSON(c.Request.Body, v)
}

// decodeJSON decodes one JSON value from r into v as bind does.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return badRequest("malformed_json", "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.As(err, &syn):
		return badRequest("malformed_json", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("malformed_json", "the JSON body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, "must be %s, not a JSON %s", jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidField(name, "is not a field of this request")
	}
	return badRequest("malformed_json", "%v", err)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}
