package cron

import (
	"strings"
	"testing"
	"time"
)

func TestParseNormalizes(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{spec: "* * * * *", want: "* * * * *"},
		{spec: "  0   3\t* *  * ", want: "0 3 * * *"},
		{spec: "0 9 * jan,Jul MON-fri", want: "0 9 * 1,7 1-5"},
		{spec: "*/15 1-5/2 5/10 * SUN,7", want: "*/15 1-5/2 5/10 * 0,7"},
		{spec: "0 0 1 * 1/1", want: "0 0 1 * 1-6"},
		{spec: "@yearly", want: "0 0 1 1 *"},
		{spec: "@ANNUALLY", want: "0 0 1 1 *"},
		{spec: "@monthly", want: "0 0 1 * *"},
		{spec: "@weekly", want: "0 0 * * 0"},
		{spec: "@daily", want: "0 0 * * *"},
		{spec: "@midnight", want: "0 0 * * *"},
		{spec: "@hourly", want: "0 * * * *"},
		{spec: "@every 90s", want: "@every 1m30s"},
		{spec: "@Every  1h", want: "@every 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := s.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			again, err := Parse(s.String())
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if again != s {
				t.Fatalf("Parse(String()) = %+v, want %+v", again, s)
			}
		})
	}
}

func TestParseMasks(t *testing.T) {
	tests := []struct {
		spec   string
		field  func(Schedule) uint64
		values []int
	}{
		{"*/20 * * * *", minuteOf, []int{0, 20, 40}},
		{"5/20 * * * *", minuteOf, []int{5, 25, 45}},
		{"10-40/15 * * * *", minuteOf, []int{10, 25, 40}},
		{"1,2,3-4,59 * * * *", minuteOf, []int{1, 2, 3, 4, 59}},
		{"0 */6 * * *", hourOf, []int{0, 6, 12, 18}},
		{"0 0 */10 * *", domOf, []int{1, 11, 21, 31}},
		{"0 0 * */4 *", monthOf, []int{1, 5, 9}},
		{"0 0 * FEB-apr *", monthOf, []int{2, 3, 4}},
		{"0 0 * * 5-7", dowOf, []int{0, 5, 6}},
		{"0 0 * * 0-7", dowOf, []int{0, 1, 2, 3, 4, 5, 6}},
		{"0 0 * * */2", dowOf, []int{0, 2, 4, 6}},
		{"0 0 * * sat,SUN", dowOf, []int{0, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			var want uint64
			for _, v := range tt.values {
				want |= 1 << v
			}
			if got := tt.field(s); got != want {
				t.Fatalf("mask %b, want %b (%v)", got, want, tt.values)
			}
		})
	}
}

func minuteOf(s Schedule) uint64 { return s.minute }
func hourOf(s Schedule) uint64   { return s.hour }
func domOf(s Schedule) uint64    { return s.dom }
func monthOf(s Schedule) uint64  { return s.month }
func dowOf(s Schedule) uint64    { return s.dow }

func TestParseDayRule(t *testing.T) {
	tests := []struct {
		spec   string
		either bool
	}{
		{"0 0 1 * MON", true},
		{"0 0 1,15 * 1-5", true},
		{"0 0 * * MON", false},
		{"0 0 1 * *", false},
		{"0 0 */2 * MON", false}, // "*" with a step still counts as unrestricted
		{"0 0 1 * */2", false},
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if s.either != tt.either {
			t.Errorf("%q: either day = %v, want %v", tt.spec, s.either, tt.either)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"", "5 fields expected, got 0"},
		{"* * * *", "5 fields expected, got 4"},
		{"* * * * * *", "5 fields expected, got 6"},
		{"61 * * * *", "minute: 61 is out of range 0-59"},
		{"* 24 * * *", "hour: 24 is out of range 0-23"},
		{"0 0 32 * *", "day-of-month: 32 is out of range 1-31"},
		{"0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
		{"0 0 * 13 *", "month: 13 is out of range 1-12"},
		{"0 0 * * 8", "day-of-week: 8 is out of range 0-7"},
		{"0 0 * FOO *", `month: "FOO" is neither a number nor a name JAN-DEC`},
		{"0 0 * * MONDAY", `day-of-week: "MONDAY" is neither a number nor a name SUN-SAT`},
		{"0 MON * * *", `hour: "MON" is not a number`},
		{"x * * * *", `minute: "x" is not a number`},
		{"-5 * * * *", `minute: "" is not a number`},
		{"1,,2 * * * *", "minute: empty item in list"},
		{"*/0 * * * *", `minute: step "0" in "*/0" is not a number from 1 to 60`},
		{"*/61 * * * *", `minute: step "61" in "*/61" is not a number from 1 to 60`},
		{"*/x * * * *", `minute: step "x" in "*/x" is not a number from 1 to 60`},
		{"30-10 * * * *", "minute: range 30-10 runs backwards"},
		{"0 0 * * FRI-MON", "day-of-week: range FRI-MON runs backwards"},
		{"*-5 * * * *", `minute: "*" is not a number`},
		{"0 0 30 2 *", "never fires: day-of-month 30 does not occur in month 2"},
		{"0 0 31 4,6,9,11 *", "never fires: day-of-month 31 does not occur in month 4,6,9,11"},
		{"0 0 30-31 FEB */2", "never fires: day-of-month 30-31 does not occur in month 2"},
		{"@reboot", `unknown shortcut "@reboot"`},
		{"@daily 3", `@daily takes nothing after it, got "3"`},
		{"@every", "@every takes one duration"},
		{"@every soon", `@every: "soon" is not a duration`},
		{"@every 500ms", "@every: 500ms is shorter than 1s"},
		{"@every -1m", "@every: -1m0s is shorter than 1s"},
		{"@every 1.5s", "@every: 1.5s is not a whole number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := Parse(tt.spec)
			if err == nil {
				t.Fatalf("Parse accepted %q", tt.spec)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// Specs that fire only in some years, or rarely on a given weekday, are
// possible and Parse accepts them.
func TestParseAcceptsRareSpecs(t *testing.T) {
	for _, spec := range []string{
		"0 0 29 2 *",
		"0 0 29 2 */7",   // 29 February on a Sunday
		"0 0 30 2 MON",   // either rule: every Monday in February
		"0 0 31 1-2 *",   // 31 January
		"0 0 31 * *",     // months that have a 31st
		"0 0 */31 2 *",   // "*/31" holds the 1st
		"0 0 1-31 2 */7", // "*/7" on any day of February
	} {
		if _, err := Parse(spec); err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
		}
	}
}

func TestMinInterval(t *testing.T) {
	tests := []struct {
		spec string
		want time.Duration
	}{
		{"* * * * *", time.Minute},
		{"*/5 * * * *", 5 * time.Minute},
		{"0,50 * * * *", 10 * time.Minute},
		{"0 * * * *", time.Hour},
		{"0 0 * * *", 24 * time.Hour},
		{"0 0 1 * *", 24 * time.Hour}, // a lower bound: days are not looked at
		{"0 22,1 * * *", 3 * time.Hour},
		{"@every 10s", 10 * time.Second},
		{"@every 36h", 36 * time.Hour},
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.MinInterval(); got != tt.want {
			t.Errorf("%q: MinInterval() = %s, want %s", tt.spec, got, tt.want)
		}
	}
}
