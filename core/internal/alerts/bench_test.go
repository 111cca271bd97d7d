package alerts

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// The benchmark's fleet: 500 servers on 50 nodes, sampled every 2s (the
// agent's default stats interval), watched by 1,000 admin-wide rules.
const (
	benchNodes          = 50
	benchServersPerNode = 10
	benchRules          = 1000
	benchInterval       = 2 * time.Second
	// benchRounds samples of every server are prepared; each figure of
	// each server sways around its own level with this period, so that
	// the rules with thresholds near it fire and resolve.
	benchRounds = 30
)

// BenchmarkRuleEngine measures metric samples per second through the rule
// engine (as the alerts service gets them: the recorder's accepted
// samples of one node's resource_stats, converted and evaluated), beside
// decoding the same samples from the agent's JSON, which the core does for
// every sample anyway. The ratio says which of the two bounds ingestion.
func BenchmarkRuleEngine(b *testing.B) {
	f := newBenchFleet()
	b.Run("catalyst", func(b *testing.B) {
		e := NewEngine()
		e.SetRules(f.rules, nil)
		in := make([]Sample, 0, benchServersPerNode)
		var out []Finding
		fired, found, n, i := 0, 0, 0, 0
		b.ReportAllocs()
		for b.Loop() {
			round, node := i/benchNodes, i%benchNodes
			at := f.start.Add(time.Duration(round) * benchInterval)
			in = in[:0]
			for _, st := range f.samples[round%benchRounds][node] {
				s := SampleOf(f.nodes[node], st)
				s.At = at
				in = append(in, s)
			}
			out = e.Samples(in, out[:0])
			found += len(out)
			for _, fd := range out {
				if fd.Fire {
					fired++
				}
			}
			n += len(in)
			i++
		}
		if i >= 2*benchRounds*benchNodes && fired == 0 {
			b.Fatal("no rule fired: the benchmark does not exercise firing")
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(float64(found)/float64(n), "findings/sample")
	})
	b.Run("baseline-json-decode", func(b *testing.B) {
		n, i := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			env := f.events[(i/benchNodes)%benchRounds][i%benchNodes]
			var rs wire.ResourceStats
			if err := env.Decode(&rs); err != nil {
				b.Fatal(err)
			}
			n += len(rs.Servers)
			i++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
	})
}

type benchFleet struct {
	start time.Time
	rules []*store.AlertRule
	nodes []string
	// samples[round][node] are a node's accepted samples in one round;
	// events[round][node] the same as the agent sent them.
	samples [][][]metrics.ServerSample
	events  [][]wire.Envelope
}

func newBenchFleet() *benchFleet {
	f := &benchFleet{start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	types := []string{TypeCPU, TypeMemory, TypeDisk}
	for i := range benchRules {
		// Thresholds from 5% to 95%, waits from none to a minute.
		f.rules = append(f.rules, &store.AlertRule{
			ID: fmt.Sprintf("rule-%04d", i), Name: fmt.Sprintf("rule %d", i), Type: types[i%3],
			Threshold: 5 + 90*float64(i/3)/float64(benchRules/3), ForSeconds: (i % 7) * 10,
			Severity: "warning", Enabled: true,
		})
	}
	for n := range benchNodes {
		f.nodes = append(f.nodes, fmt.Sprintf("node-%02d", n))
	}
	const gib = 1 << 30
	for r := range benchRounds {
		var samples [][]metrics.ServerSample
		var events []wire.Envelope
		at := f.start.Add(time.Duration(r) * benchInterval)
		for n := range benchNodes {
			var node []metrics.ServerSample
			var stats []wire.ServerStats
			for s := range benchServersPerNode {
				id := n*benchServersPerNode + s
				// Levels spread from 3% to 97% over the fleet, each
				// swaying by up to 3 points either way.
				level := func(shift float64) float64 {
					base := 0.03 + 0.94*math.Mod(float64(id)/benchServersPerNode/benchNodes+shift, 1)
					return base + 0.03*math.Sin(2*math.Pi*(float64(r)/benchRounds+float64(id)/7+shift))
				}
				st := wire.ServerStats{
					ServerID: fmt.Sprintf("server-%03d", id), At: at,
					CPUPercent:  200 * level(0),
					MemoryBytes: uint64(4 * gib * level(0.3)), MemoryLimitBytes: 4 * gib,
					Pids: 40, NetRxBytes: 1 << 20, NetTxBytes: 3 << 20,
					DiskBytes: uint64(20 * gib * level(0.6)), DiskLimitBytes: 20 * gib, DiskAt: at.Add(-30 * time.Second),
				}
				stats = append(stats, st)
				node = append(node, metrics.ServerSample{ServerStats: st, CPULimit: 200})
			}
			data, err := json.Marshal(wire.ResourceStats{Servers: stats})
			if err != nil {
				panic(err)
			}
			samples = append(samples, node)
			events = append(events, wire.Envelope{Type: wire.EventResourceStats, At: at, Data: data})
		}
		f.samples = append(f.samples, samples)
		f.events = append(f.events, events)
	}
	return f
}
