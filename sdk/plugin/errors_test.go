package plugin

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestSentinelsCrossTheWire(t *testing.T) {
	for _, s := range []error{ErrNotFound, ErrInvalidArgument, ErrUnimplemented, ErrUnavailable,
		ErrPermissionDenied, context.Canceled, context.DeadlineExceeded} {
		t.Run(s.Error(), func(t *testing.T) {
			sent := fmt.Errorf("object %q: %w", "k", s)
			got := fromStatus(toStatus(sent))
			if !errors.Is(got, s) {
				t.Fatalf("%v did not survive the trip: got %v", s, got)
			}
			if got.Error() != sent.Error() {
				t.Fatalf("message changed: %q → %q", sent, got)
			}
			for _, other := range []error{ErrNotFound, ErrInvalidArgument} {
				if other != s && errors.Is(got, other) {
					t.Fatalf("%v also matches %v", got, other)
				}
			}
		})
	}
}

func TestPlainErrorsBecomeUnknown(t *testing.T) {
	got := fromStatus(toStatus(errors.New("disk full")))
	if status.Code(got) != codes.Unknown || got.Error() != "disk full" {
		t.Fatalf("got %v (%v)", got, status.Code(got))
	}
}
