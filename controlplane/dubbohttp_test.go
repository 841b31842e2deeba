package controlplane

import "testing"

// TestEveryParamSourceCrossesTheContract: an IR argument source that the Higress transcoder
// knows must have a gateway contract value too, or its routes would reach rpcbridge's gateways
// as PARAM_SOURCE_UNSPECIFIED (which MarshalDubboRoute refuses).
func TestEveryParamSourceCrossesTheContract(t *testing.T) {
	for src := range extractKeySpecs {
		if _, ok := contractSources[src]; !ok {
			t.Errorf("ir source %q has no gatewayv1.ParamSource", src)
		}
	}
	if len(contractSources) != len(extractKeySpecs) {
		t.Errorf("contractSources has %d sources, extractKeySpecs %d", len(contractSources), len(extractKeySpecs))
	}
}
