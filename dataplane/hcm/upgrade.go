package hcm

import (
	"fmt"
	"net/http"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// Upgrades are the upgrade_configs of an HCM or of a route: upgrade type (lower-cased) →
// enabled. A route's entry overrides the HCM's; a type neither lists is not allowed.
type Upgrades map[string]bool

// HCMUpgrades reads the HCM's upgrade_configs (enabled unless enabled: false).
func HCMUpgrades(m *hcmv3.HttpConnectionManager) Upgrades {
	var out Upgrades
	for _, u := range m.GetUpgradeConfigs() {
		if out == nil {
			out = Upgrades{}
		}
		out[strings.ToLower(u.GetUpgradeType())] = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	return out
}

// RouteUpgrades reads a route action's upgrade_configs (enabled unless enabled: false).
func RouteUpgrades(a *routev3.RouteAction) Upgrades {
	var out Upgrades
	for _, u := range a.GetUpgradeConfigs() {
		if out == nil {
			out = Upgrades{}
		}
		out[strings.ToLower(u.GetUpgradeType())] = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	return out
}

// Allows is Envoy's HttpConnectionManagerConfig::createUpgradeFilterChain: the route's entry
// for the upgrade type decides when it has one (false refuses even what the HCM allows), else
// the HCM's (the HCM/route table of Envoy's docs/root/intro/arch_overview/http/upgrades.rst).
func Allows(hcm, route Upgrades, upgrade string) bool {
	if enabled, ok := route[upgrade]; ok {
		return enabled
	}
	return hcm[upgrade]
}

// WebSocket is the one upgrade type the gateway executes (a route's "CONNECT" upgrade_configs,
// which Higress's Dubbo routes carry, configure Envoy's upstream connection, not a client's
// upgrade).
const WebSocket = "websocket"

// MayUpgrade reports whether some upgrade_configs (the HCM's, or a route's: RouteMayUpgrade)
// may allow an upgrade of that type and the gateway executes it (WebSocket), so that Apply keeps
// the request's Connection and Upgrade for the route to decide.
func (p *Policy) MayUpgrade(upgrade string) bool {
	return upgrade == WebSocket && (p.Upgrades[upgrade] || p.RouteMayUpgrade[upgrade])
}

// UpgradeRejection is the 403 upgrade_failed Envoy answers an upgrade no upgrade_configs allow.
func UpgradeRejection(upgrade string) *Rejection {
	return &Rejection{Status: http.StatusForbidden, Detail: "upgrade_failed",
		Message: fmt.Sprintf("upgrade to %q is not enabled on this route", upgrade)}
}
