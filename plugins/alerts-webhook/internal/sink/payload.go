package sink

import (
	"encoding/json"
	"fmt"
	"time"

	"catalyst.dev/sdk/plugin"
)

// PayloadVersion is the version of the JSON body receivers get. A change
// that can break a receiver (a field removed, renamed or retyped) needs a
// new version; adding a field does not.
const PayloadVersion = 1

// Payload is the JSON body of a delivery, documented in README.md.
type Payload struct {
	Version  int    `json:"version"`
	ID       string `json:"id"`
	Status   string `json:"status"`
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	// Server and Node are omitted when the alert is not about one.
	Server     *Subject          `json:"server,omitempty"`
	Node       *Subject          `json:"node,omitempty"`
	Labels     map[string]string `json:"labels"`
	OccurredAt string            `json:"occurred_at"`
	URL        string            `json:"url"`
}

// Subject is the server or node an alert is about.
type Subject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// NewPayload renders a as a version 1 body. An alert the schema cannot
// carry (no title, an unknown severity) is refused with
// plugin.ErrInvalidArgument. now stands in for a missing OccurredAt.
func NewPayload(a plugin.Alert, now time.Time) (Payload, error) {
	if a.Title == "" {
		return Payload{}, fmt.Errorf("alert %q has no title: %w", a.ID, plugin.ErrInvalidArgument)
	}
	switch a.Severity {
	case plugin.SeverityInfo, plugin.SeverityWarning, plugin.SeverityCritical:
	default:
		return Payload{}, fmt.Errorf("alert %q has unknown severity %d (want info, warning or critical): %w", a.ID, int(a.Severity), plugin.ErrInvalidArgument)
	}
	status := a.Labels[plugin.LabelStatus]
	if status == "" {
		status = plugin.StatusFiring
	}
	occurred := a.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	labels := a.Labels
	if labels == nil {
		labels = map[string]string{} // {} rather than null: receivers index it
	}
	p := Payload{
		Version:    PayloadVersion,
		ID:         a.ID,
		Status:     status,
		Type:       a.Labels[plugin.LabelType],
		Severity:   a.Severity.String(),
		Title:      a.Title,
		Body:       a.Body,
		Labels:     labels,
		OccurredAt: occurred.UTC().Format(time.RFC3339),
		URL:        a.URL,
	}
	if a.ServerID != "" {
		p.Server = &Subject{ID: a.ServerID, Name: a.Labels[plugin.LabelServerName]}
	}
	if a.NodeID != "" {
		p.Node = &Subject{ID: a.NodeID, Name: a.Labels[plugin.LabelNodeName]}
	}
	return p, nil
}

// Encode is the body as sent.
func (p Payload) Encode() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return b, nil
}
