package schedules

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

// Servers is what tasks do to a server.
type Servers interface {
	Power(ctx context.Context, id, act string) (*store.Server, error)
	Command(ctx context.Context, srv *store.Server, line string) error
}

// Backups makes a backup task's backup.
type Backups interface {
	Create(ctx context.Context, srv *store.Server, in backups.NewBackup, by string) (*store.Backup, error)
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// MissedRuns is config.MissedSkip or config.MissedRunOnce.
	MissedRuns string
	// MinInterval is the closest two slots of an expression may be.
	MinInterval time.Duration
	// RunRetention is how long finished runs are kept.
	RunRetention time.Duration
	// TaskTimeout bounds a command or power task; BackupTimeout, how long
	// a backup task waits for its backup to complete.
	TaskTimeout   time.Duration
	BackupTimeout time.Duration
	// Heartbeat is how often running runs are marked alive; a run not
	// marked for StaleAfter is failed (its core died).
	Heartbeat  time.Duration
	StaleAfter time.Duration
	// Grace is how late a slot may be found (at start, or by another
	// replica's firing) and still count as on time rather than missed.
	Grace time.Duration
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.MissedRuns == "" {
		o.MissedRuns = config.MissedSkip
	}
	set(&o.MinInterval, time.Minute)
	set(&o.RunRetention, 30*24*time.Hour)
	set(&o.TaskTimeout, time.Minute)
	set(&o.BackupTimeout, 6*time.Hour)
	set(&o.Heartbeat, 30*time.Second)
	set(&o.StaleAfter, 2*time.Minute)
	set(&o.Grace, 90*time.Second)
}

// ErrRunning is a run asked for while the schedule's last one still runs.
var ErrRunning = errors.New("a run of this schedule is still in progress")

// Service keeps schedules, hands them to the scheduler plugin and runs
// them when they fire.
type Service struct {
	store   *store.Store
	servers Servers
	backups Backups
	// sched fires the schedules; nil when no scheduler plugin is
	// configured (schedules then run on demand only).
	sched plugin.Scheduler
	opts  Options
	log   hclog.Logger

	ctx    context.Context // the service's life; runs stop with it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool // IDs of the runs this process executes
}

// New returns a service; sched may be nil. Call Start before use.
func New(st *store.Store, srv Servers, bk Backups, sched plugin.Scheduler, opts Options, log hclog.Logger) *Service {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{store: st, servers: srv, backups: bk, sched: sched, opts: opts, log: log,
		ctx: ctx, cancel: cancel, running: map[string]bool{}}
}

// Start fails the runs of cores that died, deals with the slots missed
// while no core ran (the MissedRuns policy), hands every enabled schedule
// to the scheduler plugin and keeps the runs' heartbeat. A scheduler that
// cannot be reached is logged, not fatal: the resync retries every minute.
func (s *Service) Start(ctx context.Context) error {
	if n, err := s.store.FailStaleRuns(ctx, time.Now().Add(-s.opts.StaleAfter), "cut off: the core running it stopped"); err != nil {
		return fmt.Errorf("fail interrupted schedule runs: %w", err)
	} else if n > 0 {
		s.log.Warn("schedule runs cut off by a core that stopped marked failed", "count", n)
	}
	list, err := s.store.ListSchedules(ctx, "")
	if err != nil {
		return fmt.Errorf("load schedules: %w", err)
	}
	if s.sched != nil {
		if err := s.sched.Attach(ctx, s); err != nil {
			s.log.Error("attach to the scheduler plugin; schedules will not fire until it answers", "error", err)
		}
	} else {
		s.log.Warn("no scheduler plugin: schedules run only when asked (POST …/schedules/:sid/run)")
	}
	s.catchUp(ctx, list)
	s.sync(ctx, list)
	s.wg.Add(1)
	go s.maintain()
	return nil
}

