package plugin

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	schedulerv1 "catalyst.dev/sdk/proto/scheduler/v1"
)

var (
	_ Scheduler                       = (*schedulerClient)(nil)
	_ schedulerv1.SchedulerServer     = (*schedulerServer)(nil)
	_ SchedulerHost                   = (*schedulerHostClient)(nil)
	_ schedulerv1.SchedulerHostServer = (*schedulerHostServer)(nil)
)

func registerScheduler(s *grpc.Server, b *goplugin.GRPCBroker, impl Scheduler, log hclog.Logger) {
	schedulerv1.RegisterSchedulerServer(s, &schedulerServer{impl: impl, broker: b, log: log})
}

// schedulerServer runs in the plugin. On Attach it dials the host's
// callback service through the broker.
type schedulerServer struct {
	schedulerv1.UnimplementedSchedulerServer
	impl   Scheduler
	broker *goplugin.GRPCBroker
	log    hclog.Logger

	mu   sync.Mutex
	conn *grpc.ClientConn // the current host callback connection
}

func (s *schedulerServer) Attach(ctx context.Context, req *schedulerv1.AttachRequest) (_ *schedulerv1.AttachResponse, err error) {
	defer recoverPanic(s.log, "Attach", &err)
	conn, err := s.broker.Dial(req.GetHostBrokerId())
	if err != nil {
		return nil, toStatus(fmt.Errorf("dial host callback %d: %w", req.GetHostBrokerId(), err))
	}
	if err := s.impl.Attach(ctx, &schedulerHostClient{client: schedulerv1.NewSchedulerHostClient(conn)}); err != nil {
		_ = conn.Close()
		return nil, toStatus(err)
	}
	s.mu.Lock()
	old := s.conn
	s.conn = conn
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return &schedulerv1.AttachResponse{}, nil
}

func (s *schedulerServer) Sync(ctx context.Context, req *schedulerv1.SyncRequest) (_ *schedulerv1.SyncResponse, err error) {
	defer recoverPanic(s.log, "Sync", &err)
	schedules := make([]Schedule, 0, len(req.GetSchedules()))
	for _, p := range req.GetSchedules() {
		schedules = append(schedules, scheduleFromProto(p))
	}
	if err := s.impl.Sync(ctx, schedules); err != nil {
		return nil, toStatus(err)
	}
	return &schedulerv1.SyncResponse{}, nil
}

func (s *schedulerServer) Set(ctx context.Context, req *schedulerv1.SetRequest) (_ *schedulerv1.SetResponse, err error) {
	defer recoverPanic(s.log, "Set", &err)
	if err := s.impl.Set(ctx, scheduleFromProto(req.GetSchedule())); err != nil {
		return nil, toStatus(err)
	}
	return &schedulerv1.SetResponse{}, nil
}

func (s *schedulerServer) Remove(ctx context.Context, req *schedulerv1.RemoveRequest) (_ *schedulerv1.RemoveResponse, err error) {
	defer recoverPanic(s.log, "Remove", &err)
	if err := s.impl.Remove(ctx, req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	return &schedulerv1.RemoveResponse{}, nil
}

// schedulerHostClient is the plugin's handle on the host callback.
type schedulerHostClient struct {
	client schedulerv1.SchedulerHostClient
}

func (c *schedulerHostClient) Fire(ctx context.Context, f Firing) error {
	_, err := c.client.Fire(ctx, &schedulerv1.FireRequest{
		ScheduleId: f.ScheduleID,
		FiredAt:    timestamppb.New(f.FiredAt),
		Labels:     f.Labels,
	})
	return fromStatus(err)
}

// schedulerClient runs in the host.
type schedulerClient struct {
	*baseClient
	client schedulerv1.SchedulerClient
	broker *goplugin.GRPCBroker
}

func newSchedulerClient(conn grpc.ClientConnInterface, b *goplugin.GRPCBroker) *schedulerClient {
	return &schedulerClient{baseClient: newBaseClient(conn), client: schedulerv1.NewSchedulerClient(conn), broker: b}
}

// Attach serves host on a fresh broker connection and tells the plugin its
// id. The server lives until the plugin connection (and its broker) closes.
func (c *schedulerClient) Attach(ctx context.Context, host SchedulerHost) error {
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		schedulerv1.RegisterSchedulerHostServer(s, &schedulerHostServer{impl: host})
		return s
	})
	_, err := c.client.Attach(ctx, &schedulerv1.AttachRequest{HostBrokerId: id})
	return fromStatus(err)
}

func (c *schedulerClient) Sync(ctx context.Context, schedules []Schedule) error {
	req := &schedulerv1.SyncRequest{}
	for _, s := range schedules {
		req.Schedules = append(req.Schedules, scheduleToProto(s))
	}
	_, err := c.client.Sync(ctx, req)
	return fromStatus(err)
}

func (c *schedulerClient) Set(ctx context.Context, s Schedule) error {
	_, err := c.client.Set(ctx, &schedulerv1.SetRequest{Schedule: scheduleToProto(s)})
	return fromStatus(err)
}

func (c *schedulerClient) Remove(ctx context.Context, id string) error {
	_, err := c.client.Remove(ctx, &schedulerv1.RemoveRequest{Id: id})
	return fromStatus(err)
}

// schedulerHostServer runs in the host and forwards firings to it.
type schedulerHostServer struct {
	schedulerv1.UnimplementedSchedulerHostServer
	impl SchedulerHost
}

func (s *schedulerHostServer) Fire(ctx context.Context, req *schedulerv1.FireRequest) (*schedulerv1.FireResponse, error) {
	f := Firing{ScheduleID: req.GetScheduleId(), Labels: req.GetLabels()}
	if req.GetFiredAt() != nil {
		f.FiredAt = req.GetFiredAt().AsTime()
	}
	if err := s.impl.Fire(ctx, f); err != nil {
		return nil, toStatus(err)
	}
	return &schedulerv1.FireResponse{}, nil
}

func scheduleToProto(s Schedule) *schedulerv1.Schedule {
	return &schedulerv1.Schedule{Id: s.ID, Spec: s.Spec, Timezone: s.Timezone, Labels: s.Labels}
}

func scheduleFromProto(p *schedulerv1.Schedule) Schedule {
	return Schedule{ID: p.GetId(), Spec: p.GetSpec(), Timezone: p.GetTimezone(), Labels: p.GetLabels()}
}
