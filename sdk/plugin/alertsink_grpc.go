package plugin

import (
	"context"
	"errors"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	alertsinkv1 "catalyst.dev/sdk/proto/alertsink/v1"
)

var (
	_ AlertSink                   = (*alertSinkClient)(nil)
	_ alertsinkv1.AlertSinkServer = (*alertSinkServer)(nil)
)

func registerAlertSink(s *grpc.Server, _ *goplugin.GRPCBroker, impl AlertSink, log hclog.Logger) {
	alertsinkv1.RegisterAlertSinkServer(s, &alertSinkServer{impl: impl, log: log})
}

type alertSinkServer struct {
	alertsinkv1.UnimplementedAlertSinkServer
	impl AlertSink
	log  hclog.Logger
}

func (s *alertSinkServer) Deliver(ctx context.Context, req *alertsinkv1.DeliverRequest) (_ *alertsinkv1.DeliverResponse, err error) {
	defer recoverPanic(s.log, "Deliver", &err)
	derr := s.impl.Deliver(ctx, alertFromProto(req.GetAlert()))
	if derr == nil {
		return &alertsinkv1.DeliverResponse{}, nil
	}
	// The host cancelling the call is not the sink's failure to report.
	if ctx.Err() != nil && errors.Is(derr, ctx.Err()) {
		return nil, toStatus(derr)
	}
	f := deliveryFailure(derr)
	resp := &alertsinkv1.DeliverResponse{Failure: &alertsinkv1.Failure{
		Message:   f.Err.Error(),
		Retryable: f.Retryable,
	}}
	if f.RetryAfter > 0 {
		resp.Failure.RetryAfter = durationpb.New(f.RetryAfter)
	}
	return resp, nil
}

type alertSinkClient struct {
	*baseClient
	client alertsinkv1.AlertSinkClient
}

func newAlertSinkClient(conn grpc.ClientConnInterface) *alertSinkClient {
	return &alertSinkClient{baseClient: newBaseClient(conn), client: alertsinkv1.NewAlertSinkClient(conn)}
}

func (c *alertSinkClient) Deliver(ctx context.Context, a Alert) error {
	resp, err := c.client.Deliver(ctx, &alertsinkv1.DeliverRequest{Alert: alertToProto(a)})
	if err != nil {
		return fromStatus(err)
	}
	f := resp.GetFailure()
	if f == nil {
		return nil
	}
	return &DeliveryError{
		Err:        errors.New(f.GetMessage()),
		Retryable:  f.GetRetryable(),
		RetryAfter: f.GetRetryAfter().AsDuration(),
	}
}

func alertToProto(a Alert) *alertsinkv1.Alert {
	p := &alertsinkv1.Alert{
		Id:       a.ID,
		Severity: alertsinkv1.Severity(a.Severity),
		Title:    a.Title,
		Body:     a.Body,
		ServerId: a.ServerID,
		NodeId:   a.NodeID,
		Labels:   a.Labels,
		Url:      a.URL,
	}
	if !a.OccurredAt.IsZero() {
		p.OccurredAt = timestamppb.New(a.OccurredAt)
	}
	return p
}

func alertFromProto(p *alertsinkv1.Alert) Alert {
	a := Alert{
		ID:       p.GetId(),
		Severity: Severity(p.GetSeverity()),
		Title:    p.GetTitle(),
		Body:     p.GetBody(),
		ServerID: p.GetServerId(),
		NodeID:   p.GetNodeId(),
		Labels:   p.GetLabels(),
		URL:      p.GetUrl(),
	}
	if p.GetOccurredAt() != nil {
		a.OccurredAt = p.GetOccurredAt().AsTime()
	}
	return a
}
