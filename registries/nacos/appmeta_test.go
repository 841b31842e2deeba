package nacos

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// TestApplicationLevelResolution: instances of a resolved revision become the services it
// lists; those of a failing revision stay under the application's name with a warning.
func TestApplicationLevelResolution(t *testing.T) {
	inst := func(ip, rev string) model.Instance {
		return model.Instance{Ip: ip, Port: 20880, Weight: 1, Healthy: true, Enable: true,
			Metadata: map[string]string{dubbometa.KeyRevision: rev, dubbometa.KeyEndpoints: `[{"port":20881,"protocol":"dubbo"},{"port":50051,"protocol":"tri"}]`}}
	}
	e := entry{Group: "DEFAULT_GROUP", Name: "shop", Instances: []model.Instance{inst("10.0.0.1", "r1"), inst("10.0.0.2", "r2")}}
	meta := dubbometa.Cache{
		{App: "shop", Revision: "r1"}: {Fetched: true, Services: []dubbometa.ServiceInfo{
			{Name: "com.shop.Cart", Version: "1.0.0", Group: "g", Protocol: "dubbo", Params: map[string]string{"methods": "list,add,Add", "timeout": "3000", "add.timeout": "250", "add.retries": "0"}},
			{Name: "com.shop.Cart", Version: "1.0.0", Group: "g", Protocol: "tri"},
		}},
		{App: "shop", Revision: "r2"}: {Err: errors.New("connection refused"), Failures: 2},
	}
	if got := applicationInstances([]entry{e}); len(got) != 2 || got[0].App != "shop" || got[0].Revision() != "r1" || got[1].Revision() != "r2" {
		t.Errorf("application instances = %+v", got)
	}
	services, diags := buildServices("registry/nacos1", []entry{e}, meta)
	var got []string
	for _, s := range services {
		got = append(got, s.Name+" "+string(s.Protocol)+" "+strings.Join(s.Methods, ",")+" "+s.Metadata["timeout"]+" "+s.Metadata["add.timeout"]+s.Metadata["add.retries"])
	}
	want := []string{
		"providers:com.shop.Cart:1.0.0:g dubbo add,list 3000 250",
		"providers:com.shop.Cart:1.0.0:g:triple triple   ",
		"shop dubbo   ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(services) == 3 {
		if ep := services[0].Endpoints; len(ep) != 1 || ep[0].Address != "10.0.0.1" || ep[0].Port != 20881 {
			t.Errorf("dubbo endpoints = %+v", ep)
		}
		if ep := services[1].Endpoints; len(ep) != 1 || ep[0].Port != 50051 {
			t.Errorf("tri endpoints = %+v", ep)
		}
		if ep := services[2].Endpoints; len(ep) != 1 || ep[0].Address != "10.0.0.2" {
			t.Errorf("placeholder endpoints = %+v", ep)
		}
	}
	if !slices.ContainsFunc(diags, func(d diag.Diagnostic) bool {
		return d.Severity == diag.Warning && strings.Contains(d.Message, "revision r2 failed 2 time(s): connection refused")
	}) {
		t.Errorf("no failure diagnostic in %v", diags)
	}
}
