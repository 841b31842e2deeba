package transcoding

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestUpstreamRulesValidate: every block that gives an invalid policy over the defaults it applies
// to is reported at its path; valid blocks are not.
func TestUpstreamRulesValidate(t *testing.T) {
	const in = `
rpc:
  outlierDetection: {baseEjectionTime: 10s, maxEjectionTime: 5s}
http:
  retry: {retryOn: [connect-failure]}
  circuitBreakers: {maxPendingRequests: 0}
services:
  - service: a
    loadBalancer: {policy: least_request, choiceCount: 1}
  - service: ""
  - service: b
    retry: {retryOn: [sometimes]}
  - service: c
    circuitBreakers: {maxRequests: 0}
  - service: d
    outlierDetection: {enabled: false}
  - service: e
    circuitBreakers: {maxConnections: 0, maxPendingRequests: 0}
  - service: f
    circuitBreakers: {maxConnections: 1, maxPendingRequests: 1}
`
	var rules UpstreamRules
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rules.Validate() {
		got = append(got, p.Path)
	}
	want := []string{"http.circuitBreakers.maxPendingRequests", "rpc.outlierDetection.maxEjectionTime", "services[0].loadBalancer.choiceCount",
		"services[1].service", "services[2].retry.retryOn", "services[3].circuitBreakers.maxRequests",
		"services[5].circuitBreakers.maxConnections", "services[5].circuitBreakers.maxPendingRequests"}
	if !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v", got, want)
	}
}

// TestRuleDoesNotChangeDefaults: applying a rule edits a copy; the defaults stay as they are.
func TestRuleDoesNotChangeDefaults(t *testing.T) {
	one := uint32(1)
	rule := PolicyRule{OutlierDetection: &OutlierDetectionRule{Consecutive5xx: &one},
		Retry: &RetryRule{RetryOn: []string{"5xx"}}}
	base := DefaultRPCPolicy()
	got := rule.apply(base)
	if got.OutlierDetection.Consecutive5xx != 1 || got.Retry.RetryOn[0] != "5xx" {
		t.Fatalf("rule not applied: %+v", got)
	}
	if base.OutlierDetection.Consecutive5xx != DefaultConsecutiveFailures || base.Retry.RetryOn[0] != NeverSentRetryOn[0] {
		t.Errorf("applying a rule changed the policy it started from: %+v %+v", base.OutlierDetection, base.Retry)
	}
}
