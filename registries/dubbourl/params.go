package dubbourl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rpcbridge/rpcbridge/registries"
)

// What the parameters of a Dubbo provider become, for every registry adapter and for both
// interface-level registrations (provider URLs) and application-level ones (the services a
// MetadataService lists, whose params are the same URL parameters).

// labelParams are the provider parameters copied into endpoint labels.
// "dubbo.tag" is the provider's tag, which Dubbo's tag router routes by (canary policies).
var labelParams = []string{"version", "group", "application", "dubbo", "release", "side", "serialization", "dubbo.tag"}

// perEndpointParams vary from one provider of a service to the next, or repeat what the
// service's identity, protocol and registration already say: they never become service metadata.
var perEndpointParams = map[string]bool{
	"timestamp": true, "pid": true, "weight": true, "enabled": true, "disabled": true,
	"bind.ip": true, "bind.port": true, "anyhost": true, "ipv6": true,
	"interface": true, "path": true, "version": true, "group": true, "protocol": true,
	"methods": true, "category": true,
}

// EndpointLabels returns the parameters that label a provider's endpoint (version, group,
// application, dubbo, release, side, serialization, dubbo.tag), nil when it has none of them.
func EndpointLabels(params map[string]string) map[string]string {
	var labels map[string]string
	for _, k := range labelParams {
		if v := params[k]; v != "" {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
		}
	}
	return labels
}

// IsServiceParam reports whether a provider parameter becomes service metadata: it is not one
// of the per-endpoint parameters, and it describes the service as a whole (no dot in the key)
// or is a "<method>.timeout", which the Dubbo REST routes read as that method's call timeout.
// Other method-level keys ("<method>.retries", ...) are left out.
func IsServiceParam(key string) bool {
	if perEndpointParams[key] {
		return false
	}
	method, name, dotted := strings.Cut(key, ".")
	return !dotted || (method != "" && name == "timeout")
}

// ServiceMetadata returns the parameters of params that IsServiceParam keeps, nil when none.
func ServiceMetadata(params map[string]string) map[string]string {
	out := maps.Clone(params)
	maps.DeleteFunc(out, func(k, _ string) bool { return !IsServiceParam(k) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// Shared is what the providers of one service have in common: the union of the methods they
// advertise and the service metadata (see ServiceMetadata) of the parameters all of them have
// with the same value, except that the payload parameter is the smallest limit among them
// (see Payload).
func Shared(providers []URL) (methods []string, metadata map[string]string) {
	var common map[string]string
	for i, u := range providers {
		methods = append(methods, u.Methods()...)
		if i == 0 {
			common = maps.Clone(u.Params)
			continue
		}
		maps.DeleteFunc(common, func(k, v string) bool { w, ok := u.Params[k]; return !ok || w != v })
	}
	slices.Sort(methods)
	return slices.Compact(methods), sharedPayload(providers, ServiceMetadata(common))
}

// ParseMethods reads a "methods" parameter: the names, sorted, without duplicates, blanks or
// the Go aliases dubbo-go lists beside Java names (see DropGoMethodAliases); nil when empty.
func ParseMethods(list string) []string {
	var out []string
	for m := range strings.SplitSeq(list, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return DropGoMethodAliases(slices.Compact(out))
}

// DropGoMethodAliases removes the Go spellings dubbo-go v3.3.2 lists beside the Java names of
// methods renamed by a MethodMapper ("methods=echoUser,EchoUser,..."): a name that starts with an
// upper-case letter goes when the same name with a lower-case first letter is listed too. Java
// method names start lower-case, so no real Java method is dropped. methods must be sorted; the
// result is, and it is nil when empty.
func DropGoMethodAliases(methods []string) []string {
	var out []string
	for _, m := range methods {
		if r, size := utf8.DecodeRuneInString(m); unicode.IsUpper(r) {
			if _, found := slices.BinarySearch(methods, string(unicode.ToLower(r))+m[size:]); found {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// ServiceName is the registry name of a Dubbo service, "providers:<interface>:<version>:<group>"
// with empty parts kept: the name Dubbo registers it under in Nacos, used for Dubbo services
// from every registry.
func ServiceName(iface, version, group string) string {
	return fmt.Sprintf("providers:%s:%s:%s", iface, version, group)
}

// ProtocolName is the name of the service that serves name over protocol p when the same
// identity is served over several protocols (one service each): the dubbo one keeps name, the
// others get ":<protocol>" appended ("providers:com.foo.Greeter:1.0.0::triple"). With a single
// protocol the name is kept whatever it is.
func ProtocolName(name string, p registries.Protocol, protocols int) string {
	if protocols > 1 && p != registries.ProtocolDubbo {
		return name + ":" + string(p)
	}
	return name
}
