package alerts

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// at is sec seconds into a test.
func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// rule is an enabled admin-wide rule named after its ID.
func rule(id, typ string, threshold float64, forSeconds int) *store.AlertRule {
	return &store.AlertRule{ID: id, Name: id, Type: typ, Threshold: threshold, ForSeconds: forSeconds,
		Severity: "warning", Enabled: true}
}

// serverRule is r as serverID's own rule.
func serverRule(serverID string, r *store.AlertRule) *store.AlertRule {
	r.ServerID = &serverID
	return r
}

func disabled(r *store.AlertRule) *store.AlertRule {
	r.Enabled = false
	return r
}

// openAlert is r's alert on target as the store lists it while open.
func openAlert(r *store.AlertRule, target string) *store.Alert {
	a := &store.Alert{RuleID: &r.ID, RuleName: r.Name, Target: target, Type: r.Type, Severity: r.Severity,
		Status: store.AlertOpen}
	if r.Type == TypeNodeOffline {
		a.NodeID = &target
	} else {
		a.ServerID = &target
	}
	return a
}

// step is one thing the engine is told and the findings it must answer,
// each "fire <rule> <target>" or "resolve <rule> <target>", in any order.
type step struct {
	do   func(*Engine) []Finding
	want []string
}

func cpu(serverID string, sec int, v float64, want ...string) step {
	return samples(Sample{ServerID: serverID, NodeID: "n1", At: at(sec), CPU: v}, want...)
}

func samples(s Sample, want ...string) step {
	return step{func(e *Engine) []Finding { return e.Samples([]Sample{s}, nil) }, want}
}

func event(typ, serverID string, fire bool, want ...string) step {
	return step{func(e *Engine) []Finding { return e.Event(typ, serverID, "n1", fire, "", t0) }, want}
}

func nodeDown(nodeID string, sec int) step {
	return step{func(e *Engine) []Finding { e.NodeDown(nodeID, at(sec)); return nil }, nil}
}

func nodeUp(nodeID string, sec int, want ...string) step {
	return step{func(e *Engine) []Finding { return e.NodeUp(nodeID, at(sec)) }, want}
}

func tick(sec int, want ...string) step {
	return step{func(e *Engine) []Finding { return e.Tick(at(sec)) }, want}
}

func setRules(rules []*store.AlertRule, open ...*store.Alert) step {
	return step{func(e *Engine) []Finding { e.SetRules(rules, open); return nil }, nil}
}

func forget(serverID string) step {
	return step{func(e *Engine) []Finding { e.ForgetServer(serverID); return nil }, nil}
}

type engineCase struct {
	name  string
	rules []*store.AlertRule
	// open are the alerts open in the store when the engine starts.
	open  []*store.Alert
	steps []step
}

