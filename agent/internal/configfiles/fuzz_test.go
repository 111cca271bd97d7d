package configfiles

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"

	"catalyst.dev/sdk/wire"
)

// FuzzRewrite feeds every parser arbitrary content and paths: none may
// panic, and what the yaml and json parsers write must parse again.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"a=1\nb\\\n  c=2\n\\", "a: [1, {b: c}]\n# x\n", `{"a":[1,{"b":null}]}`,
		"[s.x]\nk = v\n;c\n", "k: &x 1\nl: *x\n", "\\u00e9=1\n",
	} {
		f.Add(s, "a.b[0]", "1")
		f.Add(s, "*.b", "x y")
	}
	f.Fuzz(func(t *testing.T, content, match, value string) {
		repl := []wire.ConfigReplace{{Match: match, Value: value}}
		for name, fn := range parsers {
			out, _, err := fn([]byte(content), repl)
			if err != nil || string(out) == content {
				continue
			}
			switch name {
			case wire.ParserYAML:
				var n yaml.Node
				if err := yaml.Unmarshal(out, &n); err != nil {
					t.Errorf("yaml output does not parse: %v\n%s", err, out)
				}
			case wire.ParserJSON:
				if !json.Valid(out) {
					t.Errorf("json output is not valid:\n%s", out)
				}
			}
		}
	})
}
