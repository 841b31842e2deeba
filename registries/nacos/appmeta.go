package nacos

import (
	"slices"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// Dubbo 3 application-level instances say which services they serve only through their
// MetadataService: the source has dubbometa call getMetadataInfo(revision) on one instance per
// (application, revision) and publishes each interface/version/group it returns as
// "providers:<interface>:<version>:<group>" (dubbometa.Resolve, shared with the ZooKeeper
// adapter). Instances whose revision is not resolved yet are published under their
// application's name (dubbometa.Placeholder).

// isApplicationLevel reports whether instances are Dubbo 3 application-level registrations.
func isApplicationLevel(instances []model.Instance) bool {
	return slices.ContainsFunc(instances, func(in model.Instance) bool { return in.Metadata[dubbometa.KeyRevision] != "" })
}

// appInstances returns the usable instances of an application-level entry as dubbometa reads
// them, reporting the others.
func (t *translator) appInstances(e entry) []dubbometa.Instance {
	var out []dubbometa.Instance
	for _, in := range e.Instances {
		if why := checkInstance(in); why != "" {
			t.report(diag.RegistryEntrySkipped, diag.Warning, subject(e, in), "%s", why)
			continue
		}
		mi := dubbometa.Instance{App: e.Name, Address: in.Ip, Port: int(in.Port), Metadata: in.Metadata,
			Subject: subject(e, in), Endpoint: endpointOf(e, in, 0, nacosWeight(in.Weight), nil)}
		if _, err := mi.Endpoints(); err != nil {
			t.report(diag.RegistryEntrySkipped, diag.Warning, subject(e, in), "instance skipped: %v", err)
			continue
		}
		out = append(out, mi)
	}
	return out
}

// applicationInstances lists the usable application-level instances of entries, in a stable
// order, for the MetadataService fetches. It is a pure function.
func applicationInstances(entries []entry) []dubbometa.Instance {
	var out []dubbometa.Instance
	for _, e := range entries {
		if kindOf(e) == applicationLevel {
			out = append(out, (&translator{}).appInstances(e)...)
		}
	}
	return out
}

// applicationLevel publishes a Dubbo 3 application. The instances whose MetadataService
// answered become the services it listed; the others are published as one service named after
// the application until it answers, which a diagnostic says.
func (t *translator) applicationLevel(e entry) []registries.Service {
	services, pending, diags := dubbometa.Resolve(t.stage, t.appInstances(e), t.meta, nil)
	t.diags = append(t.diags, diags...)
	if len(pending) == 0 {
		return services
	}
	svc, diags := dubbometa.Placeholder(t.stage, registries.Service{Name: e.Name,
		Metadata: map[string]string{dubbometa.Registration: dubbometa.RegistrationApplication}}, pending)
	t.diags = append(t.diags, diags...)
	if len(svc.Endpoints) == 0 {
		return services
	}
	t.report(diag.DubboAppPending, diag.Info, serviceSubject(e), "Dubbo application-level instances published as the application %q until their MetadataService says which interfaces they serve", e.Name)
	return append(services, svc)
}
