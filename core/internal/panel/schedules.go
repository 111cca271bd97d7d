package panel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/schedules"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

// defaultSchedulerBinary is the shipped scheduler's file in plugin_dir.
const defaultSchedulerBinary = "catalyst-schedule-cron"

// implicitScheduler returns the spec of the default scheduler plugin when
// it must be launched without a block: schedules.scheduler names it, no
// block declares it, and its binary is in plugin_dir.
func implicitScheduler(cfg *config.Config, log hclog.Logger) (host.Spec, bool) {
	name := *cfg.Schedules.Scheduler
	if name != config.DefaultScheduler || slices.ContainsFunc(cfg.PluginSpecs, func(s host.Spec) bool { return s.Name == name }) {
		return host.Spec{}, false
	}
	path := filepath.Join(cfg.PluginDir, defaultSchedulerBinary)
	if _, err := os.Stat(path); err != nil {
		log.Warn("the default scheduler plugin is missing: schedules run only when asked (build it with make plugins)", "path", path)
		return host.Spec{}, false
	}
	return host.Spec{Name: name, Path: defaultSchedulerBinary}, true
}

// startSchedules starts the schedules service with the configured
// scheduler plugin (none when schedules.scheduler is "" or the default's
// binary is missing).
func startSchedules(ctx context.Context, st *store.Store, cfg *config.Config, plugins *host.Host,
	srvs *servers.Service, bk *backups.Service, log hclog.Logger) (*schedules.Service, error) {
	var sched plugin.Scheduler
	for _, st := range plugins.Status() {
		if name := *cfg.Schedules.Scheduler; st.Name != name || name == "" {
			continue
		}
		if st.Kind != plugin.KindScheduler {
			return nil, fmt.Errorf("schedules.scheduler: plugin %q is a %s plugin, not a scheduler", st.Name, st.Kind)
		}
		s, err := plugins.Scheduler(st.Name)
		if err != nil {
			return nil, fmt.Errorf("schedules.scheduler: %w", err)
		}
		sched = s
	}
	svc := schedules.New(st, srvs, bk, sched, schedules.Options{
		MissedRuns:   cfg.Schedules.MissedRuns,
		MinInterval:  config.Duration(cfg.Schedules.MinInterval),
		RunRetention: config.Duration(cfg.Schedules.RunRetention),
	}, log)
	if err := svc.Start(ctx); err != nil {
		svc.Close()
		return nil, err
	}
	return svc, nil
}
