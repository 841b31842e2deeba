package summary

import (
	"slices"
	"strings"
)

// ChangeKind says how an item differs between two versions.
type ChangeKind string

// The change kinds.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Diff is what changed from one summary to another.
type Diff struct {
	// Methods are keyed "<service>.<method key>" and sorted by it.
	Methods []Change `json:"methods" yaml:"methods"`
	// Types are sorted by name.
	Types []Change `json:"types" yaml:"types"`
}

// Change is one added, removed or changed method or type.
type Change struct {
	Kind ChangeKind `json:"kind" yaml:"kind"`
	// Name is the method ("greet.v1.Greeter.SayHello", "com.foo.Users.find(long)") or type.
	Name string `json:"name" yaml:"name"`
	// From and To are a method's old and new signature (To alone when added, From when removed).
	From string `json:"from,omitempty" yaml:"from,omitempty"`
	To   string `json:"to,omitempty" yaml:"to,omitempty"`
	// Members are a changed type's added, removed and changed members, and a type's kind when
	// that changed (Name "kind").
	Members []Change `json:"members,omitempty" yaml:"members,omitempty"`
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool { return len(d.Methods) == 0 && len(d.Types) == 0 }

// Compare lists what changed from a to b.
func Compare(a, b Summary) Diff {
	methods := func(s Summary) []keyed {
		var out []keyed
		for _, svc := range s.Services {
			for _, m := range svc.Methods {
				out = append(out, keyed{key: svc.Name + "." + m.Key, text: m.Signature})
			}
		}
		return out
	}
	d := Diff{Methods: compareKeyed(methods(a), methods(b)), Types: []Change{}}
	from := map[string]Type{}
	for _, t := range a.Types {
		from[t.Name] = t
	}
	to := map[string]Type{}
	for _, t := range b.Types {
		to[t.Name] = t
	}
	for _, t := range a.Types {
		if _, ok := to[t.Name]; !ok {
			d.Types = append(d.Types, Change{Kind: Removed, Name: t.Name})
		}
	}
	for _, t := range b.Types {
		old, ok := from[t.Name]
		if !ok {
			d.Types = append(d.Types, Change{Kind: Added, Name: t.Name})
			continue
		}
		members := compareKeyed(memberList(old), memberList(t))
		if old.Kind != t.Kind {
			members = append([]Change{{Kind: Changed, Name: "kind", From: old.Kind, To: t.Kind}}, members...)
		}
		if len(members) > 0 {
			d.Types = append(d.Types, Change{Kind: Changed, Name: t.Name, Members: members})
		}
	}
	slices.SortStableFunc(d.Types, func(x, y Change) int { return strings.Compare(x.Name, y.Name) })
	return d
}

// keyed is a method or member by its identity and its text.
type keyed struct{ key, text string }

func memberList(t Type) []keyed {
	out := make([]keyed, len(t.Members))
	for i, m := range t.Members {
		out[i] = keyed{key: m.Key, text: m.Text}
	}
	return out
}

// compareKeyed lists the items removed from a, added in b and changed, sorted by key (an item
// keeps its place within equal keys).
func compareKeyed(a, b []keyed) []Change {
	out := []Change{}
	old := map[string]string{}
	for _, x := range a {
		old[x.key] = x.text
	}
	cur := map[string]bool{}
	for _, y := range b {
		cur[y.key] = true
		text, ok := old[y.key]
		switch {
		case !ok:
			out = append(out, Change{Kind: Added, Name: y.key, To: y.text})
		case text != y.text:
			out = append(out, Change{Kind: Changed, Name: y.key, From: text, To: y.text})
		}
	}
	for _, x := range a {
		if !cur[x.key] {
			out = append(out, Change{Kind: Removed, Name: x.key, From: x.text})
		}
	}
	slices.SortStableFunc(out, func(x, y Change) int { return strings.Compare(x.Name, y.Name) })
	return out
}
