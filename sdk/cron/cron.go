// Package cron parses cron specs and computes when they next fire.
//
// # Syntax
//
// A spec is five fields separated by spaces:
//
//	minute  hour  day-of-month  month  day-of-week
//	0-59    0-23  1-31          1-12   0-7 (0 and 7 are Sunday)
//
// Each field is a comma-separated list of items; an item is "*" (every
// value), a value "5", a range "1-5", or one of those with a step: "*/15",
// "10-40/10", or "5/15" (from 5 to the field's last value, every 15).
// Months may be written JAN-DEC and days SUN-SAT, in any case.
//
// When both day-of-month and day-of-week are restricted (neither field
// contains "*"), a day matching either of them fires, as in Vixie cron:
// "0 0 1 * MON" fires on the 1st of every month and on every Monday. A
// field containing "*" counts as unrestricted even with a step, so
// "0 0 */2 * MON" fires on Mondays that fall on an odd day of the month.
//
// Shortcuts: @yearly (or @annually) is "0 0 1 1 *", @monthly "0 0 1 * *",
// @weekly "0 0 * * 0", @daily (or @midnight) "0 0 * * *", @hourly
// "0 * * * *". "@every <duration>" (a Go duration of whole seconds, at
// least 1s, e.g. "@every 90s") fires at every multiple of the duration
// since the Unix epoch, so every process computes the same slots whenever
// it started; the time zone does not matter to it.
//
// A spec that can never fire, such as "0 0 30 2 *", is refused by Parse.
//
// # Time zones and daylight saving time
//
// Five-field specs are read against the wall clock of a time zone, and a
// slot fires at the first instant that clock reaches the slot's wall time:
//
//   - A wall time skipped when clocks spring forward fires once, at the
//     first instant after the gap: on the day New York goes from 02:00
//     EST to 03:00 EDT, "30 2 * * *" fires at 03:00 EDT. Several skipped
//     slots ("*/15 2 * * *") collapse into that one firing.
//   - A wall time that occurs twice when clocks fall back fires once, at
//     its first occurrence: "30 1 * * *" fires at 01:30 EDT, not again at
//     01:30 EST, and "*/15 * * * *" does not fire during the repeated hour.
//
// Slots are whole minutes of the zone's clock (whole seconds for @every).
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed spec. The zero Schedule never fires.
type Schedule struct {
	spec  string
	every time.Duration

	// Bit v is set when value v matches.
	minute, hour, dom, month, dow uint64
	// either is Vixie cron's rule: both day fields are restricted, so a
	// day matching either fires; otherwise a day must match both.
	either bool
}

// String returns the spec in normal form: shortcuts spelled out, names as
// numbers, single spaces. Parse reads it back as the same Schedule.
func (s Schedule) String() string { return s.spec }

// field describes one of the five fields.
type field struct {
	name string
	// min and max bound "*" and open ranges ("5/15"); top is the largest
	// value accepted (7 for day-of-week, where 7 is Sunday again).
	min, max, top int
	// names are the values' names, from min on; nil when there are none.
	names []string
}