// Close stops the runs in progress (each records that it was cut off) and
// waits for them.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// catchUp handles every enabled schedule whose next slot has passed.
func (s *Service) catchUp(ctx context.Context, list []*store.Schedule) {
	now := time.Now().UTC()
	for _, sc := range list {
		if !sc.Enabled {
			continue
		}
		tm, err := parseTiming(sc.Cron, sc.Timezone, 0)
		if err != nil {
			s.log.Error("schedule has an expression that no longer parses", "schedule", sc.ID, "cron", sc.Cron, "error", err)
			continue
		}
		if sc.NextRunAt == nil || sc.NextRunAt.After(now) {
			if sc.NextRunAt == nil {
				next := tm.next(now)
				s.setRuns(ctx, sc.ID, nil, &next)
			}
			continue
		}
		slot := sc.NextRunAt.UTC()
		switch {
		case now.Sub(slot) <= s.opts.Grace:
			// Just passed: on time, as if the plugin had fired it late.
			s.fire(ctx, sc, tm, slot, store.TriggerCron)
		case s.opts.MissedRuns == config.MissedRunOnce:
			s.fire(ctx, sc, tm, slot, store.TriggerCatchUp)
		default:
			s.skip(ctx, sc, tm, slot, store.TriggerCatchUp,
				fmt.Sprintf("missed: no core was running at %s (missed_runs = skip)", slot.Format(time.RFC3339)))
		}
	}
}

// sync hands the enabled schedules to the plugin.
func (s *Service) sync(ctx context.Context, list []*store.Schedule) {
	if s.sched == nil {
		return
	}
	var out []plugin.Schedule
	for _, sc := range list {
		if sc.Enabled {
			out = append(out, toPlugin(sc))
		}
	}
	if err := s.sched.Sync(ctx, out); err != nil {
		s.log.Error("hand the schedules to the scheduler plugin", "error", err, "schedules", len(out))
	}
}

func toPlugin(sc *store.Schedule) plugin.Schedule {
	return plugin.Schedule{ID: sc.ID, Spec: sc.Cron, Timezone: sc.Timezone, Labels: map[string]string{"server_id": sc.ServerID}}
}

// tell gives the plugin one schedule's change.
func (s *Service) tell(ctx context.Context, sc *store.Schedule) {
	if s.sched == nil {
		return
	}
	var err error
	if sc.Enabled {
		err = s.sched.Set(ctx, toPlugin(sc))
	} else {
		err = s.sched.Remove(ctx, sc.ID)
	}
	if err != nil {
		s.log.Error("tell the scheduler plugin about a schedule; the next resync retries", "schedule", sc.ID, "error", err)
	}
}

// maintain keeps the runs' heartbeat, fails runs whose core died,
// re-sends the schedules to the plugin (changes made through another
// replica reach this one's plugin so) and prunes old runs.
func (s *Service) maintain() {
	defer s.wg.Done()
	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	resync := time.NewTicker(time.Minute)
	defer resync.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-beat.C:
			s.mu.Lock()
			ids := make([]string, 0, len(s.running))
			for id := range s.running {
				ids = append(ids, id)
			}
			s.mu.Unlock()
			if err := s.store.TouchRuns(s.ctx, ids); err != nil {
				s.log.Error("mark schedule runs alive", "error", err)
			}
		case <-resync.C:
			if _, err := s.store.FailStaleRuns(s.ctx, time.Now().Add(-s.opts.StaleAfter), "cut off: the core running it stopped"); err != nil {
				s.log.Error("fail interrupted schedule runs", "error", err)
			}
			list, err := s.store.ListSchedules(s.ctx, "")
			if err != nil {
				s.log.Error("load schedules for the resync", "error", err)
				continue
			}
			s.sync(s.ctx, list)
		case <-prune.C:
			if n, err := s.store.PruneRuns(s.ctx, time.Now().Add(-s.opts.RunRetention)); err != nil {
				s.log.Error("prune schedule runs", "error", err)
			} else if n > 0 {
				s.log.Debug("old schedule runs pruned", "count", n)
			}
		}
	}
}

