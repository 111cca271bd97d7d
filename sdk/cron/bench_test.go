package cron

import (
	"testing"
	"time"
)

// benchSpecs are schedules a game host would set: backups, restarts,
// announcements.
var benchSpecs = []string{
	"*/5 * * * *",
	"0 * * * *",
	"30 3 * * *",
	"0 9-17 * * MON-FRI",
	"0 4 1 * *",
}

// BenchmarkNext measures slots computed per second, each from the slot
// before, over benchSpecs in New York, beside the same slots found by
// walking the clock a minute at a time (scanNext, which the tests check
// Next against).
func BenchmarkNext(b *testing.B) {
	ny := zone(b, "America/New_York")
	scheds := make([]Schedule, len(benchSpecs))
	for i, spec := range benchSpecs {
		s, err := Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		scheds[i] = s
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, ny)
	run := func(b *testing.B, next func(Schedule, time.Time, *time.Location) time.Time) {
		at := make([]time.Time, len(scheds))
		for i := range at {
			at[i] = start
		}
		n := 0
		for b.Loop() {
			i := n % len(scheds)
			at[i] = next(scheds[i], at[i], ny)
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "nexts/s")
	}
	b.Run("catalyst", func(b *testing.B) { run(b, Schedule.Next) })
	b.Run("baseline-minute-scan", func(b *testing.B) { run(b, scanNext) })
}
