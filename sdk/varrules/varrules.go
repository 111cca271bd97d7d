// Package varrules validates the values of template variables against
// rule strings such as "required|string|max:20", the notation Pterodactyl
// eggs use. The core enforces them when a server is created or changed;
// template sources use Parse to find rules they must report.
package varrules

// Rules is a parsed rule string.
type Rules struct {
	// TODO(issue 10): filled in by the varrules implementation.
}

// Parse reads a rule string: rules separated by "|", each a name with an
// optional ":"-argument. An unknown rule or a malformed argument is an
// error naming it.
func Parse(s string) (Rules, error) {
	return Rules{}, nil
}

// Check validates value; the error reads as a sentence about the value
// ("must be at most 20 characters"), for a field error.
func (r Rules) Check(value string) error {
	return nil
}
