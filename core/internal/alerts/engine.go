package alerts

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"catalyst.dev/core/internal/store"
)

// Sample is one server's resource use as the rules see it: percentages of
// the server's limits. A figure whose limit is unknown is left out (Has*
// false) rather than compared as zero.
type Sample struct {
	ServerID string
	NodeID   string
	At       time.Time
	// CPU is a percentage of the server's CPU limit, or of one core when
	// it has none.
	CPU, Memory, Disk  float64
	HasMemory, HasDisk bool
}

// Finding is the engine's verdict that a rule's alert on a target must
// open (Fire) or resolve.
type Finding struct {
	Rule     store.AlertRule
	Target   string
	ServerID string
	NodeID   string
	Fire     bool
	// Value is the measured figure, with its unit, for threshold rules.
	Value string
	// Detail says what happened, for event rules (the crash's reason).
	Detail string
	At     time.Time
}

// Engine evaluates rules against what it is told. It keeps, per rule and
// target, since when a threshold is crossed and whether it believes an
// alert is open, so that a condition raises one Finding when it starts
// and one when it clears. It does no I/O; callers act on the Findings it
// returns. It is safe for concurrent use.
type Engine struct {
	mu sync.Mutex

	// Admin-wide threshold rules and each server's own; servers' progress
	// on them is kept in slices aligned with them.
	metric       thresholds
	serverMetric map[string]thresholds
	metricState  map[string]*metricState

	// Event rules by type: admin-wide and each server's own.
	events       map[string][]store.AlertRule
	serverEvents map[string]map[string][]store.AlertRule
	// eventOpen holds the event alerts believed open.
	eventOpen map[alertKey]struct{}

	offline []store.AlertRule
	nodes   map[string]*nodeState
}

// alertKey names an alert: a rule's about one target.
type alertKey struct{ rule, target string }

// thresholds are threshold rules beside what the sample loop reads of
// them. Every sample meets every rule, so that loop is what bounds
// ingestion: it reads a small array of conditions rather than the rules,
// and the rules are sorted by figure, then threshold, so that a binary
// search splits a figure's rules into those the sample's value is above
// and the rest.
type thresholds struct {
	rules []store.AlertRule
	conds []condition
	// start[f]:start[f+1] are figure f's rules.
	start [figures + 1]int
}

type condition struct {
	threshold float64
	// wait is how long the threshold must stay crossed, in nanoseconds.
	wait int64
}

// figure is the resource a threshold rule compares.
type figure uint8

const (
	figureCPU figure = iota
	figureMemory
	figureDisk
	figures
)

func figureOf(typ string) figure {
	switch typ {
	case TypeMemory:
		return figureMemory
	case TypeDisk:
		return figureDisk
	}
	return figureCPU
}

func newThresholds(rules []store.AlertRule) thresholds {
	slices.SortStableFunc(rules, func(a, b store.AlertRule) int {
		return cmp.Or(cmp.Compare(figureOf(a.Type), figureOf(b.Type)), cmp.Compare(a.Threshold, b.Threshold))
	})
	t := thresholds{rules: rules, conds: make([]condition, len(rules))}
	for i, r := range rules {
		t.conds[i] = condition{threshold: r.Threshold, wait: int64(time.Duration(r.ForSeconds) * time.Second)}
		t.start[figureOf(r.Type)+1] = i + 1
	}
	for f := range figures {
		t.start[f+1] = max(t.start[f+1], t.start[f])
	}
	return t
}

// crossing is one server's progress on one threshold rule.
type crossing struct {
	// since is when the threshold was crossed, in Unix nanoseconds, if
	// crossed.
	since   int64
	crossed bool
	// fired: an alert is believed open.
	fired bool
}

// metricState is one server's progress on the admin-wide threshold rules
// and on its own.
type metricState struct {
	admin, own []crossing
}

type nodeState struct {
	// downSince is when the node went away; zero while it is connected.
	downSince time.Time
	fired     []bool
}

// NewEngine returns an engine with no rules.
func NewEngine() *Engine {
	e := &Engine{}
	e.SetRules(nil, nil)
	return e
}

