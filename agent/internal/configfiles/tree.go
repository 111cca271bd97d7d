package configfiles

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"catalyst.dev/sdk/wire"
)

// The yaml and json parsers share one tree, yaml.v3's nodes (which keep
// key order and, for YAML, comments), and one path language:
//
//	settings.bungeecord    key "bungeecord" of mapping "settings"
//	listeners[0].host      key "host" of the first element of "listeners"
//	servers.*.address      key "address" of every value of "servers"
//	listeners[*].host      the same, for every element of a list
//
// A missing key is created, with the mappings on the way to it, also below
// a "*" (every server gets the key). A missing list element is created
// when its index is the list's next one; any other is skipped. Nothing is
// created for a "*" itself. Keys holding a dot or a bracket cannot be
// named.

// stepKind is what one step of a path selects.
type stepKind int

const (
	stepKey   stepKind = iota // a mapping's key
	stepIndex                 // a sequence's element
	stepAll                   // every value of a mapping or element of a sequence
)

type step struct {
	kind  stepKind
	key   string
	index int
}

func (s step) String() string {
	switch s.kind {
	case stepIndex:
		return "[" + strconv.Itoa(s.index) + "]"
	case stepAll:
		return "*"
	}
	return s.key
}

// parsePath splits a Match into steps.
func parsePath(p string) ([]step, error) {
	var steps []step
	for i, seg := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if rest != "" || strings.HasSuffix(seg, "[") {
			rest = "[" + rest
		}
		switch {
		case name == "" && (rest == "" || i > 0):
			return nil, fmt.Errorf("path %q has an empty key (two dots, or a dot at an end)", p)
		case strings.ContainsRune(name, ']'):
			return nil, fmt.Errorf("path %q: %q has a ']' without its '['", p, seg)
		case name == "*":
			steps = append(steps, step{kind: stepAll})
		case name != "":
			steps = append(steps, step{kind: stepKey, key: name})
		}
		for rest != "" {
			end := strings.IndexByte(rest, ']')
			if rest[0] != '[' || end < 0 {
				return nil, fmt.Errorf("path %q: %q is not of the form key[index]", p, seg)
			}
			in := rest[1:end]
			rest = rest[end+1:]
			if in == "*" {
				steps = append(steps, step{kind: stepAll})
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil || n < 0 || in != strconv.Itoa(n) {
				return nil, fmt.Errorf("path %q: index [%s] is not a number from 0", p, in)
			}
			steps = append(steps, step{kind: stepIndex, index: n})
		}
	}
	return steps, nil
}

// setter sets values in a tree, noting whether anything changed and what
// could not be set.
type setter struct {
	// yaml11 quotes strings a YAML 1.1 reader (SnakeYAML: Bukkit, Bungee)
	// would take for booleans; JSON has no such strings.
	yaml11  bool
	changed bool
}

// set sets every node path reaches from root to value.
func (s *setter) set(root *yaml.Node, path, value string) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	var problems []error
	s.walk(root, steps, "", value, &problems)
	return errors.Join(problems...)
}

// walk follows steps from n (reached by at, the path so far) and sets
// what they end on.
func (s *setter) walk(n *yaml.Node, steps []step, at, value string, problems *[]error) {
	if len(steps) == 0 {
		s.assign(n, value)
		return
	}
	st, rest := steps[0], steps[1:]
	next := func(sub string) string {
		if at == "" || strings.HasPrefix(sub, "[") {
			return at + sub
		}
		return at + "." + sub
	}
	name := at
	if name == "" {
		name = "the top level"
	}
	if n.Kind == yaml.AliasNode {
		*problems = append(*problems, fmt.Errorf("%s is an alias (*%s); what it stands for is shared and left alone", name, n.Value))
		return
	}
	if isNull(n) && st.kind != stepAll {
		// "settings:" with nothing after it, or null: it can take keys
		// or elements.
		if !creatable(steps) {
			*problems = append(*problems, fmt.Errorf("%s is empty, and %s cannot be created in it", name, steps[0]))
			return
		}
		n.Kind, n.Tag, n.Value, n.Style = yaml.MappingNode, "!!map", "", 0
		if st.kind == stepIndex {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		}
		s.changed = true
	}
	switch st.kind {
	case stepKey:
		if n.Kind != yaml.MappingNode {
			*problems = append(*problems, fmt.Errorf("%s is %s, not a mapping with keys", name, kindName(n)))
			return
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == st.key {
				found = true
				s.walk(n.Content[i+1], rest, next(st.key), value, problems)
			}
		}
		if found {
			return
		}
		if !creatable(rest) {
			*problems = append(*problems, fmt.Errorf("%s does not exist, and %s cannot be created in it", next(st.key), rest[0]))
			return
		}
		child := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.key}, child)
		s.changed = true
		s.walk(child, rest, next(st.key), value, problems)
	case stepIndex:
		if n.Kind != yaml.SequenceNode {
			*problems = append(*problems, fmt.Errorf("%s is %s, not a list", name, kindName(n)))
			return
		}
		switch {
		case st.index < len(n.Content):
			s.walk(n.Content[st.index], rest, next(st.String()), value, problems)
		case st.index == len(n.Content) && creatable(rest):
			child := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			n.Content = append(n.Content, child)
			s.changed = true
			s.walk(child, rest, next(st.String()), value, problems)
		default:
			*problems = append(*problems, fmt.Errorf("%s has %d elements; only [%d] can be added to it", name, len(n.Content), len(n.Content)))
		}
	case stepAll:
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				s.walk(n.Content[i+1], rest, next(n.Content[i].Value), value, problems)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				s.walk(c, rest, next("["+strconv.Itoa(i)+"]"), value, problems)
			}
		default:
			if !isNull(n) {
				*problems = append(*problems, fmt.Errorf("%s is %s, which has no keys or elements for * to match", name, kindName(n)))
			}
		}
	}
}

// creatable says whether steps can be made where nothing is: keys, and
// the first element of a list made for it.
func creatable(steps []step) bool {
	for _, st := range steps {
		if st.kind == stepAll || (st.kind == stepIndex && st.index != 0) {
			return false
		}
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

// intPattern is an integer as Value gives it, without a sign or leading
// zeros that writing it as a number would lose.
var intPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// assign turns n into the scalar value, typed as wire.ConfigReplace says
// ("true"/"false" booleans, integers numbers, the rest strings). Its
// comments stay, and so does its quoting when it was a string and stays
// one.
func (s *setter) assign(n *yaml.Node, value string) {
	tag := "!!str"
	switch {
	case value == "true" || value == "false":
		tag = "!!bool"
	case intPattern.MatchString(value):
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			tag = "!!int"
		}
	}
	style := yaml.Style(0)
	if tag == "!!str" {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			style = n.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
		}
		if style == 0 && s.yaml11 && yaml11Bool(value) {
			style = yaml.DoubleQuotedStyle
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == tag && n.Value == value {
		return
	}
	n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, tag, value, style
	n.Content, n.Anchor, n.Alias = nil, "", nil
	s.changed = true
}

// yaml11Bool says whether a YAML 1.1 reader takes s, unquoted, for a
// boolean.
func yaml11Bool(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off", "true", "false":
		return true
	}
	return false
}

// setAll applies repl to root; replacements that fail are skipped.
func (s *setter) setAll(root *yaml.Node, repl []wire.ConfigReplace) []skip {
	var skipped []skip
	for _, r := range repl {
		if err := s.set(root, r.Match, r.Value); err != nil {
			skipped = append(skipped, skip{r.Match, err})
		}
	}
	return skipped
}
