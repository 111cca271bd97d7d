package plugin

import (
	"context"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	policyv1 "catalyst.dev/sdk/proto/policy/v1"
)

var (
	_ Policy                = (*policyClient)(nil)
	_ policyv1.PolicyServer = (*policyServer)(nil)
)

func registerPolicy(s *grpc.Server, _ *goplugin.GRPCBroker, impl Policy, log hclog.Logger) {
	policyv1.RegisterPolicyServer(s, &policyServer{impl: impl, log: log})
}

type policyServer struct {
	policyv1.UnimplementedPolicyServer
	impl Policy
	log  hclog.Logger
}

func (s *policyServer) Check(ctx context.Context, req *policyv1.CheckRequest) (_ *policyv1.CheckResponse, err error) {
	defer recoverPanic(s.log, "Check", &err)
	d, err := s.impl.Check(ctx, CheckRequest{
		Action:     Action(req.GetAction()),
		Server:     serverFromProto(req.GetServer()),
		Previous:   resourcesFromProto(req.GetPrevious()),
		OwnerUsage: Usage{Servers: req.GetOwnerUsage().GetServers(), Resources: resourcesFromProto(req.GetOwnerUsage().GetResources())},
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &policyv1.CheckResponse{Allow: d.Allow, Reason: d.Reason}, nil
}

func (s *policyServer) Notify(ctx context.Context, req *policyv1.NotifyRequest) (_ *policyv1.NotifyResponse, err error) {
	defer recoverPanic(s.log, "Notify", &err)
	p := req.GetEvent()
	e := Event{
		ID:              p.GetId(),
		Type:            EventType(p.GetType()),
		Server:          serverFromProto(p.GetServer()),
		CPUSeconds:      p.GetCpuSeconds(),
		MemoryMBSeconds: p.GetMemoryMbSeconds(),
	}
	if p.GetAt() != nil {
		e.At = p.GetAt().AsTime()
	}
	if err := s.impl.Notify(ctx, e); err != nil {
		return nil, toStatus(err)
	}
	return &policyv1.NotifyResponse{}, nil
}

type policyClient struct {
	*baseClient
	client policyv1.PolicyClient
}

func newPolicyClient(conn grpc.ClientConnInterface) *policyClient {
	return &policyClient{baseClient: newBaseClient(conn), client: policyv1.NewPolicyClient(conn)}
}

func (c *policyClient) Check(ctx context.Context, req CheckRequest) (Decision, error) {
	resp, err := c.client.Check(ctx, &policyv1.CheckRequest{
		Action:   policyv1.Action(req.Action),
		Server:   serverToProto(req.Server),
		Previous: resourcesToProto(req.Previous),
		OwnerUsage: &policyv1.Usage{
			Servers:   req.OwnerUsage.Servers,
			Resources: resourcesToProto(req.OwnerUsage.Resources),
		},
	})
	if err != nil {
		return Decision{}, fromStatus(err)
	}
	return Decision{Allow: resp.GetAllow(), Reason: resp.GetReason()}, nil
}

func (c *policyClient) Notify(ctx context.Context, e Event) error {
	p := &policyv1.Event{
		Id:              e.ID,
		Type:            policyv1.EventType(e.Type),
		Server:          serverToProto(e.Server),
		CpuSeconds:      e.CPUSeconds,
		MemoryMbSeconds: e.MemoryMBSeconds,
	}
	if !e.At.IsZero() {
		p.At = timestamppb.New(e.At)
	}
	_, err := c.client.Notify(ctx, &policyv1.NotifyRequest{Event: p})
	return fromStatus(err)
}

func resourcesToProto(r Resources) *policyv1.Resources {
	return &policyv1.Resources{MemoryMb: r.MemoryMB, DiskMb: r.DiskMB, CpuPercent: r.CPUPercent}
}

func resourcesFromProto(p *policyv1.Resources) Resources {
	return Resources{MemoryMB: p.GetMemoryMb(), DiskMB: p.GetDiskMb(), CPUPercent: p.GetCpuPercent()}
}

func serverToProto(s Server) *policyv1.Server {
	return &policyv1.Server{
		Id: s.ID, Name: s.Name, OwnerId: s.OwnerID, NodeId: s.NodeID, TemplateId: s.TemplateID,
		Resources: resourcesToProto(s.Resources),
	}
}

func serverFromProto(p *policyv1.Server) Server {
	return Server{
		ID: p.GetId(), Name: p.GetName(), OwnerID: p.GetOwnerId(), NodeID: p.GetNodeId(), TemplateID: p.GetTemplateId(),
		Resources: resourcesFromProto(p.GetResources()),
	}
}
