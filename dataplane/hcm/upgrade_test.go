package hcm

import (
	"errors"
	"net/http"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestWebSocketUpgrade: an upgrade that some route's upgrade_configs enable keeps its Connection
// and Upgrade headers and is reported in Downstream.Upgrade for the route to decide; one no
// upgrade_configs enable is refused 403 upgrade_failed before routing.
func TestWebSocketUpgrade(t *testing.T) {
	rc := &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{Routes: []*routev3.Route{{
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			UpgradeConfigs: []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "WebSocket"}}}}}}}}}
	p, err := FromEnvoy(&hcmv3.HttpConnectionManager{}, rc)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"k"}}
	d, err := p.Apply(h, Conn{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Upgrade != "websocket" || h.Get("Connection") != "Upgrade" || h.Get("Upgrade") != "websocket" {
		t.Errorf("Downstream.Upgrade %q, headers %v: want the upgrade kept", d.Upgrade, h)
	}
	var rej *Rejection
	if _, err := p.Apply(http.Header{"Connection": {"upgrade"}, "Upgrade": {"CONNECT-UDP"}}, Conn{}); !errors.As(err, &rej) || rej.Status != 403 {
		t.Errorf("an upgrade no route enables: %v, want 403", err)
	}
	// Higress's Dubbo routes enable CONNECT for Envoy's upstream; a client's CONNECT upgrade is
	// still refused.
	connect := &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{Routes: []*routev3.Route{{
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			UpgradeConfigs: []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "CONNECT"}}}}}}}}}
	pc, err := FromEnvoy(&hcmv3.HttpConnectionManager{}, connect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Apply(http.Header{"Connection": {"upgrade"}, "Upgrade": {"CONNECT"}}, Conn{}); !errors.As(err, &rej) || rej.Status != 403 {
		t.Errorf("a CONNECT upgrade: %v, want 403", err)
	}
}

// TestAllows is createUpgradeFilterChain's precedence: the route's entry, else the HCM's.
func TestAllows(t *testing.T) {
	hcm := HCMUpgrades(&hcmv3.HttpConnectionManager{UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{
		{UpgradeType: "websocket"}, {UpgradeType: "h2c-like", Enabled: wrapperspb.Bool(false)}}})
	off := RouteUpgrades(&routev3.RouteAction{UpgradeConfigs: []*routev3.RouteAction_UpgradeConfig{
		{UpgradeType: "websocket", Enabled: wrapperspb.Bool(false)}, {UpgradeType: "h2c-like"}}})
	cases := []struct {
		hcm, route Upgrades
		upgrade    string
		want       bool
	}{
		{hcm, nil, "websocket", true},
		{hcm, off, "websocket", false},
		{hcm, nil, "h2c-like", false},
		{hcm, off, "h2c-like", true},
		{nil, nil, "websocket", false},
	}
	for i, tc := range cases {
		if got := Allows(tc.hcm, tc.route, tc.upgrade); got != tc.want {
			t.Errorf("case %d: Allows(%v, %v, %q) = %v, want %v", i, tc.hcm, tc.route, tc.upgrade, got, tc.want)
		}
	}
}
