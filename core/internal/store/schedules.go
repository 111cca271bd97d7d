package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Schedule task actions.
const (
	TaskCommand = "command"
	TaskPower   = "power"
	TaskBackup  = "backup"
)

// Schedule run triggers.
const (
	TriggerCron    = "cron"
	TriggerCatchUp = "catch_up"
	TriggerManual  = "manual"
)

// Schedule run and task statuses.
const (
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
	RunSkipped   = "skipped"
	// TaskPending is a task of a running run not reached yet.
	TaskPending = "pending"
)

// ScheduleTask is one step of a schedule.
type ScheduleTask struct {
	// Action is TaskCommand, TaskPower or TaskBackup.
	Action string `json:"action"`
	// Payload is the console line (command), the power action (start,
	// stop, restart, kill), or the backup's name (backup; empty: dated).
	Payload string `json:"payload"`
	// OffsetSeconds is how long to wait after the previous task (after
	// the run starts, for the first).
	OffsetSeconds int `json:"offset_seconds"`
	// ContinueOnFailure lets the run go on when this task fails.
	ContinueOnFailure bool `json:"continue_on_failure"`
}

// Schedule runs its tasks on a server whenever its cron expression says.
type Schedule struct {
	bun.BaseModel `bun:"table:schedules"`

	ID       string `bun:"id,pk" json:"id"`
	ServerID string `bun:"server_id,notnull" json:"server_id"`
	Name     string `bun:"name,notnull" json:"name"`
	Cron     string `bun:"cron,notnull" json:"cron"`
	// Timezone is an IANA name the expression is read in.
	Timezone string `bun:"timezone,notnull" json:"timezone"`
	Enabled  bool   `bun:"enabled,notnull" json:"enabled"`
	// OnlyWhenOnline skips a firing while the server is not running.
	OnlyWhenOnline bool           `bun:"only_when_online,notnull" json:"only_when_online"`
	Tasks          []ScheduleTask `bun:"tasks,notnull" json:"tasks"`
	LastRunAt      *time.Time     `bun:"last_run_at" json:"last_run_at"`
	NextRunAt      *time.Time     `bun:"next_run_at" json:"next_run_at"`
	CreatedAt      time.Time      `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt      time.Time      `bun:"updated_at,notnull" json:"updated_at"`
}

// RunTask is how one task of a run went.
type RunTask struct {
	Action  string `json:"action"`
	Payload string `json:"payload"`
	// Status is TaskPending, RunRunning, RunCompleted, RunFailed or
	// RunSkipped (not reached: an earlier task failed).
	Status     string     `json:"status"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ScheduleRun is one run of a schedule.
type ScheduleRun struct {
	bun.BaseModel `bun:"table:schedule_runs"`

	ID         string `bun:"id,pk" json:"id"`
	ScheduleID string `bun:"schedule_id,notnull" json:"schedule_id"`
	ServerID   string `bun:"server_id,notnull" json:"server_id"`
	// Slot is the instant a cron firing was for; nil for a manual run.
	Slot       *time.Time `bun:"slot" json:"slot"`
	Trigger    string     `bun:"trigger,notnull" json:"trigger"`
	Status     string     `bun:"status,notnull" json:"status"`
	Tasks      []RunTask  `bun:"tasks,notnull" json:"tasks"`
	Error      string     `bun:"error,notnull" json:"error"`
	StartedAt  time.Time  `bun:"started_at,notnull" json:"started_at"`
	FinishedAt *time.Time `bun:"finished_at" json:"finished_at"`
	UpdatedAt  time.Time  `bun:"updated_at,notnull" json:"-"`
}

// CreateSchedule inserts sc, filling its ID and timestamps.
func (s *Store) CreateSchedule(ctx context.Context, sc *Schedule) error {
	sc.ID = NewID()
	sc.CreatedAt = now()
	sc.UpdatedAt = sc.CreatedAt
	_, err := s.db.NewInsert().Model(sc).Exec(ctx)
	return mapError(err)
}

// ScheduleByID returns the server's schedule, or ErrNotFound (also for a
// schedule of another server).
func (s *Store) ScheduleByID(ctx context.Context, serverID, id string) (*Schedule, error) {
	sc := new(Schedule)
	err := s.db.NewSelect().Model(sc).Where("id = ?", id).Where("server_id = ?", serverID).Scan(ctx)
	return sc, mapError(err)
}

// ListSchedules returns the server's schedules, oldest first; serverID ""
// lists every server's.
func (s *Store) ListSchedules(ctx context.Context, serverID string) ([]*Schedule, error) {
	list := []*Schedule{}
	q := s.db.NewSelect().Model(&list).Order("created_at", "id")
	if serverID != "" {
		q = q.Where("server_id = ?", serverID)
	}
	return list, mapError(q.Scan(ctx))
}

// UpdateSchedule writes sc's editable columns and its next run.
func (s *Store) UpdateSchedule(ctx context.Context, sc *Schedule) error {
	sc.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(sc).
		Column("name", "cron", "timezone", "enabled", "only_when_online", "tasks", "next_run_at", "updated_at").
		WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// SetScheduleRuns records that slot ran (or was skipped) and when the next
// one is. A last run later than slot is kept (a replica that is behind
// does not move it back).
func (s *Store) SetScheduleRuns(ctx context.Context, id string, last *time.Time, next *time.Time) error {
	q := s.db.NewUpdate().Model((*Schedule)(nil)).Where("id = ?", id).Set("next_run_at = ?", next)
	if last != nil {
		q = q.Set("last_run_at = CASE WHEN last_run_at IS NULL OR last_run_at < ? THEN ? ELSE last_run_at END", *last, *last)
	}
	_, err := q.Exec(ctx)
	return mapError(err)
}

// DeleteSchedule removes a schedule and its runs.
func (s *Store) DeleteSchedule(ctx context.Context, serverID, id string) error {
	res, err := s.db.NewDelete().Model((*Schedule)(nil)).Where("id = ?", id).Where("server_id = ?", serverID).Exec(ctx)
	return affectedOne(res, err)
}

// ClaimRun inserts r, filling its ID and timestamps. For a run with a
// slot it reports false, and inserts nothing, when that slot of the
// schedule has a run already (another replica's, or an earlier firing's).
func (s *Store) ClaimRun(ctx context.Context, r *ScheduleRun) (bool, error) {
	r.ID = NewID()
	r.StartedAt = now()
	r.UpdatedAt = r.StartedAt
	res, err := s.db.NewInsert().Model(r).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return false, mapError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateRun writes r's progress (status, tasks, error, finish) and
// refreshes its heartbeat.
func (s *Store) UpdateRun(ctx context.Context, r *ScheduleRun) error {
	r.UpdatedAt = now()
	_, err := s.db.NewUpdate().Model(r).Column("status", "tasks", "error", "finished_at", "updated_at").WherePK().Exec(ctx)
	return mapError(err)
}

// TouchRuns refreshes the heartbeat of the running runs ids.
func (s *Store) TouchRuns(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Model((*ScheduleRun)(nil)).Set("updated_at = ?", now()).
		Where("id IN (?)", bun.List(ids)).Where("status = ?", RunRunning).Exec(ctx)
	return mapError(err)
}

// FailStaleRuns marks failed, with reason, the runs still running whose
// heartbeat is older than before: the core running them died. It returns
// how many it marked.
func (s *Store) FailStaleRuns(ctx context.Context, before time.Time, reason string) (int, error) {
	t := now()
	res, err := s.db.NewUpdate().Model((*ScheduleRun)(nil)).
		Set("status = ?", RunFailed).Set("error = ?", reason).Set("finished_at = ?", t).Set("updated_at = ?", t).
		Where("status = ?", RunRunning).Where("updated_at < ?", before).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RunningRun returns the schedule's run in progress, or ErrNotFound.
func (s *Store) RunningRun(ctx context.Context, scheduleID string) (*ScheduleRun, error) {
	r := new(ScheduleRun)
	err := s.db.NewSelect().Model(r).Where("schedule_id = ?", scheduleID).Where("status = ?", RunRunning).
		Order("started_at DESC").Limit(1).Scan(ctx)
	return r, mapError(err)
}

// RunByID returns one run of the schedule, or ErrNotFound.
func (s *Store) RunByID(ctx context.Context, scheduleID, id string) (*ScheduleRun, error) {
	r := new(ScheduleRun)
	err := s.db.NewSelect().Model(r).Where("id = ?", id).Where("schedule_id = ?", scheduleID).Scan(ctx)
	return r, mapError(err)
}

// ListRuns returns the schedule's runs, newest first, at most limit of
// them; before, when not "", is a run ID (a cursor): only older runs.
func (s *Store) ListRuns(ctx context.Context, scheduleID string, limit int, before string) ([]*ScheduleRun, error) {
	list := []*ScheduleRun{}
	q := s.db.NewSelect().Model(&list).Where("schedule_id = ?", scheduleID).Order("id DESC").Limit(int64(limit))
	if before != "" {
		q = q.Where("id < ?", before)
	}
	return list, mapError(q.Scan(ctx))
}

// PruneRuns deletes finished runs that finished before before.
func (s *Store) PruneRuns(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*ScheduleRun)(nil)).Where("status <> ?", RunRunning).
		Where("finished_at < ?", before).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