// run gives each case a fresh engine with its rules and open alerts, and
// checks every step's findings.
func run(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := NewEngine()
			e.SetRules(c.rules, c.open)
			for i, s := range c.steps {
				got := summarize(s.do(e))
				want := slices.Sorted(slices.Values(s.want))
				if !slices.Equal(got, want) {
					t.Fatalf("step %d: findings %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

func summarize(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		verb := "resolve"
		if f.Fire {
			verb = "fire"
		}
		out = append(out, fmt.Sprintf("%s %s %s", verb, f.Rule.ID, f.Target))
	}
	slices.Sort(out)
	return out
}

func TestThresholdRules(t *testing.T) {
	run(t, []engineCase{{
		name:  "fires once when the value stays above for for_seconds, not before",
		rules: []*store.AlertRule{rule("cpu80", TypeCPU, 80, 60)},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 30, 95),
			cpu("s1", 59, 99),
			cpu("s1", 60, 90, "fire cpu80 s1"),
			cpu("s1", 70, 99),
			cpu("s1", 200, 85),
		},
	}, {
		name:  "resolves once when the value drops to the threshold, and fires again after a new wait",
		rules: []*store.AlertRule{rule("cpu80", TypeCPU, 80, 60)},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 60, 90, "fire cpu80 s1"),
			cpu("s1", 70, 80, "resolve cpu80 s1"),
			cpu("s1", 80, 20),
			cpu("s1", 90, 90),
			cpu("s1", 149, 90),
			cpu("s1", 150, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "a dip below the threshold before for_seconds restarts the wait",
		rules: []*store.AlertRule{rule("cpu80", TypeCPU, 80, 60)},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 50, 70),
			cpu("s1", 60, 90),
			cpu("s1", 119, 90),
			cpu("s1", 120, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "for_seconds 0 fires on the first sample above, not on one at the threshold",
		rules: []*store.AlertRule{rule("cpu80", TypeCPU, 80, 0)},
		steps: []step{
			cpu("s1", 0, 80),
			cpu("s1", 10, 80.1, "fire cpu80 s1"),
			cpu("s1", 20, 79, "resolve cpu80 s1"),
		},
	}, {
		name: "memory and disk rules skip samples without a limit",
		rules: []*store.AlertRule{
			rule("mem50", TypeMemory, 50, 0), rule("disk50", TypeDisk, 50, 0),
		},
		steps: []step{
			samples(Sample{ServerID: "s1", At: at(0), Memory: 90, Disk: 90}),
			samples(Sample{ServerID: "s1", At: at(10), Memory: 90, HasMemory: true, Disk: 90}, "fire mem50 s1"),
			samples(Sample{ServerID: "s1", At: at(20), Memory: 90, HasMemory: true, Disk: 90, HasDisk: true}, "fire disk50 s1"),
			// A figure without a limit is unknown, not dropped to zero.
			samples(Sample{ServerID: "s1", At: at(30)}),
			samples(Sample{ServerID: "s1", At: at(40), Memory: 10, HasMemory: true}, "resolve mem50 s1"),
			samples(Sample{ServerID: "s1", At: at(50), Disk: 10, HasDisk: true}, "resolve disk50 s1"),
		},
	}, {
		name: "each rule compares its own figure against its own threshold",
		rules: []*store.AlertRule{
			rule("cpu90", TypeCPU, 90, 0), rule("cpu70a", TypeCPU, 70, 0), rule("mem60", TypeMemory, 60, 0),
			rule("cpu50", TypeCPU, 50, 0), rule("cpu70b", TypeCPU, 70, 0), rule("disk60", TypeDisk, 60, 0),
		},
		steps: []step{
			samples(Sample{ServerID: "s1", At: at(0), CPU: 70, Memory: 65, HasMemory: true, Disk: 30, HasDisk: true},
				"fire cpu50 s1", "fire mem60 s1"),
			samples(Sample{ServerID: "s1", At: at(10), CPU: 75, Memory: 65, HasMemory: true, Disk: 30, HasDisk: true},
				"fire cpu70a s1", "fire cpu70b s1"),
			samples(Sample{ServerID: "s1", At: at(20), CPU: 95, Memory: 10, HasMemory: true, Disk: 61, HasDisk: true},
				"fire cpu90 s1", "resolve mem60 s1", "fire disk60 s1"),
			cpu("s1", 30, 60, "resolve cpu90 s1", "resolve cpu70a s1", "resolve cpu70b s1"),
		},
	}, {
		name:  "cpu and disk rules without memory rules keep to their figures",
		rules: []*store.AlertRule{rule("disk50", TypeDisk, 50, 0), rule("cpu50", TypeCPU, 50, 0)},
		steps: []step{
			samples(Sample{ServerID: "s1", At: at(0), CPU: 90, Disk: 10, HasDisk: true}, "fire cpu50 s1"),
			samples(Sample{ServerID: "s1", At: at(10), CPU: 90, Disk: 60, HasDisk: true}, "fire disk50 s1"),
			samples(Sample{ServerID: "s1", At: at(20), CPU: 10, Disk: 60, HasDisk: true}, "resolve cpu50 s1"),
		},
	}, {
		name: "admin-wide rules apply to every server, a server's own rule only to it",
		rules: []*store.AlertRule{
			rule("all90", TypeCPU, 90, 0), serverRule("s1", rule("own50", TypeCPU, 50, 0)),
		},
		steps: []step{
			cpu("s1", 0, 60, "fire own50 s1"),
			cpu("s2", 0, 60),
			cpu("s2", 10, 95, "fire all90 s2"),
			cpu("s1", 10, 95, "fire all90 s1"),
			cpu("s1", 20, 10, "resolve all90 s1", "resolve own50 s1"),
			cpu("s2", 20, 10, "resolve all90 s2"),
		},
	}, {
		name: "disabled rules do nothing",
		rules: []*store.AlertRule{
			disabled(rule("cpu80", TypeCPU, 80, 0)), disabled(serverRule("s1", rule("own80", TypeCPU, 80, 0))),
			disabled(rule("crash", TypeServerCrashed, 0, 0)), disabled(rule("offline", TypeNodeOffline, 0, 0)),
		},
		steps: []step{
			cpu("s1", 0, 100),
			cpu("s1", 3600, 100),
			event(TypeServerCrashed, "s1", true),
			nodeDown("n1", 0),
			tick(3600),
		},
	}, {
		name:  "a forgotten server starts afresh",
		rules: []*store.AlertRule{rule("cpu80", TypeCPU, 80, 60)},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 60, 90, "fire cpu80 s1"),
			forget("s1"),
			cpu("s1", 70, 90),
			cpu("s1", 130, 90, "fire cpu80 s1"),
		},
	}})
}

