package host

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"catalyst.dev/sdk/plugin"
)

// DecodeConfig decodes a plugin's config block against the schema the
// plugin published, into the JSON the plugin's Configure receives. Unknown
// keys, missing required keys and values of the wrong type come back as
// diagnostics pointing into the block. A nil body is an empty block;
// missing-key diagnostics then point at missing (the plugin block).
// Defaults are left to the plugin side, which applies them.
func DecodeConfig(schema plugin.Schema, body hcl.Body, evalCtx *hcl.EvalContext, missing hcl.Range) (plugin.Config, hcl.Diagnostics) {
	if body == nil {
		body = hcl.EmptyBody()
	}
	spec := hcldec.ObjectSpec{}
	for _, f := range schema.Fields {
		spec[f.Name] = &hcldec.AttrSpec{Name: f.Name, Type: ctyType(f.Type), Required: f.Required}
	}
	val, diags := hcldec.Decode(body, spec, evalCtx)
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename == "" {
			d.Subject = missing.Ptr()
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}

	out := map[string]json.RawMessage{}
	for _, f := range schema.Fields {
		v := val.GetAttr(f.Name)
		if v.IsNull() {
			continue
		}
		raw, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return nil, hcl.Diagnostics{errorAt(missing, "Cannot encode plugin config",
				fmt.Sprintf("Key %q: %v.", f.Name, err))}
		}
		out[f.Name] = raw
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, hcl.Diagnostics{errorAt(missing, "Cannot encode plugin config", err.Error())}
	}
	return raw, nil
}

func ctyType(t plugin.FieldType) cty.Type {
	switch t {
	case plugin.TypeString:
		return cty.String
	case plugin.TypeNumber:
		return cty.Number
	case plugin.TypeBool:
		return cty.Bool
	case plugin.TypeListString:
		return cty.List(cty.String)
	case plugin.TypeMapString:
		return cty.Map(cty.String)
	}
	return cty.DynamicPseudoType
}
