package egg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// object is a JSON object with its members in the order the file wrote
// them: image lists and config-file replacements keep that order.
type object []member

type member struct {
	Key   string
	Value json.RawMessage
}

// decodeObject reads data, which must hold exactly one JSON object.
// what names the value in errors ("the file", "config.files").
func decodeObject(data []byte, what string) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s is %s, want a JSON object", what, jsonKind(data))
	}
	var obj object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", what, err)
		}
		var m member
		m.Key = tok.(string) // the decoder only yields strings as object keys
		if err := dec.Decode(&m.Value); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", what, err)
		}
		obj = append(obj, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is not valid JSON: data after the object", what)
	}
	return obj, nil
}

// jsonKind names the kind of JSON value raw holds, for messages.
func jsonKind(raw []byte) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "empty"
	}
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// decodeField decodes raw into dst, leaving dst alone when raw is null or
// absent; a value of the wrong kind is an error naming the field.
func decodeField(name string, raw json.RawMessage, dst any, want string) error {
	if isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s is %s, want %s", name, jsonKind(raw), want)
	}
	return nil
}

// nested returns the JSON held by a config section. Exported eggs store
// config.files, config.startup and config.logs as strings of JSON, which
// need decoding a second time; hand-written ones use objects. Null, an
// empty string and an empty array (PHP's empty object) give nil.
func nested(name string, raw json.RawMessage) (object, error) {
	if isNull(raw) {
		return nil, nil
	}
	data := []byte(raw)
	if bytes.TrimSpace(raw)[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", name, err)
		}
		data = []byte(s)
	}
	if t := strings.Join(strings.Fields(string(data)), ""); t == "" || t == "[]" {
		return nil, nil
	}
	return decodeObject(data, name)
}

// scalarText gives a string, number or boolean as text: strings as they
// are, numbers as written, booleans as true or false. ok is false for
// null, objects and arrays.
func scalarText(raw json.RawMessage) (text string, ok bool) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "", false
	}
	switch s[0] {
	case '"':
		if err := json.Unmarshal(s, &text); err != nil {
			return "", false
		}
		return text, true
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(s, &b); err != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case '{', '[', 'n':
		return "", false
	}
	var n json.Number
	if err := json.Unmarshal(s, &n); err != nil {
		return "", false
	}
	return n.String(), true
}
