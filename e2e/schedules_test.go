package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// scheduleRun is the part of a run the tests read.
type scheduleRun struct {
	ID         string     `json:"id"`
	Slot       *time.Time `json:"slot"`
	Trigger    string     `json:"trigger"`
	Status     string     `json:"status"`
	Error      string     `json:"error"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Tasks      []struct {
		Action     string     `json:"action"`
		Payload    string     `json:"payload"`
		Status     string     `json:"status"`
		StartedAt  *time.Time `json:"started_at"`
		FinishedAt *time.Time `json:"finished_at"`
		Error      string     `json:"error"`
	} `json:"tasks"`
}

// cronPlugin declares the shipped scheduler, allowed to fire every second.
func cronPlugin() string {
	return fmt.Sprintf(`
plugin "cron" {
  path = %q
  config {
    min_interval = "1s"
  }
}

schedules {
  scheduler    = "cron"
  min_interval = "1s"
}
`, filepath.Join(env.dir, "plugins", "catalyst-schedule-cron"))
}

func (c *cluster) createSchedule(serverID string, spec map[string]any) string {
	c.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	c.must(http.MethodPost, "/api/servers/"+serverID+"/schedules", spec, &out)
	return out.ID
}

func (c *cluster) scheduleRuns(serverID, scheduleID string) []scheduleRun {
	c.t.Helper()
	var runs []scheduleRun
	c.must(http.MethodGet, "/api/servers/"+serverID+"/schedules/"+scheduleID+"/runs?limit=200", nil, &runs)
	return runs
}

// runNow runs a schedule by hand and waits for the run to finish.
func (c *cluster) runNow(serverID, scheduleID string, timeout time.Duration) scheduleRun {
	c.t.Helper()
	var started scheduleRun
	c.must(http.MethodPost, "/api/servers/"+serverID+"/schedules/"+scheduleID+"/run", nil, &started)
	var done scheduleRun
	c.eventually(timeout, "the schedule run finishes", func() bool {
		for _, r := range c.scheduleRuns(serverID, scheduleID) {
			if r.ID == started.ID && r.Status != "running" {
				done = r
				return true
			}
		}
		return false
	})
	return done
}

func (c *cluster) consoleLines(serverID string) []string {
	c.t.Helper()
	var out struct {
		Lines []string `json:"lines"`
	}
	c.must(http.MethodGet, "/api/servers/"+serverID+"/logs?lines=5000", nil, &out)
	return out.Lines
}

func indexContaining(lines []string, sub string, from int) int {
	for i := from; i < len(lines); i++ {
		if strings.Contains(lines[i], sub) {
			return i
		}
	}
	return -1
}

// A schedule's tasks run in order on a real container, each its offset
// after the previous; a failing task ends the run unless it may continue;
// the scheduler plugin fires the schedule on its slots.
func TestSchedules(t *testing.T) {
	c := newCluster(t, clusterOptions{coreHCL: cronPlugin()})
	s := c.createServer("scheduled", nil)
	c.power(s.ID, "start")
	c.waitState(s.ID, "running", time.Minute)

	step(t, "command, then restart 2 s later, in order", func() {
		marker := "scheduled-" + randomHex(4)
		id := c.createSchedule(s.ID, map[string]any{
			"name": "restart with warning", "cron": "0 4 * * *", "timezone": "Europe/Berlin",
			"tasks": []map[string]any{
				{"action": "command", "payload": "say " + marker},
				{"action": "power", "payload": "restart", "offset_seconds": 2},
			},
		})
		before := c.consoleLines(s.ID)
		run := c.runNow(s.ID, id, 2*time.Minute)
		if run.Status != "completed" || run.Trigger != "manual" || len(run.Tasks) != 2 {
			t.Fatalf("run = %+v, want a completed manual run of 2 tasks", run)
		}
		cmd, restart := run.Tasks[0], run.Tasks[1]
		if cmd.Status != "completed" || restart.Status != "completed" {
			t.Fatalf("tasks = %+v, want both completed", run.Tasks)
		}
		if gap := restart.StartedAt.Sub(*cmd.FinishedAt); gap < 2*time.Second || gap > 5*time.Second {
			t.Fatalf("the restart started %s after the command finished, want its 2 s offset", gap)
		}
		c.waitState(s.ID, "running", time.Minute)
		lines := c.consoleLines(s.ID)
		echo := indexContaining(lines, "> echo: say "+marker, 0)
		if echo < 0 {
			t.Fatalf("the command never reached the console: %q", lines[max(0, len(lines)-20):])
		}
		// The game started again after the command: a banner follows it.
		if indexContaining(lines, "Done (", echo) < 0 {
			t.Fatalf("no startup banner after the command's echo: the restart did not follow it; console %q", lines[echo:])
		}
		if n := strings.Count(strings.Join(lines, "\n"), "Done ("); n != strings.Count(strings.Join(before, "\n"), "Done (")+1 {
			t.Fatalf("%d startup banners after the run, want one more than before", n)
		}
	})

	step(t, "a failing task ends the run unless continue_on_failure", func() {
		marker := "never-" + randomHex(4)
		// start fails: the server runs already.
		stop := c.createSchedule(s.ID, map[string]any{
			"name": "stops", "cron": "@daily",
			"tasks": []map[string]any{
				{"action": "power", "payload": "start"},
				{"action": "command", "payload": "say " + marker},
			},
		})
		run := c.runNow(s.ID, stop, time.Minute)
		if run.Status != "failed" || run.Tasks[0].Status != "failed" || run.Tasks[1].Status != "skipped" {
			t.Fatalf("run = %+v, want failed with the first task failed and the second skipped", run)
		}
		if !strings.Contains(run.Tasks[0].Error, "start") || !strings.Contains(run.Error, "task 1 (power) failed") {
			t.Fatalf("errors %q / %q do not say what failed", run.Tasks[0].Error, run.Error)
		}
		time.Sleep(time.Second)
		if i := indexContaining(c.consoleLines(s.ID), marker, 0); i >= 0 {
			t.Fatal("the task after the failed one ran")
		}

		goOn := c.createSchedule(s.ID, map[string]any{
			"name": "continues", "cron": "@daily",
			"tasks": []map[string]any{
				{"action": "power", "payload": "start", "continue_on_failure": true},
				{"action": "command", "payload": "say " + marker},
			},
		})
		run = c.runNow(s.ID, goOn, time.Minute)
		if run.Tasks[0].Status != "failed" || run.Tasks[1].Status != "completed" || run.Status != "failed" {
			t.Fatalf("run = %+v, want the second task completed after the first failed", run)
		}
		c.eventually(10*time.Second, "the command after a failure allowed to continue reaches the console", func() bool {
			return indexContaining(c.consoleLines(s.ID), "> echo: say "+marker, 0) >= 0
		})
	})

	step(t, "the scheduler plugin fires each slot once", func() {
		id := c.createSchedule(s.ID, map[string]any{
			"name": "often", "cron": "@every 2s",
			"tasks": []map[string]any{{"action": "command", "payload": "say tick"}},
		})
		c.eventually(30*time.Second, "3 runs fired by the plugin", func() bool { return len(c.scheduleRuns(s.ID, id)) >= 3 })
		c.must(http.MethodPut, "/api/servers/"+s.ID+"/schedules/"+id, map[string]any{
			"name": "often", "cron": "@every 2s", "enabled": false,
			"tasks": []map[string]any{{"action": "command", "payload": "say tick"}},
		}, nil)
		runs := c.scheduleRuns(s.ID, id)
		checkSlots(t, runs, 2*time.Second)
		time.Sleep(4 * time.Second)
		if after := c.scheduleRuns(s.ID, id); len(after) > len(runs)+1 {
			t.Fatalf("a disabled schedule went on firing: %d runs, then %d", len(runs), len(after))
		}
	})
}

// checkSlots asserts runs are cron runs, one per slot, on consecutive
// slots every spacing.
func checkSlots(t testing.TB, runs []scheduleRun, spacing time.Duration) {
	t.Helper()
	var slots []time.Time
	for _, r := range runs {
		if r.Trigger != "cron" || r.Slot == nil {
			t.Fatalf("run %+v is not a cron run with a slot", r)
		}
		slots = append(slots, *r.Slot)
	}
	slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(slots); i++ {
		if d := slots[i].Sub(slots[i-1]); d != spacing {
			t.Fatalf("slots %v and %v are %s apart, want %s (a duplicate or a gap); all: %v", slots[i-1], slots[i], d, spacing, slots)
		}
	}
}

// Two core processes on one PostgreSQL database, each with its scheduler
// plugin, hear every slot; each slot runs once.
func TestSchedulesTwoCores(t *testing.T) {
	dsn := postgresSchema(t)
	db := fmt.Sprintf(`
database {
  driver = "postgres"
  dsn    = %q
}

auth {
  jwt_secret = "e2e-two-cores-share-this-secret-0123456789"
}

log {
  level = "debug"
}
`, dsn)
	c := newCluster(t, clusterOptions{coreHCL: cronPlugin() + db})
	// Made before the second replica starts, which hands the schedule to
	// its plugin at once (a later one would reach it at the minute resync).
	s := c.createServer("two-cores", nil)
	c.power(s.ID, "start")
	c.waitState(s.ID, "running", time.Minute)
	id := c.createSchedule(s.ID, map[string]any{
		"name": "often", "cron": "@every 2s",
		"tasks": []map[string]any{{"action": "command", "payload": "say tick"}},
	})
	// The second replica: same database, its own address and data.
	dir2 := filepath.Join(c.dir, "core2")
	if err := os.MkdirAll(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg2 := fmt.Sprintf("listen = %q\ndata_dir = %q\n", freeAddr(t), filepath.Join(dir2, "data")) + cronPlugin() + db
	if err := os.WriteFile(filepath.Join(dir2, "core.hcl"), []byte(cfg2), 0o600); err != nil {
		t.Fatal(err)
	}
	core2 := startProc(t, "core2", filepath.Join(dir2, "core.log"), env.coreBin, "serve", "--config", filepath.Join(dir2, "core.hcl"))
	t.Cleanup(func() {
		if core2.running() {
			core2.stop(t)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir2, "core.log"))
			t.Logf("--- core2.log ---\n%s", tail(b, 100))
		}
	})

	heard := func(log string) map[string]bool {
		b, _ := os.ReadFile(log)
		out := map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, id) && (strings.Contains(line, "schedule fired") || strings.Contains(line, "schedule slot already claimed")) {
				if _, slot, ok := strings.Cut(line, "slot="); ok {
					out[strings.Fields(slot)[0]] = true
				}
			}
		}
		return out
	}
	both := func() int {
		a, b := heard(filepath.Join(c.dir, "core.log")), heard(filepath.Join(dir2, "core.log"))
		n := 0
		for slot := range a {
			if b[slot] {
				n++
			}
		}
		return n
	}
	c.eventually(60*time.Second, "both cores hear 5 of the schedule's slots", func() bool { return both() >= 5 })
	runs := c.scheduleRuns(s.ID, id)
	if len(runs) < 5 {
		t.Fatalf("%d runs, want at least 5", len(runs))
	}
	checkSlots(t, runs, 2*time.Second)
}

// postgresSchema makes a schema of its own in the test PostgreSQL
// (CATALYST_TEST_POSTGRES_DSN, or postgres@127.0.0.1:5432/test) and returns
// a DSN that uses it.
func postgresSchema(t *testing.T) string {
	base := os.Getenv("CATALYST_TEST_POSTGRES_DSN")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("CATALYST_TEST_POSTGRES_DSN: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL does not answer: %v", err)
		}
		t.Skipf("PostgreSQL does not answer (%v); skipped: CI is not true", err)
	}
	schema := "catalyst_e2e_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
