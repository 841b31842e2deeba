package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// The formats Render and RenderMessage accept.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Render prints r deterministically: equal resources give byte-identical output. The output is a
// list of groups {kind, resources} in the fixed order listeners, routes, clusters, endpoints and,
// when there are Dubbo services, dubboRoutes (the DRDS resource); every resource carries its
// "@type"; object keys are sorted. Diagnostics are not rendered.
func Render(r *Resources, format string) ([]byte, error) {
	if r == nil {
		r = &Resources{}
	}
	groups := []struct {
		kind  string
		items []types.Resource
	}{
		{"listeners", asResources(r.Listeners)},
		{"routes", asResources(r.Routes)},
		{"clusters", asResources(r.Clusters)},
		{"endpoints", asResources(r.Endpoints)},
	}
	if r.DubboRoutes != nil {
		groups = append(groups, struct {
			kind  string
			items []types.Resource
		}{"dubboRoutes", []types.Resource{r.DubboRoutes}})
	}
	doc := make([]any, 0, len(groups))
	for _, g := range groups {
		items := make([]any, 0, len(g.items))
		for _, it := range g.items {
			v, err := messageValue(it)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		doc = append(doc, map[string]any{"kind": g.kind, "resources": items})
	}
	return encode(doc, format)
}

// RenderMessage prints one message (for example a bootstrap) deterministically, as the bare
// message without "@type": that is how Envoy loads a bootstrap file.
func RenderMessage(m proto.Message, format string) ([]byte, error) {
	v, err := messageValue(m)
	if err != nil {
		return nil, err
	}
	if obj, ok := v.(map[string]any); ok {
		delete(obj, "@type")
	}
	return encode(v, format)
}

// messageValue turns m into plain JSON values. protojson's output is deliberately unstable
// (random spaces), so it is decoded again and re-encoded later with sorted keys.
func messageValue(m proto.Message) (any, error) {
	a, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	raw, err := protojson.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("marshalling %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return v, nil
}

// encode writes v as indented JSON with sorted keys, or as YAML derived from that JSON.
func encode(v any, format string) ([]byte, error) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	switch format {
	case FormatJSON:
		return append(out, '\n'), nil
	case FormatYAML:
		y, err := yaml.JSONToYAML(out)
		if err != nil {
			return nil, fmt.Errorf("encoding YAML: %w", err)
		}
		return y, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want %q or %q)", format, FormatYAML, FormatJSON)
	}
}
