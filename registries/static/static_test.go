package static

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/registries"
)

func ptr[T any](v T) *T { return &v }

func TestServicesAppliesDefaults(t *testing.T) {
	got := Services(Config{Services: []ServiceConfig{{
		Name: "hello", Protocol: registries.ProtocolHTTP,
		Endpoints: []EndpointConfig{
			{Address: "10.0.0.1", Port: 80},
			{Address: "10.0.0.2", Port: 80, Weight: ptr(uint32(7)), Healthy: ptr(false), Zone: "b", Labels: map[string]string{"v": "2"}},
		},
	}}})
	want := []registries.Endpoint{
		{Address: "10.0.0.1", Port: 80, Weight: DefaultWeight, Healthy: true},
		{Address: "10.0.0.2", Port: 80, Weight: 7, Healthy: false, Locality: registries.Locality{Zone: "b"}, Labels: map[string]string{"v": "2"}},
	}
	if len(got) != 1 || len(got[0].Endpoints) != 2 {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		e := got[0].Endpoints[i]
		if e.Address != want[i].Address || e.Weight != want[i].Weight || e.Healthy != want[i].Healthy || e.Locality != want[i].Locality || e.Labels["v"] != want[i].Labels["v"] {
			t.Errorf("endpoint %d = %+v, want %+v", i, e, want[i])
		}
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	err := Config{Services: []ServiceConfig{
		{Name: "", Protocol: "soap", Endpoints: []EndpointConfig{{Address: "", Port: 0, Weight: ptr(uint32(0))}}},
		{Name: "d", Protocol: registries.ProtocolDubbo},
		{Name: "d", Protocol: registries.ProtocolDubbo, Interface: "com.foo.D"},
	}}.Validate()
	var paths []string
	for _, p := range field.List(err) {
		paths = append(paths, p.Path)
	}
	want := []string{
		"services[0].name", "services[0].protocol", "services[0].endpoints[0].address",
		"services[0].endpoints[0].port", "services[0].endpoints[0].weight",
		"services[1].interface", "services[2].name",
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("problem paths = %v\nwant %v", paths, want)
	}
}

func TestRunPublishesOnceSynced(t *testing.T) {
	src := New("local", Config{Services: []ServiceConfig{{Name: "a", Protocol: registries.ProtocolHTTP}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan registries.Snapshot, 1)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(s registries.Snapshot) { got <- s }) }()
	snap := <-got
	if !snap.Synced || snap.Source != "local" || len(snap.Services) != 1 {
		t.Fatalf("snapshot = %+v", snap)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}
