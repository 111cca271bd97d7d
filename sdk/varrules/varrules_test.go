package varrules

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		rules, value string
		want         string // "" passes; else the error text
	}{
		// Blank values.
		{"required|string", "", "is required"},
		{"required|string", "   ", "is required"},
		{"nullable|integer", "", ""},
		{"integer|min:5", "", ""},
		{"sometimes|boolean", "", ""},

		// Types.
		{"string", "anything at all", ""},
		{"integer", "42", ""},
		{"integer", "-7", ""},
		{"integer", "4.2", "must be an integer"},
		{"integer", "abc", "must be an integer"},
		{"numeric", "4.25", ""},
		{"numeric", "-1e3", ""},
		{"numeric", ".5", ""},
		{"numeric", "0x1A", "must be a number"},
		{"numeric", "NaN", "must be a number"},
		{"sometimes|boolean", "true", ""},
		{"boolean", "0", ""},
		{"boolean", "yes", "must be true, false, 1 or 0"},

		// Sizes: lengths for strings, values for numbers.
		{"required|string|max:20", "survival", ""},
		{"required|string|max:20", "a name far longer than twenty", "must be at most 20 characters"},
		{"string|min:3", "ab", "must be at least 3 characters"},
		{"string|min:1", "", ""},
		{"max:1", "ab", "must be at most 1 character"},
		{"max:3", "ééé", ""},
		{"nullable|integer|between:1,100", "100", ""},
		{"nullable|integer|between:1,100", "101", "must be between 1 and 100"},
		{"nullable|integer|between:1,100", "0", "must be between 1 and 100"},
		{"between:2,4", "hello", "must be between 2 and 4 characters"},
		{"integer|max:20", "150", "must be at most 20"},
		{"numeric|min:0.5", "0.25", "must be at least 0.5"},
		{"integer|size:8", "8", ""},
		{"integer|size:8", "9", "must be 8"},
		{"size:4", "abc", "must be exactly 4 characters"},
		{"min:2|integer", "abc", "must be an integer"},

		// Lists.
		{"required|in:true,false", "true", ""},
		{"required|in:survival,creative", "hardcore", "must be one of: survival, creative"},
		{`in:"a,b",c`, "a,b", ""},
		{"not_in:root,admin", "admin", "must not be admin"},
		{"not_in:root,admin", "player", ""},
		{"starts_with:http://,https://", "ftp://x", "must start with one of: http://, https://"},
		{"starts_with:steam_", "steam_1", ""},
		{"ends_with:.jar", "server.zip", "must end with .jar"},

		// Patterns.
		{`required|regex:/^([\w\d._-]+)(\.jar)$/`, "paper-1.21.jar", ""},
		{`required|regex:/^([\w\d._-]+)(\.jar)$/`, "paper.zip", `must match the pattern ^([\w\d._-]+)(\.jar)$`},
		{`regex:/^(survival|creative)$/`, "creative", ""},
		{`regex:/^(survival|creative)$/|max:8`, "survival", ""},
		{`regex:/^(survival|creative)$/|max:7`, "survival", "must be at most 7 characters"},
		{`regex:/^abc$/i`, "ABC", ""},
		{`regex:#^a/b$#`, "a/b", ""},
		{`regex:{^a{2}$}`, "aa", ""},
		{`regex:/^a\/b$/`, "a/b", ""},
		{`not_regex:/[<>]/`, "<b>", "must not match the pattern [<>]"},
		{`not_regex:/[<>]/`, "b", ""},

		// Character classes.
		{"alpha", "Ünïcode", ""},
		{"alpha", "abc1", "must contain only letters"},
		{"alpha_num", "abc123", ""},
		{"alpha_num", "abc-123", "must contain only letters and digits"},
		{"alpha_dash", "de_dust2-x", ""},
		{"alpha_dash", "de dust", "must contain only letters, digits, dashes and underscores"},
		{"required|numeric|digits_between:1,6", "740", ""},
		{"required|numeric|digits_between:1,6", "1234567", "must be between 1 and 6 digits"},
		{"digits:4", "0420", ""},
		{"digits:4", "42", "must be 4 digits"},
		{"digits:4", "4.20", "must be 4 digits"},

		// Formats.
		{"url", "https://example.com/pack.zip", ""},
		{"url", "example.com", "must be a URL"},
		{"ip", "10.0.0.1", ""},
		{"ip", "2001:db8::1", ""},
		{"ip", "fe80::1%eth0", "must be an IP address"},
		{"ip", "10.0.0.256", "must be an IP address"},

		// Spelling.
		{"Required|STRING", "", "is required"},
		{"required||string|", "x", ""},
		{"required | max:2", "abc", "must be at most 2 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.rules+"/"+tt.value, func(t *testing.T) {
			r, err := Parse(tt.rules)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.rules, err)
			}
			err = r.Check(tt.value)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check(%q) = %v, want it to pass", tt.value, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Check(%q) = %v, want %q", tt.value, err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		rules string
		want  string // in the error
		known bool   // the rule name is known: not ErrUnknownRule
	}{
		{"required|exists:users", `unknown rule "exists"`, false},
		{"required|confirmed", `unknown rule "confirmed"`, false},
		{"max", `rule "max": max needs a number`, true},
		{"max:abc", `max needs a number, got "abc"`, true},
		{"between:1", "between needs two numbers", true},
		{"between:10,1", "10 is above 1", true},
		{"digits:-1", `digits needs a number, got "-1"`, true},
		{"required:yes", "required takes no argument", true},
		{"in:", "in needs at least one value", true},
		{"regex:abc", "needs a delimited pattern", true},
		{"regex:/abc", "needs a delimited pattern", true},
		{"regex:/(?=x)/", "pattern (?=x) cannot be used", true},
		{"regex:/a/x", `flag 'x' is not supported`, true},
		{"regex:/a/ i", `flag ' ' is not supported`, true},
	}
	for _, tt := range tests {
		t.Run(tt.rules, func(t *testing.T) {
			_, err := Parse(tt.rules)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.rules)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %q, want it to contain %q", tt.rules, err, tt.want)
			}
			if errors.Is(err, ErrUnknownRule) == tt.known {
				t.Errorf("Parse(%q) = %v: errors.Is(ErrUnknownRule) = %v", tt.rules, err, !tt.known)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in, kept string
		unknown  []string
	}{
		{"required|string|exists:users", "required|string", []string{"exists:users"}},
		{"required|string|max:20", "required|string|max:20", nil},
		{`required|regex:/^(a|b):c$/|unique:servers`, `required|regex:/^(a|b):c$/`, []string{"unique:servers"}},
		{"nullable|max:abc|string", "nullable|string", []string{"max:abc"}},
		{"regex:/unclosed|string", "string", []string{"regex:/unclosed"}},
		{"", "", nil},
		{"Required|Max:5", "required|max:5", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kept, unknown := Split(tt.in)
			if kept != tt.kept || !slices.Equal(unknown, tt.unknown) {
				t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.in, kept, unknown, tt.kept, tt.unknown)
			}
			if _, err := Parse(kept); err != nil {
				t.Errorf("Parse(kept %q): %v", kept, err)
			}
		})
	}
}

