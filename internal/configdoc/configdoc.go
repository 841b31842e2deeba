// Package configdoc renders the reference of a YAML configuration file from the Go types that
// decode it, so that the reference cannot drift from the code: every key with its type, its
// default, an example and the doc comment of its field.
//
// The keys are the yaml tags of the exported fields (",inline" fields are flattened, "-" ones
// left out), walked from a root struct type through structs, pointers and lists. Descriptions
// are the fields' doc comments, read from the Go sources with go/parser; a field without one
// takes the comment of the field declared on the line before it ("Interface, Version and Group
// identify ..."). Types come from the Go kinds, yamltime.Duration being a duration.
//
// Defaults come from the code's own defaulting: a struct type with a method
//
//	func (T) Defaults() T
//
// fills in what a document left out. The renderer calls it on a probe value (the zero value with
// one zero element in every list of structs and a zero struct behind every struct pointer, so
// that defaults applied inside list elements show) and reports every field it set. A type
// without the method inherits the defaults its parent's Defaults set inside it.
//
// Examples come from a complete example document: the first value found at each key (list
// indices ignored; aliases and merge keys resolved, so one anchored block can give the examples
// of a type used at several keys). A key without a description or an example is an error, so a new key cannot
// be added without both.
package configdoc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// Options say what to render.
type Options struct {
	// Root is the type of the whole document, a struct.
	Root reflect.Type
	// Header is the Markdown that opens the reference (title, how to regenerate).
	Header string
	// Example is a complete example document, the source of every key's example.
	Example []byte
	// SourceDir returns the directory holding the Go files of a package, by import path.
	SourceDir func(pkgPath string) (string, error)
}

// key is one configuration key.
type key struct {
	path     string // "registries[].zookeeper.servers"
	typeName string
	def      string // rendered default, "" for none
	example  string
	doc      string
	section  string // for objects and lists of objects: the path of their own section
}

// section is one object of the document: its keys, in field order.
type section struct {
	path string // "" for the top level
	doc  string
	keys []key
}

// Render returns the Markdown reference, or an error listing every key that lacks a
// description or an example.
func Render(opts Options) ([]byte, error) {
	if opts.Root.Kind() != reflect.Struct {
		return nil, fmt.Errorf("configdoc: root %s is not a struct", opts.Root)
	}
	examples, err := indexExample(opts.Example)
	if err != nil {
		return nil, err
	}
	w := &walker{docs: newDocIndex(opts.SourceDir), examples: examples}
	rootDoc, err := w.docs.typeDoc(opts.Root)
	if err != nil {
		return nil, err
	}
	w.object("", opts.Root, probe(opts.Root, 0), rootDoc)
	if len(w.problems) > 0 {
		return nil, errors.New("configdoc:\n  " + strings.Join(w.problems, "\n  "))
	}
	return render(opts.Header, w.sections), nil
}

// walker collects the sections of a document.
type walker struct {
	docs     *docIndex
	examples map[string]*yaml.Node
	sections []*section
	problems []string
}

var durationType = reflect.TypeFor[yamltime.Duration]()

// object adds the section of struct type t at path, whose defaults are in def (a value of t),
// and the sections of every object below it.
func (w *walker) object(path string, t reflect.Type, def reflect.Value, doc string) {
	if m, ok := t.MethodByName("Defaults"); ok && m.Type.NumIn() == 1 && m.Type.NumOut() == 1 && m.Type.Out(0) == t {
		def = m.Func.Call([]reflect.Value{def})[0]
	}
	sec := &section{path: path, doc: doc}
	w.sections = append(w.sections, sec)
	var nested []func()
	w.fields(sec, t, def, &nested)
	for _, n := range nested {
		n()
	}
}