func TestSetRules(t *testing.T) {
	cpu80 := rule("cpu80", TypeCPU, 80, 60)
	cpu80now := rule("cpu80now", TypeCPU, 80, 0)
	own50 := serverRule("s1", rule("own50", TypeCPU, 50, 0))
	crash := rule("crash", TypeServerCrashed, 0, 0)
	offline := rule("offline", TypeNodeOffline, 0, 60)
	edited := func(r *store.AlertRule, edit func(*store.AlertRule)) *store.AlertRule {
		c := *r
		edit(&c)
		return &c
	}
	run(t, []engineCase{{
		name:  "an unchanged rule re-set while firing fires no more and resolves on clear",
		rules: []*store.AlertRule{cpu80now},
		steps: []step{
			cpu("s1", 0, 90, "fire cpu80now s1"),
			setRules([]*store.AlertRule{cpu80now}),
			cpu("s1", 10, 95),
			cpu("s1", 20, 50, "resolve cpu80now s1"),
		},
	}, {
		name:  "an unchanged rule keeps its wait while other rules come and go",
		rules: []*store.AlertRule{cpu80},
		steps: []step{
			cpu("s1", 0, 90),
			setRules([]*store.AlertRule{rule("cpu70", TypeCPU, 70, 600), rule("mem10", TypeMemory, 10, 0), cpu80}),
			cpu("s1", 30, 90),
			cpu("s1", 60, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "a rule whose threshold changed waits afresh",
		rules: []*store.AlertRule{cpu80},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 30, 90),
			setRules([]*store.AlertRule{edited(cpu80, func(r *store.AlertRule) { r.Threshold = 85 })}),
			cpu("s1", 60, 90),
			cpu("s1", 119, 90),
			cpu("s1", 120, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "a firing rule raised above the value resolves on the next sample",
		rules: []*store.AlertRule{cpu80now},
		steps: []step{
			cpu("s1", 0, 90, "fire cpu80now s1"),
			setRules([]*store.AlertRule{edited(cpu80now, func(r *store.AlertRule) { r.Threshold = 95 })}),
			cpu("s1", 10, 90, "resolve cpu80now s1"),
		},
	}, {
		name:  "a renamed rule keeps its state",
		rules: []*store.AlertRule{cpu80},
		steps: []step{
			cpu("s1", 0, 90),
			setRules([]*store.AlertRule{edited(cpu80, func(r *store.AlertRule) { r.Name, r.Severity = "hot", "critical" })}),
			cpu("s1", 60, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "after a restart, an open threshold alert resolves when its condition clears",
		rules: []*store.AlertRule{cpu80},
		open:  []*store.Alert{openAlert(cpu80, "s1")},
		steps: []step{
			cpu("s1", 0, 90),
			cpu("s1", 60, 90),
			cpu("s1", 70, 50, "resolve cpu80 s1"),
			cpu("s1", 80, 90),
			cpu("s1", 140, 90, "fire cpu80 s1"),
		},
	}, {
		name:  "after a restart, an open threshold alert below its threshold resolves on the first sample",
		rules: []*store.AlertRule{cpu80, own50},
		open:  []*store.Alert{openAlert(cpu80, "s1"), openAlert(own50, "s1")},
		steps: []step{
			cpu("s2", 0, 10),
			cpu("s1", 0, 10, "resolve cpu80 s1", "resolve own50 s1"),
		},
	}, {
		name:  "after a restart, an open event alert is cleared by its clearing event",
		rules: []*store.AlertRule{crash},
		open:  []*store.Alert{openAlert(crash, "s1")},
		steps: []step{
			event(TypeServerCrashed, "s2", false),
			event(TypeServerCrashed, "s1", false, "resolve crash s1"),
			event(TypeServerCrashed, "s1", false),
		},
	}, {
		name:  "after a restart, an open node_offline alert does not fire again and resolves when the node connects",
		rules: []*store.AlertRule{offline},
		open:  []*store.Alert{openAlert(offline, "n1")},
		steps: []step{
			nodeDown("n1", 0),
			tick(120),
			nodeUp("n1", 130, "resolve offline n1"),
		},
	}, {
		name:  "open alerts reloaded into a running engine are believed open",
		rules: []*store.AlertRule{crash, cpu80now},
		steps: []step{
			setRules([]*store.AlertRule{crash, cpu80now}, openAlert(crash, "s1"), openAlert(cpu80now, "s1")),
			event(TypeServerCrashed, "s1", false, "resolve crash s1"),
			cpu("s1", 0, 90),
			cpu("s1", 10, 10, "resolve cpu80now s1"),
		},
	}, {
		name:  "an event alert fired but not yet stored stays open across a reload",
		rules: []*store.AlertRule{crash},
		steps: []step{
			event(TypeServerCrashed, "s1", true, "fire crash s1"),
			setRules([]*store.AlertRule{crash}),
			event(TypeServerCrashed, "s1", false, "resolve crash s1"),
		},
	}, {
		name:  "alerts of rules no longer there are left alone",
		rules: []*store.AlertRule{cpu80now},
		open:  []*store.Alert{openAlert(rule("gone", TypeCPU, 50, 0), "s1"), openAlert(rule("gone-crash", TypeServerCrashed, 0, 0), "s1")},
		steps: []step{
			cpu("s1", 0, 10),
			event(TypeServerCrashed, "s1", false),
		},
	}, {
		name:  "a rule removed while firing is forgotten",
		rules: []*store.AlertRule{cpu80now, crash},
		steps: []step{
			cpu("s1", 0, 90, "fire cpu80now s1"),
			event(TypeServerCrashed, "s1", true, "fire crash s1"),
			setRules(nil),
			cpu("s1", 10, 10),
			event(TypeServerCrashed, "s1", false),
			setRules([]*store.AlertRule{crash}),
			event(TypeServerCrashed, "s1", false),
		},
	}})
}

func TestEventRules(t *testing.T) {
	rules := []*store.AlertRule{
		rule("crash", TypeServerCrashed, 0, 0),
		serverRule("s1", rule("crash-s1", TypeServerCrashed, 0, 0)),
		serverRule("s2", rule("crash-s2", TypeServerCrashed, 0, 0)),
		rule("backup", TypeBackupFailed, 0, 0),
	}
	run(t, []engineCase{{
		name:  "a fire finds every rule of its type for the server: admin-wide and its own",
		rules: rules,
		steps: []step{
			event(TypeServerCrashed, "s1", true, "fire crash s1", "fire crash-s1 s1"),
			event(TypeServerCrashed, "s3", true, "fire crash s3"),
			event(TypeBackupFailed, "s1", true, "fire backup s1"),
		},
	}, {
		name:  "every occurrence fires (the store counts repeats of an open alert)",
		rules: rules,
		steps: []step{
			event(TypeServerCrashed, "s2", true, "fire crash s2", "fire crash-s2 s2"),
			event(TypeServerCrashed, "s2", true, "fire crash s2", "fire crash-s2 s2"),
		},
	}, {
		name:  "a clear finds only the alerts believed open",
		rules: rules,
		steps: []step{
			event(TypeServerCrashed, "s1", false),
			event(TypeServerCrashed, "s1", true, "fire crash s1", "fire crash-s1 s1"),
			event(TypeServerCrashed, "s2", false),
			event(TypeBackupFailed, "s1", false),
			event(TypeServerCrashed, "s1", false, "resolve crash s1", "resolve crash-s1 s1"),
			event(TypeServerCrashed, "s1", false),
		},
	}, {
		name:  "a forgotten server's alerts are no longer believed open",
		rules: rules,
		steps: []step{
			event(TypeServerCrashed, "s1", true, "fire crash s1", "fire crash-s1 s1"),
			event(TypeServerCrashed, "s2", true, "fire crash s2", "fire crash-s2 s2"),
			forget("s1"),
			event(TypeServerCrashed, "s1", false),
			event(TypeServerCrashed, "s2", false, "resolve crash s2", "resolve crash-s2 s2"),
		},
	}, {
		name:  "event rules ignore samples and threshold rules ignore events",
		rules: []*store.AlertRule{rule("crash", TypeServerCrashed, 0, 0), rule("cpu1", TypeCPU, 1, 0)},
		steps: []step{
			event(TypeCPU, "s1", true),
			cpu("s1", 0, 100, "fire cpu1 s1"),
		},
	}})
}

func TestNodeOfflineRules(t *testing.T) {
	offline := rule("offline", TypeNodeOffline, 0, 60)
	run(t, []engineCase{{
		name:  "a node away past the wait fires once, and resolves when it is back",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeDown("n1", 0),
			tick(59),
			tick(60, "fire offline n1"),
			tick(61),
			tick(600),
			nodeUp("n1", 610, "resolve offline n1"),
			nodeUp("n1", 620),
			tick(1000),
		},
	}, {
		name:  "a node back within the wait raises nothing",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeDown("n1", 0),
			tick(30),
			nodeUp("n1", 40),
			tick(600),
		},
	}, {
		name:  "a node never down resolves nothing when it connects",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeUp("n1", 0),
			tick(600),
		},
	}, {
		name:  "the wait counts from the first of repeated NodeDowns",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeDown("n1", 0),
			nodeDown("n1", 50),
			tick(60, "fire offline n1"),
		},
	}, {
		name:  "the wait starts afresh after the node was back",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeDown("n1", 0),
			nodeUp("n1", 30),
			nodeDown("n1", 40),
			tick(90),
			tick(100, "fire offline n1"),
		},
	}, {
		name:  "each rule waits its own time, for each node",
		rules: []*store.AlertRule{offline, rule("offline-long", TypeNodeOffline, 0, 300)},
		steps: []step{
			nodeDown("n1", 0),
			nodeDown("n2", 100),
			tick(60, "fire offline n1"),
			tick(160, "fire offline n2"),
			tick(300, "fire offline-long n1"),
			nodeUp("n1", 310, "resolve offline n1", "resolve offline-long n1"),
			tick(400, "fire offline-long n2"),
		},
	}, {
		name:  "a firing node_offline rule re-set stays firing",
		rules: []*store.AlertRule{offline},
		steps: []step{
			nodeDown("n1", 0),
			tick(60, "fire offline n1"),
			setRules([]*store.AlertRule{offline, rule("offline-long", TypeNodeOffline, 0, 300)}),
			tick(120),
			tick(300, "fire offline-long n1"),
			nodeUp("n1", 310, "resolve offline n1", "resolve offline-long n1"),
		},
	}})
}