var fields = [5]field{
	{name: "minute", min: 0, max: 59, top: 59},
	{name: "hour", min: 0, max: 23, top: 23},
	{name: "day-of-month", min: 1, max: 31, top: 31},
	{name: "month", min: 1, max: 12, top: 12,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 0, max: 6, top: 7,
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

var shortcuts = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse reads a spec (see the package documentation). Errors name the
// field and the token at fault.
func Parse(spec string) (Schedule, error) {
	words := strings.Fields(spec)
	if len(words) > 0 && strings.HasPrefix(words[0], "@") {
		return parseShortcut(words)
	}
	if len(words) != len(fields) {
		return Schedule{}, fmt.Errorf("%d fields expected, got %d", len(fields), len(words))
	}
	var (
		s    Schedule
		norm [len(fields)]string
		star [len(fields)]bool
	)
	masks := [len(fields)]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, f := range fields {
		var err error
		*masks[i], star[i], norm[i], err = f.parse(words[i])
		if err != nil {
			return Schedule{}, err
		}
	}
	// Sunday is 0 and 7: keep it as 0 only.
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1
	}
	s.either = !star[2] && !star[4]
	s.spec = strings.Join(norm[:], " ")
	if err := s.checkReachable(star[2]); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

func parseShortcut(words []string) (Schedule, error) {
	name := strings.ToLower(words[0])
	if name == "@every" {
		if len(words) != 2 {
			return Schedule{}, fmt.Errorf(`@every takes one duration, as in "@every 10m"`)
		}
		d, err := time.ParseDuration(words[1])
		switch {
		case err != nil:
			return Schedule{}, fmt.Errorf("@every: %q is not a duration such as 90s or 1h30m", words[1])
		case d < time.Second:
			return Schedule{}, fmt.Errorf("@every: %s is shorter than 1s", d)
		case d%time.Second != 0:
			return Schedule{}, fmt.Errorf("@every: %s is not a whole number of seconds", d)
		}
		return Schedule{spec: "@every " + d.String(), every: d}, nil
	}
	expanded, ok := shortcuts[name]
	if !ok {
		return Schedule{}, fmt.Errorf("unknown shortcut %q: want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>", words[0])
	}
	if len(words) != 1 {
		return Schedule{}, fmt.Errorf("%s takes nothing after it, got %q", name, strings.Join(words[1:], " "))
	}
	return Parse(expanded)
}

// parse reads one field: its mask, whether it contains "*", and its text
// in normal form.
func (f field) parse(text string) (mask uint64, star bool, norm string, err error) {
	items := strings.Split(text, ",")
	out := make([]string, len(items))
	for i, item := range items {
		lo, hi, step, isStar, err := f.parseItem(item)
		if err != nil {
			return 0, false, "", err
		}
		for v := lo; v <= hi; v += step {
			mask |= 1 << v
		}
		star = star || isStar
		out[i] = f.normal(item, lo, hi, step, isStar)
	}
	return mask, star, strings.Join(out, ","), nil
}

func (f field) parseItem(item string) (lo, hi, step int, star bool, err error) {
	if item == "" {
		return 0, 0, 0, false, fmt.Errorf("%s: empty item in list", f.name)
	}
	rng, stepText, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		span := f.max - f.min + 1
		step, err = strconv.Atoi(stepText)
		if err != nil || step < 1 || step > span {
			return 0, 0, 0, false, fmt.Errorf("%s: step %q in %q is not a number from 1 to %d", f.name, stepText, item, span)
		}
	}
	switch first, last, isRange := strings.Cut(rng, "-"); {
	case rng == "*":
		return f.min, f.max, step, true, nil
	case isRange:
		if lo, err = f.value(first); err != nil {
			return 0, 0, 0, false, err
		}
		if hi, err = f.value(last); err != nil {
			return 0, 0, 0, false, err
		}
		if lo > hi {
			return 0, 0, 0, false, fmt.Errorf("%s: range %s runs backwards", f.name, rng)
		}
		return lo, hi, step, false, nil
	default:
		if lo, err = f.value(rng); err != nil {
			return 0, 0, 0, false, err
		}
		if hasStep {
			// "5/15": from 5 to the end of the field.
			return lo, max(lo, f.max), step, false, nil
		}
		return lo, lo, 1, false, nil
	}
}

// value reads one number or name.
func (f field) value(tok string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(tok, name) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(tok)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%s: %q is neither a number nor a name %s-%s", f.name, tok, f.names[0], f.names[len(f.names)-1])
		}
		return 0, fmt.Errorf("%s: %q is not a number", f.name, tok)
	}
	if v < f.min || v > f.top {
		return 0, fmt.Errorf("%s: %d is out of range %d-%d", f.name, v, f.min, f.top)
	}
	return v, nil
}

// normal writes an item with numbers for names, without a step of 1 or
// the step of a single value.
func (f field) normal(item string, lo, hi, step int, star bool) string {
	var b string
	switch {
	case star:
		b = "*"
	case lo == hi:
		return strconv.Itoa(lo)
	case step > 1 && !strings.Contains(item, "-"):
		b = strconv.Itoa(lo) // "5/15": the range runs to the field's end
	default:
		b = strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
	}
	if step > 1 {
		b += "/" + strconv.Itoa(step)
	}
	return b
}

// daysIn is the length of each month in a leap year.
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// checkReachable refuses a spec whose days never occur. Only a
// restricted day-of-month ANDed with day-of-week can do that: "*" includes
// the 1st, and with the OR rule every weekday comes round. Every date,
// 29 February included, falls on every weekday within the 400-year
// Gregorian cycle, so a possible date eventually matches any weekday.
func (s Schedule) checkReachable(domStar bool) error {
	if domStar || s.either {
		return nil
	}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) != 0 && s.dom&(1<<(daysIn[m]+1)-1) != 0 {
			return nil
		}
	}
	f := strings.Fields(s.spec)
	return fmt.Errorf("never fires: day-of-month %s does not occur in month %s", f[2], f[3])
}

// MinInterval is a lower bound of the time between two slots: the every
// duration of "@every", else the shortest gap between two slots of one
// day or from a day's last slot to the next day's first, as if every day
// matched. Daylight saving changes can bring two slots up to an hour
// closer than that.
func (s Schedule) MinInterval() time.Duration {
	if s.every > 0 {
		return s.every
	}
	first, prev, best := -1, -1, 24*60
	for h := range bits.Len64(s.hour) {
		if s.hour&(1<<h) == 0 {
			continue
		}
		for m := range bits.Len64(s.minute) {
			if s.minute&(1<<m) == 0 {
				continue
			}
			v := h*60 + m
			if prev >= 0 {
				best = min(best, v-prev)
			}
			if first < 0 {
				first = v
			}
			prev = v
		}
	}
	if first >= 0 {
		best = min(best, first+24*60-prev)
	}
	return time.Duration(best) * time.Minute
}
