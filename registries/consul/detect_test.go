package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/registries"
)

func TestDetectProtocol(t *testing.T) {
	grpcAddr := map[string]api.ServiceAddress{"grpc": {Address: "10.0.0.1", Port: 9090}}
	httpAddr := map[string]api.ServiceAddress{"http": {Address: "10.0.0.1", Port: 8080}}
	both := map[string]api.ServiceAddress{"http": {Port: 8080}, "grpc": {Port: 9090}}
	all := DefaultPrecedence
	for _, tc := range []struct {
		name       string
		svc        api.AgentService
		metaKey    string
		precedence []string
		def        registries.Protocol
		want       registries.Protocol
		from       string
		noted      bool
	}{
		{name: "nothing: default", want: registries.ProtocolHTTP, from: FromDefault},
		{name: "nothing: configured default", def: registries.ProtocolGRPC,
			want: registries.ProtocolGRPC, from: FromDefault},
		{name: "meta grpc", svc: api.AgentService{Meta: map[string]string{"protocol": "gRPC"}},
			want: registries.ProtocolGRPC, from: FromMeta},
		{name: "meta http2 is plain HTTP", svc: api.AgentService{Meta: map[string]string{"protocol": "http2"}},
			want: registries.ProtocolHTTP, from: FromMeta},
		{name: "meta tri", svc: api.AgentService{Meta: map[string]string{"protocol": "tri"}},
			want: registries.ProtocolTriple, from: FromMeta},
		// Since the adapters share registries.ParseProtocol, "rest" (Dubbo's REST protocol)
		// names HTTP here too; "https" names nothing (no TLS upstreams) and falls through.
		{name: "tag rest is plain HTTP", svc: api.AgentService{Tags: []string{"rest"}, TaggedAddresses: grpcAddr},
			want: registries.ProtocolHTTP, from: FromTags},
		{name: "meta https is no protocol", svc: api.AgentService{Meta: map[string]string{"protocol": "https"}, Tags: []string{"grpc"}},
			want: registries.ProtocolGRPC, from: FromTags, noted: true},
		{name: "meta dubbo beats grpc tag",
			svc:  api.AgentService{Meta: map[string]string{"protocol": "dubbo"}, Tags: []string{"grpc"}},
			want: registries.ProtocolDubbo, from: FromMeta},
		{name: "unknown meta falls through with a note",
			svc:  api.AgentService{Meta: map[string]string{"protocol": "tcp"}, Tags: []string{"grpc"}},
			want: registries.ProtocolGRPC, from: FromTags, noted: true},
		{name: "custom meta key", metaKey: "rpc",
			svc:  api.AgentService{Meta: map[string]string{"rpc": "grpc", "protocol": "http"}},
			want: registries.ProtocolGRPC, from: FromMeta},
		{name: "first protocol tag wins", svc: api.AgentService{Tags: []string{"primary", "triple", "http"}},
			want: registries.ProtocolTriple, from: FromTags},
		{name: "tagged grpc address", svc: api.AgentService{TaggedAddresses: grpcAddr},
			want: registries.ProtocolGRPC, from: FromTaggedAddresses},
		{name: "tagged http address", svc: api.AgentService{TaggedAddresses: httpAddr},
			want: registries.ProtocolHTTP, from: FromTaggedAddresses},
		{name: "tagged grpc before http", svc: api.AgentService{TaggedAddresses: both},
			want: registries.ProtocolGRPC, from: FromTaggedAddresses},
		{name: "tags before tagged addresses",
			svc:  api.AgentService{Tags: []string{"http"}, TaggedAddresses: grpcAddr},
			want: registries.ProtocolHTTP, from: FromTags},
		{name: "precedence reordered: tagged addresses first",
			svc:        api.AgentService{Meta: map[string]string{"protocol": "http"}, TaggedAddresses: grpcAddr},
			precedence: []string{FromTaggedAddresses, FromMeta, FromDefault},
			want:       registries.ProtocolGRPC, from: FromTaggedAddresses},
		{name: "precedence without meta ignores it",
			svc:        api.AgentService{Meta: map[string]string{"protocol": "grpc"}},
			precedence: []string{FromTags, FromDefault}, def: registries.ProtocolDubbo,
			want: registries.ProtocolDubbo, from: FromDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metaKey := tc.metaKey
			if metaKey == "" {
				metaKey = DefaultProtocolMetaKey
			}
			precedence := tc.precedence
			if precedence == nil {
				precedence = all
			}
			def := tc.def
			if def == "" {
				def = DefaultProtocol
			}
			got := detectProtocol(&tc.svc, metaKey, precedence, def)
			if got.Protocol != tc.want || got.From != tc.from || (got.Note != "") != tc.noted {
				t.Errorf("detectProtocol = %+v; want %s from %s (note: %v)", got, tc.want, tc.from, tc.noted)
			}
		})
	}
}
