// Package discovery learns schemas from the services and registries themselves rather than from
// uploads: Reflector asks gRPC/Triple services through server reflection, MetadataCenter reads
// the service definitions Java providers write to a Dubbo metadata center in ZooKeeper. Each
// publishes the full, sorted list of what it knows as []idl.Schema on a bus topic.
package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/idl"
)

// maxNameLen is the longest schema name (the store's name rule allows 63 characters).
const maxNameLen = 63

// schemaName builds a stable schema name from a prefix and identity parts: lower case, every
// character outside [a-z0-9._-] replaced with '-', empty parts dropped, parts joined with '-'.
// A name that would exceed maxNameLen is cut and ends with a short hash of the raw parts.
func schemaName(prefix string, parts ...string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, p := range parts {
		if p == "" {
			continue
		}
		b.WriteByte('-')
		b.WriteString(sanitize(p))
	}
	name := b.String()
	if len(name) <= maxNameLen {
		return name
	}
	suffix := "-" + identityHash(prefix, parts)
	return strings.TrimRight(name[:maxNameLen-len(suffix)], "-.") + suffix
}

// sanitize lowercases s and replaces every character outside [a-z0-9._-] with '-'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		default:
			return '-'
		}
	}, s)
}

// identityHash is 8 hex digits of the SHA-256 of the raw identity.
func identityHash(prefix string, parts []string) string {
	sum := sha256.Sum256([]byte(prefix + "\x00" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:4])
}

// named is a schema with the raw identity its name was derived from.
type named struct {
	prefix string
	parts  []string
	schema idl.Schema
}

// finish names the schemas, resolves name collisions (two identities that sanitize to the same
// name both get a hash suffix) and sorts the result by Name.
func finish(items []named) []idl.Schema {
	count := map[string]int{}
	for i := range items {
		items[i].schema.Name = schemaName(items[i].prefix, items[i].parts...)
		count[items[i].schema.Name]++
	}
	out := make([]idl.Schema, 0, len(items))
	for _, it := range items {
		s := it.schema
		if count[s.Name] > 1 {
			suffix := "-" + identityHash(it.prefix, it.parts)
			if len(s.Name)+len(suffix) > maxNameLen {
				s.Name = strings.TrimRight(s.Name[:maxNameLen-len(suffix)], "-.")
			}
			s.Name += suffix
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EqualSchemas reports whether two schema lists hold the same schemas in the same order. The
// discovery runners publish only lists that differ by it from their previous one.
func EqualSchemas(a, b []idl.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Version != y.Version || !proto.Equal(x.Descriptors, y.Descriptors) ||
			!reflect.DeepEqual(x.Interfaces, y.Interfaces) || !reflect.DeepEqual(x.Classes, y.Classes) {
			return false
		}
	}
	return true
}