// fields adds the keys of struct t (its inline fields' too) to sec; the sections of object keys
// are added to nested, to come after sec.
func (w *walker) fields(sec *section, t reflect.Type, def reflect.Value, nested *[]func()) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		fv := def.Field(i)
		if strings.Contains(","+opts+",", ",inline,") {
			ft, v := f.Type, fv
			if ft.Kind() == reflect.Pointer {
				ft, v = ft.Elem(), deref(v, ft.Elem())
			}
			w.fields(sec, ft, v, nested)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		doc, err := w.docs.fieldDoc(t, f.Name)
		if err != nil {
			w.problems = append(w.problems, err.Error())
		}
		k := key{path: field.Join(sec.path, name), doc: doc}
		if doc == "" {
			w.problems = append(w.problems, fmt.Sprintf("%s (%s.%s) has no doc comment", k.path, t, f.Name))
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer && !isScalar(ft.Elem()) {
			ft, fv = ft.Elem(), deref(fv, ft.Elem())
		}
		switch {
		case ft.Kind() == reflect.Struct && !isScalar(ft):
			k.typeName, k.section = "object", k.path
			*nested = append(*nested, func() { w.object(k.path, ft, fv, doc) })
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !isScalar(ft.Elem()):
			k.typeName, k.section = "list of objects", k.path+"[]"
			elem := probe(ft.Elem(), 1)
			if fv.Len() > 0 {
				elem = fv.Index(0)
			}
			*nested = append(*nested, func() { w.object(k.section, ft.Elem(), elem, doc) })
		default:
			k.typeName = typeName(f.Type)
			k.def = renderDefault(fv)
			ex, ok := w.examples[k.path]
			if !ok {
				w.problems = append(w.problems, fmt.Sprintf("%s has no example in the example document", k.path))
			} else {
				k.example = flow(ex)
			}
		}
		sec.keys = append(sec.keys, k)
	}
}

// isScalar reports whether t is written as one YAML value: a kind without fields, or a type
// that decodes itself (a duration).
func isScalar(t reflect.Type) bool {
	if t == durationType || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return false
	}
	return true
}

// typeName names the YAML type of a Go type.
func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list of " + plural(typeName(t.Elem()))
	case t.Kind() == reflect.Map:
		return "map of " + plural(typeName(t.Elem()))
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func plural(s string) string {
	if strings.HasPrefix(s, "list of") || strings.HasPrefix(s, "map of") {
		return s
	}
	return s + "s"
}

// probe is the zero value of t with one probe element in every list of structs and a probe
// behind every struct pointer, so that a Defaults method shows what it does inside them. depth
// bounds recursive types.
func probe(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if t.Kind() != reflect.Struct || depth > 8 {
		return v
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("yaml") == "-" {
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && !isScalar(ft.Elem()):
			p := reflect.New(ft.Elem())
			p.Elem().Set(probe(ft.Elem(), depth+1))
			v.Field(i).Set(p)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !isScalar(ft.Elem()):
			s := reflect.MakeSlice(ft, 1, 1)
			s.Index(0).Set(probe(ft.Elem(), depth+1))
			v.Field(i).Set(s)
		case ft.Kind() == reflect.Struct && !isScalar(ft):
			v.Field(i).Set(probe(ft, depth+1))
		}
	}
	return v
}

// deref returns what pointer v points to, or the zero value of t when v is nil.
func deref(v reflect.Value, t reflect.Type) reflect.Value {
	if v.IsNil() {
		return probe(t, 1)
	}
	return v.Elem()
}

// renderDefault renders a default value as YAML in flow style; "" for none (nil, or the zero
// value of anything but a boolean).
func renderDefault(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.IsZero() && v.Kind() != reflect.Bool {
		return ""
	}
	if v.Type() == durationType {
		return shortDuration(time.Duration(v.Int()))
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return fmt.Sprintf("%v", v.Interface())
	}
	return flow(&n)
}

// shortDuration writes d without zero trailing units: 5m, not 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// flow renders a YAML node on one line.
func flow(n *yaml.Node) string {
	c := *n
	setFlow(&c)
	out, err := yaml.Marshal(&c)
	if err != nil {
		return c.Value
	}
	return strings.TrimSpace(string(out))
}

func setFlow(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
		content := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			cc := *c
			setFlow(&cc)
			content[i] = &cc
		}
		n.Content = content
	}
}

// indexExample maps every key path of the example document ("registries[].static.services")
// to the first value found there.
func indexExample(doc []byte) (map[string]*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("configdoc: example: %w", err)
	}
	out := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.AliasNode: // *anchor: the anchored node's keys are examples here too
			walk(n.Alias, path)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "<<" { // a merge key: its mapping's keys are this one's
					walk(n.Content[i+1], path)
					continue
				}
				p := field.Join(path, n.Content[i].Value)
				v := n.Content[i+1]
				if v.Kind == yaml.AliasNode {
					v = v.Alias
				}
				if _, seen := out[p]; !seen {
					out[p] = v
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		}
	}
	walk(&root, "")
	return out, nil
}
