package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// quota denies creating, starting or growing servers beyond each user's
// memory quota, and logs billing events.
type quota struct {
	log hclog.Logger

	mu         sync.RWMutex
	defaultMB  int64
	perUserMB  map[string]int64
	maxServers int64
}

var _ plugin.Policy = (*quota)(nil)

func newQuota(log hclog.Logger) *quota { return &quota{log: log} }

func (q *quota) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "billing-quota", Kind: plugin.KindPolicy, Version: "1.0.0"}, nil
}

func (q *quota) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{Name: "default_memory_mb", Type: plugin.TypeNumber, Required: true,
			Description: "Memory (MiB) a user may allocate across all their servers."},
		{Name: "user_memory_mb", Type: plugin.TypeMapString,
			Description: `Per-user overrides: user id → MiB, e.g. { "42" = "16384" }.`},
		{Name: "max_servers", Type: plugin.TypeNumber, Default: 0,
			Description: "Servers a user may own; 0 is unlimited."},
	}}, nil
}

func (q *quota) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		DefaultMB  int64             `json:"default_memory_mb"`
		PerUser    map[string]string `json:"user_memory_mb"`
		MaxServers int64             `json:"max_servers"`
	}
	if err := cfg.Decode(&c); err != nil {
		return fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	if c.DefaultMB < 0 || c.MaxServers < 0 {
		return fmt.Errorf("default_memory_mb and max_servers must not be negative: %w", plugin.ErrInvalidArgument)
	}
	perUser := make(map[string]int64, len(c.PerUser))
	for user, v := range c.PerUser {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 {
			return fmt.Errorf("user_memory_mb[%q] = %q is not a number of MiB: %w", user, v, plugin.ErrInvalidArgument)
		}
		perUser[user] = mb
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.defaultMB, q.perUserMB, q.maxServers = c.DefaultMB, perUser, c.MaxServers
	return nil
}

func (q *quota) limitFor(user string) int64 {
	if mb, ok := q.perUserMB[user]; ok {
		return mb
	}
	return q.defaultMB
}

func (q *quota) Check(_ context.Context, req plugin.CheckRequest) (plugin.Decision, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	owner := req.Server.OwnerID
	limit := q.limitFor(owner)
	total := req.OwnerUsage.Resources.MemoryMB + req.Server.Resources.MemoryMB

	if req.Action == plugin.ActionCreate && q.maxServers > 0 && req.OwnerUsage.Servers+1 > q.maxServers {
		return plugin.Deny(fmt.Sprintf("You already own %d servers, the most your plan allows.", req.OwnerUsage.Servers)), nil
	}
	// A resize that shrinks (or keeps) memory is always allowed, so a user
	// over quota after a plan change can get back under it.
	if req.Action == plugin.ActionResize && req.Server.Resources.MemoryMB <= req.Previous.MemoryMB {
		return plugin.Allow(), nil
	}
	if total > limit {
		return plugin.Deny(fmt.Sprintf("This would bring your servers to %d MiB of memory; your quota is %d MiB.", total, limit)), nil
	}
	return plugin.Allow(), nil
}

func (q *quota) Notify(_ context.Context, e plugin.Event) error {
	// A billing system would meter these; the example records them.
	q.log.Info("billing event", "id", e.ID, "type", int(e.Type), "server", e.Server.ID, "owner", e.Server.OwnerID,
		"memory_mb", e.Server.Resources.MemoryMB, "cpu_seconds", e.CPUSeconds, "memory_mb_seconds", e.MemoryMBSeconds)
	return nil
}
