package consul

import (
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/registries"
)

// detection is the protocol of one instance and the source that named it.
type detection struct {
	Protocol registries.Protocol
	// From is the precedence entry that decided (FromMeta, FromTags, ...).
	From string
	// Note explains a metadata value that named no protocol and was passed over; empty otherwise.
	Note string
}

// detectProtocol asks the sources of precedence in order and returns the first answer.
// precedence must end with FromDefault (Config.withDefaults makes sure it does).
//
// Values are read with registries.ParseProtocol (case-insensitive: "grpc"; "http", "http1",
// "http2" and "rest" are plain HTTP, only an explicit "grpc" makes a gRPC service; "dubbo";
// "triple" and "tri"). Unknown tags are ignored silently (tags are free-form), an unknown
// metadata value is passed over with a note. Tagged addresses are looked up as "grpc", then
// "http".
func detectProtocol(svc *api.AgentService, metaKey string, precedence []string, def registries.Protocol) detection {
	var note string
	for _, from := range precedence {
		switch from {
		case FromMeta:
			v, ok := svc.Meta[metaKey]
			if !ok || v == "" {
				continue
			}
			if p, ok := registries.ParseProtocol(v); ok {
				return detection{Protocol: p, From: from, Note: note}
			}
			note = fmt.Sprintf("metadata %s=%q names no known protocol (%s); ignored", metaKey, v, registries.ProtocolNames())
		case FromTags:
			for _, tag := range svc.Tags {
				if p, ok := registries.ParseProtocol(tag); ok {
					return detection{Protocol: p, From: from, Note: note}
				}
			}
		case FromTaggedAddresses:
			for _, p := range []registries.Protocol{registries.ProtocolGRPC, registries.ProtocolHTTP} {
				if _, ok := svc.TaggedAddresses[string(p)]; ok {
					return detection{Protocol: p, From: from, Note: note}
				}
			}
		case FromDefault:
			return detection{Protocol: def, From: from, Note: note}
		}
	}
	return detection{Protocol: def, From: FromDefault, Note: note}
}
