package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/field"
)

// keyEntry is one mapping key of the document, with its dotted path and its value.
type keyEntry struct {
	path       string
	key, value *yaml.Node
}

// keyIndex lists the mapping keys of the document by line: the line of the key and, when it
// differs, the line of its value. A flow mapping puts several keys on one line.
type keyIndex map[int][]keyEntry

// indexKeys walks the document once.
func indexKeys(root *yaml.Node) keyIndex {
	idx := keyIndex{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				e := keyEntry{path: field.Join(path, k.Value), key: k, value: v}
				idx[k.Line] = append(idx[k.Line], e)
				if v.Line != k.Line {
					idx[v.Line] = append(idx[v.Line], e)
				}
				walk(v, e.path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(root, "")
	return idx
}

// unknown returns the path of the nth key called name on line, for yaml.v3's "field name not
// found" (which gives the key's line).
func (idx keyIndex) unknown(line int, name string, nth int) string {
	var found []string
	for _, e := range idx[line] {
		if e.key.Line == line && e.key.Value == name {
			found = append(found, e.path)
		}
	}
	return pick(found, nth, idx.first(line))
}

// undecodable returns the path of the key whose value, on line, fails to decode with msg. When
// several keys share the line, each value is decoded again on its own into the Go type of its
// key, and the deepest key whose value fails with exactly msg is blamed (the value of an outer
// key on the line fails with the same message, for the same inner value). nth picks among equal
// messages of one line.
func (idx keyIndex) undecodable(line int, msg string, nth int) string {
	entries := idx[line]
	if len(entries) == 1 {
		return entries[0].path
	}
	var found []string
	for _, e := range entries {
		if decodesWith(e, msg) {
			found = slices.DeleteFunc(found, func(p string) bool { return strings.HasPrefix(e.path, p+".") || strings.HasPrefix(e.path, p+"[") })
			found = append(found, e.path)
		}
	}
	return pick(found, nth, idx.first(line))
}

// first is the path of the first key on line, the best guess when nothing else fits.
func (idx keyIndex) first(line int) string {
	if es := idx[line]; len(es) > 0 {
		return es[0].path
	}
	return ""
}

func pick(paths []string, nth int, fallback string) string {
	switch {
	case nth < len(paths):
		return paths[nth]
	case len(paths) > 0:
		return paths[len(paths)-1]
	}
	return fallback
}

// decodesWith reports whether e's value, decoded alone into the Go type of e's key in Config,
// fails with msg among its errors.
func decodesWith(e keyEntry, msg string) bool {
	t, ok := typeAt(reflect.TypeFor[Config](), e.path)
	if !ok {
		return false
	}
	err := e.value.Decode(reflect.New(t).Interface())
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return false
	}
	for _, m := range typeErr.Errors {
		if problemOf("", m).Message == msg {
			return true
		}
	}
	return false
}

var segmentRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// typeAt returns the Go type that decodes the value at a dotted key path inside a value of type
// t, following yaml.v3's field names (the yaml tag's name, else the lower-cased field name;
// inline structs are searched; "-" fields are skipped).
func typeAt(t reflect.Type, path string) (reflect.Type, bool) {
	for _, m := range segmentRE.FindAllStringSubmatch(path, -1) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case m[2] != "" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case m[1] != "" && t.Kind() == reflect.Map:
			t = t.Elem()
		case m[1] != "" && t.Kind() == reflect.Struct:
			f, ok := yamlField(t, m[1])
			if !ok {
				return nil, false
			}
			t = f
		default:
			return nil, false
		}
	}
	return t, true
}

// yamlField returns the type of the field of struct t that yaml.v3 decodes key into.
func yamlField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			inner := f.Type
			if inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				if ft, ok := yamlField(inner, key); ok {
					return ft, true
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

// locate returns the line of the node at a dotted key path, or of its nearest existing parent,
// or 0.
func locate(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, m := range segmentRE.FindAllStringSubmatch(key, -1) {
		next := (*yaml.Node)(nil)
		switch {
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
