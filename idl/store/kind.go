package store

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// kindByExtension is the kind of an upload whose files all end so ("x.proto"); an API jar is
// seen unpacked, as .class files.
var kindByExtension = map[string]Kind{
	".proto": KindProto, ".pb": KindDescriptorSet, ".binpb": KindDescriptorSet, ".protoset": KindDescriptorSet,
	".desc": KindDescriptorSet, ".java": KindJavaSource, ".class": KindJavaJar, ".yaml": KindJavaYAML,
	".yml": KindJavaYAML, ".json": KindDubboMetadata,
}

// KindOf infers the kind of an upload from its file paths: every file with a known extension
// must point to the same kind (other files, such as a jar's manifest, are ignored).
func KindOf(paths []string) (Kind, error) {
	var found []Kind
	for _, p := range paths {
		if k, ok := kindByExtension[strings.ToLower(path.Ext(p))]; ok && !slices.Contains(found, k) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &UnknownKindError{}
	}
	slices.Sort(found)
	return "", fmt.Errorf("the files are of several IDL kinds (%v): upload them separately or name the kind", found)
}
