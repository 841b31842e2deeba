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
	Services []ServiceConfig `yaml:"services"`
}

// ServiceConfig is one service of a static registry.
type ServiceConfig struct {
	// Name is the service name; for gRPC the fully qualified service name.
	Name string `yaml:"name"`
	// Protocol is http, grpc, triple or dubbo.
	Protocol registries.Protocol `yaml:"protocol"`
	// Interface, Version and Group identify a Dubbo service.
	Interface string `yaml:"interface"`
	Version   string `yaml:"version"`
	Group     string `yaml:"group"`
	// Endpoints are the service's instances.
	Endpoints []EndpointConfig `yaml:"endpoints"`
}

// EndpointConfig is one instance of a static service.
type EndpointConfig struct {
	Address string `yaml:"address"`
	Port    uint32 `yaml:"port"`
	// Weight defaults to 100.
	Weight *uint32 `yaml:"weight"`
	// Healthy defaults to true.
	Healthy *bool             `yaml:"healthy"`
	Region  string            `yaml:"region"`
	Zone    string            `yaml:"zone"`
	Labels  map[string]string `yaml:"labels"`
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

// Services converts the configuration into registry services, applying defaults.
func Services(cfg Config) []registries.Service {
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
				Weight:   DefaultWeight,
				Healthy:  true,
				Locality: registries.Locality{Region: ec.Region, Zone: ec.Zone},
			}
			if ec.Weight != nil {
				ep.Weight = *ec.Weight
			}
			if ec.Healthy != nil {
				ep.Healthy = *ec.Healthy
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
