package registries

import "testing"

func TestParseProtocol(t *testing.T) {
	for name, want := range map[string]Protocol{
		"dubbo": ProtocolDubbo, "DUBBO": ProtocolDubbo, " dubbo ": ProtocolDubbo,
		"grpc": ProtocolGRPC, "gRPC": ProtocolGRPC,
		"http": ProtocolHTTP, "http1": ProtocolHTTP, "HTTP2": ProtocolHTTP, "rest": ProtocolHTTP,
		"tri": ProtocolTriple, "triple": ProtocolTriple, "Triple": ProtocolTriple,
	} {
		if got, ok := ParseProtocol(name); !ok || got != want {
			t.Errorf("ParseProtocol(%q) = %q, %t; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "https", "thrift", "tcp", "h2c", "dubbo3", "consumer"} {
		if got, ok := ParseProtocol(name); ok {
			t.Errorf("ParseProtocol(%q) = %q, want no protocol", name, got)
		}
	}
}

func TestProtocolNamesAreParsed(t *testing.T) {
	for _, n := range protocolNames {
		if p, ok := ParseProtocol(n.name); !ok || p != n.protocol || !p.Valid() {
			t.Errorf("%q parses as %q, %t; want the valid protocol %q", n.name, p, ok, n.protocol)
		}
	}
	if got := ProtocolNames(); got != "dubbo, grpc, http, http1, http2, rest, tri, triple" {
		t.Errorf("ProtocolNames() = %q", got)
	}
}
