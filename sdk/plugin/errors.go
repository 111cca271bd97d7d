package plugin

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors that keep their identity across the plugin boundary: a plugin
// returns (or wraps) one, the host's errors.Is sees the same sentinel.
var (
	// ErrNotFound: the named object, template or schedule does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidArgument: the request or the configuration is wrong and
	// retrying it unchanged will not help.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnimplemented: the plugin does not support this call.
	ErrUnimplemented = errors.New("not implemented")
	// ErrUnavailable: what the plugin fronts (a bucket, a webhook) is
	// unreachable for now; retrying later may help.
	ErrUnavailable = errors.New("unavailable")
	// ErrPermissionDenied: the plugin's backend refused its credentials.
	ErrPermissionDenied = errors.New("permission denied")
)

var sentinelCodes = []struct {
	err  error
	code codes.Code
}{
	{ErrNotFound, codes.NotFound},
	{ErrInvalidArgument, codes.InvalidArgument},
	{ErrUnimplemented, codes.Unimplemented},
	{ErrUnavailable, codes.Unavailable},
	{ErrPermissionDenied, codes.PermissionDenied},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus turns an error returned by a plugin implementation into a gRPC
// status error, keeping sentinels recognisable on the other side.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return status.Error(s.code, err.Error())
		}
	}
	return status.Error(codes.Unknown, err.Error())
}

// RemoteError is an error that came back from the other side of the plugin
// boundary. errors.Is matches it against the sentinel its code stands for
// (ErrNotFound, context.Canceled, …), and status.Code still reads its code.
type RemoteError struct {
	Code    codes.Code
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// GRPCStatus lets status.FromError and status.Code see the original code.
func (e *RemoteError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// Is matches the sentinel for the error's code.
func (e *RemoteError) Is(target error) bool {
	for _, s := range sentinelCodes {
		if s.code == e.Code && target == s.err {
			return true
		}
	}
	return false
}

// fromStatus is the inverse of toStatus, used by every client adapter.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &RemoteError{Code: st.Code(), Message: st.Message()}
}

// recoverPanic turns a panic in plugin code into a gRPC Internal error on
// the call that caused it, so one bad request does not take the plugin (and
// every call in flight) down with it. Use as: defer recoverPanic(log, "Put", &err).
func recoverPanic(log hclog.Logger, method string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	log.Error("plugin panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	*err = status.Errorf(codes.Internal, "plugin panicked in %s: %v", method, r)
}
