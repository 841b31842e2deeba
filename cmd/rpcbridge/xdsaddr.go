package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane"
)

// parseXDSAddresses reads the control-plane replicas of a flag given once or more, each time
// with one HOST:PORT or a comma-separated list (cobra's StringSlice splits the commas): every
// entry must have a host and a port in 1..65535, and none may repeat. The order is kept: it is
// the order the replicas are tried in.
func parseXDSAddresses(flag string, values []string) ([]controlplane.XDSServer, error) {
	var out []controlplane.XDSServer
	seen := map[controlplane.XDSServer]bool{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		host, port, err := net.SplitHostPort(v)
		if err != nil || host == "" {
			return nil, usageError{fmt.Errorf("%s %q: want HOST:PORT", flag, v)}
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return nil, usageError{fmt.Errorf("%s %q: port must be 1..65535", flag, v)}
		}
		s := controlplane.XDSServer{Host: host, Port: uint32(p)}
		if seen[s] {
			return nil, usageError{fmt.Errorf("%s %q: listed twice", flag, v)}
		}
		seen[s] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Errorf("%s: at least one HOST:PORT is required", flag)}
	}
	return out, nil
}

// xdsTargets are the replicas as gRPC targets (host:port).
func xdsTargets(servers []controlplane.XDSServer) []string {
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		out = append(out, net.JoinHostPort(s.Host, strconv.FormatUint(uint64(s.Port), 10)))
	}
	return out
}
