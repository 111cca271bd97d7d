package cron

import (
	"fmt"
	"math/bits"
	"time"
)

// searchYears bounds the search for the next slot. The Gregorian calendar
// repeats its weekdays every 400 years, so a spec Parse accepts has a
// slot in any 400 consecutive years.
const searchYears = 401

// lookback covers the zone transitions that matter around an instant:
// UTC offsets stay within a day of each other.
const lookback = 48 * time.Hour

// LoadLocation reads the IANA time zone name a schedule is written
// against, for Next; empty is UTC. "Local" is refused: it is the zone of
// whichever machine reads it, and machines in different zones would
// compute different slots for the same schedule.
func LoadLocation(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}

// Next returns the first slot strictly after after, read against loc's
// wall clock (nil means UTC), in loc. Skipped and repeated wall times
// follow the policy in the package documentation. It returns the zero
// Time for the zero Schedule.
func (s Schedule) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if s.every > 0 {
		return s.nextEvery(after).In(loc)
	}
	// Every wall time the clock has shown up to after has had its chance
	// to fire; the next slot is a later wall time.
	from := latestWall(after, loc).Truncate(time.Minute).Add(time.Minute)
	wall, ok := s.nextWall(from)
	if !ok {
		return time.Time{}
	}
	return firstReaching(wall, loc)
}

// nextEvery returns the first multiple of s.every since the epoch after
// after.
func (s Schedule) nextEvery(after time.Time) time.Time {
	d := int64(s.every / time.Second)
	sec := after.Unix()
	k := sec / d
	if sec%d < 0 {
		k-- // floor for instants before the epoch
	}
	return time.Unix((k+1)*d, 0)
}

// wallOf returns t's wall clock in loc as a UTC time with the same
// reading, so calendar arithmetic on it knows nothing of transitions.
func wallOf(t time.Time, loc *time.Location) time.Time {
	_, off := t.In(loc).Zone()
	return t.Add(time.Duration(off) * time.Second).UTC()
}

// latestWall returns the latest wall time loc's clock has shown up to t:
// t's own, unless clocks fell back shortly before t and showed later
// times before they did.
func latestWall(t time.Time, loc *time.Location) time.Time {
	w := wallOf(t, loc)
	start, _ := t.In(loc).ZoneBounds()
	for !start.IsZero() && t.Sub(start) < lookback {
		before := start.Add(-time.Nanosecond)
		if bw := wallOf(before, loc); bw.After(w) {
			w = bw
		}
		start, _ = before.In(loc).ZoneBounds()
	}
	return w
}

// firstReaching returns the first instant at which loc's clock shows
// wall or later: wall's first occurrence, or the end of the gap when
// clocks spring forward over it.
func firstReaching(wall time.Time, loc *time.Location) time.Time {
	u := wall.Unix()
	// Well before wall everywhere: offsets are less than a day.
	cur := wall.Add(-lookback).In(loc)
	for {
		_, off := cur.Zone()
		_, end := cur.ZoneBounds()
		at := time.Unix(u-int64(off), 0).In(loc)
		if at.Before(cur) {
			// The clock was already past wall when this zone period
			// began: wall fell in the gap before it.
			at = cur
		}
		if end.IsZero() || at.Before(end) || !end.After(cur) {
			return at
		}
		cur = end.In(loc)
	}
}

// nextWall returns the first matching wall time at or after from, which
// is UTC and on a whole minute.
func (s Schedule) nextWall(from time.Time) (time.Time, bool) {
	y, mo, d := from.Date()
	h, mi := from.Hour(), from.Minute()
	for limit := y + searchYears; y <= limit; {
		m, ok := nextBit(s.month, int(mo))
		if !ok {
			y, mo, d, h, mi = y+1, time.January, 1, 0, 0
			continue
		}
		if m != int(mo) {
			mo, d, h, mi = time.Month(m), 1, 0, 0
		}
		if !s.dayMatches(y, mo, d) {
			y, mo, d = nextDay(y, mo, d)
			h, mi = 0, 0
			continue
		}
		hh, ok := nextBit(s.hour, h)
		if !ok {
			y, mo, d = nextDay(y, mo, d)
			h, mi = 0, 0
			continue
		}
		if hh != h {
			h, mi = hh, 0
		}
		mm, ok := nextBit(s.minute, mi)
		if !ok {
			h, mi = h+1, 0
			if h == 24 {
				y, mo, d = nextDay(y, mo, d)
				h = 0
			}
			continue
		}
		return time.Date(y, mo, d, h, mm, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// dayMatches applies the day fields to a date, which may be past the end
// of its month (then it does not match).
func (s Schedule) dayMatches(y int, mo time.Month, d int) bool {
	if d > monthLen(y, mo) {
		return false
	}
	dom := s.dom&(1<<d) != 0
	if !s.either && !dom {
		return false
	}
	dow := s.dow&(1<<weekday(y, mo, d)) != 0
	if s.either {
		return dom || dow
	}
	return dow
}

// nextBit returns the lowest set bit of mask at or above from.
func nextBit(mask uint64, from int) (int, bool) {
	if from >= 64 {
		return 0, false
	}
	rest := mask >> from << from
	if rest == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(rest), true
}

func nextDay(y int, mo time.Month, d int) (int, time.Month, int) {
	if d < monthLen(y, mo) {
		return y, mo, d + 1
	}
	if mo == time.December {
		return y + 1, time.January, 1
	}
	return y, mo + 1, 1
}

func monthLen(y int, mo time.Month) int {
	if mo == time.February && !isLeap(y) {
		return 28
	}
	return daysIn[mo]
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func weekday(y int, mo time.Month, d int) int {
	return int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday())
}
