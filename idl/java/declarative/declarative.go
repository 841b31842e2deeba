// Package declarative reads hand-written Java API signatures from YAML, for services whose
// source, jar or metadata is not at hand. The format mirrors the Java model:
//
//	interfaces:
//	  - name: com.foo.UserService          # fully qualified interface name
//	    doc: Looks up users.               # optional descriptions (doc), as Javadoc gives them
//	    methods:                           # declaration order; overloads repeat the name
//	      - name: find
//	        doc: Finds a user by id.
//	        params: [{name: id, type: long, doc: the user's id}]   # name may be omitted
//	        returns: com.foo.User              # omitted means void
//	        returnsDoc: the user, or null
//	classes:
//	  - name: com.foo.User                 # nested classes use '$': com.foo.User$Address
//	    kind: class                        # class (default) or enum
//	    typeParams: [T]                    # generic type parameters, if any
//	    super: com.foo.Base                # superclass other than java.lang.Object, if any
//	    fields:                            # serialized fields in declaration order
//	      - {name: id, type: long}
//	      - {name: tags, type: "java.util.List<java.lang.String>"}
//	  - name: com.foo.Role
//	    kind: enum
//	    constants: [ADMIN, USER]
//
// Types use Java source syntax with fully qualified names (see javatype.ParseName). Decoding is
// strict: an unknown key, a malformed type or a missing name is an error naming file:line.
package declarative

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
	"github.com/rpcbridge/rpcbridge/javatype"
)

type document struct {
	Interfaces []iface `yaml:"interfaces"`
	Classes    []class `yaml:"classes"`
}

type iface struct {
	Name    name       `yaml:"name"`
	Doc     string     `yaml:"doc"`
	Extends []typeName `yaml:"extends"`
	Methods []method   `yaml:"methods"`
}

type method struct {
	Name       name     `yaml:"name"`
	Doc        string   `yaml:"doc"`
	Params     []param  `yaml:"params"`
	Returns    typeName `yaml:"returns"`
	ReturnsDoc string   `yaml:"returnsDoc"`
}

type param struct {
	Name string   `yaml:"name"`
	Type typeName `yaml:"type"`
	Doc  string   `yaml:"doc"`
}

type class struct {
	Name       name     `yaml:"name"`
	Kind       string   `yaml:"kind"`
	Doc        string   `yaml:"doc"`
	TypeParams []string `yaml:"typeParams"`
	Super      typeName `yaml:"super"`
	Fields     []field  `yaml:"fields"`
	Constants  []string `yaml:"constants"`
}

type field struct {
	Name name     `yaml:"name"`
	Type typeName `yaml:"type"`
	Doc  string   `yaml:"doc"`
}

// name is a required identifier that remembers its line.
type name struct {
	value string
	line  int
}

func (n *name) UnmarshalYAML(node *yaml.Node) error {
	n.line = node.Line
	return node.Decode(&n.value)
}

// typeName is a type checked and canonicalized while decoding.
type typeName struct {
	value idl.TypeName
	line  int
}

func (t *typeName) UnmarshalYAML(node *yaml.Node) error {
	t.line = node.Line
	var s string
	if err := node.Decode(&s); err != nil {
		return err
	}
	v, err := javatype.ParseName(s)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", node.Line, err)}}
	}
	t.value = v
	return nil
}

// Parse reads every ".yaml" or ".yml" file of files.
func Parse(ctx context.Context, files map[string][]byte) (reach.Decls, error) {
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return reach.Decls{}, fmt.Errorf("no .yaml files among %d uploaded files", len(files))
	}
	slices.Sort(names)
	var out reach.Decls
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return reach.Decls{}, fmt.Errorf("read declarative signatures: %w", err)
		}
		if err := parseFile(n, files[n], &out); err != nil {
			return reach.Decls{}, err
		}
	}
	return out, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

func parseFile(file string, data []byte, out *reach.Decls) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc document
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = lineRE.ReplaceAllString(m, file+":$1: ")
			}
			return errors.New(strings.Join(msgs, "\n"))
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	for i, in := range doc.Interfaces {
		if err := checkName(file, in.Name, fmt.Sprintf("interface %d", i+1)); err != nil {
			return err
		}
		ri := reach.Interface{JavaInterface: idl.JavaInterface{Name: in.Name.value, Doc: in.Doc, Methods: []idl.JavaMethod{}}}
		for _, e := range in.Extends {
			ri.Extends = append(ri.Extends, e.value)
		}
		for j, m := range in.Methods {
			if err := checkName(file, m.Name, fmt.Sprintf("interface %s: method %d", in.Name.value, j+1)); err != nil {
				return err
			}
			jm := idl.JavaMethod{Name: m.Name.value, Doc: m.Doc, Params: []idl.JavaParam{}, Returns: m.Returns.value, ReturnsDoc: m.ReturnsDoc}
			if jm.Returns == "" {
				jm.Returns = "void"
			}
			for k, p := range m.Params {
				if p.Type.value == "" {
					return fmt.Errorf("%s: interface %s: method %s: parameter %d has no type", file, in.Name.value, m.Name.value, k+1)
				}
				jm.Params = append(jm.Params, idl.JavaParam{Name: p.Name, Type: p.Type.value, Doc: p.Doc})
			}
			ri.Methods = append(ri.Methods, jm)
		}
		out.Interfaces = append(out.Interfaces, ri)
	}
	for i, c := range doc.Classes {
		jc, err := convertClass(file, i, c)
		if err != nil {
			return err
		}
		out.Classes = append(out.Classes, jc)
	}
	return nil
}

func convertClass(file string, i int, c class) (idl.JavaClass, error) {
	if err := checkName(file, c.Name, fmt.Sprintf("class %d", i+1)); err != nil {
		return idl.JavaClass{}, err
	}
	jc := idl.JavaClass{Name: c.Name.value, Kind: idl.ClassDTO, Doc: c.Doc, TypeParams: c.TypeParams, Super: c.Super.value}
	switch c.Kind {
	case "", string(idl.ClassDTO):
		if len(c.Constants) > 0 {
			return jc, fmt.Errorf("%s:%d: class %s: constants need kind: enum", file, c.Name.line, c.Name.value)
		}
	case string(idl.ClassEnum):
		jc.Kind = idl.ClassEnum
		jc.Constants = c.Constants
		if len(c.Fields) > 0 || len(c.TypeParams) > 0 || c.Super.value != "" {
			return jc, fmt.Errorf("%s:%d: enum %s: only constants are allowed", file, c.Name.line, c.Name.value)
		}
	default:
		return jc, fmt.Errorf("%s:%d: class %s: kind %q is neither class nor enum", file, c.Name.line, c.Name.value, c.Kind)
	}
	for j, f := range c.Fields {
		if err := checkName(file, f.Name, fmt.Sprintf("class %s: field %d", c.Name.value, j+1)); err != nil {
			return jc, err
		}
		if f.Type.value == "" {
			return jc, fmt.Errorf("%s:%d: class %s: field %s has no type", file, f.Name.line, c.Name.value, f.Name.value)
		}
		jc.Fields = append(jc.Fields, idl.JavaField{Name: f.Name.value, Type: f.Type.value, Doc: f.Doc})
	}
	return jc, nil
}

func checkName(file string, n name, what string) error {
	if n.value == "" {
		return fmt.Errorf("%s: %s has no name", file, what)
	}
	if strings.ContainsAny(n.value, " <>[],") {
		return fmt.Errorf("%s:%d: %s: %q is not a name", file, n.line, what, n.value)
	}
	return nil
}