// SetRules replaces the rules. State is kept for rules that stay; open
// lists the alerts open in the store, so that their conditions clearing
// resolves them (after a restart, or a rule's edit).
func (e *Engine) SetRules(rules []*store.AlertRule, open []*store.Alert) {
	e.mu.Lock()
	defer e.mu.Unlock()
	oldMetric, oldServerMetric, oldOffline := e.metric, e.serverMetric, e.offline
	var metric []store.AlertRule
	serverMetric := map[string][]store.AlertRule{}
	e.events, e.serverEvents = map[string][]store.AlertRule{}, map[string]map[string][]store.AlertRule{}
	e.offline = nil
	// eventRules are the enabled event rules' IDs: the alerts believed
	// open stay believed open while their rule exists.
	eventRules := map[string]bool{}
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		switch {
		case isMetric(r.Type) && r.ServerID == nil:
			metric = append(metric, *r)
		case isMetric(r.Type):
			serverMetric[*r.ServerID] = append(serverMetric[*r.ServerID], *r)
		case r.Type == TypeNodeOffline:
			e.offline = append(e.offline, *r)
		case r.ServerID == nil:
			e.events[r.Type] = append(e.events[r.Type], *r)
			eventRules[r.ID] = true
		default:
			m := e.serverEvents[*r.ServerID]
			if m == nil {
				m = map[string][]store.AlertRule{}
				e.serverEvents[*r.ServerID] = m
			}
			m[r.Type] = append(m[r.Type], *r)
			eventRules[r.ID] = true
		}
	}
	e.metric = newThresholds(metric)
	e.serverMetric = make(map[string]thresholds, len(serverMetric))
	for id, rs := range serverMetric {
		e.serverMetric[id] = newThresholds(rs)
	}

	if e.metricState == nil {
		e.metricState = map[string]*metricState{}
	}
	for id, st := range e.metricState {
		st.admin = realign(oldMetric.rules, e.metric.rules, st.admin, carryCrossing)
		st.own = realign(oldServerMetric[id].rules, e.serverMetric[id].rules, st.own, carryCrossing)
	}
	if e.nodes == nil {
		e.nodes = map[string]*nodeState{}
	}
	for _, st := range e.nodes {
		st.fired = realign(oldOffline, e.offline, st.fired, func(_, _ *store.AlertRule, fired bool) bool { return fired })
	}
	// An event alert fired since the open alerts were read is not among
	// them yet; forgetting it would leave it open for good.
	for k := range e.eventOpen {
		if !eventRules[k.rule] {
			delete(e.eventOpen, k)
		}
	}
	if e.eventOpen == nil {
		e.eventOpen = map[alertKey]struct{}{}
	}

	for _, a := range open {
		if a.RuleID == nil {
			continue
		}
		switch {
		case isMetric(a.Type) && a.ServerID != nil:
			st := e.metricStateLocked(*a.ServerID)
			markFired(e.metric.rules, st.admin, *a.RuleID)
			markFired(e.serverMetric[*a.ServerID].rules, st.own, *a.RuleID)
		case a.Type == TypeNodeOffline:
			st := e.nodeStateLocked(a.Target)
			for i, r := range e.offline {
				if r.ID == *a.RuleID {
					st.fired[i] = true
				}
			}
		case eventRules[*a.RuleID]:
			e.eventOpen[alertKey{*a.RuleID, a.Target}] = struct{}{}
		}
	}
}

// realign maps per-rule state from the old rule list onto the new one, by
// rule ID; carry says what of a rule's state survives its edit.
func realign[T any](old, cur []store.AlertRule, state []T, carry func(was, is *store.AlertRule, s T) T) []T {
	idx := make(map[string]int, len(old))
	for i, r := range old {
		idx[r.ID] = i
	}
	out := make([]T, len(cur))
	for j := range cur {
		if i, ok := idx[cur[j].ID]; ok && i < len(state) {
			out[j] = carry(&old[i], &cur[j], state[i])
		}
	}
	return out
}

// carryCrossing keeps whether a threshold rule fired; a rule whose
// threshold or wait changed starts its wait afresh.
func carryCrossing(was, is *store.AlertRule, c crossing) crossing {
	if was.Threshold != is.Threshold || was.ForSeconds != is.ForSeconds {
		return crossing{fired: c.fired}
	}
	return c
}

func markFired(rules []store.AlertRule, state []crossing, ruleID string) {
	for i, r := range rules {
		if r.ID == ruleID {
			state[i].fired = true
		}
	}
}

func (e *Engine) metricStateLocked(serverID string) *metricState {
	st := e.metricState[serverID]
	if st == nil {
		st = &metricState{
			admin: make([]crossing, len(e.metric.rules)),
			own:   make([]crossing, len(e.serverMetric[serverID].rules)),
		}
		e.metricState[serverID] = st
	}
	return st
}

func (e *Engine) nodeStateLocked(nodeID string) *nodeState {
	st := e.nodes[nodeID]
	if st == nil {
		st = &nodeState{fired: make([]bool, len(e.offline))}
		e.nodes[nodeID] = st
	}
	return st
}

