package egg

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/varrules"
)

// coreVariables are set by the core for every server; a template cannot
// declare them.
var coreVariables = []string{"SERVER_MEMORY", "SERVER_IP", "SERVER_PORT"}

// variables converts the egg's variables, keeping their order.
func (c *converter) variables(raw json.RawMessage) ([]plugin.Variable, error) {
	var list []json.RawMessage
	if err := decodeField("variables", raw, &list, "an array of objects"); err != nil {
		return nil, err
	}
	var out []plugin.Variable
	for i, r := range list {
		v, err := c.variable(i, r)
		if err != nil {
			return nil, err
		}
		switch {
		case v.Env == "":
		case slices.ContainsFunc(out, func(o plugin.Variable) bool { return o.Env == v.Env }):
			c.warn("variable %s is declared twice; the second declaration was dropped", v.Env)
		default:
			out = append(out, v)
		}
	}
	return out, nil
}

// variable converts variables[i]; a variable that cannot be kept comes
// back with an empty Env, after a warning.
func (c *converter) variable(i int, raw json.RawMessage) (plugin.Variable, error) {
	obj, err := decodeObject(raw, fmt.Sprintf("variables[%d]", i))
	if err != nil {
		return plugin.Variable{}, err
	}
	var (
		v      plugin.Variable
		rules  json.RawMessage
		field  string
		unused []string
	)
	for _, m := range obj {
		name := fmt.Sprintf("variables[%d].%s", i, m.Key)
		switch m.Key {
		case "name":
			err = decodeField(name, m.Value, &v.Name, "a string")
		case "description":
			err = decodeField(name, m.Value, &v.Description, "a string")
		case "env_variable":
			err = decodeField(name, m.Value, &v.Env, "a string")
		case "default_value":
			if !isNull(m.Value) {
				var ok bool
				if v.DefaultValue, ok = scalarText(m.Value); !ok {
					err = fmt.Errorf("%s is %s, want a string", name, jsonKind(m.Value))
				}
			}
		case "user_viewable":
			v.UserViewable, err = flag(name, m.Value)
		case "user_editable":
			v.UserEditable, err = flag(name, m.Value)
		case "rules":
			rules = m.Value
		case "field_type":
			err = decodeField(name, m.Value, &field, "a string")
		default:
			unused = append(unused, m.Key)
		}
		if err != nil {
			return plugin.Variable{}, err
		}
	}
	switch {
	case !envName.MatchString(v.Env):
		c.warn("variables[%d] (%q): env_variable %q is not a valid environment variable name; the variable was dropped", i, v.Name, v.Env)
		return plugin.Variable{}, nil
	case slices.Contains(coreVariables, v.Env):
		c.warn("variable %s is set by Catalyst from the server's allocation and memory; the egg's declaration was dropped", v.Env)
		return plugin.Variable{}, nil
	}
	for _, k := range unused {
		c.warn("variable %s: %s is not used", v.Env, k)
	}
	if field != "" && field != "text" {
		c.warn("variable %s: field_type %q is shown as a text field", v.Env, field)
	}
	v.Rules, err = c.rules(v.Env, fmt.Sprintf("variables[%d].rules", i), rules)
	return v, err
}

// rules keeps the rules varrules supports and reports the others. Some
// exports write the rules as an array.
func (c *converter) rules(env, name string, raw json.RawMessage) (string, error) {
	var s string
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		s = strings.Join(list, "|")
	} else if err := decodeField(name, raw, &s, "a string or an array of strings"); err != nil {
		return "", err
	}
	kept, dropped := varrules.Split(s)
	for _, r := range dropped {
		if _, err := varrules.Parse(r); errors.Is(err, varrules.ErrUnknownRule) {
			c.warn("variable %s: rule %s is not supported and was dropped", env, r)
		} else {
			c.warn("variable %s: rule %s was dropped: %v", env, r, err)
		}
	}
	return kept, nil
}

// flag reads user_viewable and user_editable: booleans, or 0 and 1 in
// older exports.
func flag(name string, raw json.RawMessage) (bool, error) {
	text, ok := scalarText(raw)
	switch {
	case isNull(raw):
		return false, nil
	case ok && (text == "true" || text == "1"):
		return true, nil
	case ok && (text == "false" || text == "0" || text == ""):
		return false, nil
	}
	return false, fmt.Errorf("%s is %s, want true or false", name, describe(raw))
}
