package gatewayv1

import (
	"errors"
	"fmt"
	"strings"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// Type URLs of the contract. The descriptor is not registered yet when package variables are
// initialized, so these are constants; a test checks them against it.
const (
	// typeURLPrefix is the prefix of the type URLs that Any and TypedStruct carry.
	typeURLPrefix = "type.googleapis.com/"
	// contractPackage is the proto package of the contract without its version.
	contractPackage = "rpcbridge.gateway."
	// DubboRouteTypeURL is the type URL of this version's DubboRoute.
	DubboRouteTypeURL = typeURLPrefix + contractPackage + "v1.DubboRoute"
)

// typedStructTypeURL is the type URL of xds.type.v3.TypedStruct.
var typedStructTypeURL = typeURLPrefix + string((&xdstypev3.TypedStruct{}).ProtoReflect().Descriptor().FullName())

// UnsupportedError is a route that this gateway cannot run because it was written for a
// contract it does not read: another version of DubboRoute, an enum value added after this
// version, a message of an older control plane. A gateway withholds such a route (it answers
// 503 for it) and keeps the rest of the configuration; other decoding errors reject the
// configuration as invalid.
type UnsupportedError struct {
	// Reason says what the gateway does not read and what to upgrade.
	Reason string
}

// Error implements error.
func (e *UnsupportedError) Error() string { return e.Reason }

// MarshalDubboRoute checks r and packs it for metadata.typed_filter_metadata[DubboRouteKey]: an
// Any holding an xds.type.v3.TypedStruct whose type_url is DubboRouteTypeURL and whose value is
// r in the proto3 JSON mapping (proto field names). Equal routes give equal bytes.
//
// A TypedStruct rather than the binary Any of r, because Envoy and Higress, which receive the
// same routes and ignore this key, know TypedStruct but not DubboRoute: their /config_dump can
// print a TypedStruct, while an Any of a type they were not built with has no JSON form. This
// is what TypedStruct is for ("when a proto descriptor is not available"; cncf/xds
// xds/type/v3/typed_struct.proto).
func MarshalDubboRoute(r *DubboRoute) (*anypb.Any, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", DubboRouteKey, err)
	}
	return packTypedStruct(DubboRouteKey, DubboRouteTypeURL, r)
}

// UnmarshalDubboRoute decodes and checks the value of metadata.typed_filter_metadata
// [DubboRouteKey]: the TypedStruct MarshalDubboRoute writes, or the binary Any of a DubboRoute
// (Envoy accepts both forms for extension configs, so this does too). A type URL other than
// DubboRouteTypeURL, such as a later version, is an *UnsupportedError; so is a value this
// version does not know. Fields this version does not know are ignored, as protobuf ignores
// them: the versioning rules of gateway.proto keep that safe.
func UnmarshalDubboRoute(a *anypb.Any) (*DubboRoute, error) {
	r := &DubboRoute{}
	if err := unpackTypedStruct(a, DubboRouteTypeURL, r, unsupportedType, func(err error) error {
		return fmt.Errorf("decoding %s: %w", DubboRouteTypeURL, err)
	}); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// unsupportedType is the error for a message of a type URL this version does not read.
func unsupportedType(url string) error {
	name := url[strings.LastIndex(url, "/")+1:]
	if strings.HasPrefix(name, contractPackage) {
		return &UnsupportedError{Reason: fmt.Sprintf("%s is %s, this gateway reads %s only: "+
			"upgrade the gateway to the control plane's version", DubboRouteKey, name, strings.TrimPrefix(DubboRouteTypeURL, typeURLPrefix))}
	}
	return &UnsupportedError{Reason: fmt.Sprintf("%s holds a %q, want %s", DubboRouteKey, url, DubboRouteTypeURL)}
}

// Validate reports what makes r unrunnable: a missing interface, method or key, a negative or
// invalid timeout, an unnamed Java class (plain errors), or a parameter source or protocol this
// version does not know (an *UnsupportedError, as a later control plane may send one).
func (r *DubboRoute) Validate() error {
	if r.GetInterface() == "" || r.GetMethod() == "" {
		return errors.New("dubbo route: empty interface or method")
	}
	for i, p := range r.GetParams() {
		switch p.GetSource() {
		case ParamSource_PARAM_SOURCE_QUERY, ParamSource_PARAM_SOURCE_HEADER, ParamSource_PARAM_SOURCE_PATH, ParamSource_PARAM_SOURCE_BODY:
			if p.GetKey() == "" {
				return fmt.Errorf("dubbo route %s.%s param %d (%s): empty key", r.GetInterface(), r.GetMethod(), i, p.GetName())
			}
		case ParamSource_PARAM_SOURCE_WHOLE_BODY:
		default:
			return &UnsupportedError{Reason: fmt.Sprintf("dubbo route %s.%s param %d (%s): source %v is unset or "+
				"unknown to this gateway: upgrade the gateway to the control plane's version", r.GetInterface(), r.GetMethod(), i, p.GetName(), p.GetSource())}
		}
		if p.GetType() == "" {
			return fmt.Errorf("dubbo route %s.%s param %d (%s): empty type", r.GetInterface(), r.GetMethod(), i, p.GetName())
		}
	}
	if t := r.GetTimeout(); t != nil {
		if err := t.CheckValid(); err != nil {
			return fmt.Errorf("dubbo route %s.%s timeout: %w", r.GetInterface(), r.GetMethod(), err)
		}
		if t.AsDuration() < 0 {
			return fmt.Errorf("dubbo route %s.%s: negative timeout %s", r.GetInterface(), r.GetMethod(), t.AsDuration())
		}
	}
	switch r.GetProtocol() {
	case DubboProtocol_DUBBO_PROTOCOL_DUBBO, DubboProtocol_DUBBO_PROTOCOL_TRIPLE:
	default:
		return &UnsupportedError{Reason: fmt.Sprintf("dubbo route %s.%s: protocol %v is unknown to this gateway: "+
			"upgrade the gateway to the control plane's version", r.GetInterface(), r.GetMethod(), r.GetProtocol())}
	}
	for i, c := range r.GetJavaClasses() {
		if c.GetName() == "" {
			return fmt.Errorf("dubbo route %s.%s java class %d: empty name", r.GetInterface(), r.GetMethod(), i)
		}
	}
	return nil
}