// Fire is the scheduler plugin's callback: a schedule's slot came. The
// slot is claimed in the database, so of several replicas that hear it one
// runs it; a firing for a schedule since disabled, deleted or given
// another expression is ignored.
func (s *Service) Fire(ctx context.Context, f plugin.Firing) error {
	sc, err := s.store.ScheduleByID(ctx, f.Labels["server_id"], f.ScheduleID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !sc.Enabled {
		return nil
	}
	tm, err := parseTiming(sc.Cron, sc.Timezone, 0)
	if err != nil {
		return nil
	}
	slot := f.FiredAt.UTC().Truncate(time.Second)
	if !tm.next(slot.Add(-time.Second)).Equal(slot) {
		s.log.Debug("firing for a slot the schedule no longer has ignored", "schedule", sc.ID, "slot", slot.Format(time.RFC3339))
		return nil
	}
	s.fire(ctx, sc, tm, slot, store.TriggerCron)
	return nil
}

// fire claims slot of sc and runs it, or records it skipped when the
// server is not online (only_when_online) or the last run is still going.
func (s *Service) fire(ctx context.Context, sc *store.Schedule, tm timing, slot time.Time, trigger string) {
	if why := s.hold(ctx, sc); why != "" {
		s.skip(ctx, sc, tm, slot, trigger, why)
		return
	}
	r := newRun(sc, &slot, trigger, store.RunRunning)
	if !s.claim(ctx, sc, tm, slot, r) {
		return
	}
	s.log.Info("schedule fired", "schedule", sc.ID, "server", sc.ServerID, "slot", slot.Format(time.RFC3339), "trigger", trigger, "run", r.ID)
	s.execute(sc, r)
}

// hold says why a firing of sc must not run now, or "".
func (s *Service) hold(ctx context.Context, sc *store.Schedule) string {
	if cur, err := s.store.RunningRun(ctx, sc.ID); err == nil {
		return fmt.Sprintf("skipped: the run started at %s was still in progress", cur.StartedAt.Format(time.RFC3339))
	}
	if sc.OnlyWhenOnline {
		srv, err := s.store.ServerByID(ctx, sc.ServerID)
		if err != nil {
			return "skipped: the server could not be read: " + err.Error()
		}
		if srv.State != store.StateRunning && srv.State != store.StateStarting {
			return fmt.Sprintf("skipped: the server was %s (only_when_online)", srv.State)
		}
	}
	return ""
}

// skip records slot of sc as skipped, for why.
func (s *Service) skip(ctx context.Context, sc *store.Schedule, tm timing, slot time.Time, trigger, why string) {
	r := newRun(sc, &slot, trigger, store.RunSkipped)
	r.Error = why
	done := time.Now().UTC()
	r.FinishedAt = &done
	for i := range r.Tasks {
		r.Tasks[i].Status = store.RunSkipped
	}
	if s.claim(ctx, sc, tm, slot, r) {
		s.log.Info("schedule slot skipped", "schedule", sc.ID, "server", sc.ServerID, "slot", slot.Format(time.RFC3339), "reason", why)
	}
}

// claim inserts r, the run of slot of sc, and moves the schedule's last
// and next run on. It reports false when the slot has a run already
// (another replica's, or an earlier firing's), which moved them already.
func (s *Service) claim(ctx context.Context, sc *store.Schedule, tm timing, slot time.Time, r *store.ScheduleRun) bool {
	ok, err := s.store.ClaimRun(ctx, r)
	if err != nil {
		s.log.Error("claim a schedule's slot", "schedule", sc.ID, "slot", slot.Format(time.RFC3339), "error", err)
		return false
	}
	if !ok {
		s.log.Debug("schedule slot already claimed", "schedule", sc.ID, "slot", slot.Format(time.RFC3339))
		return false
	}
	next := tm.next(later(slot, time.Now()))
	s.setRuns(ctx, sc.ID, &slot, &next)
	return true
}

func (s *Service) setRuns(ctx context.Context, id string, last, next *time.Time) {
	if err := s.store.SetScheduleRuns(ctx, id, last, next); err != nil {
		s.log.Error("record a schedule's last and next run", "schedule", id, "error", err)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// newRun is a run of sc's tasks, none started.
func newRun(sc *store.Schedule, slot *time.Time, trigger, status string) *store.ScheduleRun {
	r := &store.ScheduleRun{ScheduleID: sc.ID, ServerID: sc.ServerID, Slot: slot, Trigger: trigger, Status: status,
		Tasks: make([]store.RunTask, len(sc.Tasks))}
	for i, t := range sc.Tasks {
		r.Tasks[i] = store.RunTask{Action: t.Action, Payload: t.Payload, Status: store.TaskPending}
	}
	return r
}