// TestFindingsSayWhatAndWhere checks every field of the findings that
// the service turns into alerts.
func TestFindingsSayWhatAndWhere(t *testing.T) {
	cpu80 := rule("cpu80", TypeCPU, 80, 60)
	crash := serverRule("s1", rule("crash", TypeServerCrashed, 0, 0))
	offline := rule("offline", TypeNodeOffline, 0, 90)
	e := NewEngine()
	e.SetRules([]*store.AlertRule{cpu80, crash, offline}, nil)

	got := e.Samples([]Sample{
		{ServerID: "s1", NodeID: "n1", At: at(0), CPU: 90.45},
		{ServerID: "s1", NodeID: "n1", At: at(60), CPU: 90.45},
		{ServerID: "s1", NodeID: "n1", At: at(70), CPU: 12},
	}, nil)
	got = append(got, e.Event(TypeServerCrashed, "s1", "n2", true, "exit code 137 (out of memory)", at(80))...)
	e.NodeDown("n3", at(100))
	got = append(got, e.Tick(at(190))...)
	got = append(got, e.NodeUp("n3", at(200))...)

	want := []Finding{
		{Rule: *cpu80, Target: "s1", ServerID: "s1", NodeID: "n1", Fire: true, Value: "90.5%", At: at(60)},
		{Rule: *cpu80, Target: "s1", ServerID: "s1", NodeID: "n1", Value: "12.0%", At: at(70)},
		{Rule: *crash, Target: "s1", ServerID: "s1", NodeID: "n2", Fire: true, Detail: "exit code 137 (out of memory)", At: at(80)},
		{Rule: *offline, Target: "n3", NodeID: "n3", Fire: true, Value: "1m30s", At: at(190)},
		{Rule: *offline, Target: "n3", NodeID: "n3", At: at(200)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
		}
	}
}

