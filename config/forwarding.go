package config

import (
	"fmt"
	"slices"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// ForwardingConfig is gateway.forwarding: how the HTTP listener (Envoy's rpcbridge-http and
// the embedded gateway alike) treats X-Forwarded-For, X-Forwarded-Proto, internal requests and
// x-request-id. Unset keys keep the defaults of an edge proxy that trusts no client
// (ir.DefaultForwarding). Each key is the Envoy HttpConnectionManager field of the same name.
type ForwardingConfig struct {
	// UseRemoteAddress: the connection's peer is the client (default true). false when a
	// trusted proxy in front sets X-Forwarded-For.
	UseRemoteAddress *bool `yaml:"useRemoteAddress"`
	// XFFNumTrustedHops is the number of trusted proxies in front (default 0).
	XFFNumTrustedHops *uint32 `yaml:"xffNumTrustedHops"`
	// SkipXFFAppend stops appending the peer to X-Forwarded-For (default false).
	SkipXFFAppend *bool `yaml:"skipXffAppend"`
	// InternalAddresses are CIDR ranges of internal clients (default none).
	InternalAddresses []string `yaml:"internalAddresses"`
	// GenerateRequestID sets x-request-id when missing or external (default true).
	GenerateRequestID *bool `yaml:"generateRequestId"`
	// PreserveExternalRequestID keeps an external client's x-request-id (default false).
	PreserveExternalRequestID *bool `yaml:"preserveExternalRequestId"`
	// AlwaysSetRequestIDInResponse returns x-request-id in every response (default false).
	AlwaysSetRequestIDInResponse *bool `yaml:"alwaysSetRequestIdInResponse"`
	// InternalOnlyHeaders are removed from external requests (default forwarded,
	// x-forwarded-host, x-forwarded-port, x-real-ip); [] keeps them all.
	InternalOnlyHeaders *[]string `yaml:"internalOnlyHeaders"`
}

// validate reports the invalid values of gateway.forwarding, keyed under at.
func (f ForwardingConfig) validate(at string) []Problem {
	var ps []Problem
	for i, c := range f.InternalAddresses {
		if _, err := ir.ParseInternalAddress(c); err != nil {
			ps = append(ps, Problem{Key: fmt.Sprintf("%s.internalAddresses[%d]", at, i), Message: err.Error()})
		}
	}
	if f.InternalOnlyHeaders != nil {
		for i, h := range *f.InternalOnlyHeaders {
			if err := ir.CheckInternalOnlyHeader(h); err != nil {
				ps = append(ps, Problem{Key: fmt.Sprintf("%s.internalOnlyHeaders[%d]", at, i), Message: err.Error()})
			}
		}
	}
	return ps
}

// IR is the forwarding policy these settings give: ir.DefaultForwarding with every set key
// replacing its default.
func (f ForwardingConfig) IR() ir.Forwarding {
	out := ir.DefaultForwarding()
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&out.UseRemoteAddress, f.UseRemoteAddress)
	set(&out.SkipXFFAppend, f.SkipXFFAppend)
	set(&out.GenerateRequestID, f.GenerateRequestID)
	set(&out.PreserveExternalRequestID, f.PreserveExternalRequestID)
	set(&out.AlwaysSetRequestIDInResponse, f.AlwaysSetRequestIDInResponse)
	if f.XFFNumTrustedHops != nil {
		out.XFFNumTrustedHops = *f.XFFNumTrustedHops
	}
	if len(f.InternalAddresses) > 0 {
		out.InternalAddresses = slices.Clone(f.InternalAddresses)
	}
	if f.InternalOnlyHeaders != nil {
		out.InternalOnlyHeaders = slices.Clone(*f.InternalOnlyHeaders)
	}
	return out
}
