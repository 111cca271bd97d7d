package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// FieldType is the type of one config key, named as in HCL.
type FieldType string

// The types a config key can have.
const (
	TypeString     FieldType = "string"
	TypeNumber     FieldType = "number"
	TypeBool       FieldType = "bool"
	TypeListString FieldType = "list(string)"
	TypeMapString  FieldType = "map(string)"
)

func (t FieldType) valid() bool {
	switch t {
	case TypeString, TypeNumber, TypeBool, TypeListString, TypeMapString:
		return true
	}
	return false
}

// Field is one key of a plugin's `config { … }` block.
type Field struct {
	Name        string
	Type        FieldType
	Required    bool
	Description string
	// Default is used when the key is absent: a string, a number, a bool,
	// a []string or a map[string]string, matching Type.
	Default any
	// Sensitive keys (passwords, tokens) are never logged by the host.
	Sensitive bool
}

// Schema is the set of keys a plugin's config block accepts. The host
// decodes the HCL block against it before launching anything further, and
// the SDK checks the JSON it receives against it again before Configure.
type Schema struct {
	Fields []Field
}

var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// Validate reports mistakes in the schema itself: bad or duplicate names,
// unknown types, defaults of the wrong type.
func (s Schema) Validate() error {
	seen := make(map[string]bool, len(s.Fields))
	for _, f := range s.Fields {
		if !fieldName.MatchString(f.Name) {
			return fmt.Errorf("config schema: field name %q is not an HCL identifier", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("config schema: field %q declared twice", f.Name)
		}
		seen[f.Name] = true
		if !f.Type.valid() {
			return fmt.Errorf("config schema: field %q: unknown type %q", f.Name, f.Type)
		}
		if f.Default != nil {
			if f.Required {
				return fmt.Errorf("config schema: field %q is required and has a default", f.Name)
			}
			if _, err := f.defaultJSON(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Field returns the field called name.
func (s Schema) Field(name string) (Field, bool) {
	i := slices.IndexFunc(s.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return s.Fields[i], true
}

func (f Field) defaultJSON() ([]byte, error) {
	if f.Default == nil {
		return nil, nil
	}
	raw, err := json.Marshal(f.Default)
	if err != nil {
		return nil, fmt.Errorf("config schema: field %q: encode default: %w", f.Name, err)
	}
	if err := checkType(f.Type, raw); err != nil {
		return nil, fmt.Errorf("config schema: field %q: default: %w", f.Name, err)
	}
	return raw, nil
}

// Config is a plugin's configuration as the host sends it: a JSON object
// whose keys are the schema's field names.
type Config []byte

// Decode unmarshals the configuration into v, typically a struct with json
// tags naming the schema's fields.
func (c Config) Decode(v any) error {
	raw := []byte(c)
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

// Apply checks cfg against the schema and returns it with defaults filled
// in. Every problem is reported, not just the first; the error wraps
// ErrInvalidArgument.
func (s Schema) Apply(cfg Config) (Config, error) {
	values := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(cfg)) > 0 {
		if err := json.Unmarshal(cfg, &values); err != nil {
			return nil, fmt.Errorf("config is not a JSON object: %v: %w", err, ErrInvalidArgument)
		}
	}
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(values)) {
		f, ok := s.Field(key)
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown key %q", key))
			continue
		}
		if isNull(values[key]) {
			delete(values, key)
			continue
		}
		if err := checkType(f.Type, values[key]); err != nil {
			problems = append(problems, fmt.Sprintf("key %q: %v", key, err))
		}
	}
	for _, f := range s.Fields {
		if _, ok := values[f.Name]; ok {
			continue
		}
		if f.Required {
			problems = append(problems, fmt.Sprintf("missing required key %q", f.Name))
			continue
		}
		def, err := f.defaultJSON()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if def != nil {
			values[f.Name] = def
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("config: %s: %w", strings.Join(problems, "; "), ErrInvalidArgument)
	}
	out, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// checkType reports whether raw (JSON) holds a value of type t.
func checkType(t FieldType, raw []byte) error {
	var err error
	switch t {
	case TypeString:
		var v string
		err = json.Unmarshal(raw, &v)
	case TypeNumber:
		var v float64
		err = json.Unmarshal(raw, &v)
	case TypeBool:
		var v bool
		err = json.Unmarshal(raw, &v)
	case TypeListString:
		var v []string
		err = json.Unmarshal(raw, &v)
	case TypeMapString:
		var v map[string]string
		err = json.Unmarshal(raw, &v)
	default:
		return fmt.Errorf("unknown type %q", t)
	}
	if err != nil {
		return fmt.Errorf("want %s", t)
	}
	return nil
}
