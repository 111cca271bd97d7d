package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AlertSink delivers alerts somewhere people will see them.
type AlertSink interface {
	Base
	// Deliver sends one alert. To tell the host whether and when to try
	// again, return RetryableError or PermanentError; any other error is
	// treated as retryable with no hint.
	Deliver(ctx context.Context, a Alert) error
}

// Severity ranks alerts.
type Severity int

// Severities, in increasing order.
const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityCritical
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Alert is one notification.
type Alert struct {
	// ID is the same for every retry of one alert, so sinks can drop
	// duplicates.
	ID       string
	Severity Severity
	Title    string
	Body     string
	ServerID string
	NodeID   string
	Labels   map[string]string
	// OccurredAt is when the alerted condition happened.
	OccurredAt time.Time
	// URL links to the panel page of the subject.
	URL string
}

// Labels the core puts on every alert it delivers, so that a sink can
// render an alert without parsing its title. Other labels may be present.
const (
	// LabelType is what the alert is about: server_crashed, crash_loop,
	// install_failed, backup_failed, transfer_failed, node_offline, cpu,
	// memory, disk, or test (a test delivery an administrator asked for).
	LabelType = "type"
	// LabelStatus is "firing" when the condition began and "resolved"
	// when it cleared; a resolved alert has the ID of the firing one with
	// ":resolved" appended.
	LabelStatus = "status"
	// LabelServerName and LabelNodeName are the display names of the
	// subject's server and node, when it has them.
	LabelServerName = "server_name"
	LabelNodeName   = "node_name"
	// LabelRule names the alert rule that fired.
	LabelRule = "rule"
	// LabelValue is the measured value that crossed a threshold, with its
	// unit (e.g. "93.4%").
	LabelValue = "value"
)

// Values of LabelStatus.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// DeliveryError is a failed delivery with the sink's advice on retrying.
// The host gets one back from Deliver whenever the plugin reported a
// failure; use errors.As to read it.
type DeliveryError struct {
	Err       error
	Retryable bool
	// RetryAfter, when positive, is the earliest sensible retry.
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string {
	switch {
	case !e.Retryable:
		return fmt.Sprintf("deliver alert (permanent): %v", e.Err)
	case e.RetryAfter > 0:
		return fmt.Sprintf("deliver alert (retry after %s): %v", e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("deliver alert: %v", e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// RetryableError marks err as worth retrying, not before after (zero for
// no hint), e.g. on HTTP 429 with a Retry-After header.
func RetryableError(err error, after time.Duration) error {
	return &DeliveryError{Err: err, Retryable: true, RetryAfter: after}
}

// PermanentError marks err as final: sending the same alert again cannot
// succeed (e.g. the webhook answered 404).
func PermanentError(err error) error {
	return &DeliveryError{Err: err}
}

// deliveryFailure classifies an error returned by an implementation.
func deliveryFailure(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	// A bad alert or bad credentials do not get better by themselves.
	permanent := errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrPermissionDenied) || errors.Is(err, ErrUnimplemented)
	return &DeliveryError{Err: err, Retryable: !permanent}
}
