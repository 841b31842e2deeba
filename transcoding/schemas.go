package transcoding

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// When two schemas define the same service differently, the schema whose name sorts first wins
// and a warning names both; identical definitions in several schemas are no problem. Comments
// do not make definitions differ: among identical ones, the first that has comments is used
// (an API jar's schema beside the sources' Javadoc).

// protoService is the chosen protobuf definition of one service.
type protoService struct {
	schema string
	info   protoidl.ServiceInfo
	// closure is the service's file and everything it imports, dependencies first.
	closure *descriptorpb.FileDescriptorSet
	// encoded is closure serialized deterministically.
	encoded []byte
	// docs are the schema's comments of closure's elements.
	docs map[string]string
}

// javaService is the chosen Java definition of one Dubbo interface.
type javaService struct {
	schema string
	iface  idl.JavaInterface
	// classes are the schema's classes by name.
	classes map[string]idl.JavaClass
}

// schemaIndex finds service definitions by fully qualified name.
type schemaIndex struct {
	proto map[string][]protoService
	java  map[string][]javaService
}

// indexSchemas lists every protobuf service and Java interface of the schemas, schemas taken in
// name order.
func indexSchemas(schemas []idl.Schema) (schemaIndex, []diag.Diagnostic) {
	idx := schemaIndex{proto: map[string][]protoService{}, java: map[string][]javaService{}}
	var ds []diag.Diagnostic
	sorted := slices.Clone(schemas)
	slices.SortStableFunc(sorted, func(a, b idl.Schema) int { return cmp.Compare(a.Name, b.Name) })
	for _, s := range sorted {
		if s.Descriptors != nil {
			for _, info := range protoidl.Services(s.Descriptors) {
				closure, err := fileClosure(s.Descriptors, info.File)
				var encoded []byte
				if err == nil {
					encoded, err = proto.MarshalOptions{Deterministic: true}.Marshal(closure)
				}
				if err != nil {
					ds = append(ds, diagnostic(diag.SchemaInvalidDefinition, diag.Error, "schema "+s.Name, fmt.Sprintf(
						"service %s: %v; the schema's definition is not used", info.Name, err)))
					continue
				}
				idx.proto[info.Name] = append(idx.proto[info.Name], protoService{schema: s.Name, info: info, closure: closure, encoded: encoded,
					docs: protoidl.DocsOf(closure, s.ProtoDocs)})
			}
		}
		classes := map[string]idl.JavaClass{}
		for _, c := range s.Classes {
			classes[c.Name] = c
		}
		for _, iface := range s.Interfaces {
			idx.java[iface.Name] = append(idx.java[iface.Name], javaService{schema: s.Name, iface: iface, classes: classes})
		}
	}
	return idx, ds
}

// protoFor returns the definition of a protobuf service, choosing among schemas as described
// above.
func (idx schemaIndex) protoFor(subject, name string) (protoService, bool, []diag.Diagnostic) {
	defs := idx.proto[name]
	if len(defs) == 0 {
		return protoService{}, false, nil
	}
	var ds []diag.Diagnostic
	chosen := defs[0]
	for _, other := range defs[1:] {
		if !bytes.Equal(other.encoded, defs[0].encoded) {
			ds = append(ds, differently(subject, name, defs[0].schema, other.schema))
		} else if len(chosen.docs) == 0 && len(other.docs) > 0 {
			chosen = other // the same definition, with its comments
		}
	}
	return chosen, true, ds
}

// javaFor returns the definition of a Java interface, choosing among schemas as described
// above. Definitions differ when the interface or any class it reaches differs; comments alone
// (a jar's schema beside the sources' Javadoc) do not make them differ.
func (idx schemaIndex) javaFor(subject, name string) (javaService, bool, []diag.Diagnostic) {
	defs := idx.java[name]
	if len(defs) == 0 {
		return javaService{}, false, nil
	}
	var ds []diag.Diagnostic
	first := reachableClasses(defs[0], defs[0].iface.Methods)
	chosen, documented := defs[0], !reflect.DeepEqual(undocumentedInterface(defs[0].iface), defs[0].iface)
	for _, other := range defs[1:] {
		if !reflect.DeepEqual(undocumentedInterface(other.iface), undocumentedInterface(defs[0].iface)) ||
			!reflect.DeepEqual(undocumentedClasses(reachableClasses(other, other.iface.Methods)), undocumentedClasses(first)) {
			ds = append(ds, differently(subject, name, defs[0].schema, other.schema))
		} else if !documented && !reflect.DeepEqual(undocumentedInterface(other.iface), other.iface) {
			chosen, documented = other, true // the same definition, with its Javadoc
		}
	}
	return chosen, true, ds
}

func differently(subject, name, chosen, other string) diag.Diagnostic {
	return diagnostic(diag.SchemaConflict, diag.Warning, subject, fmt.Sprintf(
		"%s is defined differently in schemas %q and %q; using %q, the schema whose name sorts first", name, chosen, other, chosen))
}

// fileClosure returns the named file and everything it imports, dependencies before dependents
// (imports in declaration order, depth first).
func fileClosure(fds *descriptorpb.FileDescriptorSet, root string) (*descriptorpb.FileDescriptorSet, error) {
	byName := map[string]*descriptorpb.FileDescriptorProto{}
	for _, f := range fds.GetFile() {
		byName[f.GetName()] = f
	}
	out := &descriptorpb.FileDescriptorSet{}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("import cycle through %s", name)
		case 2:
			return nil
		}
		f, ok := byName[name]
		if !ok {
			return fmt.Errorf("imported file %s is missing from the schema", name)
		}
		state[name] = 1
		for _, dep := range f.GetDependency() {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[name] = 2
		out.File = append(out.File, f)
		return nil
	}
	if err := visit(root); err != nil {
		return nil, err
	}
	return out, nil
}
