package configfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"catalyst.dev/sdk/wire"
)

// rewriteYAML is the yaml parser (paths: see tree.go). The file is read
// into yaml.v3's node tree, so comments and key order survive; it is
// written back in yaml.v3's layout, with the file's indentation width. Of
// a file of several documents, the first is changed and all are kept.
func rewriteYAML(content []byte, repl []wire.ConfigReplace) ([]byte, []skip, error) {
	docs, err := decodeYAML(content)
	if err != nil {
		return nil, nil, err
	}
	if len(docs) == 0 || docs[0].Kind == 0 || len(docs[0].Content) == 0 {
		// An empty file (or one of comments alone, which yaml.v3 drops):
		// start from an empty mapping.
		docs = append([]*yaml.Node{{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}}, docs[min(1, len(docs)):]...)
	}
	s := &setter{yaml11: true}
	skipped := s.setAll(docs[0].Content[0], repl)
	if !s.changed {
		return content, skipped, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(yamlIndent(content))
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, nil, fmt.Errorf("write yaml: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("write yaml: %w", err)
	}
	return buf.Bytes(), skipped, nil
}

// decodeYAML reads every document of content.
func decodeYAML(content []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var docs []*yaml.Node
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("it is not valid YAML: %w", err)
		}
		docs = append(docs, &d)
	}
}

// yamlIndent is the file's indentation width: the smallest indentation of
// a line that has any, 2 to 8 spaces; 2 when no line is indented.
func yamlIndent(content []byte) int {
	indent := 0
	for _, l := range strings.Split(string(content), "\n") {
		trimmed := strings.TrimLeft(l, " ")
		n := len(l) - len(trimmed)
		if n == 0 || trimmed == "" || trimmed[0] == '#' || trimmed[0] == '\r' {
			continue
		}
		if indent == 0 || n < indent {
			indent = n
		}
	}
	return min(max(indent, 2), 8)
}
