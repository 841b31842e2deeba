// Package static is the registry that lives in the configuration file: a fixed list of services
// and endpoints. It is the registry of the embedded defaults and of small setups; a changed file is
// picked up by replacing the Source.
package static

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/registries"
)

// DefaultWeight is the weight of an endpoint that names none.
const DefaultWeight = 100

// Config lists the services of a static registry.
type Config struct {
	// Services are the registry's services; a name may repeat only with another protocol,
	// version or group.
	Services []ServiceConfig `yaml:"services"`
}

// ServiceConfig is one service of a static registry.
type ServiceConfig struct {
	// Name is the service name; for gRPC the fully qualified service name.
	Name string `yaml:"name"`
	// Protocol is http, grpc, triple or dubbo.
	Protocol registries.Protocol `yaml:"protocol"`
	// Interface (required for dubbo), Version and Group identify a Dubbo service.
	Interface string `yaml:"interface"`
	Version   string `yaml:"version"`
	Group     string `yaml:"group"`
	// Endpoints are the service's instances.
	Endpoints []EndpointConfig `yaml:"endpoints"`
}

// EndpointConfig is one instance of a static service.
type EndpointConfig struct {
	// Address is the instance's IP address or host name.
	Address string `yaml:"address"`
	// Port is the instance's port, 1..65535.
	Port uint32 `yaml:"port"`
	// Weight is the load-balancing weight relative to the service's other endpoints, at least 1.
	Weight *uint32 `yaml:"weight"`
	// Healthy false keeps the endpoint listed but sends it no traffic.
	Healthy *bool `yaml:"healthy"`
	// Region and Zone are the endpoint's locality.
	Region string `yaml:"region"`
	Zone   string `yaml:"zone"`
	// Labels are free-form instance attributes (version, tags), kept on the endpoint.
	Labels map[string]string `yaml:"labels"`
}

// Validate reports every invalid value in c, each a field.Error located by a path relative to
// the Config ("services[0].endpoints[1].port"), joined; nil means none.
func (c Config) Validate() error {
	var problems []error
	add := func(path, format string, args ...any) {
		problems = append(problems, field.Errorf(path, format, args...))
	}
	seen := map[string]int{}
	for i, s := range c.Services {
		at := fmt.Sprintf("services[%d]", i)
		if strings.TrimSpace(s.Name) == "" {
			add(at+".name", "service name is empty")
		}
		if !s.Protocol.Valid() {
			add(at+".protocol", "protocol %q is not one of http, grpc, triple, dubbo", s.Protocol)
		}
		if s.Protocol == registries.ProtocolDubbo && s.Interface == "" {
			add(at+".interface", "a dubbo service needs its Java interface name")
		}
		key := string(s.Protocol) + "/" + s.Name + "/" + s.Version + "/" + s.Group
		if first, dup := seen[key]; dup {
			add(at+".name", "service %q is already defined at services[%d]", s.Name, first)
		}
		seen[key] = i
		for j, e := range s.Endpoints {
			eat := fmt.Sprintf("%s.endpoints[%d]", at, j)
			if strings.TrimSpace(e.Address) == "" {
				add(eat+".address", "endpoint address is empty")
			}
			if e.Port == 0 || e.Port > 65535 {
				add(eat+".port", "port %d is not in 1..65535", e.Port)
			}
			if e.Weight != nil && *e.Weight == 0 {
				add(eat+".weight", "weight must be at least 1 (leave it out for the default %d)", DefaultWeight)
			}
		}
	}
	return errors.Join(problems...)
}

// Source publishes the configured services once and then waits. It implements
// registries.Source.
type Source struct {
	name     string
	services []registries.Service
}

var _ registries.Source = (*Source)(nil)

// New returns the static registry called name; cfg must have passed Validate.
func New(name string, cfg Config) *Source {
	return &Source{name: name, services: Services(cfg)}
}

// Name is the registry's name.
func (s *Source) Name() string { return s.name }

// Run publishes the services as a synced snapshot and blocks until ctx ends.
func (s *Source) Run(ctx context.Context, publish func(registries.Snapshot)) error {
	publish(registries.Snapshot{Source: s.name, Services: s.services, Synced: true})
	<-ctx.Done()
	return ctx.Err()
}

// Defaults returns c with the unset weight and health of every endpoint set to their defaults
// (DefaultWeight, healthy), checking nothing; c is not modified. It is the one place that
// applies them: Services uses it, and docs/configuration.md shows what it sets.
func (c Config) Defaults() Config {
	weight, healthy := uint32(DefaultWeight), true
	c.Services = slices.Clone(c.Services)
	for i := range c.Services {
		eps := slices.Clone(c.Services[i].Endpoints)
		for j := range eps {
			if eps[j].Weight == nil {
				eps[j].Weight = &weight
			}
			if eps[j].Healthy == nil {
				eps[j].Healthy = &healthy
			}
		}
		c.Services[i].Endpoints = eps
	}
	return c
}

// Services converts the configuration into registry services, applying defaults.
func Services(cfg Config) []registries.Service {
	cfg = cfg.Defaults()
	out := make([]registries.Service, 0, len(cfg.Services))
	for _, sc := range cfg.Services {
		svc := registries.Service{
			Name:      sc.Name,
			Protocol:  sc.Protocol,
			Interface: sc.Interface,
			Version:   sc.Version,
			Group:     sc.Group,
			Endpoints: make([]registries.Endpoint, 0, len(sc.Endpoints)),
		}
		for _, ec := range sc.Endpoints {
			ep := registries.Endpoint{
				Address:  ec.Address,
				Port:     ec.Port,
				Weight:   *ec.Weight,
				Healthy:  *ec.Healthy,
				Locality: registries.Locality{Region: ec.Region, Zone: ec.Zone},
			}
			if len(ec.Labels) > 0 {
				ep.Labels = maps.Clone(ec.Labels)
			}
			svc.Endpoints = append(svc.Endpoints, ep)
		}
		out = append(out, svc)
	}
	slices.SortStableFunc(out, func(a, b registries.Service) int { return strings.Compare(a.Name, b.Name) })
	return out
}
