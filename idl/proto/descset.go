package proto

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

// IncompleteError reports a descriptor set in which files import files that the set lacks.
type IncompleteError struct {
	// Missing maps each importing file to the imports it lacks, both sorted.
	Missing map[string][]string
}

// Error lists the missing imports.
func (e *IncompleteError) Error() string {
	files := make([]string, 0, len(e.Missing))
	for f := range e.Missing {
		files = append(files, f)
	}
	sort.Strings(files)
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = fmt.Sprintf("%s imports %s", f, strings.Join(e.Missing[f], ", "))
	}
	return "descriptor set is incomplete: " + strings.Join(parts, "; ")
}

// FromDescriptorSet decodes a binary FileDescriptorSet (as written by `protoc
// --include_imports -o` or `buf build -o`), checks that every import is present and that the
// files link, and returns the files ordered dependencies first.
func FromDescriptorSet(b []byte) (*descriptorpb.FileDescriptorSet, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("decode descriptor set: %w", err)
	}
	byName := make(map[string]*descriptorpb.FileDescriptorProto, len(set.GetFile()))
	for _, f := range set.GetFile() {
		if f.GetName() == "" {
			return nil, fmt.Errorf("decode descriptor set: a file has no name")
		}
		if _, dup := byName[f.GetName()]; dup {
			return nil, fmt.Errorf("decode descriptor set: file %s appears twice", f.GetName())
		}
		byName[f.GetName()] = f
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("decode descriptor set: no files")
	}
	ordered, err := orderFiles(byName)
	if err != nil {
		return nil, err
	}
	out := &descriptorpb.FileDescriptorSet{File: ordered}
	if _, err := protodesc.NewFiles(out); err != nil {
		return nil, fmt.Errorf("link descriptor set: %w", err)
	}
	return out, nil
}

// orderFiles returns the files with every dependency before its dependents, visiting files and
// their imports in name order so that the result is deterministic. It fails with an
// *IncompleteError when an import is missing and with an error on an import cycle.
func orderFiles(byName map[string]*descriptorpb.FileDescriptorProto) ([]*descriptorpb.FileDescriptorProto, error) {
	missing := map[string][]string{}
	for name, f := range byName {
		for _, dep := range f.GetDependency() {
			if _, ok := byName[dep]; !ok {
				missing[name] = append(missing[name], dep)
			}
		}
		sort.Strings(missing[name])
	}
	for name, deps := range missing {
		if len(deps) == 0 {
			delete(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &IncompleteError{Missing: missing}
	}

	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int, len(names))
	ordered := make([]*descriptorpb.FileDescriptorProto, 0, len(names))
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("import cycle through %s", name)
		}
		state[name] = visiting
		deps := append([]string(nil), byName[name].GetDependency()...)
		sort.Strings(deps)
		for _, dep := range deps {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[name] = done
		ordered = append(ordered, byName[name])
		return nil
	}
	for _, name := range names {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	return ordered, nil
}
