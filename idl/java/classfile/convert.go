package classfile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
)

// Parse reads every ".class" entry of files (keyed by path inside the jar; other entries are
// ignored) and returns what they declare. Synthetic, local and anonymous classes,
// module-info and package-info are skipped.
func Parse(ctx context.Context, files map[string][]byte) (reach.Decls, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".class") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return reach.Decls{}, fmt.Errorf("no .class files among %d jar entries", len(files))
	}
	slices.Sort(names)
	var out reach.Decls
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return reach.Decls{}, fmt.Errorf("read class files: %w", err)
		}
		c, err := Read(files[name])
		if err != nil {
			return reach.Decls{}, fmt.Errorf("%s: %w", name, err)
		}
		if err := Convert(c, &out); err != nil {
			return reach.Decls{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// Convert adds the declaration of one class to out.
func Convert(c *Class, out *reach.Decls) error {
	if skipClass(c) {
		return nil
	}
	switch {
	case c.Access&accAnnotation != 0:
		return nil
	case c.Access&accInterface != 0:
		in, err := convertInterface(c)
		if err != nil {
			return err
		}
		out.Interfaces = append(out.Interfaces, in)
	case c.Access&accEnum != 0 && c.Super == "java.lang.Enum":
		jc := idl.JavaClass{Name: c.Name, Kind: idl.ClassEnum}
		for _, f := range c.Fields {
			if f.Access&accEnum != 0 {
				jc.Constants = append(jc.Constants, f.Name)
			}
		}
		out.Classes = append(out.Classes, jc)
	default:
		jc, err := convertClass(c)
		if err != nil {
			return err
		}
		out.Classes = append(out.Classes, jc)
	}
	return nil
}

func skipClass(c *Class) bool {
	if c.Access&(accSynthetic|accModule) != 0 || strings.HasSuffix(c.Name, "package-info") || c.Name == "module-info" {
		return true
	}
	for _, ic := range c.InnerClasses {
		if ic.Inner == c.Name && (ic.Outer == "" || ic.Name == "") {
			return true // local or anonymous class (for example an enum constant's body)
		}
	}
	return false
}

func convertInterface(c *Class) (reach.Interface, error) {
	in := reach.Interface{JavaInterface: idl.JavaInterface{Name: c.Name, Methods: []idl.JavaMethod{}}}
	if c.Signature != "" {
		sig, err := parseClassSig(c.Signature)
		if err != nil {
			return in, fmt.Errorf("class %s: %w", c.Name, err)
		}
		in.Extends = sig.interfaces
	} else {
		for _, i := range c.Interfaces {
			in.Extends = append(in.Extends, idl.TypeName(i))
		}
	}
	for _, m := range c.Methods {
		if m.Access&(accStatic|accSynthetic|accBridge|accPrivate) != 0 || m.Access&accAbstract == 0 || strings.HasPrefix(m.Name, "<") {
			continue
		}
		jm, err := convertMethod(m)
		if err != nil {
			return in, fmt.Errorf("class %s: method %s%s: %w", c.Name, m.Name, m.Descriptor, err)
		}
		in.Methods = append(in.Methods, jm)
	}
	return in, nil
}

func convertMethod(m Member) (idl.JavaMethod, error) {
	sig, err := parseMethodSig(m.Descriptor)
	if err != nil {
		return idl.JavaMethod{}, err
	}
	if m.Signature != "" {
		generic, err := parseMethodSig(m.Signature)
		if err != nil {
			return idl.JavaMethod{}, err
		}
		// javac leaves synthetic/implicit parameters out of Signature; only trust it when it
		// describes every descriptor parameter.
		if len(generic.params) == len(sig.params) {
			sig = generic
		}
	}
	jm := idl.JavaMethod{Name: m.Name, Params: []idl.JavaParam{}, Returns: sig.returns}
	for i, t := range sig.params {
		name := ""
		if len(m.ParamNames) == len(sig.params) {
			name = m.ParamNames[i]
		}
		jm.Params = append(jm.Params, idl.JavaParam{Name: name, Type: t})
	}
	return jm, nil
}

func convertClass(c *Class) (idl.JavaClass, error) {
	jc := idl.JavaClass{Name: c.Name, Kind: idl.ClassDTO}
	super := idl.TypeName(c.Super)
	if c.Signature != "" {
		sig, err := parseClassSig(c.Signature)
		if err != nil {
			return jc, fmt.Errorf("class %s: %w", c.Name, err)
		}
		for _, tp := range sig.typeParams {
			jc.TypeParams = append(jc.TypeParams, tp.name)
		}
		super = sig.super
	}
	if s := super.Erasure(); s != "java.lang.Object" && s != "java.lang.Record" && s != "" {
		jc.Super = super
	}
	for _, f := range c.Fields {
		if f.Access&(accStatic|accTransient|accSynthetic) != 0 {
			continue
		}
		desc := f.Descriptor
		if f.Signature != "" {
			desc = f.Signature
		}
		t, err := parseFieldSig(desc)
		if err != nil {
			return jc, fmt.Errorf("class %s: field %s: %w", c.Name, f.Name, err)
		}
		jc.Fields = append(jc.Fields, idl.JavaField{Name: f.Name, Type: t})
	}
	return jc, nil
}
