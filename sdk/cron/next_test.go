package cron

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestNext walks each spec from after through the slots in want (RFC 3339
// instants), each Next starting from the slot before.
func TestNext(t *testing.T) {
	tests := []struct {
		name, spec, zone, after string
		want                    []string
	}{
		{
			name: "every minute, from mid-minute", spec: "* * * * *", zone: "UTC",
			after: "2026-05-01T10:00:30.5Z",
			want:  []string{"2026-05-01T10:01:00Z", "2026-05-01T10:02:00Z"},
		},
		{
			name: "strictly after a slot", spec: "0 * * * *", zone: "UTC",
			after: "2026-05-01T10:00:00Z",
			want:  []string{"2026-05-01T11:00:00Z"},
		},
		{
			name: "steps and ranges", spec: "5/20 9-10 * * *", zone: "UTC",
			after: "2026-05-01T08:00:00Z",
			want:  []string{"2026-05-01T09:05:00Z", "2026-05-01T09:25:00Z", "2026-05-01T09:45:00Z", "2026-05-01T10:05:00Z", "2026-05-01T10:25:00Z", "2026-05-01T10:45:00Z", "2026-05-02T09:05:00Z"},
		},
		{
			name: "names", spec: "0 9 * jan,JUL mon", zone: "UTC",
			after: "2026-01-25T00:00:00Z",
			// Mondays of January, then of July.
			want: []string{"2026-01-26T09:00:00Z", "2026-07-06T09:00:00Z", "2026-07-13T09:00:00Z"},
		},
		{
			name: "year end", spec: "59 23 31 12 *", zone: "UTC",
			after: "2026-12-31T23:59:00Z",
			want:  []string{"2027-12-31T23:59:00Z"},
		},
		{
			name: "29 February in leap years only", spec: "0 0 29 2 *", zone: "UTC",
			after: "2026-01-01T00:00:00Z",
			want:  []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
		},
		{
			name: "2100 is not a leap year", spec: "0 0 29 2 *", zone: "UTC",
			after: "2096-03-01T00:00:00Z",
			want:  []string{"2104-02-29T00:00:00Z"},
		},
		{
			name: "29 February on a Sunday", spec: "0 0 29 2 SUN", zone: "UTC",
			after: "2026-01-01T00:00:00Z",
			// Restricted both: any 29 February or any Sunday of February.
			want: []string{"2026-02-01T00:00:00Z"},
		},
		{
			name: "29 February that is a Sunday", spec: "0 0 29 2 */7", zone: "UTC",
			after: "2026-01-01T00:00:00Z",
			want:  []string{"2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z"},
		},
		{
			name: "31st only in months that have one", spec: "0 12 31 * *", zone: "UTC",
			after: "2026-01-31T12:00:00Z",
			want:  []string{"2026-03-31T12:00:00Z", "2026-05-31T12:00:00Z"},
		},
		{
			name: "day of month or day of week", spec: "0 0 1 * MON", zone: "UTC",
			after: "2026-03-28T00:00:00Z",
			// 30 March is a Monday, 1 April a Wednesday.
			want: []string{"2026-03-30T00:00:00Z", "2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z"},
		},
		{
			name: "day of month and day of week with a star", spec: "0 0 */2 * MON", zone: "UTC",
			after: "2026-03-01T00:00:00Z",
			// March's Mondays are 2, 9, 16, 23, 30; April's 6, 13, 20, 27.
			want: []string{"2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z", "2026-04-13T00:00:00Z"},
		},
		{
			name: "weekdays with 7 as Sunday", spec: "0 0 * * 6-7", zone: "UTC",
			after: "2026-03-02T00:00:00Z",
			want:  []string{"2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z", "2026-03-14T00:00:00Z"},
		},
		{
			name: "local zone", spec: "30 8 * * *", zone: "Asia/Kolkata",
			after: "2026-05-01T00:00:00Z",
			want:  []string{"2026-05-01T03:00:00Z", "2026-05-02T03:00:00Z"},
		},
		// New York springs forward on 8 March 2026: 02:00 EST is 03:00 EDT.
		{
			name: "New York: a skipped time fires after the gap", spec: "30 2 * * *", zone: "America/New_York",
			after: "2026-03-07T12:00:00Z",
			want:  []string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		},
		{
			name: "New York: skipped times fire once", spec: "*/15 2 * * *", zone: "America/New_York",
			after: "2026-03-08T06:59:00Z",
			want:  []string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"},
		},
		{
			name: "New York: a skipped and a real time collapse", spec: "0 2,3 * * *", zone: "America/New_York",
			after: "2026-03-08T05:00:00Z",
			want:  []string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z"},
		},
		{
			name: "New York: every minute across the gap", spec: "* * * * *", zone: "America/New_York",
			after: "2026-03-08T06:58:00Z",
			want:  []string{"2026-03-08T06:59:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:01:00Z"},
		},
		// New York falls back on 1 November 2026: 02:00 EDT is 01:00 EST.
		{
			name: "New York: a repeated time fires at its first occurrence", spec: "30 1 * * *", zone: "America/New_York",
			after: "2026-11-01T04:00:00Z",
			want:  []string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		},
		{
			name: "New York: hourly skips the repeated hour", spec: "0 * * * *", zone: "America/New_York",
			after: "2026-11-01T04:30:00Z",
			want:  []string{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"},
		},
		{
			name: "New York: from inside the repeated hour", spec: "*/30 * * * *", zone: "America/New_York",
			after: "2026-11-01T06:10:00Z", // 01:10 EST, the second time round
			want:  []string{"2026-11-01T07:00:00Z"},
		},
		// Berlin: 02:00 CET is 03:00 CEST on 29 March 2026; 03:00 CEST
		// is 02:00 CET on 25 October 2026.
		{
			name: "Berlin: spring forward", spec: "30 2 * * *", zone: "Europe/Berlin",
			after: "2026-03-28T12:00:00Z",
			want:  []string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
		},
		{
			name: "Berlin: fall back", spec: "30 2 * * *", zone: "Europe/Berlin",
			after: "2026-10-24T12:00:00Z",
			want:  []string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		},
		{
			name: "Berlin: every 20 minutes over the fall back", spec: "*/20 * * * *", zone: "Europe/Berlin",
			after: "2026-10-25T00:30:00Z", // 02:30 CEST
			want:  []string{"2026-10-25T00:40:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:20:00Z"},
		},
		{
			// Lord Howe Island springs forward by half an hour.
			name: "Lord Howe: a half-hour gap", spec: "15 2 * * *", zone: "Australia/Lord_Howe",
			after: "2026-10-03T12:00:00Z",
			want:  []string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"},
		},
		{
			name: "@every: epoch-aligned", spec: "@every 90s", zone: "UTC",
			after: "1970-01-01T00:01:40Z",
			want:  []string{"1970-01-01T00:03:00Z", "1970-01-01T00:04:30Z"},
		},
		{
			name: "@every: before the epoch", spec: "@every 90s", zone: "UTC",
			after: "1969-12-31T23:58:20Z",
			want:  []string{"1969-12-31T23:58:30Z", "1970-01-01T00:00:00Z"},
		},
		{
			name: "@every: the zone does not matter", spec: "@every 1h", zone: "Asia/Kolkata",
			after: "2026-05-01T10:00:00.000000001Z",
			want:  []string{"2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			loc := zone(t, tt.zone)
			at := utc(tt.after)
			for i, w := range tt.want {
				got := s.Next(at, loc)
				if !got.Equal(utc(w)) {
					t.Fatalf("slot %d: Next(%s) = %s (%s), want %s (%s)", i, at.In(loc), got.UTC(), got, w, utc(w).In(loc))
				}
				if got.Location() != loc {
					t.Fatalf("Next returned a time in %s, want %s", got.Location(), loc)
				}
				at = got
			}
		})
	}
}

func TestLoadLocation(t *testing.T) {
	for name, want := range map[string]string{"": "UTC", "UTC": "UTC", "Europe/Berlin": "Europe/Berlin"} {
		loc, err := LoadLocation(name)
		if err != nil || loc.String() != want {
			t.Errorf("LoadLocation(%q) = %v, %v; want %s", name, loc, err, want)
		}
	}
	for _, name := range []string{"Local", "Europe/Berln", "../etc/passwd"} {
		if _, err := LoadLocation(name); err == nil || !strings.Contains(err.Error(), strconv.Quote(name)+" is not an IANA time zone name") {
			t.Errorf("LoadLocation(%q) = %v, want an error naming it", name, err)
		}
	}
}

func TestNextNilLocationIsUTC(t *testing.T) {
	s, err := Parse("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Next(utc("2026-05-01T00:00:00Z"), nil)
	if !got.Equal(utc("2026-05-01T03:00:00Z")) {
		t.Fatalf("Next = %s, want 03:00 UTC", got)
	}
}

func TestNextOfZeroScheduleIsZero(t *testing.T) {
	if got := (Schedule{}).Next(time.Now(), time.UTC); !got.IsZero() {
		t.Fatalf("zero Schedule fires at %s", got)
	}
}

// TestNextAgreesWithScan checks Next against scanNext, which walks the
// zone's clock one minute at a time, for specs and zones with
// transitions of every kind, from instants around each transition of
// 2026 and from random ones.
func TestNextAgreesWithScan(t *testing.T) {
	specs := []string{
		"* * * * *", "*/7 * * * *", "0,30 1-3 * * *", "15 2 * * *", "0 0 * * *",
		"45 23 * * 6,0", "0 */5 * * *", "30 0 1,15 * 1", "59 0-2 * * SUN",
	}
	zones := []string{
		"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
		"America/Santiago", // transitions at midnight
		"Asia/Kolkata",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, zn := range zones {
		loc := zone(t, zn)
		starts := transitionsIn(2026, loc)
		for range 4 {
			starts = append(starts, utc("2026-01-01T00:00:00Z").Add(time.Duration(rng.Int64N(int64(365*24*time.Hour)))))
		}
		for _, spec := range specs {
			s, err := Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, start := range starts {
				// Begin a little before the transition, at any second.
				at := start.Add(-time.Duration(rng.IntN(4*3600)) * time.Second)
				for range 6 {
					got, want := s.Next(at, loc), scanNext(s, at, loc)
					if !got.Equal(want) {
						t.Fatalf("%s in %s: Next(%s) = %s, a minute-by-minute scan says %s", spec, zn, at.In(loc), got, want.In(loc))
					}
					at = got
				}
			}
		}
	}
}

// transitionsIn lists the zone's transitions during a year.
func transitionsIn(year int, loc *time.Location) []time.Time {
	var out []time.Time
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
	for t := time.Date(year, 1, 1, 0, 0, 0, 0, loc); t.Before(end); {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

// scanNext is Next the slow way: it walks instants a minute at a time
// and fires at the first one where the zone's clock has reached a
// matching wall time it never showed before. It assumes offsets and
// transitions on whole minutes, which holds for today's zones.
func scanNext(s Schedule, after time.Time, loc *time.Location) time.Time {
	if s.every > 0 {
		return s.nextEvery(after).In(loc)
	}
	t := after.Truncate(time.Minute)
	// The latest wall time shown so far: clocks fall back by at most an
	// hour or two.
	var seen time.Time
	for p := t.Add(-3 * time.Hour); !p.After(t); p = p.Add(time.Minute) {
		if w := naiveWall(p, loc); w.After(seen) {
			seen = w
		}
	}
	for t = t.Add(time.Minute); ; t = t.Add(time.Minute) {
		w := naiveWall(t, loc)
		for v := seen.Add(time.Minute); !v.After(w); v = v.Add(time.Minute) {
			if naiveMatch(s, v) {
				return t.In(loc)
			}
		}
		if w.After(seen) {
			seen = w
		}
	}
}

// naiveWall is t's wall clock in loc, as a UTC time on a whole minute.
func naiveWall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
}

func naiveMatch(s Schedule, w time.Time) bool {
	has := func(mask uint64, v int) bool { return mask&(1<<v) != 0 }
	if !has(s.minute, w.Minute()) || !has(s.hour, w.Hour()) || !has(s.month, int(w.Month())) {
		return false
	}
	dom, dow := has(s.dom, w.Day()), has(s.dow, int(w.Weekday()))
	if s.either {
		return dom || dow
	}
	return dom && dow
}

// Every slot is a whole minute of the zone's clock (or, skipped by a
// transition, the instant the gap ends), and consecutive Next calls
// never go back in time, over decades of a daily spec.
func TestNextMonotonicOverDecades(t *testing.T) {
	s, err := Parse("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	for _, zn := range []string{"America/New_York", "Europe/Berlin", "America/Santiago"} {
		loc := zone(t, zn)
		at := utc("2000-01-01T00:00:00Z")
		for i := range 30 * 366 {
			next := s.Next(at, loc)
			if !next.After(at) {
				t.Fatalf("%s: slot %d: Next(%s) = %s, not after", zn, i, at, next)
			}
			if next.Unix()%60 != 0 || next.Nanosecond() != 0 {
				t.Fatalf("%s: slot %d: Next(%s) = %s, not on a whole minute", zn, i, at.In(loc), next)
			}
			if next.Sub(at) > 25*time.Hour {
				t.Fatalf("%s: slot %d: Next(%s) = %s, a daily spec skipped a day", zn, i, at.In(loc), next)
			}
			at = next
		}
	}
}

func ExampleSchedule_Next() {
	s, err := Parse("30 2 * * *")
	if err != nil {
		panic(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 7, 0, 0, 0, 0, ny)
	for range 3 {
		at = s.Next(at, ny)
		fmt.Println(at)
	}
	// Output:
	// 2026-03-07 02:30:00 -0500 EST
	// 2026-03-08 03:00:00 -0400 EDT
	// 2026-03-09 02:30:00 -0400 EDT
}