// Samples evaluates the threshold rules on a node's samples and appends
// the findings to out.
func (e *Engine) Samples(samples []Sample, out []Finding) []Finding {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range samples {
		s := &samples[i]
		own := e.serverMetric[s.ServerID]
		if len(e.metric.rules) == 0 && len(own.rules) == 0 {
			continue
		}
		st := e.metricStateLocked(s.ServerID)
		out = e.metric.eval(st.admin, s, out)
		out = own.eval(st.own, s, out)
	}
	return out
}

// eval compares s with the rules, updating the server's progress on them
// (state), and appends the findings to out.
func (t *thresholds) eval(state []crossing, s *Sample, out []Finding) []Finding {
	if len(t.conds) == 0 {
		return out
	}
	vals := [figures]float64{s.CPU, s.Memory, s.Disk}
	known := [figures]bool{true, s.HasMemory, s.HasDisk}
	at := s.At.UnixNano()
	for f := range figures {
		lo, hi := t.start[f], t.start[f+1]
		if !known[f] || lo == hi {
			continue
		}
		v := vals[f]
		// Rules lo:above have a threshold below v.
		above := lo + sort.Search(hi-lo, func(i int) bool { return v <= t.conds[lo+i].threshold })
		for i := lo; i < above; i++ {
			st := &state[i]
			if st.fired {
				continue
			}
			if !st.crossed {
				st.since, st.crossed = at, true
			}
			if at-st.since >= t.conds[i].wait {
				st.fired = true
				out = append(out, t.finding(i, s, true, v))
			}
		}
		for i := above; i < hi; i++ {
			st := &state[i]
			if st.fired {
				out = append(out, t.finding(i, s, false, v))
			}
			*st = crossing{}
		}
	}
	return out
}

func (t *thresholds) finding(i int, s *Sample, fire bool, v float64) Finding {
	return Finding{Rule: t.rules[i], Target: s.ServerID, ServerID: s.ServerID, NodeID: s.NodeID,
		Fire: fire, Value: percent(v), At: s.At}
}

// percent formats v as fmt's "%.1f%%" would, in one allocation: a busy
// server can move across many rules' thresholds in one sample.
func percent(v float64) string {
	var buf [24]byte
	return string(append(strconv.AppendFloat(buf[:0], v, 'f', 1, 64), '%'))
}

// Event evaluates the rules of type typ on something that happened to a
// server: it fires them (fire) or clears them. A rule fires on every
// occurrence (the store counts repeats of an open alert); it clears only
// where an alert is believed open.
func (e *Engine) Event(typ, serverID, nodeID string, fire bool, detail string, at time.Time) []Finding {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Finding
	for _, rules := range [][]store.AlertRule{e.events[typ], e.serverEvents[serverID][typ]} {
		for _, r := range rules {
			k := alertKey{r.ID, serverID}
			if fire {
				e.eventOpen[k] = struct{}{}
			} else if _, open := e.eventOpen[k]; open {
				delete(e.eventOpen, k)
			} else {
				continue
			}
			out = append(out, Finding{Rule: r, Target: serverID, ServerID: serverID, NodeID: nodeID, Fire: fire, Detail: detail, At: at})
		}
	}
	return out
}

// NodeDown notes that a node went away at at; Tick raises node_offline
// alerts once it stayed away long enough.
func (e *Engine) NodeDown(nodeID string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.nodeStateLocked(nodeID)
	if st.downSince.IsZero() {
		st.downSince = at
	}
}

// NodeUp notes that a node is connected, resolving its node_offline
// alerts.
func (e *Engine) NodeUp(nodeID string, at time.Time) []Finding {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.nodeStateLocked(nodeID)
	st.downSince = time.Time{}
	var out []Finding
	for i, r := range e.offline {
		if st.fired[i] {
			st.fired[i] = false
			out = append(out, Finding{Rule: r, Target: nodeID, NodeID: nodeID, At: at})
		}
	}
	return out
}

// Tick raises node_offline alerts for nodes away longer than their rules
// allow, as of now.
func (e *Engine) Tick(now time.Time) []Finding {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Finding
	for id, st := range e.nodes {
		if st.downSince.IsZero() {
			continue
		}
		for i, r := range e.offline {
			if !st.fired[i] && now.Sub(st.downSince) >= time.Duration(r.ForSeconds)*time.Second {
				st.fired[i] = true
				out = append(out, Finding{Rule: r, Target: id, NodeID: id, Fire: true,
					Value: now.Sub(st.downSince).Round(time.Second).String(), At: now})
			}
		}
	}
	return out
}

// ForgetServer drops a deleted server's state.
func (e *Engine) ForgetServer(serverID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.metricState, serverID)
	for k := range e.eventOpen {
		if k.target == serverID {
			delete(e.eventOpen, k)
		}
	}
}

// ForgetNode drops a deleted node's state, so that its absence raises
// nothing.
func (e *Engine) ForgetNode(nodeID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.nodes, nodeID)
}
