package nacosdouble

import (
	"maps"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// Instance is a service instance as a test sets it. The double accepts any values, including
// ones Nacos would refuse (port 0 or over 65535, huge metadata), so that tests can feed clients
// malformed entries.
type Instance struct {
	IP      string
	Port    uint64
	Weight  float64
	Healthy bool
	Enabled bool
	// Cluster is the Nacos cluster name; "" means "DEFAULT".
	Cluster  string
	Metadata map[string]string
}

// NewInstance returns a healthy, enabled instance of weight 1 (Nacos's defaults).
func NewInstance(ip string, port uint64, metadata map[string]string) Instance {
	return Instance{IP: ip, Port: port, Weight: 1, Healthy: true, Enabled: true, Metadata: metadata}
}

func (in Instance) model(key serviceKey) model.Instance {
	return normalize(key, model.Instance{
		Ip: in.IP, Port: in.Port, Weight: in.Weight, Healthy: in.Healthy, Enable: in.Enabled,
		ClusterName: in.Cluster, Metadata: maps.Clone(in.Metadata),
	})
}

// Register adds instances to a service (creating it), replacing ones with the same IP, port
// and cluster, and returns once every subscribed client acked the push. An empty namespace is
// "public", an empty group "DEFAULT_GROUP".
func (s *Server) Register(namespace, group, service string, instances ...Instance) {
	key := keyOf(namespace, group, service)
	s.st.change(key, true, func(insts map[string]ownedInstance) bool {
		for _, in := range instances {
			inst := in.model(key)
			insts[instanceID(inst)] = ownedInstance{inst: inst}
		}
		return true
	})
}

// Deregister removes instances (matched by IP, port and cluster) from a service, and returns
// once every subscribed client acked the push. The service stays, possibly empty, as in Nacos.
func (s *Server) Deregister(namespace, group, service string, instances ...Instance) {
	key := keyOf(namespace, group, service)
	s.st.change(key, true, func(insts map[string]ownedInstance) bool {
		changed := false
		for _, in := range instances {
			id := instanceID(in.model(key))
			if _, had := insts[id]; had {
				delete(insts, id)
				changed = true
			}
		}
		return changed
	})
}

// SetInstances replaces all instances of a service (creating it), and returns once every
// subscribed client acked the push. No instances leaves the service empty.
func (s *Server) SetInstances(namespace, group, service string, instances ...Instance) {
	key := keyOf(namespace, group, service)
	s.st.change(key, true, func(insts map[string]ownedInstance) bool {
		clear(insts)
		for _, in := range instances {
			inst := in.model(key)
			insts[instanceID(inst)] = ownedInstance{inst: inst}
		}
		return true
	})
}

// DeleteService removes a service from listings, as Nacos does with an empty service after a
// while. Subscribers are not told.
func (s *Server) DeleteService(namespace, group, service string) {
	s.st.deleteService(keyOf(namespace, group, service))
}

// Subscribers is how many client connections are subscribed to a service.
func (s *Server) Subscribers(namespace, group, service string) int {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return len(s.st.subscribersOf(keyOf(namespace, group, service)))
}