// TestEngineIsSafeForConcurrentUse feeds servers' samples from several
// goroutines while the rules are reloaded and events arrive: every server
// must see each of its conditions fire and resolve exactly once per
// swing. (Run with -race to catch unguarded state as well.)
func TestEngineIsSafeForConcurrentUse(t *testing.T) {
	rules := []*store.AlertRule{rule("cpu80", TypeCPU, 80, 0), rule("crash", TypeServerCrashed, 0, 0)}
	e := NewEngine()
	e.SetRules(rules, nil)
	const servers, swings = 8, 200
	stop := make(chan struct{})
	var reloader sync.WaitGroup
	reloader.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				e.SetRules(rules, nil)
				e.Tick(t0)
			}
		}
	})
	counts := make([][2]int, servers)
	var wg sync.WaitGroup
	for s := range servers {
		wg.Go(func() {
			id := fmt.Sprintf("s%d", s)
			for i := range swings {
				for _, v := range []float64{95, 10} {
					for _, f := range e.Samples([]Sample{{ServerID: id, At: at(i), CPU: v}}, nil) {
						if f.Fire {
							counts[s][0]++
						} else {
							counts[s][1]++
						}
					}
				}
				e.Event(TypeServerCrashed, id, "n1", true, "", t0)
				e.Event(TypeServerCrashed, id, "n1", false, "", t0)
			}
		})
	}
	wg.Wait()
	close(stop)
	reloader.Wait()
	for s, c := range counts {
		if c != [2]int{swings, swings} {
			t.Errorf("server s%d: %d fired, %d resolved; want %d each", s, c[0], c[1], swings)
		}
	}
}
