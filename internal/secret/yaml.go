package secret

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// UnmarshalYAML decodes {file: PATH} or {env: NAME} strictly (another key is an unknown key).
// A plain string is refused with an error that says where credentials go and does not repeat
// the value, which is likely the credential itself.
func (r *Ref) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*r = Ref{}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: a credential is never written in the configuration: write {file: PATH} or {env: NAME} (docs/security.md)", n.Line)}}
	}
	var out Ref
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "file":
			dst = &out.File
		case "env":
			dst = &out.Env
		default:
			errs = append(errs, fmt.Sprintf("line %d: field %s not found in type secret.Ref", k.Line, k.Value))
			continue
		}
		if v.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Sprintf("line %d: %s: want a string", v.Line, k.Value))
			continue
		}
		*dst = v.Value
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*r = out
	return nil
}
