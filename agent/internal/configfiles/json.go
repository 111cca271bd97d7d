package configfiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"catalyst.dev/sdk/wire"
)

// rewriteJSON is the json parser (paths: see tree.go). The file is read
// into the same node tree as YAML, in key order, numbers as written; it is
// written back indented as the file was (its first indented line's
// indentation; two spaces for a file on one line).
func rewriteJSON(content []byte, repl []wire.ConfigReplace) ([]byte, []skip, error) {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(bytes.TrimSpace(content)) > 0 {
		var err error
		if root, err = decodeJSON(content); err != nil {
			return nil, nil, fmt.Errorf("it is not valid JSON: %w", err)
		}
	}
	s := &setter{}
	skipped := s.setAll(root, repl)
	if !s.changed {
		return content, skipped, nil
	}
	w := &jsonWriter{indent: jsonIndent(content)}
	w.node(root, 0)
	w.buf.WriteByte('\n')
	return w.buf.Bytes(), skipped, nil
}

// decodeJSON reads one JSON value into a node tree.
func decodeJSON(content []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	n, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more data follows the value that ends at byte %d", dec.InputOffset())
	}
	return n, nil
}

func jsonValue(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			v, err := jsonValue(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!float"
		if intPattern.MatchString(t.String()) {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}, nil
	default: // nil
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
}

// jsonIndent is the indentation of content's first indented line, taken
// as one level; two spaces when no line is indented.
func jsonIndent(content []byte) string {
	for _, l := range strings.Split(string(content), "\n")[1:] {
		if ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]; ws != "" && strings.TrimSpace(l) != "" {
			return ws
		}
	}
	return "  "
}

// jsonWriter prints a node tree as indented JSON.
type jsonWriter struct {
	buf    bytes.Buffer
	indent string
}

func (w *jsonWriter) newline(depth int) {
	w.buf.WriteByte('\n')
	w.buf.WriteString(strings.Repeat(w.indent, depth))
}

func (w *jsonWriter) node(n *yaml.Node, depth int) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := byte('{'), byte('}'), 2
		if n.Kind == yaml.SequenceNode {
			open, close, step = '[', ']', 1
		}
		w.buf.WriteByte(open)
		for i := 0; i+step-1 < len(n.Content); i += step {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.newline(depth + 1)
			if step == 2 {
				w.str(n.Content[i].Value)
				w.buf.WriteString(": ")
			}
			w.node(n.Content[i+step-1], depth+1)
		}
		if len(n.Content) > 0 {
			w.newline(depth)
		}
		w.buf.WriteByte(close)
	default:
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!null":
			w.buf.WriteString(n.Value)
		default:
			w.str(n.Value)
		}
	}
}

// str writes s as a JSON string, leaving <, > and & as they are.
func (w *jsonWriter) str(s string) {
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)               // a string always encodes
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
}