func TestRequiredAndString(t *testing.T) {
	r, err := Parse(`Required|regex:/^a|b$/i|in:x,"y,z"`)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Required() {
		t.Error("Required() = false")
	}
	if got, want := r.String(), `required|regex:/^a|b$/i|in:x,"y,z"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if r, _ := Parse("nullable|string"); r.Required() {
		t.Error("nullable rules say Required")
	}
	var zero Rules
	if err := zero.Check("anything"); err != nil || zero.String() != "" {
		t.Errorf("zero Rules: Check = %v, String = %q", err, zero.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"required|string|max:20", "nullable|integer|between:1,100",
		`required|regex:/^([\w\d._-]+)(\.jar)$/`, "required|in:true,false",
		"sometimes|boolean", `regex:{a{1,2}}i|not_regex:#x|y#`, `in:"a,b",c`,
		"digits_between:1,6|starts_with:a,b|ends_with:c", "regex:(a(b)c)|", "|||",
	} {
		f.Add(s, "value")
	}
	f.Fuzz(func(t *testing.T, rules, value string) {
		r, err := Parse(rules)
		kept, unknown := Split(rules)
		if err == nil {
			_ = r.Check(value)
			again, err := Parse(r.String())
			if err != nil {
				t.Fatalf("Parse(%q).String() = %q does not parse: %v", rules, r.String(), err)
			}
			if again.String() != r.String() {
				t.Fatalf("String() not stable: %q then %q", r.String(), again.String())
			}
			if len(unknown) > 0 {
				t.Fatalf("Parse(%q) succeeded but Split dropped %q", rules, unknown)
			}
		}
		if _, err := Parse(kept); err != nil {
			t.Fatalf("Split(%q) kept %q, which does not parse: %v", rules, kept, err)
		}
	})
}
