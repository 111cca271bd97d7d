package cron

import (
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that what it accepts reads
// back the same from String, and that Next moves strictly forward.
func FuzzParse(f *testing.F) {
	for _, spec := range []string{
		"* * * * *", "*/15 1-5/2 5/10 * SUN,7", "0 9 * jan,Jul MON-fri", "0 0 29 2 */7",
		"0 0 30 2 *", "@every 90s", "@hourly", "61 * * * *", "1,,2 * * * *", "@every 1.5s",
	} {
		f.Add(spec, int64(1772938800), uint8(1))
	}
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"}
	locs := make([]*time.Location, len(zones))
	for i, zn := range zones {
		locs[i] = zone(f, zn)
	}
	// Instants from 1900 to 2200.
	const lo, hi = -2208988800, 7258118400
	f.Fuzz(func(t *testing.T, spec string, unix int64, zi uint8) {
		s, err := Parse(spec)
		if err != nil {
			return
		}
		again, err := Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("Parse(%q).String() = %q, which parses to %+v, %v", spec, s.String(), again, err)
		}
		after := time.Unix(lo+((unix%(hi-lo))+(hi-lo))%(hi-lo), 0)
		loc := locs[int(zi)%len(locs)]
		next := s.Next(after, loc)
		if !next.After(after) {
			t.Fatalf("%q in %s: Next(%s) = %s, not after", spec, loc, after, next)
		}
	})
}
