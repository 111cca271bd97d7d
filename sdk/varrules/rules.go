package varrules

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// rule is one parsed rule: its name, its argument as written, and what
// parsing the argument produced.
type rule struct {
	name   string
	arg    string
	hasArg bool
	// nums are the numeric arguments, texts the same as written (for
	// messages).
	nums  []float64
	texts []string
	// list holds the values of in, not_in, starts_with and ends_with.
	list []string
	// re and pattern are a regex rule's compiled and written pattern.
	re      *regexp.Regexp
	pattern string
}

// spec says how to read a rule's argument and check a value against it.
// numeric is true when the rules include integer or numeric, which turns
// the size rules from lengths to values.
type spec struct {
	parse func(x *rule) error
	check func(x *rule, value string, numeric bool) error
}

var specs = map[string]spec{
	"required":  {parse: noArg, check: pass},
	"nullable":  {parse: noArg, check: pass},
	"sometimes": {parse: noArg, check: pass},
	"string":    {parse: noArg, check: pass},
	"integer":   {parse: noArg, check: matches(integerRE, "must be an integer")},
	"numeric":   {parse: noArg, check: matches(numericRE, "must be a number")},
	"boolean":   {parse: noArg, check: checkBoolean},
	"min":       {parse: numbers(1, numericRE), check: checkMin},
	"max":       {parse: numbers(1, numericRE), check: checkMax},
	"between":   {parse: numbers(2, numericRE), check: checkBetween},
	"size":      {parse: numbers(1, numericRE), check: checkSize},
	"in":        {parse: list, check: checkIn},
	"not_in":    {parse: list, check: checkNotIn},
	"regex":     {parse: parseRegex, check: checkRegex},
	"not_regex": {parse: parseRegex, check: checkNotRegex},
	"alpha":     {parse: noArg, check: matches(alphaRE, "must contain only letters")},
	"alpha_num": {parse: noArg, check: matches(alphaNumRE, "must contain only letters and digits")},
	"alpha_dash": {parse: noArg, check: matches(alphaDashRE,
		"must contain only letters, digits, dashes and underscores")},
	"digits":         {parse: numbers(1, digitsRE), check: checkDigits},
	"digits_between": {parse: numbers(2, digitsRE), check: checkDigitsBetween},
	"url":            {parse: noArg, check: checkURL},
	"ip":             {parse: noArg, check: checkIP},
	"starts_with":    {parse: list, check: checkStartsWith},
	"ends_with":      {parse: list, check: checkEndsWith},
}

var (
	integerRE   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	numericRE   = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	alphaRE     = regexp.MustCompile(`^[\pL\pM]+$`)
	alphaNumRE  = regexp.MustCompile(`^[\pL\pM\pN]+$`)
	alphaDashRE = regexp.MustCompile(`^[\pL\pM\pN_-]+$`)
	digitsRE    = regexp.MustCompile(`^[0-9]+$`)
)

func (x rule) check(value string, numeric bool) error {
	return specs[x.name].check(&x, value, numeric)
}

func noArg(x *rule) error {
	if x.hasArg {
		return fmt.Errorf("%s takes no argument", x.name)
	}
	return nil
}

// numbers reads n comma-separated numbers, each matching form; two must
// be in order.
func numbers(n int, form *regexp.Regexp) func(*rule) error {
	return func(x *rule) error {
		want := "a number"
		if n == 2 {
			want = "two numbers, e.g. " + x.name + ":1,10"
		}
		parts := strings.Split(x.arg, ",")
		if !x.hasArg || len(parts) != n {
			return fmt.Errorf("%s needs %s", x.name, want)
		}
		for _, p := range parts {
			p = strings.TrimSpace(p)
			f, err := strconv.ParseFloat(p, 64)
			if !form.MatchString(p) || err != nil {
				return fmt.Errorf("%s needs %s, got %q", x.name, want, p)
			}
			x.nums = append(x.nums, f)
			x.texts = append(x.texts, p)
		}
		if n == 2 && x.nums[0] > x.nums[1] {
			return fmt.Errorf("%s: %s is above %s", x.name, x.texts[0], x.texts[1])
		}
		return nil
	}
}

// list reads comma-separated values; as in Laravel, a value may be
// double-quoted to hold a comma.
func list(x *rule) error {
	r := csv.NewReader(strings.NewReader(x.arg))
	r.LazyQuotes = true
	vals, err := r.Read()
	if err != nil || !x.hasArg {
		return fmt.Errorf("%s needs at least one value", x.name)
	}
	if _, err := r.Read(); err == nil {
		return fmt.Errorf("%s: values cannot span lines", x.name)
	}
	x.list = vals
	return nil
}

