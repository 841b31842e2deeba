package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
)

// definitionNode is one provider's service definition in the metadata center, as listed from
// /<root>/metadata/<interface>[/<version>][/<group>]/provider/<application>.
type definitionNode struct {
	// Path is the node's full path, for diagnostics.
	Path string
	// Interface is the first segment under metadata.
	Interface string
	// Between holds the segments between the interface and "provider" (version and group, with
	// empty ones dropped): zero, one or two.
	Between []string
	// App is the provider's application name.
	App string
	// Data is the node's JSON FullServiceDefinition.
	Data []byte
}

// definitionID identifies a Dubbo service in the metadata center.
type definitionID struct{ iface, version, group string }

// identity resolves the node's version and group. With both present the path says which is which;
// with one segment the path is ambiguous (Dubbo drops empty segments), so the definition's own
// "version"/"group" parameters decide, and a lone segment is otherwise taken as the version.
func (n definitionNode) identity() definitionID {
	id := definitionID{iface: n.Interface}
	switch len(n.Between) {
	case 0:
	case 1:
		var doc struct {
			Parameters map[string]string `json:"parameters"`
		}
		_ = json.Unmarshal(n.Data, &doc) // a malformed document is reported when parsed
		if doc.Parameters["version"] == "" && doc.Parameters["group"] == n.Between[0] {
			id.group = n.Between[0]
		} else {
			id.version = n.Between[0]
		}
	default:
		id.version, id.group = n.Between[0], n.Between[1]
	}
	return id
}

// definitionProblem is a definition that could not be read.
type definitionProblem struct {
	Path string
	Err  error
}

// buildDefinitionSchemas turns the listed nodes into one schema per interface, version and group
// (named "metadata-<interface>[-<version>][-<group>]", sorted by Name). Among several providers
// of one service, the first application by name whose definition parses wins. A definition that
// does not parse is reported as a problem and skipped; when no definition of a service parses,
// its schema from previous (keyed by identity) is kept. Versions are left at 0.
func buildDefinitionSchemas(ctx context.Context, nodes []definitionNode, previous map[definitionID]idl.Schema) ([]idl.Schema, map[definitionID]idl.Schema, []definitionProblem) {
	byID := map[definitionID][]definitionNode{}
	for _, n := range nodes {
		id := n.identity()
		byID[id] = append(byID[id], n)
	}
	ids := make([]definitionID, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })

	var problems []definitionProblem
	current := map[definitionID]idl.Schema{}
	items := make([]named, 0, len(ids))
	for _, id := range ids {
		group := byID[id]
		sort.Slice(group, func(i, j int) bool { return group[i].App < group[j].App })
		schema, ok := idl.Schema{}, false
		for _, n := range group {
			s, err := java.ParseServiceDefinitions(ctx, [][]byte{n.Data})
			if err != nil {
				problems = append(problems, definitionProblem{Path: n.Path, Err: fmt.Errorf("parse service definition: %w", err)})
				continue
			}
			if !ok {
				schema, ok = s, true
			}
		}
		if !ok {
			schema, ok = previous[id]
		}
		if !ok {
			continue
		}
		current[id] = schema
		items = append(items, named{prefix: "metadata", parts: []string{id.iface, id.version, id.group}, schema: schema})
	}
	return finish(items), current, problems
}

func idLess(a, b definitionID) bool {
	if a.iface != b.iface {
		return a.iface < b.iface
	}
	if a.version != b.version {
		return a.version < b.version
	}
	return a.group < b.group
}
