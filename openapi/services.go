package openapi

import (
	"slices"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// One document per service: a service's document is the one of the routes that call it (the
// routes whose cluster is the service ID), with the component schemas those routes use.

// Services lists the services that routes call, sorted: the services that have a document.
func Services(g ir.Gateway) []string {
	var out []string
	for _, r := range g.Routes {
		if !slices.Contains(out, r.Cluster) {
			out = append(out, r.Cluster)
		}
	}
	slices.Sort(out)
	return out
}

// ForService returns the part of g that describes one service: its routes, in match order, and
// g's descriptors and classes (Generate renders only the schemas the routes use). ok is false
// when no route calls the service.
func ForService(g ir.Gateway, service string) (part ir.Gateway, ok bool) {
	part = ir.Gateway{ProtoDescriptors: g.ProtoDescriptors, JavaClasses: g.JavaClasses}
	for _, r := range g.Routes {
		if r.Cluster == service {
			part.Routes = append(part.Routes, r)
		}
	}
	return part, len(part.Routes) > 0
}