// parseRegex reads a PHP-style delimited pattern, /…/flags, into a Go
// regular expression. Flags i, m, s and U mean what they mean in PHP; u
// and D are accepted as Go matches UTF-8 and "$" at the very end anyway.
func parseRegex(x *rule) error {
	end := closingDelimiter(x.arg)
	if !x.hasArg || end < 0 {
		return fmt.Errorf("%s needs a delimited pattern such as /^[a-z]+$/", x.name)
	}
	x.pattern = x.arg[1:end]
	var flags strings.Builder
	for _, f := range x.arg[end+1:] {
		switch f {
		case 'i', 'm', 's', 'U':
			if !strings.ContainsRune(flags.String(), f) {
				flags.WriteRune(f)
			}
		case 'u', 'D':
		default:
			return fmt.Errorf("%s: flag %q is not supported (supported: i, m, s, U, u, D)", x.name, f)
		}
	}
	expr := x.pattern
	if flags.Len() > 0 {
		expr = "(?" + flags.String() + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return fmt.Errorf("%s: pattern %s cannot be used: %w", x.name, x.pattern, err)
	}
	x.re = re
	return nil
}

func pass(*rule, string, bool) error { return nil }

func matches(re *regexp.Regexp, msg string) func(*rule, string, bool) error {
	return func(_ *rule, v string, _ bool) error {
		if !re.MatchString(v) {
			return errors.New(msg)
		}
		return nil
	}
}

func checkBoolean(_ *rule, v string, _ bool) error {
	switch v {
	case "true", "false", "1", "0":
		return nil
	}
	return errors.New("must be true, false, 1 or 0")
}

// size is what min, max, between and size compare: the number itself in
// numeric mode, else the length in characters.
func size(v string, numeric bool) (float64, bool) {
	if numeric {
		if s := strings.TrimSpace(v); numericRE.MatchString(s) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, true
			}
		}
	}
	return float64(utf8.RuneCountInString(v)), false
}

// unit is the noun after a bound: "" for numbers, "characters" for
// lengths.
func unit(isNumber bool, bound string) string {
	switch {
	case isNumber:
		return ""
	case bound == "1":
		return " character"
	}
	return " characters"
}

func checkMin(x *rule, v string, numeric bool) error {
	if n, isNum := size(v, numeric); n < x.nums[0] {
		return fmt.Errorf("must be at least %s%s", x.texts[0], unit(isNum, x.texts[0]))
	}
	return nil
}

func checkMax(x *rule, v string, numeric bool) error {
	if n, isNum := size(v, numeric); n > x.nums[0] {
		return fmt.Errorf("must be at most %s%s", x.texts[0], unit(isNum, x.texts[0]))
	}
	return nil
}

func checkBetween(x *rule, v string, numeric bool) error {
	if n, isNum := size(v, numeric); n < x.nums[0] || n > x.nums[1] {
		return fmt.Errorf("must be between %s and %s%s", x.texts[0], x.texts[1], unit(isNum, x.texts[1]))
	}
	return nil
}

func checkSize(x *rule, v string, numeric bool) error {
	n, isNum := size(v, numeric)
	switch {
	case n == x.nums[0]:
		return nil
	case isNum:
		return fmt.Errorf("must be %s", x.texts[0])
	}
	return fmt.Errorf("must be exactly %s%s", x.texts[0], unit(false, x.texts[0]))
}

func checkIn(x *rule, v string, _ bool) error {
	for _, a := range x.list {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("must be one of: %s", strings.Join(x.list, ", "))
}

func checkNotIn(x *rule, v string, _ bool) error {
	for _, a := range x.list {
		if v == a {
			return fmt.Errorf("must not be %s", v)
		}
	}
	return nil
}

func checkRegex(x *rule, v string, _ bool) error {
	if !x.re.MatchString(v) {
		return fmt.Errorf("must match the pattern %s", x.pattern)
	}
	return nil
}

func checkNotRegex(x *rule, v string, _ bool) error {
	if x.re.MatchString(v) {
		return fmt.Errorf("must not match the pattern %s", x.pattern)
	}
	return nil
}

func checkDigits(x *rule, v string, _ bool) error {
	if !digitsRE.MatchString(v) || float64(len(v)) != x.nums[0] {
		return fmt.Errorf("must be %s digits", x.texts[0])
	}
	return nil
}

func checkDigitsBetween(x *rule, v string, _ bool) error {
	if n := float64(len(v)); !digitsRE.MatchString(v) || n < x.nums[0] || n > x.nums[1] {
		return fmt.Errorf("must be between %s and %s digits", x.texts[0], x.texts[1])
	}
	return nil
}

func checkURL(_ *rule, v string, _ bool) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || strings.ContainsAny(v, " \t\r\n") {
		return errors.New("must be a URL")
	}
	return nil
}

func checkIP(_ *rule, v string, _ bool) error {
	if a, err := netip.ParseAddr(v); err != nil || a.Zone() != "" {
		return errors.New("must be an IP address")
	}
	return nil
}

func checkStartsWith(x *rule, v string, _ bool) error {
	for _, a := range x.list {
		if strings.HasPrefix(v, a) {
			return nil
		}
	}
	return fmt.Errorf("must start with %s", oneOf(x.list))
}

func checkEndsWith(x *rule, v string, _ bool) error {
	for _, a := range x.list {
		if strings.HasSuffix(v, a) {
			return nil
		}
	}
	return fmt.Errorf("must end with %s", oneOf(x.list))
}

func oneOf(list []string) string {
	if len(list) == 1 {
		return list[0]
	}
	return "one of: " + strings.Join(list, ", ")
}
