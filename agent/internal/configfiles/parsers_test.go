package configfiles

import (
	"testing"

	"catalyst.dev/sdk/wire"
)

// Every parser the core lets templates name has a rewrite here, and no
// other.
func TestEveryWireParserHasARewrite(t *testing.T) {
	for _, p := range wire.Parsers {
		if parsers[p] == nil {
			t.Errorf("parser %q has no rewrite", p)
		}
	}
	if len(parsers) != len(wire.Parsers) {
		t.Errorf("%d rewrites for %d parsers in wire.Parsers", len(parsers), len(wire.Parsers))
	}
}
